"""Writes to the category tree. ``path`` and ``depth`` are kept here, never elsewhere."""

from collections.abc import Callable
from enum import Enum
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Substr

from bookstore.cache import catalog_version_bump
from bookstore.slugs import unique_slug

from .exceptions import CategoryCycle, CategoryNotEmpty, CategorySlugTaken, CategoryTooDeep
from .models import Category

# Levels below a root (a root is depth 0). Keeps ``path`` (255 characters) far from full and
# the tree navigable.
MAX_DEPTH = 8


class _Unset(Enum):
    UNSET = 0


UNSET = _Unset.UNSET


def _unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    return unique_slug(
        Category.objects.all(), name, max_length=130, fallback="category", exclude_pk=exclude_pk
    )


def category_create(
    *,
    name: str,
    slug: str = "",
    parent: Category | None = None,
    position: int = 0,
    description: str = "",
) -> Category:
    """Create a category under ``parent`` (or at the root), with its materialised path.

    The tree is at most ``MAX_DEPTH`` levels deep (``CategoryTooDeep``); a slug another
    category took meanwhile is ``CategorySlugTaken``, never a database error.
    """
    with transaction.atomic():
        if parent is not None:
            # Locked: a concurrent move of the parent cannot leave this child a stale path.
            parent = Category.objects.select_for_update().get(pk=parent.pk)
            _check_depth(parent.depth + 1)
        category = _saved(
            lambda: Category.objects.create(
                name=name,
                slug=slug or _unique_slug(name),
                parent=parent,
                position=position,
                description=description,
            ),
            slug=slug,
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
    is refused (``CategoryCycle``), as is one that would put the subtree deeper than
    ``MAX_DEPTH`` (``CategoryTooDeep``). The category and its new parent are locked in
    primary-key order before the check, so two crossed moves (A under B, B under A) cannot
    both pass it. The paths and depths of the subtree are rewritten in one UPDATE, inside the
    same transaction as the move.
    """
    with transaction.atomic():
        ids = sorted({category.pk, parent.pk}) if isinstance(parent, Category) else [category.pk]
        locked = {c.pk: c for c in Category.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        category = locked[category.pk]
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
            _saved(lambda: category.save(update_fields=[*fields, "updated_at"]), slug=slug)
        if parent is not UNSET and (parent.pk if parent else None) != category.parent_id:
            _category_move(category=category, parent=locked[parent.pk] if parent else None)
    catalog_version_bump()
    return category


def _check_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CategoryTooDeep(
            f"Categories go at most {MAX_DEPTH} levels below a root.",
            errors={"parent": [f"Categories go at most {MAX_DEPTH} levels below a root."]},
        )


def _saved[T](write: Callable[[], T], *, slug: str | None) -> T:
    """Run ``write`` in a savepoint; a slug taken meanwhile is a clear error, not a 500."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError as error:
        if slug and Category.objects.filter(slug=slug).exists():
            raise CategorySlugTaken(
                f"Another category already has the slug {slug!r}.",
                errors={"slug": ["A category with this slug already exists."]},
            ) from error
        raise


def _category_move(*, category: Category, parent: Category | None) -> None:
    if parent is not None and parent.path.startswith(category.path):
        raise CategoryCycle(
            f"'{parent.name}' is '{category.name}' itself or one of its descendants.",
            errors={"parent": ["Cannot move a category under itself or one of its descendants."]},
        )
    old_path = category.path
    new_path = f"{parent.path if parent else ''}{category.pk}/"
    depth_change = (parent.depth + 1 if parent else 0) - category.depth
    deepest = Category.objects.filter(path__startswith=old_path).aggregate(deepest=Max("depth"))["deepest"]
    _check_depth(deepest + depth_change)
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
