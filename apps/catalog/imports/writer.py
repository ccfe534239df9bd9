"""Upserting a batch of ``BookRecord``s by ISBN-13, in one transaction.

A batch is written whole or not at all: a crash (or Ctrl-C) mid-file leaves the books of the
batches before it, never half a book. Authors, publishers and categories are looked up in
memory for the whole batch (one query each) and the missing ones created; books are created
with COPY (``bulk_create`` on SQLite: ``.copy``) and changed with ``bulk_update``; the word
index of the new and changed books is written once per batch
(``search.index.search_index_refresh``, the new books' from their rows), and the catalogue
cache retired once. A field the file does
not give (``None`` or empty in the record) is left as it is on an existing book. Covers given
by URL are fetched after the commit, by a Celery task, never here.
"""

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.text import slugify

from apps.categories.models import Category
from apps.categories.services import category_create
from bookstore.cache import catalog_version_bump

from ..models import Author, Book, BookAuthor, BookFormat, Publisher
from ..search.index import BookText, Posting, book_postings, search_index_refresh
from .copy import books_copy, links_copy
from .records import BookRecord

# The fields a record sets directly on the book, when it gives them.
SCALAR_FIELDS = (
    "title",
    "subtitle",
    "publication_date",
    "language",
    "price",
    "stock",
    "description",
    "pages",
    "format",
)


class BatchInterrupted(Exception):
    """The import was stopped while this batch was written: it is rolled back."""


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    covers: list[tuple[int, str]] = field(default_factory=list)  # (book id, URL) to fetch after commit


def _slugs_free(model: type[Author] | type[Publisher], names: Iterable[str]) -> dict[str, str]:
    """A free slug for each new name, unique among themselves and in the table (two indexed
    queries: the bases taken, then the numbered slugs of those)."""
    wanted = {name: slugify(name)[:200] or "x" for name in names}
    bases = set(wanted.values())
    taken = set(model.objects.filter(slug__any=list(bases)).values_list("slug", flat=True))
    if taken:
        numbered = Q()
        for base in taken:
            numbered |= Q(slug__startswith=f"{base}-")
        suffixed = re.compile(r"-[0-9]+\Z")
        taken.update(
            slug
            for slug in model.objects.filter(numbered).values_list("slug", flat=True)
            if slug.rpartition("-")[0] in taken and suffixed.search(slug)
        )
    slugs = {}
    for name, base in wanted.items():
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        slugs[name] = slug
    return slugs


def _named(model: type[Author] | type[Publisher], names: set[str]) -> dict[str, Any]:
    """The rows of ``model`` called ``names`` (case-insensitive), the missing ones created."""
    if not names:
        return {}
    found: dict[str, Any] = {}
    lowered = {name.lower(): name for name in names}
    rows = model.objects.annotate(lowered=Lower("name")).filter(lowered__any=list(lowered))
    for row in rows.order_by("pk"):
        found.setdefault(row.name.lower(), row)
    missing = [name for key, name in lowered.items() if key not in found]
    if missing:
        slugs = _slugs_free(model, missing)
        for row in model.objects.bulk_create([model(name=name, slug=slugs[name]) for name in missing]):
            found[row.name.lower()] = row
    return {name: found[name.lower()] for name in names}


def categories_by_path(paths: set[str]) -> dict[str, Category]:
    """The category each ``Parent > Child`` path names (names compared case-insensitively), the
    missing ones created through the categories service (which keeps the tree's paths)."""
    if not paths:
        return {}
    # Only the categories called as a part of a path can be on one: not the whole tree.
    names = {part.strip().lower() for path in paths for part in path.split(">") if part.strip()}
    named = Category.objects.annotate(key=Lower(Trim("name"))).filter(key__in=names)
    by_parent_name = {(c.parent_id, c.name.strip().lower()): c for c in named}
    resolved: dict[str, Category] = {}
    for path in sorted(paths):
        parent: Category | None = None
        for name in [part.strip() for part in path.split(">") if part.strip()]:
            key = (parent.pk if parent else None, name.lower())
            node = by_parent_name.get(key)
            if node is None:
                node = category_create(name=name, parent=parent)
                by_parent_name[key] = node
            parent = node
        if parent is not None:
            resolved[path] = parent
    return resolved


def _values(record: BookRecord) -> dict[str, Any]:
    """The scalar fields the record gives (None and "" mean "not given")."""
    values = {name: getattr(record, name) for name in SCALAR_FIELDS}
    given = {name: value for name, value in values.items() if value not in (None, "")}
    if "format" in given and given["format"] not in BookFormat.values:
        del given["format"]
    # A record always says whether the book has a price: None is "not for sale" (never a
    # price kept from before: the file is the catalogue's source).
    given["price"] = record.price
    return given


# What an existing book is compared on (and all that is loaded of it).
_COMPARED = (*SCALAR_FIELDS, "isbn13", "publisher", "is_active", "cover", "updated_at")


@dataclass
class _Plan:
    """What a batch changes, worked out in memory before anything is written."""

    new: list[dict[str, Any]] = field(default_factory=list)  # the columns of each new book
    new_records: list[BookRecord] = field(default_factory=list)  # and the record of each
    new_covers: list[tuple[str, str]] = field(default_factory=list)  # (ISBN-13, URL)
    changed: list[Book] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    author_sets: dict[str, list[int]] = field(default_factory=dict)  # ISBN-13 → author ids in order
    category_sets: dict[str, set[int]] = field(default_factory=dict)


def record_text(record: BookRecord) -> BookText:
    """What the book a record creates is searched by: its fields as the record gives them, its
    authors and publisher as the file spells them (the index folds case, so a name found in
    another case gives the same words)."""
    return BookText(
        title=record.title or "",
        subtitle=record.subtitle or "",
        authors=list(dict.fromkeys(record.authors)),
        publisher=record.publisher or "",
        description=record.description or "",
        language=record.language or Book._meta.get_field("language").get_default(),
    )


def books_import_batch(
    *,
    records: Sequence[BookRecord],
    dry_run: bool = False,
    postings: Mapping[str, set[Posting]] | None = None,
    interrupted: threading.Event | None = None,
) -> BatchOutcome:
    """Upsert ``records`` (one per ISBN-13: the runner merged duplicates) in one transaction.

    Running the same batch twice changes nothing the second time (every book ``unchanged``).
    ``dry_run`` computes the same outcome and rolls everything back. ``postings`` are those of
    the records (by ISBN-13, ``book_postings(record_text(record))``) when worked out already,
    for the books the batch creates. ``interrupted`` set before the commit rolls the batch back
    too (``BatchInterrupted``: the import was stopped).
    """
    outcome = BatchOutcome()
    with transaction.atomic():
        isbns = [r.isbn13 for r in records]
        existing = {book.isbn13: book for book in Book.objects.only(*_COMPARED).filter(isbn13__any=isbns)}
        authors = _named(Author, {name for r in records for name in r.authors})
        publishers = _named(Publisher, {r.publisher for r in records if r.publisher})
        categories = categories_by_path({path for r in records for path in r.categories})
        plan = _plan(records, existing, authors, publishers, categories, outcome)

        created = books_copy(plan.new)
        outcome.created = len(created)
        outcome.covers.extend((created[isbn], url) for isbn, url in plan.new_covers)
        if plan.changed:
            now = timezone.now()
            for book in plan.changed:
                book.updated_at = now
            Book.objects.bulk_update(
                plan.changed, [*sorted(plan.changed_fields), "updated_at"], batch_size=500
            )
        ids = {**{isbn: book.pk for isbn, book in existing.items()}, **created}
        # The links of existing books are replaced; new books have none yet.
        _links_replace(
            BookAuthor,
            ("book_id", "author_id", "position"),
            [ids[isbn] for isbn in plan.author_sets if isbn in existing],
            [
                (ids[isbn], author_id, position)
                for isbn, author_ids in plan.author_sets.items()
                for position, author_id in enumerate(author_ids)
            ],
        )
        _links_replace(
            Book.categories.through,
            ("book_id", "category_id"),
            [ids[isbn] for isbn in plan.category_sets if isbn in existing],
            [
                (ids[isbn], category_id)
                for isbn, category_ids in plan.category_sets.items()
                for category_id in category_ids
            ],
        )
        # The word index of the batch's changed books (category links are not in it), and of its
        # new ones from their rows: nothing to read back or delete for those.
        relinked = {ids[isbn] for isbn in plan.author_sets if isbn in existing}
        refreshed = {book.pk for book in plan.changed} | relinked
        searched = {"title", "subtitle", "description", "language", "publisher_id"}
        given = postings or {}
        search_index_refresh(
            book_ids=refreshed if plan.changed_fields & searched else relinked,
            created={
                created[record.isbn13]: given.get(record.isbn13) or book_postings(record_text(record))
                for record in plan.new_records
                if record.isbn13 in created
            },
        )
        if interrupted is not None and interrupted.is_set():
            raise BatchInterrupted()
        if dry_run:
            transaction.set_rollback(True)
            outcome.covers.clear()
        elif created or refreshed or plan.category_sets:
            catalog_version_bump()
    return outcome


def _plan(
    records: Sequence[BookRecord],
    existing: dict[str, Book],
    authors: dict[str, Author],
    publishers: dict[str, Publisher],
    categories: dict[str, Category],
    outcome: BatchOutcome,
) -> _Plan:
    """Compare each record with the book it names: new, changed (and which fields and links),
    withdrawn or unchanged."""
    plan = _Plan()
    current_authors: dict[int, list[int]] = {}
    current_categories: dict[int, set[int]] = {}
    if existing:
        ids = [book.pk for book in existing.values()]
        links = BookAuthor.objects.filter(book_id__any=ids).order_by("book_id", "position")
        for book_id, author_id in links.values_list("book_id", "author_id"):
            current_authors.setdefault(book_id, []).append(author_id)
        through = Book.categories.through.objects.filter(book_id__any=ids)
        for book_id, category_id in through.values_list("book_id", "category_id"):
            current_categories.setdefault(book_id, set()).add(category_id)
    currency = settings.SHOP_CURRENCY
    for record in records:
        book = existing.get(record.isbn13)
        if record.withdrawn:
            if book is not None and book.is_active:
                book.is_active = False
                plan.changed.append(book)
                plan.changed_fields.add("is_active")
                outcome.withdrawn += 1
            else:
                outcome.unchanged += 1
            continue
        wanted_authors = [authors[name].pk for name in dict.fromkeys(record.authors)]
        wanted_categories = {categories[path].pk for path in record.categories if path in categories}
        values = _values(record)
        if record.publisher:
            values["publisher_id"] = publishers[record.publisher].pk
        if book is None:
            slug = f"{slugify(record.title)[:290].strip('-') or 'book'}-{record.isbn13}"
            plan.new.append(
                {"stock": 0, **values, "isbn13": record.isbn13, "slug": slug, "currency": currency}
            )
            plan.new_records.append(record)
            plan.author_sets[record.isbn13] = wanted_authors
            plan.category_sets[record.isbn13] = wanted_categories
            if record.cover_url:
                plan.new_covers.append((record.isbn13, record.cover_url))
            continue
        differs = [name for name, value in values.items() if getattr(book, name) != value]
        for name in differs:
            setattr(book, name, values[name])
        links_differ = bool(record.authors) and current_authors.get(book.pk, []) != wanted_authors
        categories_differ = (
            bool(record.categories) and current_categories.get(book.pk, set()) != wanted_categories
        )
        if links_differ:
            plan.author_sets[record.isbn13] = wanted_authors
        if categories_differ:
            plan.category_sets[record.isbn13] = wanted_categories
        if differs or links_differ or categories_differ:
            outcome.updated += 1
            if differs:
                plan.changed.append(book)
                plan.changed_fields.update(differs)
        else:
            outcome.unchanged += 1
        if record.cover_url and not book.cover:
            outcome.covers.append((book.pk, record.cover_url))
    return plan


def _links_replace(
    model: Any, fields: Sequence[str], replaced: list[int], rows: list[tuple[int, ...]]
) -> None:
    """The links of the ``replaced`` books deleted, then ``rows`` inserted."""
    if replaced:
        model.objects.filter(book_id__any=replaced).delete()
    links_copy(model, fields, rows)
