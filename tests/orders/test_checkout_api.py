"""POST /api/v1/orders/: the cart becomes an order, or nothing is written."""

import itertools
import re
import uuid
from decimal import Decimal

import pytest

from apps.cart.models import CartLine
from apps.catalog.models import Book
from apps.orders.models import IdempotencyKey, Order, OrderStatus, Payment

from .conftest import INLINE_ADDRESS, ORDERS, fill_cart, order_url

pytestmark = pytest.mark.django_db


def assert_nothing_written(user, books_stock: dict) -> None:
    assert not Order.objects.filter(user=user).exists()
    assert not Payment.objects.exists()
    for book_id, stock in books_stock.items():
        assert Book.objects.get(pk=book_id).stock == stock


def test_checkout_turns_the_cart_into_an_order(user, user_client, book, other_book, checkout_body, address):
    fill_cart(user, (book, 2), (other_book, 1))

    response = user_client.post(ORDERS, checkout_body)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending_payment"
    assert re.fullmatch(r"LB-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", body["number"])
    assert [
        (line["title"], line["isbn13"], line["unit_price"], line["quantity"], line["line_total"])
        for line in body["lines"]
    ] == [
        ("Les Misérables", "9782070409228", "12.50", 2, "25.00"),
        ("Germinal", other_book.isbn13, "8.90", 1, "8.90"),
    ]
    # 33.90 of books is under 35.00: 3.00 shipping; VAT 5.5 % included in 36.90.
    assert body["subtotal"] == "33.90"
    assert body["shipping_total"] == "3.00"
    assert body["total"] == "36.90"
    assert body["vat_total"] == "1.92"  # 36.90 * 5.5 / 105.5 = 1.9237…
    assert body["currency"] == "EUR"
    assert body["created_at"]
    assert body["shipping_address"]["line1"] == "55 rue Plumet"
    assert body["billing_address"] == body["shipping_address"]
    payment = body["payment"]
    assert payment["provider"] == "dummy"
    assert payment["status"] == "pending"
    assert payment["amount"] == "36.90"
    assert payment["pay_url"].startswith("http://shop.test/orders/pay/dummy/")
    assert [step["to_status"] for step in body["history"]] == ["pending_payment"]

    assert Book.objects.get(pk=book.pk).stock == 8
    assert Book.objects.get(pk=other_book.pk).stock == 4
    assert not CartLine.objects.filter(cart__user=user).exists()


def test_address_snapshot_survives_later_edits(user, user_client, book, checkout_body, address):
    fill_cart(user, (book, 1))
    number = user_client.post(ORDERS, checkout_body).json()["number"]
    address.line1 = "1 place Vendôme"
    address.save()
    book.title = "Renamed"
    book.price = Decimal("99.00")
    book.save()

    body = user_client.get(order_url(number)).json()

    assert body["shipping_address"]["line1"] == "55 rue Plumet"
    assert body["lines"][0]["title"] == "Les Misérables"
    assert body["lines"][0]["unit_price"] == "12.50"


def test_inline_addresses_are_accepted_and_validated(user, user_client, book):
    fill_cart(user, (book, 1))
    billing = {**INLINE_ADDRESS, "name": "Cosette", "country": "BE", "city": "Bruxelles"}

    response = user_client.post(
        ORDERS, {"shipping_address": INLINE_ADDRESS, "billing_address": billing, "payment_provider": "dummy"}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["shipping_address"]["country"] == "FR"
    assert response.json()["billing_address"]["name"] == "Cosette"


def test_invalid_inline_address_is_a_400_naming_the_fields(user, user_client, book):
    fill_cart(user, (book, 1))
    response = user_client.post(
        ORDERS,
        {"shipping_address": {**INLINE_ADDRESS, "country": "ZZ", "city": ""}, "payment_provider": "dummy"},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"shipping_address.country", "shipping_address.city"}
    assert_nothing_written(user, {book.pk: 10})


def test_another_customers_address_cannot_be_used(user, user_client, other_user, book):
    fill_cart(user, (book, 1))
    foreign = other_user.addresses.create(
        kind="shipping", name="X", line1="1 rue", postal_code="1000", city="Y", country="FR"
    )
    response = user_client.post(ORDERS, {"shipping_address": foreign.pk, "payment_provider": "dummy"})
    assert response.status_code == 400
    assert "shipping_address" in response.json()["errors"]
    assert_nothing_written(user, {book.pk: 10})


def test_checkout_needs_a_signed_in_customer(api_client, checkout_body):
    assert api_client.post(ORDERS, checkout_body).status_code == 401


def test_empty_cart_is_a_409(user_client, checkout_body):
    response = user_client.post(ORDERS, checkout_body)
    assert response.status_code == 409
    assert response.json()["code"] == "cart_empty"


def test_out_of_stock_is_a_409_naming_the_line_and_nothing_is_written(
    user, user_client, book, other_book, checkout_body
):
    fill_cart(user, (book, 2), (other_book, 6))  # other_book has 5 copies

    response = user_client.post(ORDERS, checkout_body)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "cart_changed"
    assert body["errors"] == {"lines.1": ["Only 5 copies of “Germinal” left."]}
    assert_nothing_written(user, {book.pk: 10, other_book.pk: 5})
    assert CartLine.objects.filter(cart__user=user).count() == 2


def test_changed_price_is_a_409_and_the_new_price_is_named(user, user_client, book, checkout_body):
    fill_cart(user, (book, 1))
    Book.objects.filter(pk=book.pk).update(price=Decimal("13.00"))

    response = user_client.post(ORDERS, checkout_body)

    assert response.status_code == 409
    assert response.json()["errors"] == {
        "lines.0": ["The price of “Les Misérables” changed from 12.50 to 13.00."]
    }
    assert_nothing_written(user, {book.pk: 10})


def test_changed_price_accepted_in_the_cart_lets_the_checkout_through(user, user_client, book, checkout_body):
    cart = fill_cart(user, (book, 1))
    Book.objects.filter(pk=book.pk).update(price=Decimal("13.00"))
    assert user_client.post(ORDERS, checkout_body).status_code == 409

    line = cart.lines.get()
    assert user_client.patch(f"/api/v1/cart/items/{line.pk}/", {"quantity": 1}).status_code == 200
    response = user_client.post(ORDERS, checkout_body)

    assert response.status_code == 201, response.content
    assert response.json()["subtotal"] == "13.00"


def test_withdrawn_book_is_a_409(user, user_client, book, other_book, checkout_body):
    fill_cart(user, (book, 1), (other_book, 1))
    Book.objects.filter(pk=other_book.pk).update(is_active=False)

    response = user_client.post(ORDERS, checkout_body)

    assert response.status_code == 409
    assert response.json()["errors"] == {"lines.1": ["“Germinal” is no longer sold."]}
    assert_nothing_written(user, {book.pk: 10, other_book.pk: 5})


def test_prices_totals_and_status_cannot_be_set_by_the_client(user, user_client, book, checkout_body):
    fill_cart(user, (book, 1))
    forged = {
        **checkout_body,
        "total": "0.01",
        "subtotal": "0.01",
        "shipping_total": "0.00",
        "vat_total": "0.00",
        "status": "paid",
        "currency": "USD",
        "lines": [{"book": book.pk, "quantity": 1, "unit_price": "0.01"}],
    }

    body = user_client.post(ORDERS, forged).json()

    assert (body["status"], body["subtotal"], body["total"], body["currency"]) == (
        "pending_payment",
        "12.50",
        "15.50",
        "EUR",
    )
    assert body["lines"][0]["unit_price"] == "12.50"


@pytest.mark.parametrize("provider", ["stripe", "paypal"])
def test_a_provider_not_configured_is_a_clear_400(user, user_client, book, address, provider):
    fill_cart(user, (book, 1))
    response = user_client.post(ORDERS, {"shipping_address": address.pk, "payment_provider": provider})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"] == {
        "payment_provider": ["This payment method is not offered. Choose one of: dummy."]
    }
    assert_nothing_written(user, {book.pk: 10})


def test_unknown_provider_is_a_400(user_client, checkout_body):
    response = user_client.post(ORDERS, {**checkout_body, "payment_provider": "bitcoin"})
    assert response.status_code == 400
    assert "payment_provider" in response.json()["errors"]


# --- Idempotency-Key ------------------------------------------------------------------------


def test_retry_with_the_same_key_returns_the_same_order(user, user_client, book, checkout_body):
    fill_cart(user, (book, 2))
    key = str(uuid.uuid4())

    first = user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY=key)
    # The client did not see the answer and retries; meanwhile its cart is empty again.
    retry = user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["number"] == first.json()["number"]
    assert retry.json()["total"] == first.json()["total"]
    assert Order.objects.filter(user=user).count() == 1
    assert Book.objects.get(pk=book.pk).stock == 8


def test_same_key_with_a_different_body_is_a_422(user, user_client, book, checkout_body):
    fill_cart(user, (book, 1))
    key = str(uuid.uuid4())
    assert user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    fill_cart(user, (book, 1))

    response = user_client.post(
        ORDERS, {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"}, HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.filter(user=user).count() == 1
    assert CartLine.objects.filter(cart__user=user).count() == 1


def test_keys_belong_to_one_customer(user, user_client, other_user, book, checkout_body):
    """Another customer's use of the same key neither returns nor blocks this one's order."""
    key = "shared-key"
    fill_cart(user, (book, 1))
    fill_cart(other_user, (book, 1))
    from rest_framework.test import APIClient

    other_client = APIClient()
    other_client.force_authenticate(other_user)
    other_body = {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"}

    mine = user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY=key)
    theirs = other_client.post(ORDERS, other_body, HTTP_IDEMPOTENCY_KEY=key)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["number"] != theirs.json()["number"]
    assert IdempotencyKey.objects.filter(key=key).count() == 2


def test_failed_checkout_does_not_spend_the_key(user, user_client, book, checkout_body):
    fill_cart(user, (book, 11))
    key = str(uuid.uuid4())
    assert user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY=key).status_code == 409
    CartLine.objects.filter(cart__user=user).update(quantity=1)

    response = user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 201


def test_malformed_idempotency_key_is_a_400(user, user_client, book, checkout_body):
    fill_cart(user, (book, 1))
    response = user_client.post(ORDERS, checkout_body, HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


# --- Reading and cancelling -----------------------------------------------------------------


def test_customers_list_and_read_only_their_own_orders(user, user_client, other_user, book, checkout_body):
    fill_cart(user, (book, 1))
    mine = user_client.post(ORDERS, checkout_body).json()["number"]
    fill_cart(other_user, (book, 1))
    from apps.orders.services import order_place

    theirs, _ = order_place(user=other_user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")

    listing = user_client.get(ORDERS)
    assert listing.status_code == 200
    assert [o["number"] for o in listing.json()["results"]] == [mine]
    assert user_client.get(order_url(mine)).status_code == 200
    response = user_client.get(order_url(theirs.number))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert user_client.post(order_url(theirs.number, "cancel")).status_code == 404
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.PENDING_PAYMENT


def test_order_list_queries_do_not_grow_with_orders(user, user_client, book, django_assert_max_num_queries):
    from apps.orders.services import order_place

    for _ in range(5):
        fill_cart(user, (book, 1))
        order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")
    with django_assert_max_num_queries(6):
        response = user_client.get(ORDERS)
    assert response.json()["count"] == 5


def test_customer_cancels_an_unpaid_order_and_the_stock_comes_back(user, user_client, book, checkout_body):
    fill_cart(user, (book, 3))
    number = user_client.post(ORDERS, checkout_body).json()["number"]
    assert Book.objects.get(pk=book.pk).stock == 7

    response = user_client.post(order_url(number, "cancel"), {"note": "Changed my mind"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["payment"]["status"] == "cancelled"
    assert body["history"][-1] == {
        **body["history"][-1],
        "from_status": "pending_payment",
        "note": "Changed my mind",
    }
    assert Book.objects.get(pk=book.pk).stock == 10

    again = user_client.post(order_url(number, "cancel"))
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert Book.objects.get(pk=book.pk).stock == 10


def test_customer_cannot_cancel_a_shipped_order(user, user_client, staff_client, book, checkout_body):
    fill_cart(user, (book, 1))
    number = user_client.post(ORDERS, checkout_body).json()["number"]
    order = Order.objects.get(number=number)
    from apps.orders.services import order_mark_paid

    order_mark_paid(payment_id=order.payments.get().pk, amount=order.total, currency="EUR")
    staff_client.post(order_url(number, "transition"), {"status": "processing"})
    staff_client.post(order_url(number, "transition"), {"status": "shipped", "tracking_number": "6A123"})

    response = user_client.post(order_url(number, "cancel"))

    assert response.status_code == 409
    assert response.json()["current_status"] == "shipped"
    assert Book.objects.get(pk=book.pk).stock == 9


def test_order_numbers_are_short_readable_and_unpredictable():
    from apps.orders.services import order_number_generate

    numbers = [order_number_generate() for _ in range(2000)]
    assert len(set(numbers)) == 2000
    assert all(re.fullmatch(r"LB-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", n) for n in numbers)
    # No 0/O or 1/I/L to misread; and consecutive numbers share no common prefix pattern.
    assert sum(a[:5] == b[:5] for a, b in itertools.pairwise(numbers)) < 20
