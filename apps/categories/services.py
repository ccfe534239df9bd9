"""Writes to the category tree. ``path`` and ``depth`` are kept here, never elsewhere."""

from enum import Enum
from typing import Literal

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.text import slugify

from bookstore.cache import catalog_version_bump

from .exceptions import CategoryCycle, CategoryNotEmpty
from .models import Category


class _Unset(Enum):
    UNSET = 0


UNSET = _Unset.UNSET


def _unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:130] or "category"
    slug, suffix = base, 2
    while Category.objects.filter(slug=slug).exclude(pk=exclude_pk or 0).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def category_create(
    *,
    name: str,
    slug: str = "",
    parent: Category | None = None,
    position: int = 0,
    description: str = "",
) -> Category:
    """Create a category under ``parent`` (or at the root), with its materialised path."""
    with transaction.atomic():
        category = Category.objects.create(
            name=name,
            slug=slug or _unique_slug(name),
            parent=parent,
            position=position,
            description=description,
        )
        prefix = parent.path if parent is not None else ""
        category.path = f"{prefix}{category.pk}/"
        category.depth = parent.depth + 1 if parent is not None else 0
        category.save(update_fields=["path", "depth"])
    catalog_version_bump()
    return category


def category_update(
    *,
    category: Category,
    name: str | None = None,
    slug: str | None = None,
    position: int | None = None,
    description: str | None = None,
    parent: Category | Literal[_Unset.UNSET] | None = UNSET,
) -> Category:
    """Change a category; giving ``parent`` moves it with its whole subtree.

    A move under the category itself or under one of its descendants would make a cycle and
    is refused (``CategoryCycle``). The paths and depths of the subtree are rewritten in one
    UPDATE, inside the same transaction as the move.
    """
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        fields = []
        for field, value in (
            ("name", name),
            ("slug", slug),
            ("position", position),
            ("description", description),
        ):
            if value is not None:
                setattr(category, field, value)
                fields.append(field)
        if fields:
            category.save(update_fields=[*fields, "updated_at"])
        if parent is not UNSET and (parent.pk if parent else None) != category.parent_id:
            _category_move(category=category, parent=parent)
    catalog_version_bump()
    return category


def _category_move(*, category: Category, parent: Category | None) -> None:
    if parent is not None:
        parent = Category.objects.get(pk=parent.pk)
        if parent.path.startswith(category.path):
            raise CategoryCycle(
                f"'{parent.name}' is '{category.name}' itself or one of its descendants.",
                errors={"parent": ["Cannot move a category under itself or one of its descendants."]},
            )
    old_path = category.path
    new_path = f"{parent.path if parent else ''}{category.pk}/"
    depth_change = (parent.depth + 1 if parent else 0) - category.depth
    Category.objects.filter(pk=category.pk).update(parent=parent)
    Category.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    category.refresh_from_db()


def category_delete(*, category: Category) -> None:
    """Delete a category that has neither subcategories nor books; refuse otherwise."""
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        children = category.children.count()
        books = category.books.count()
        if children or books:
            raise CategoryNotEmpty(
                f"'{category.name}' still has {children} subcategories and {books} books: "
                "move or delete them first.",
                children=children,
                books=books,
            )
        category.delete()
    catalog_version_bump()
