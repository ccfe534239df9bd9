"""Shipping and VAT, from the shop's settings. Money is Decimal; rounding happens once, here."""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def shipping_for(*, books_total: Decimal) -> Decimal:
    """Shipping for ``books_total`` of books under ``settings.SHIPPING_POLICY``.

    ``book_law`` (the default) follows the French law on book prices: delivery may not be free,
    so it costs ``SHIPPING_BOOK_LAW_UNDER`` (3.00) below ``SHIPPING_BOOK_LAW_THRESHOLD`` (35.00)
    and ``SHIPPING_BOOK_LAW_FROM`` (0.01) from it. ``flat`` charges ``SHIPPING_FLAT_RATE``.
    """
    if settings.SHIPPING_POLICY == "flat":
        return money(settings.SHIPPING_FLAT_RATE)
    if books_total >= settings.SHIPPING_BOOK_LAW_THRESHOLD:
        return money(settings.SHIPPING_BOOK_LAW_FROM)
    return money(settings.SHIPPING_BOOK_LAW_UNDER)


def vat_included(*, amounts: Iterable[Decimal], rate: Decimal) -> Decimal:
    """The VAT contained in prices that include it, at ``rate`` percent.

    Each amount's share (``amount * rate / (100 + rate)``) is kept exact and the sum is rounded
    once, so many small lines do not pile up rounding errors.
    """
    exact = sum((amount * rate / (Decimal(100) + rate) for amount in amounts), Decimal(0))
    return money(exact)
