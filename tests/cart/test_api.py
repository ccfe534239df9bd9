"""The cart API as a client uses it: each endpoint, each error, and who may reach what."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.cart.models import Cart, CartLine
from apps.catalog.models import Book
from tests.factories import BookFactory, CartFactory, UserFactory

from .conftest import CART, ITEMS, item_url

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_field_error(response, field: str, code: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert list(body["errors"]) == [field]
    assert body["errors"][field][0]
    return body


def lines_of(user) -> list[tuple[int, int]]:
    return list(CartLine.objects.filter(cart__user=user).values_list("book_id", "quantity"))


# --- reading ----------------------------------------------------------------------------------


def test_anonymous_visitor_gets_a_new_empty_cart_with_a_long_token(api_client):
    response = api_client.get(CART)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "token": body["token"],
        "lines": [],
        "item_count": 0,
        "subtotal": "0.00",
        "currency": "EUR",
    }
    assert len(body["token"]) >= 40
    assert response["X-Cart-Token"] == body["token"]
    assert Cart.objects.get(token=body["token"]).user is None


def test_token_finds_the_same_cart_again(api_client, anonymous_token, book):
    client = APIClient(headers={"X-Cart-Token": anonymous_token})
    client.post(ITEMS, {"book": book.pk, "quantity": 2})
    body = client.get(CART).json()
    assert body["token"] == anonymous_token
    assert [(line["book"]["id"], line["quantity"]) for line in body["lines"]] == [(book.pk, 2)]


def test_a_guessed_token_finds_nothing(api_client, anonymous_token, book):
    APIClient(headers={"X-Cart-Token": anonymous_token}).post(ITEMS, {"book": book.pk, "quantity": 1})
    guessed = anonymous_token[:-1] + ("A" if anonymous_token[-1] != "A" else "B")
    response = APIClient(headers={"X-Cart-Token": guessed}).get(CART)
    body = response.json()
    assert body["lines"] == []
    assert body["token"] not in {guessed, anonymous_token}


def test_a_customers_cart_has_no_token(user_client, user, book):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 1})
    response = user_client.get(CART)
    assert response.json()["token"] is None
    assert "X-Cart-Token" not in response
    assert lines_of(user) == [(book.pk, 1)]


def test_a_customer_without_a_cart_reads_an_empty_one_without_creating_a_row(user_client, user):
    body = user_client.get(CART).json()
    assert body["lines"] == []
    assert body["subtotal"] == "0.00"
    assert not Cart.objects.filter(user=user).exists()


def test_lines_show_current_price_line_total_and_decimal_exact_totals(user_client):
    cheap = BookFactory(price=Decimal("0.10"), stock=50)
    dear = BookFactory(price=Decimal("19.99"), stock=50)
    user_client.post(ITEMS, {"book": cheap.pk, "quantity": 3})
    user_client.post(ITEMS, {"book": dear.pk, "quantity": 3})
    body = user_client.get(CART).json()
    assert [(line["unit_price"], line["line_total"]) for line in body["lines"]] == [
        ("0.10", "0.30"),
        ("19.99", "59.97"),
    ]
    # 0.1 * 3 is 0.30000000000000004 in floats: the totals are Decimal-exact.
    assert body["subtotal"] == "60.27"
    assert body["item_count"] == 6
    assert body["currency"] == "EUR"


def test_line_flags_price_change_with_the_old_price(user_client, book):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 1})
    book.price = Decimal("14.00")
    book.save()
    line = user_client.get(CART).json()["lines"][0]
    assert line["price_changed"] is True
    assert line["price_when_added"] == "12.50"
    assert line["unit_price"] == "14.00"
    assert line["line_total"] == "14.00"


def test_setting_the_quantity_accepts_the_current_price(user_client, book):
    line_id = user_client.post(ITEMS, {"book": book.pk, "quantity": 2}).json()["lines"][0]["id"]
    book.price = Decimal("14.00")
    book.save()
    response = user_client.patch(item_url(line_id), {"quantity": 2})
    assert response.status_code == 200
    [line] = response.json()["lines"]
    assert line["price_changed"] is False
    assert line["price_when_added"] == "14.00"
    assert line["line_total"] == "28.00"


def test_line_flags_insufficient_stock_with_what_is_available(user_client, book):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 4})
    book.stock = 3
    book.save()
    line = user_client.get(CART).json()["lines"][0]
    assert line["insufficient_stock"] is True
    assert line["available"] == 3
    assert line["unavailable"] is False


def test_line_flags_a_deactivated_book_and_totals_leave_it_out(user_client, book, other_book):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 2})
    user_client.post(ITEMS, {"book": other_book.pk, "quantity": 1})
    book.is_active = False
    book.save()
    body = user_client.get(CART).json()
    flags = {line["book"]["id"]: (line["unavailable"], line["available"]) for line in body["lines"]}
    assert flags == {book.pk: (True, 0), other_book.pk: (False, 5)}
    assert body["item_count"] == 1
    assert body["subtotal"] == "8.90"


# --- adding -----------------------------------------------------------------------------------


def test_add_answers_201_with_the_cart(user_client, book):
    response = user_client.post(ITEMS, {"book": book.pk, "quantity": 2})
    assert response.status_code == 201
    body = response.json()
    assert body["item_count"] == 2
    assert body["subtotal"] == "25.00"
    line = body["lines"][0]
    assert line["book"] == {"id": book.pk, "title": book.title, "slug": book.slug, "isbn13": book.isbn13}
    assert line["quantity"] == 2
    assert line["price_changed"] is False


def test_adding_a_book_already_in_the_cart_adds_to_its_line(user_client, user, book):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 2})
    body = user_client.post(ITEMS, {"book": book.pk, "quantity": 3}).json()
    assert len(body["lines"]) == 1
    assert body["lines"][0]["quantity"] == 5
    assert lines_of(user) == [(book.pk, 5)]


def test_quantity_defaults_to_one(user_client, user, book):
    assert user_client.post(ITEMS, {"book": book.pk}).status_code == 201
    assert lines_of(user) == [(book.pk, 1)]


def test_anonymous_add_without_a_token_creates_a_cart_and_returns_its_token(api_client, book):
    response = api_client.post(ITEMS, {"book": book.pk, "quantity": 1}, headers={"X-Cart-Token": ""})
    assert response.status_code == 201
    token = response["X-Cart-Token"]
    assert response.json()["token"] == token
    assert list(Cart.objects.get(token=token).lines.values_list("book_id", flat=True)) == [book.pk]


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_quantity_outside_1_to_99_is_a_400_on_quantity(user_client, user, book, quantity):
    response = user_client.post(ITEMS, {"book": book.pk, "quantity": quantity})
    assert_field_error(response, "quantity", "validation_error")
    assert lines_of(user) == []


def test_more_than_the_stock_is_a_400_saying_what_is_available_and_the_cart_is_unchanged(
    user_client, user, book
):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 8})
    response = user_client.post(ITEMS, {"book": book.pk, "quantity": 3})
    body = assert_field_error(response, "quantity", "insufficient_stock")
    assert body["available"] == 10
    assert "10" in body["errors"]["quantity"][0]
    assert lines_of(user) == [(book.pk, 8)]


def test_a_line_cannot_grow_past_99_copies(user_client, user):
    plenty = BookFactory(stock=500)
    user_client.post(ITEMS, {"book": plenty.pk, "quantity": 60})
    response = user_client.post(ITEMS, {"book": plenty.pk, "quantity": 40})
    assert_field_error(response, "quantity", "quantity_out_of_range")
    assert lines_of(user) == [(plenty.pk, 60)]


def test_an_inactive_book_is_a_400_on_book(user_client, user):
    withdrawn = BookFactory(is_active=False)
    response = user_client.post(ITEMS, {"book": withdrawn.pk, "quantity": 1})
    assert_field_error(response, "book", "book_unavailable")
    assert lines_of(user) == []


def test_an_unknown_book_is_a_400_on_book(user_client, user):
    response = user_client.post(ITEMS, {"book": 987654, "quantity": 1})
    assert_field_error(response, "book", "book_unavailable")
    assert lines_of(user) == []


@pytest.mark.parametrize("payload", [{}, {"book": "abc"}, {"book": None, "quantity": 1}])
def test_a_missing_or_malformed_book_is_a_400_on_book(user_client, payload):
    assert_field_error(user_client.post(ITEMS, payload), "book", "validation_error")


# --- updating and removing --------------------------------------------------------------------


def _line_id(client, book) -> int:
    body = client.post(ITEMS, {"book": book.pk, "quantity": 2}).json()
    return next(line["id"] for line in body["lines"] if line["book"]["id"] == book.pk)


def test_patch_sets_the_quantity(user_client, user, book):
    line_id = _line_id(user_client, book)
    response = user_client.patch(item_url(line_id), {"quantity": 7})
    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 7
    assert response.json()["subtotal"] == "87.50"
    assert lines_of(user) == [(book.pk, 7)]


@pytest.mark.parametrize(("quantity", "code"), [(0, "validation_error"), (100, "validation_error")])
def test_patch_outside_1_to_99_is_a_400(user_client, user, book, quantity, code):
    line_id = _line_id(user_client, book)
    assert_field_error(user_client.patch(item_url(line_id), {"quantity": quantity}), "quantity", code)
    assert lines_of(user) == [(book.pk, 2)]


def test_patch_above_the_stock_is_a_400(user_client, user, book):
    line_id = _line_id(user_client, book)
    body = assert_field_error(
        user_client.patch(item_url(line_id), {"quantity": 11}), "quantity", "insufficient_stock"
    )
    assert body["available"] == 10
    assert lines_of(user) == [(book.pk, 2)]


def test_patch_of_a_line_whose_book_was_withdrawn_is_a_400_on_book(user_client, user, book):
    line_id = _line_id(user_client, book)
    book.is_active = False
    book.save()
    assert_field_error(user_client.patch(item_url(line_id), {"quantity": 1}), "book", "book_unavailable")
    assert lines_of(user) == [(book.pk, 2)]


def test_delete_removes_a_line(user_client, user, book, other_book):
    line_id = _line_id(user_client, book)
    _line_id(user_client, other_book)
    assert user_client.delete(item_url(line_id)).status_code == 204
    assert lines_of(user) == [(other_book.pk, 2)]
    assert [line["book"]["id"] for line in user_client.get(CART).json()["lines"]] == [other_book.pk]


def test_delete_cart_empties_it(user_client, user, book, other_book):
    _line_id(user_client, book)
    _line_id(user_client, other_book)
    assert user_client.delete(CART).status_code == 204
    assert lines_of(user) == []
    assert user_client.get(CART).json()["item_count"] == 0


def test_an_anonymous_visitor_updates_and_removes_with_the_token(anonymous_token, book):
    client = APIClient(headers={"X-Cart-Token": anonymous_token})
    line_id = _line_id(client, book)
    assert client.patch(item_url(line_id), {"quantity": 4}).json()["item_count"] == 4
    assert client.delete(item_url(line_id)).status_code == 204
    assert client.get(CART).json()["lines"] == []


# --- nobody reaches another's cart ------------------------------------------------------------


def test_another_customers_line_is_a_404_and_stays_untouched(user_client, book):
    stranger = UserFactory()
    stranger_client = APIClient()
    stranger_client.force_authenticate(stranger)
    line_id = _line_id(stranger_client, book)
    _line_id(user_client, BookFactory())

    for response in (
        user_client.patch(item_url(line_id), {"quantity": 5}),
        user_client.delete(item_url(line_id)),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
    assert lines_of(stranger) == [(book.pk, 2)]


def test_an_anonymous_line_is_a_404_to_a_customer_and_to_another_visitor(user_client, anonymous_token, book):
    line_id = _line_id(APIClient(headers={"X-Cart-Token": anonymous_token}), book)
    other_visitor = APIClient()
    other_visitor.get(CART)
    assert user_client.patch(item_url(line_id), {"quantity": 5}).status_code == 404
    assert other_visitor.delete(item_url(line_id)).status_code == 404
    assert APIClient().patch(item_url(line_id), {"quantity": 5}).status_code == 404
    assert CartLine.objects.get(pk=line_id).quantity == 2


def test_a_signed_in_customer_sending_a_visitors_token_still_gets_their_own_cart(
    user_client, user, anonymous_token, book
):
    _line_id(APIClient(headers={"X-Cart-Token": anonymous_token}), book)
    body = user_client.get(CART, headers={"X-Cart-Token": anonymous_token}).json()
    assert body["lines"] == []
    assert body["token"] is None


def test_emptying_someone_elses_cart_is_impossible(anonymous_token, book):
    _line_id(APIClient(headers={"X-Cart-Token": anonymous_token}), book)
    assert APIClient(headers={"X-Cart-Token": "not-" + anonymous_token}).delete(CART).status_code == 204
    assert Cart.objects.get(token=anonymous_token).lines.count() == 1


# --- speed ------------------------------------------------------------------------------------


@pytest.fixture
def fifty_line_cart(db, user):
    cart = CartFactory(user=user)
    books = BookFactory.create_batch(50, stock=100)
    CartLine.objects.bulk_create(
        CartLine(cart=cart, book=b, quantity=1, price_when_added=b.price) for b in books
    )
    return cart


def data_queries(context: CaptureQueriesContext) -> list[str]:
    """The statements run, less transaction control (BEGIN, COMMIT, SAVEPOINT …): SQLite logs
    those and PostgreSQL does not, and a test's own transaction adds savepoints."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in context.captured_queries if not q["sql"].upper().startswith(control)]


def test_add_to_a_fifty_line_cart_runs_five_queries(user_client, fifty_line_cart):
    new_book = BookFactory(stock=100)
    already_there = fifty_line_cart.lines.first().book
    # The cart row, lock-and-touch, the book with its line, insert (or update), the lines to
    # answer with: the same five for a new book and for one already in the cart.
    with CaptureQueriesContext(connection) as new_line:
        assert user_client.post(ITEMS, {"book": new_book.pk, "quantity": 1}).status_code == 201
    with CaptureQueriesContext(connection) as same_line:
        response = user_client.post(ITEMS, {"book": already_there.pk, "quantity": 1})
    assert len(data_queries(new_line)) == 5, data_queries(new_line)
    assert len(data_queries(same_line)) == 5, data_queries(same_line)
    assert len(response.json()["lines"]) == 51


def test_anonymous_add_to_a_fifty_line_cart_runs_five_queries(fifty_line_cart):
    fifty_line_cart.user, fifty_line_cart.token = None, "t" * 43
    fifty_line_cart.save()
    client = APIClient(headers={"X-Cart-Token": fifty_line_cart.token})
    new_book = BookFactory(stock=3)
    with CaptureQueriesContext(connection) as context:
        assert client.post(ITEMS, {"book": new_book.pk, "quantity": 1}).status_code == 201
    assert len(data_queries(context)) == 5, data_queries(context)


def test_reading_a_fifty_line_cart_runs_two_queries(user_client, fifty_line_cart):
    # The cart, then its lines with their books: the same two for 1 or 50 lines.
    with CaptureQueriesContext(connection) as context:
        response = user_client.get(CART)
    assert len(data_queries(context)) == 2, data_queries(context)
    assert len(response.json()["lines"]) == 50


def test_an_oversized_token_is_just_unknown(api_client, book):
    response = api_client.get(CART, headers={"X-Cart-Token": "x" * 5000})
    assert response.status_code == 200
    assert len(response.json()["token"]) < 64


def test_a_first_anonymous_add_runs_two_queries(book):
    # A browser's first add, no token, no session: the book read with the cart and the line
    # written (one statement on PostgreSQL; the book, the cart and the line elsewhere), then
    # the session row; no lock-and-touch of a cart no other request knows yet, no look for a
    # line it cannot have, no reload of the line just written, no SELECT for a free session key.
    client = APIClient()
    with CaptureQueriesContext(connection) as context:
        response = client.post(ITEMS, {"book": book.pk, "quantity": 1})
    assert response.status_code == 201
    expected = (
        ["WITH", "INSERT"] if connection.vendor == "postgresql" else ["SELECT", "INSERT", "INSERT", "INSERT"]
    )
    assert [q.split()[0] for q in data_queries(context)] == expected, data_queries(context)
    line = Cart.objects.get(token=response["X-Cart-Token"]).lines.get()
    # The answer is the cart as the database has it, as a later read gives it.
    assert response.json() == client.get(CART).json()
    assert response.json()["lines"][0]["id"] == line.pk
    assert response.cookies["sessionid"].value
    # The session keeps the cart, as it did: the next add finds it without the header.
    client.post(ITEMS, {"book": book.pk, "quantity": 2})
    assert lines_of_token(response["X-Cart-Token"]) == [(book.pk, 3)]


@pytest.mark.parametrize(
    ("book_fields", "quantity", "field", "code"),
    [
        ({}, 11, "quantity", "insufficient_stock"),
        ({"is_active": False}, 1, "book", "book_unavailable"),
        ({"price": None}, 1, "book", "book_unavailable"),
        ({"stock": 0}, 1, "quantity", "insufficient_stock"),
        (None, 1, "book", "book_unavailable"),
        ("beyond_bigint", 1, "book", "book_unavailable"),
    ],
    ids=["more_than_stock", "inactive", "not_priced", "out_of_stock", "unknown", "beyond_bigint"],
)
def test_a_first_anonymous_add_refused_leaves_no_cart_behind(
    api_client, book, book_fields, quantity, field, code
):
    if book_fields is None:
        book_id = book.pk + 1000
    elif book_fields == "beyond_bigint":
        book_id = 2**70
    else:
        Book.objects.filter(pk=book.pk).update(**book_fields)
        book_id = book.pk
    carts, lines = Cart.objects.count(), CartLine.objects.count()
    response = api_client.post(ITEMS, {"book": book_id, "quantity": quantity})
    assert_field_error(response, field, code)
    assert (Cart.objects.count(), CartLine.objects.count()) == (carts, lines)
    assert "X-Cart-Token" not in response
    assert "sessionid" not in response.cookies


def test_a_first_anonymous_add_may_take_the_whole_stock(api_client, book):
    response = api_client.post(ITEMS, {"book": book.pk, "quantity": 10})
    assert response.status_code == 201
    assert lines_of_token(response["X-Cart-Token"]) == [(book.pk, 10)]
    assert response.json()["lines"][0]["insufficient_stock"] is False


def lines_of_token(token: str) -> list[tuple[int, int]]:
    return list(Cart.objects.get(token=token).lines.values_list("book_id", "quantity"))
