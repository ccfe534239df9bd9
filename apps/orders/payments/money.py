"""Amounts at a provider's edge: integer minor units, and the decimal strings PayPal wants.

The number of decimals is the currency's (ISO 4217, as Stripe and PayPal count them): 2 for
EUR, 0 for JPY, 3 for KWD. An amount finer than its currency allows is an error, never rounded
away: money that cannot be represented must not be charged as something else.
"""

from decimal import Decimal

from .base import GatewayError


class AmountNotRepresentable(GatewayError, ValueError):
    """An amount with more decimals than its currency has (the shop's prices are misconfigured)."""


# Currencies without minor units, and with three decimals (ISO 4217; Stripe's and PayPal's lists).
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "HUF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "TWD", "UGX", "VND"}
    | {"VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def currency_decimals(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("15.50"), "EUR"`` → ``1550``; ``Decimal("1550"), "JPY"`` → ``1550``."""
    scaled = amount.scaleb(currency_decimals(currency))
    if scaled != scaled.to_integral_value():
        raise AmountNotRepresentable(f"{amount} {currency.upper()} has more decimals than its currency")
    return int(scaled)


def from_minor_units(value: int, currency: str) -> Decimal:
    """``1550, "EUR"`` → ``Decimal("15.50")``; ``1550, "JPY"`` → ``Decimal("1550")``."""
    places = currency_decimals(currency)
    return Decimal(value).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def decimal_string(amount: Decimal, currency: str) -> str:
    """The amount with exactly the currency's decimals, as PayPal writes it (``"15.50"``, ``"1550"``)."""
    return str(from_minor_units(minor_units(amount, currency), currency))
