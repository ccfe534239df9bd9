"""Writes to the catalogue. Stock moves only through ``stock_reserve`` and ``stock_release``."""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import F

from .cache import catalog_version_bump
from .exceptions import OutOfStock
from .models import Book


def stock_reserve(*, quantities: Mapping[int, int]) -> None:
    """Take ``quantities`` (book id → copies) out of stock, all or nothing.

    Each book is decremented by a conditional ``UPDATE … WHERE stock >= n``, in primary-key
    order, so two checkouts holding the same books never deadlock and stock never goes below
    zero (the check constraint backs this up). When one book is short the whole reservation
    is rolled back and ``OutOfStock`` names every short book with what is available.
    """
    shortages: dict[int, int] = {}
    with transaction.atomic():
        for book_id in sorted(quantities):
            wanted = quantities[book_id]
            if wanted <= 0:
                raise ValueError(f"cannot reserve {wanted} copies of book {book_id}")
            updated = Book.objects.filter(pk=book_id, stock__gte=wanted).update(stock=F("stock") - wanted)
            if not updated:
                shortages[book_id] = 0
        if shortages:
            available = dict(Book.objects.filter(pk__in=shortages).values_list("pk", "stock"))
            shortages = {book_id: available.get(book_id, 0) for book_id in shortages}
            transaction.set_rollback(True)
    if shortages:
        raise OutOfStock(shortages)
    catalog_version_bump()


def stock_release(*, quantities: Mapping[int, int]) -> None:
    """Give ``quantities`` (book id → copies) back to stock, in primary-key order."""
    with transaction.atomic():
        for book_id in sorted(quantities):
            Book.objects.filter(pk=book_id).update(stock=F("stock") + quantities[book_id])
    catalog_version_bump()
