"""Catalogue data of the pages, cached under the catalogue's generation.

What is cached is the data a page shows (books with their authors and categories, facets, the
category tree), not its HTML: the HTML carries the visitor's CSRF token, language and cart, so
it is rendered for each request, from the cached data. The key holds the path, the sorted
query string and ``catalog_version()``: any catalogue write retires every entry at once.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from bookstore.cache import versions_key

KEY_PREFIX = "storefront:data"


def cached_data(
    request: HttpRequest, build: Callable[[], dict[str, Any]], *, scope: str | None = None
) -> dict[str, Any]:
    """The page's data from the cache, or built (and kept) now. The same for every visitor.

    ``fragment_key`` in the data names it for the templates' ``{% cache %}`` of the parts that
    hold nothing of the visitor's (no form with a CSRF token): with the language, it keys
    their rendered HTML, which a catalogue write retires with the data. ``scope`` adds the
    generation of the part of the catalogue the page shows (a book's page: its reviews).
    """
    query = "&".join(f"{k}={v}" for k, values in sorted(request.GET.lists()) for v in values)
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()
    key = f"{KEY_PREFIX}:{versions_key(scope)}:{digest}"
    data = cache.get(key)
    if data is None:
        data = {**build(), "fragment_key": key, "fragment_timeout": settings.CATALOG_CACHE_TIMEOUT}
        cache.set(key, data, timeout=settings.CATALOG_CACHE_TIMEOUT)
    return data
