"""The amounts of placed orders on the shipping threshold and over many lines."""

from decimal import Decimal

import pytest

from apps.orders.services import order_place
from tests.factories import BookFactory

from .conftest import INLINE_ADDRESS, fill_cart

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
