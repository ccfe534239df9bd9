"""The catalogue's cache generation.

Every cached read that shows catalogue data (book lists and details, category trees, carts
with their current prices) puts ``catalog_version()`` in its cache key. Any write to books,
authors, publishers, categories or stock calls ``catalog_version_bump()``, which replaces the
generation once the transaction commits: every older entry stops being read at once, and
expires on its own. Readers never see a price older than the last committed write.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

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
