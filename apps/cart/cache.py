"""The cached copy of a cart's computed summary (lines, prices, flags, totals).

A cart is cached under its owner (a customer id or an anonymous token), so a read finds it
without any SQL. It is retired by:

- the catalogue's generation (``bookstore.cache``): any catalogue write (a price changed in
  the admin, a book withdrawn) retires every cached cart at once;
- the numbers of the books in it (``bookstore.cache.books_changed``): a checkout or a
  cancellation that moved one of its books' stock retires it, and only the carts holding
  those books;
- the cart's own generation, replaced after every committed write to that cart.

A reader takes the generations *before* it reads the database, so a summary computed from
rows older than a write is stored under a generation that write has already retired: nobody
reads it again, and it expires on its own (``bookstore.cache.cached_books`` does the same for
the books' numbers).
"""

import uuid

from django.core.cache import cache
from django.db import transaction

CART_CACHE_TIMEOUT = 300
# A generation may expire: the next reader starts a new one, which only retires older entries.
GENERATION_TIMEOUT = 3600


def owner_key(*, user_id: int | None = None, token: str | None = None) -> str:
    if user_id is not None:
        return f"u{user_id}"
    if token:
        return f"t{token}"
    raise ValueError("a cart owner is a user id or a token")


def _generation_key(owner: str) -> str:
    return f"cart:gen:{owner}"


def _cart_generation(owner: str) -> str:
    key = _generation_key(owner)
    generation = cache.get(key)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(key, generation, timeout=GENERATION_TIMEOUT):
            generation = cache.get(key, generation)
    return generation


def summary_key(owner: str) -> str:
    """The key under which the owner's cart summary is read and written, as of now (the
    catalogue's generation is added by ``bookstore.cache.cached_books``)."""
    return f"cart:summary:{owner}:{_cart_generation(owner)}"


def cart_cache_invalidate(owner: str) -> None:
    """Retire the owner's cached cart once the current transaction commits."""
    transaction.on_commit(
        lambda: cache.set(_generation_key(owner), uuid.uuid4().hex, timeout=GENERATION_TIMEOUT), robust=True
    )
