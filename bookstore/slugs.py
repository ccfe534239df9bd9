"""Slugs made from names, unique within a table."""

from django.db.models import Model, QuerySet
from django.utils.text import slugify


def unique_slug(
    queryset: QuerySet[Model], name: str, *, max_length: int, fallback: str, exclude_pk: int | None = None
) -> str:
    """``slugify(name)``, with ``-2``, ``-3`` … appended until no row of ``queryset`` has it.

    A row created meanwhile with the same slug still hits the unique index: callers turn that
    into their own clear error.
    """
    base = slugify(name)[:max_length] or fallback
    slug, suffix = base, 2
    taken = queryset.exclude(pk=exclude_pk) if exclude_pk is not None else queryset
    while taken.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug
