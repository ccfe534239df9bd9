"""Template helpers of the storefront: covers at a thumbnail's width, the category tree, prices."""

from typing import Any

from django import template
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import formats
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def cover_url(book: Any, width: int) -> str:
    """The smallest thumbnail at least ``width`` wide, else the cover itself; "" without a cover."""
    if not book.cover:
        return ""
    thumbnails = book.cover_thumbnails or {}
    fitting = sorted((int(w), name) for w, name in thumbnails.items() if int(w) >= width)
    name = fitting[0][1] if fitting else book.cover.name
    return default_storage.url(name)


@register.inclusion_tag("storefront/_tree.html")
def category_tree(nodes: list[dict[str, Any]], current: str = "", query: str = "") -> dict[str, Any]:
    return {"nodes": nodes, "current": current, "query": query}


SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


@register.filter
def price(amount: Any, currency: str = "") -> str:
    """``12,90 €`` in French, ``€12.90`` in English: the active locale's digits and symbol place."""
    if amount is None or amount == "":
        return ""
    code = (currency or settings.SHOP_CURRENCY).upper()
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(code, code)
    if (get_language() or "fr").startswith("en"):
        return f"{symbol}{number}" if len(symbol) == 1 else f"{number} {symbol}"
    return f"{number}\u00a0{symbol}"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def stars(rating: int) -> str:
    """``4`` → ``★★★★☆`` (the element around it carries the rating in words for screen readers)."""
    rating = max(0, min(int(rating), 5))
    return "★" * rating + "☆" * (5 - rating)
