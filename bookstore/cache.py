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

from bookstore.replicas import catalogue_written

VERSION_KEY = "catalog:version"


def _generation(key: str, known: str | None = None) -> str:
    """The generation stored at ``key`` (``known`` when the caller has just read it), made now
    if there is none: ``add()`` keeps a generation another process has just set."""
    version = known if known is not None else cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, timeout=None):
            version = cache.get(key, version)
    return version


def _bump_on_commit(keys: Iterable[str]) -> None:
    keys = list(keys)

    def bump() -> None:
        # First, so that a read keyed by the new generation is never built from a replica
        # that has not replayed the write (bookstore/replicas.py).
        catalogue_written()
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)

    transaction.on_commit(bump, robust=True)


def catalog_version() -> str:
    return _generation(VERSION_KEY)


def catalog_version_bump() -> None:
    _bump_on_commit([VERSION_KEY])


SCOPE_KEY_PREFIX = "catalog:scope"


def _scope_key(scope: str) -> str:
    return f"{SCOPE_KEY_PREFIX}:{scope}"


def scope_version(scope: str) -> str:
    """The generation of one part of the catalogue (a book: see ``catalog.selectors``).

    A write that changes only that part (a review changes its book's rating) bumps it instead
    of the whole catalogue's generation, so the other cached reads live on.
    """
    return _generation(_scope_key(scope))


def scope_versions_bump(scopes: Iterable[str]) -> None:
    _bump_on_commit(_scope_key(scope) for scope in scopes)


def versions_key(scope: str | None) -> str:
    """The catalogue's generation, and the scope's when there is one (read in one round
    trip), for a cache key."""
    if not scope:
        return catalog_version()
    keys = [VERSION_KEY, _scope_key(scope)]
    found = cache.get_many(keys)
    return ":".join(_generation(key, found.get(key)) for key in keys)


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
