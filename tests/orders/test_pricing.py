"""Shipping (French law on book prices, or flat) and the VAT included in prices."""

from decimal import Decimal

import pytest
from django.test import override_settings

from apps.orders.pricing import shipping_for, vat_included

D = Decimal


@pytest.mark.parametrize(
    ("books_total", "shipping"),
    [
        (D("0.50"), D("3.00")),
        (D("34.99"), D("3.00")),
        (D("35.00"), D("0.01")),
        (D("35.01"), D("0.01")),
        (D("420.00"), D("0.01")),
    ],
)
def test_book_law_shipping_around_the_threshold(books_total, shipping):
    assert shipping_for(books_total=books_total) == shipping


def test_flat_shipping_ignores_the_amount():
    with override_settings(SHIPPING_POLICY="flat", SHIPPING_FLAT_RATE=D("4.9")):
        assert shipping_for(books_total=D("10.00")) == D("4.90")
        assert shipping_for(books_total=D("100.00")) == D("4.90")


@pytest.mark.parametrize(
    ("amounts", "vat"),
    [
        ([D("105.50")], D("5.50")),
        ([D("34.99"), D("3.00")], D("1.98")),  # 37.99 * 5.5 / 105.5 = 1.98052…
        ([D("35.00"), D("0.01")], D("1.83")),  # 35.01 * 5.5 / 105.5 = 1.82516…
        ([D("0.00")], D("0.00")),
    ],
)
def test_vat_included_at_five_and_a_half_percent(amounts, vat):
    assert vat_included(amounts=amounts, rate=D("5.5")) == vat


def test_vat_is_rounded_once_not_per_line():
    # 0.10 holds 0.005213… of VAT: rounded per line, 30 lines would make 0.30 (0.01 each);
    # the exact sum is 0.1563…, rounded once 0.16.
    assert vat_included(amounts=[D("0.10")] * 30, rate=D("5.5")) == D("0.16")


def test_vat_over_many_lines_equals_vat_of_their_sum():
    amounts = [D("7.33"), D("12.99"), D("0.45"), D("19.90"), D("3.01")] * 40
    assert vat_included(amounts=amounts, rate=D("5.5")) == vat_included(amounts=[sum(amounts)], rate=D("5.5"))
    assert vat_included(amounts=amounts, rate=D("5.5")) == D("91.09")  # 1747.20 * 5.5 / 105.5 = 91.086…
