"""The catalogue's cache generation, shared by the two apps that hold catalogue data
(categories and catalog) and by the readers that show it (the cart).

Every cached read that shows catalogue data (book lists and details, category trees, carts
with their current prices) puts ``catalog_version()`` in its cache key. Any write to books,
authors, publishers, categories or stock calls ``catalog_version_bump()``, which replaces the
generation once the transaction commits: every older entry stops being read at once, and
expires on its own. Readers never see a price older than the last committed write.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.response import Response

VERSION_KEY = "catalog:version"


def catalog_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        # add() keeps a generation another process has just set.
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY, version)
    return version


def catalog_version_bump() -> None:
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None), robust=True)


SCOPE_KEY_PREFIX = "catalog:scope"


def scope_version(scope: str) -> str:
    """The generation of one part of the catalogue (a book: see ``catalog.selectors``).

    A write that changes only that part (a review changes its book's rating) bumps it instead
    of the whole catalogue's generation, so the other cached reads live on.
    """
    key = f"{SCOPE_KEY_PREFIX}:{scope}"
    version = cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, timeout=None):
            version = cache.get(key, version)
    return version


def scope_versions_bump(scopes: Iterable[str]) -> None:
    keys = [f"{SCOPE_KEY_PREFIX}:{scope}" for scope in scopes]
    transaction.on_commit(
        lambda: cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None), robust=True
    )


def versions_key(scope: str | None) -> str:
    """The catalogue's generation, and the scope's when there is one, for a cache key."""
    return f"{catalog_version()}:{scope_version(scope)}" if scope else catalog_version()


READ_KEY_PREFIX = "catalog:read"


def cached_read(
    request: Any, build: Callable[[], Any], *, timeout: int | None = None, scope: str | None = None
) -> Any:
    """Serve an anonymous GET from the cache, or build it and keep it for the next reader.

    The key holds the path, the full query string (its parameters sorted) and the
    generation read *before* building: a response built while a write commits is stored
    under the old generation, so it is never served after the write. ``scope`` adds the
    generation of the part of the catalogue the response shows (see ``scope_version``).
    """
    if request.method != "GET" or request.user.is_authenticated:
        return build()
    query = "&".join(f"{k}={v}" for k, values in sorted(request.query_params.lists()) for v in values)
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()
    key = f"{READ_KEY_PREFIX}:{versions_key(scope)}:{digest}"
    data = cache.get(key)
    if data is not None:
        response = Response(data)
        response["X-Cache"] = "HIT"
        return response
    response = build()
    if response.status_code == 200:
        cache.set(key, response.data, timeout=timeout or settings.CATALOG_CACHE_TIMEOUT)
    response["X-Cache"] = "MISS"
    return response
