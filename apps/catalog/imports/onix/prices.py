"""A product's price in the shop's currency and country, and its stock, from its supply details.

Only a price in the shop's currency for its country (or for no territory, or the world) is
taken; the fixed or recommended retail price including tax first (types 04, 02), then those
excluding tax (03, 01) converted with their own tax block. Never a price made up from another
currency.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .elements import _children, _int, _Node, _node_text, _value, _values

if TYPE_CHECKING:
    from .reader import _Options

# Code list 58: preferred first. Prices including tax are taken as they are; excluding tax, they
# are converted with their own tax rate.
_PRICE_TYPE_RANK = {"04": 0, "02": 1, "03": 2, "01": 3}
_PRICE_INCLUDES_TAX = {"04", "02"}
_CURRENCY_SIGNS = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₣": "CHF"}

_AVAILABILITY = {  # code list 65
    "01": "Cancelled",
    "09": "Not yet available, postponed indefinitely",
    "10": "Not yet available",
    "11": "Awaiting stock",
    "12": "Not yet available, will be POD",
    "20": "Available",
    "21": "In stock",
    "22": "To order",
    "23": "POD",
    "30": "Temporarily unavailable",
    "31": "Out of stock",
    "32": "Reprinting",
    "33": "Awaiting reissue",
    "34": "Temporarily withdrawn from sale",
    "40": "Not available (reason unspecified)",
    "41": "Not available, replaced by new product",
    "42": "Not available, other format available",
    "43": "No longer supplied by us",
    "44": "Apply direct",
    "45": "Not sold separately",
    "46": "Withdrawn from sale",
    "47": "Remaindered",
    "48": "Not available, replaced by POD",
    "49": "Recalled",
    "50": "Not sold as set",
    "51": "Not available, publisher indicates OP",
    "52": "Not available, publisher no longer sells product in this market",
    "97": "No recent update received",
    "98": "No longer receiving updates",
    "99": "Contact supplier",
}
_CENT = Decimal("0.01")


# Prices and stock.


@dataclass(frozen=True)
class _PriceOffer:
    kind: str
    amount: str
    territory_rank: int  # 0: the shop's country named, 1: no territory or the world
    taxes: tuple[tuple[str, str], ...]  # (rate percent, tax amount) of each tax block


def _price_and_stock(
    product: _Node, options: "_Options", notes: list[str]
) -> tuple[Decimal | None, int | None]:
    offers: list[_PriceOffer] = []
    other_currencies: set[str] = set()
    stock: int | None = None
    availability: list[str] = []
    for supply_detail, market_territories in _supply_details(product):
        for price in _children(supply_detail, "Price"):
            offer_currency = (_value(price, "CurrencyCode") or options.default_currency).upper()
            kind = _value(price, "PriceType") or _value(price, "PriceTypeCode")
            if offer_currency != options.currency:
                if offer_currency:
                    other_currencies.add(offer_currency)
                continue
            if kind not in _PRICE_TYPE_RANK:
                continue
            if _has_territory(price):
                territory = _territory_rank(price, options.country)
            else:
                territory = _market_rank(market_territories, options.country)
            if territory is None:
                continue
            offers.append(
                _PriceOffer(kind, _value(price, "PriceAmount"), territory, _taxes(price)),
            )
        code = _value(supply_detail, "ProductAvailability")
        if code:
            availability.append(f"{code} ({_AVAILABILITY.get(code, 'unknown code')})")
        elif legacy := _value(supply_detail, "AvailabilityCode"):  # 2.1, code list 54
            availability.append(f"{legacy} (ONIX 2.1 availability code)")
        if stock is None:
            on_hand = [_int(_value(s, "OnHand")) for s in _children(supply_detail, "Stock")]
            counts = [count for count in on_hand if count is not None]
            if counts:
                stock = max(0, sum(counts))  # a negative count is copies owed, not stock
    for entry in dict.fromkeys(availability):
        notes.append(f"Supply availability {entry}.")
    return _choose_price(offers, options, other_currencies, notes), stock


def _supply_details(product: _Node) -> Iterator[tuple[_Node, list[_Node]]]:
    for supply in _children(product, "ProductSupply"):  # 3.0
        territories = [t for market in _children(supply, "Market") for t in _children(market, "Territory")]
        for detail in _children(supply, "SupplyDetail"):
            yield detail, territories
    for detail in _children(product, "SupplyDetail"):  # 2.1
        yield detail, []


def _has_territory(price: _Node) -> bool:
    return "Territory" in price.children or "CountryCode" in price.children


def _territory_rank(price: _Node, country: str) -> int | None:
    """0 when the price names the shop's country, 1 when it covers the world (without excluding
    the country), None when it is for somewhere else."""
    ranks: list[int | None] = []
    for territory in _children(price, "Territory"):
        if territory.children:  # 3.0 composite
            ranks.append(_composite_territory_rank(territory, country))
        else:  # 2.1 text: countries or regions separated by spaces
            ranks.append(_codes_rank(_node_text(territory).upper().split(), [], country))
    countries = [code.upper() for value in _values(price, "CountryCode") for code in value.split()]
    if countries:
        ranks.append(_codes_rank(countries, [], country))
    found = [rank for rank in ranks if rank is not None]
    return min(found) if found else None


def _market_rank(territories: list[_Node], country: str) -> int | None:
    if not territories:
        return 1
    ranks = [_composite_territory_rank(territory, country) for territory in territories]
    found = [rank for rank in ranks if rank is not None]
    return min(found) if found else None


def _composite_territory_rank(territory: _Node, country: str) -> int | None:
    included = [code for value in _values(territory, "CountriesIncluded") for code in value.upper().split()]
    regions = [code for value in _values(territory, "RegionsIncluded") for code in value.upper().split()]
    excluded = [code for value in _values(territory, "CountriesExcluded") for code in value.upper().split()]
    if not included and not regions:
        # Only exclusions: everywhere but the countries named.
        return None if country in excluded else 1
    return _codes_rank(included + regions, excluded, country)


def _codes_rank(codes: list[str], excluded: list[str], country: str) -> int | None:
    if country in excluded:
        return None
    if country in codes:
        return 0
    if "WORLD" in codes or "ROW" in codes:
        return 1
    return None


def _taxes(price: _Node) -> tuple[tuple[str, str], ...]:
    taxes = [(_value(tax, "TaxRatePercent"), _value(tax, "TaxAmount")) for tax in _children(price, "Tax")]
    if rate := _value(price, "TaxRatePercent1"):  # 2.1
        taxes.append((rate, ""))
    return tuple(taxes)


def _choose_price(
    offers: list[_PriceOffer], options: "_Options", other_currencies: set[str], notes: list[str]
) -> Decimal | None:
    """Fixed price including tax (04), then recommended including tax (02), then those excluding
    tax (03, 01) converted with their own tax rate; the shop's country before no territory."""
    offers.sort(key=lambda offer: (_PRICE_TYPE_RANK[offer.kind], offer.territory_rank))
    for offer in offers:
        amount, problem = _amount(offer.amount, options.currency)
        if amount is not None and offer.kind not in _PRICE_INCLUDES_TAX:
            amount, problem = _add_tax(amount, offer.taxes)
            if amount is not None:
                notes.append(f"Price type {offer.kind} excludes tax: converted with its tax block.")
        if amount is not None:
            return amount
        notes.append(f"Price type {offer.kind} ({offer.amount!r} {options.currency}) refused: {problem}")
    where = f"{options.country} or no territory"
    if offers:
        notes.append(f"No usable price in {options.currency}: not for sale until staff set one.")
    elif other_currencies:
        found = ", ".join(sorted(other_currencies))
        notes.append(
            f"No price in {options.currency} for {where} (only {found}): not for sale until staff set one."
        )
    else:
        notes.append(f"No price in {options.currency} for {where}: not for sale until staff set one.")
    return None


def _amount(raw: str, currency: str) -> tuple[Decimal | None, str]:
    value = raw.replace(" ", "").replace("\xa0", "")
    for sign, sign_currency in _CURRENCY_SIGNS.items():
        if sign in value:
            if sign_currency != currency:
                return None, f"the amount carries the {sign} sign of another currency."
            value = value.replace(sign, "")
    if value.upper().endswith(currency) or value.upper().startswith(currency):
        value = value.upper().replace(currency, "")
    if "," in value and "." in value:  # "1.234,50" or "1,234.50": the last one is decimal
        thousands = "." if value.rfind(",") > value.rfind(".") else ","
        value = value.replace(thousands, "")
    value = value.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", value):
        return None, "not an amount."
    amount = Decimal(value)
    if amount <= 0:
        return None, "not a selling price (zero or less)."
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP), ""


def _add_tax(amount: Decimal, taxes: tuple[tuple[str, str], ...]) -> tuple[Decimal | None, str]:
    if not taxes:
        return None, "a price excluding tax with no tax block to convert it."
    total = amount
    for rate, tax_amount in taxes:
        if rate:
            try:
                percent = Decimal(rate.replace(",", "."))
            except InvalidOperation:
                return None, f"tax rate {rate!r} is not a number."
            if percent < 0 or percent >= 100:
                return None, f"tax rate {rate}% is not a rate."
            total += amount * percent / 100
        elif tax_amount:
            try:
                total += Decimal(tax_amount.replace(",", "."))
            except InvalidOperation:
                return None, f"tax amount {tax_amount!r} is not a number."
        else:
            return None, "its tax block gives neither a rate nor an amount."
    return total.quantize(_CENT, rounding=ROUND_HALF_UP), ""
