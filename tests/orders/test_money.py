"""Minor units at a provider's edge: 2, 0 and 3 decimals, and nothing rounded away."""

from decimal import Decimal

import pytest

from apps.orders.payments.money import AmountNotRepresentable, decimal_string, from_minor_units, minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("15.50", "EUR", 1550),
        ("0.01", "eur", 1),
        ("99999999.99", "EUR", 9999999999),
        ("1550", "JPY", 1550),
        ("1550.00", "JPY", 1550),
        ("12.345", "KWD", 12345),
        ("12.3", "BHD", 12300),
    ],
)
def test_minor_units_round_trip(amount, currency, units):
    assert minor_units(Decimal(amount), currency) == units
    assert from_minor_units(units, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [("15.505", "EUR"), ("15.5", "JPY"), ("1.2345", "KWD")])
def test_an_amount_finer_than_its_currency_is_refused(amount, currency):
    with pytest.raises(AmountNotRepresentable):
        minor_units(Decimal(amount), currency)


def test_decimal_strings_have_the_currency_decimals():
    assert decimal_string(Decimal("15.5"), "EUR") == "15.50"
    assert decimal_string(Decimal("1550.00"), "JPY") == "1550"
    assert decimal_string(Decimal("1.5"), "KWD") == "1.500"
    assert str(from_minor_units(1550, "JPY")) == "1550"
