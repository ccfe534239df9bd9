"""The amounts of placed orders on the shipping threshold and over many lines."""

from decimal import Decimal

import pytest

from apps.orders.models import Order
from apps.orders.services import order_place
from tests.factories import BookFactory

from .conftest import INLINE_ADDRESS, ORDERS, fill_cart

pytestmark = pytest.mark.django_db


def place(user, *lines):
    fill_cart(user, *lines)
    order, created = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")
    assert created
    return order


@pytest.mark.parametrize(
    ("price", "shipping", "total", "vat"),
    [
        ("34.99", "3.00", "37.99", "1.98"),
        ("35.00", "0.01", "35.01", "1.83"),
    ],
)
def test_threshold_of_the_book_price_law(user, price, shipping, total, vat):
    order = place(user, (BookFactory(price=Decimal(price)), 1))
    assert (order.subtotal, order.shipping_total, order.total, order.vat_total) == (
        Decimal(price),
        Decimal(shipping),
        Decimal(total),
        Decimal(vat),
    )


@pytest.mark.parametrize(("price", "quantity"), [("47.90", 3), ("0.10", 3), ("33.33", 3)])
def test_totals_that_binary_floats_cannot_hold_are_stored_exactly(user, price, quantity):
    """143.70 + 0.01 is 143.70999… in floats: the database must still accept the order."""
    order = place(user, (BookFactory(price=Decimal(price), stock=5), quantity))
    order.refresh_from_db()
    assert order.total == order.subtotal + order.shipping_total
    assert order.total == Decimal(price) * quantity + order.shipping_total


def test_threshold_counts_quantities(user):
    order = place(user, (BookFactory(price=Decimal("17.50")), 2))
    assert order.subtotal == Decimal("35.00")
    assert order.shipping_total == Decimal("0.01")


def test_many_cheap_lines_round_vat_once(user):
    books = [BookFactory(price=Decimal("0.10")) for _ in range(30)]
    order = place(user, *[(book, 1) for book in books])
    # Books 3.00 + shipping 3.00 = 6.00, which holds 0.3127… of VAT; per-line rounding of the
    # 30 books alone would already give 0.30 + 0.16.
    assert order.subtotal == Decimal("3.00")
    assert order.total == Decimal("6.00")
    assert order.vat_total == Decimal("0.31")
    assert order.vat_rate == Decimal("5.50")
    assert order.lines.count() == 30


def test_an_order_whose_total_the_amount_columns_cannot_hold_is_refused(user, user_client):
    # Two copies at the highest price a book may have: the order total would need 11 digits
    # before the point, its columns hold 8 (was a numeric overflow, a 500 on PostgreSQL).
    book = BookFactory(price=Decimal("99999999.99"), stock=5)
    fill_cart(user, (book, 2))
    response = user_client.post(ORDERS, {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"})
    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "order_too_large"
    assert not Order.objects.exists()
    book.refresh_from_db()
    assert book.stock == 5
    assert user.cart.lines.get().quantity == 2


def test_an_order_at_the_highest_total_is_placed(user, user_client):
    fill_cart(user, (BookFactory(price=Decimal("99999999.98"), stock=1), 1))
    response = user_client.post(ORDERS, {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"})
    assert response.status_code == 201, response.content
    assert response.json()["total"] == "99999999.99"
