"""Pagination as plain data: what the links need, cacheable (a ``Page`` holds its whole queryset)."""

from typing import Any

from django.core.paginator import Page


def pager(page: Page) -> dict[str, Any]:
    return {
        "number": page.number,
        "num_pages": page.paginator.num_pages,
        "previous": page.previous_page_number() if page.has_previous() else None,
        "next": page.next_page_number() if page.has_next() else None,
    }
