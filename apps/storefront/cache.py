"""Catalogue data of the pages, cached for every visitor.

What is cached is the data a page shows (books with their authors and categories, facets, the
category tree), not its HTML: the HTML carries the visitor's CSRF token, language and cart, so
it is rendered for each request, from the cached data. The key holds the path, the sorted
query string and the catalogue's generation (``bookstore.cache``): any catalogue write retires
every entry at once. The entry also records the stock numbers of the books it shows, so a
checkout retires only the pages showing a book whose stock it moved.
"""

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from apps.catalog.models import Book
from bookstore.cache import cached_books

KEY_PREFIX = "storefront:data"
# The entries of a page's data that hold books (one, or a list).
BOOK_ENTRIES = ("book", "books", "others", "new_books", "best_rated")


def shown_book_ids(data: dict[str, Any]) -> list[int]:
    """The ids of the books a page's data shows (their stock figures are on the page)."""
    ids: list[int] = []
    for name in BOOK_ENTRIES:
        value = data.get(name)
        items: Iterable[Any] = [value] if isinstance(value, Book) else (value or ())
        ids.extend(item.pk for item in items if isinstance(item, Book))
    return ids


def cached_data(
    request: HttpRequest,
    build: Callable[[], dict[str, Any]],
    *,
    scope: str | None = None,
    availability: bool = False,
) -> dict[str, Any]:
    """The page's data from the cache, or built (and kept) now. The same for every visitor.

    ``fragment_key`` in the data names it for the templates' ``{% cache %}`` of the parts that
    hold nothing of the visitor's (no form with a CSRF token): with the language, it keys
    their rendered HTML, which a catalogue write, or a stock move of one of its books, retires
    with the data. ``scope`` adds the generation of the part of the catalogue the page shows (a
    book's page: its reviews); ``availability``: the page depends on which books are in stock.
    """
    query = "&".join(f"{k}={v}" for k, values in sorted(request.GET.lists()) for v in values)
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()
    key = f"{KEY_PREFIX}:{digest}"

    def make() -> tuple[dict[str, Any], list[int]]:
        data = build()
        return data, shown_book_ids(data)

    found = cached_books(key, make, scope=scope, availability=availability)
    request.catalog_cache = "HIT" if found.hit else "MISS"  # type: ignore[attr-defined]
    return {**found.value, "fragment_key": found.version, "fragment_timeout": settings.CATALOG_CACHE_TIMEOUT}
