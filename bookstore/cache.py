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
from collections.abc import Callable
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


READ_KEY_PREFIX = "catalog:read"


def cached_read(request: Any, build: Callable[[], Any], *, timeout: int | None = None) -> Any:
    """Serve an anonymous GET from the cache, or build it and keep it for the next reader.

    The key holds the path, the full query string (its parameters sorted) and the
    generation read *before* building: a response built while a write commits is stored
    under the old generation, so it is never served after the write.
    """
    if request.method != "GET" or request.user.is_authenticated:
        return build()
    query = "&".join(f"{k}={v}" for k, values in sorted(request.query_params.lists()) for v in values)
    digest = hashlib.sha256(f"{request.path}?{query}".encode()).hexdigest()
    key = f"{READ_KEY_PREFIX}:{catalog_version()}:{digest}"
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
