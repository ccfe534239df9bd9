"""Writing many new rows at once: PostgreSQL's COPY, ``bulk_create`` elsewhere.

An import creates thousands of books, and their author and category links, per batch. On
PostgreSQL, ``COPY … FROM STDIN`` streams them in one statement without building (and having
the server parse) an ``INSERT`` with tens of thousands of parameters, which is most of the
time ``bulk_create`` takes. New books go through a temporary table, so that their full-text
document is computed as they are inserted: written once, not inserted then updated (every
update of a book rewrites its fifteen index entries). Rows are written inside the caller's
transaction, so a batch is still whole or absent. The embedded SQLite default takes
``bulk_create``.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from ..models import Book
from ..services import search_document_sql


def _converter(field: models.Field) -> Callable[[models.Model], Any]:
    """The database value of ``field`` for a new object, as COPY takes it (psycopg adapts
    str, int, Decimal, date, datetime, bool and None itself)."""
    attname = field.attname
    if isinstance(field, models.FileField):
        return lambda obj: getattr(obj, attname).name or ""
    if isinstance(field, models.JSONField):
        return lambda obj: json.dumps(getattr(obj, attname))
    return lambda obj: getattr(obj, attname)


def links_copy(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` of a link table (values of ``fields``, by attribute name: ``book_id``),
    a table without dates or defaults to fill."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(model(**dict(zip(fields, row, strict=True))) for row in rows)
        return
    columns = [model._meta.get_field(name.removesuffix("_id")).column for name in fields]
    rows_copy(model._meta.db_table, columns, rows)


def _fields(model: type[models.Model], objects: Sequence[models.Model]) -> list[models.Field]:
    """The columns of a new row (all but the primary key and the full-text document, which is
    computed), the automatic dates of ``objects`` set to now."""
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.name != "search_vector"]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objects:
                setattr(obj, field.attname, now)
    return fields


_STAGE = "catalog_import_book_stage"


def books_copy(books: Sequence[Book], *, authors: Mapping[str, str], publishers: Mapping[str, str]) -> None:
    """Insert new ``books`` and set their primary keys. ``authors`` and ``publishers`` (by
    ISBN-13) are the names their search document holds (their links are written after)."""
    if not books:
        return
    if connection.vendor != "postgresql":
        Book.objects.bulk_create(books)
        return
    fields = _fields(Book, books)
    columns = [field.column for field in fields]
    converters = [_converter(field) for field in fields]
    quote = connection.ops.quote_name
    listed = ", ".join(quote(column) for column in columns)
    document = search_document_sql(
        title="s.title",
        subtitle="s.subtitle",
        authors="s.search_authors",
        publisher="s.search_publisher",
        description="s.description",
    )
    # Every name in these statements is the model's own (no input reaches them): S608 is moot.
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {listed} FROM catalog_book WITH NO DATA"
        )
        cursor.execute(
            f"ALTER TABLE {_STAGE} ADD COLUMN search_authors text, ADD COLUMN search_publisher text"
        )
        rows_copy(
            _STAGE,
            [*columns, "search_authors", "search_publisher"],
            (
                [
                    *(convert(book) for convert in converters),
                    authors.get(book.isbn13),
                    publishers.get(book.isbn13),
                ]
                for book in books
            ),
        )
        cursor.execute(
            f"INSERT INTO catalog_book ({listed}, search_vector) "  # noqa: S608
            f"SELECT {', '.join(f's.{quote(column)}' for column in columns)}, {document} "
            f"FROM {_STAGE} s RETURNING isbn13, id"
        )
        ids = dict(cursor.fetchall())
        cursor.execute(f"DROP TABLE {_STAGE}")
    for book in books:
        book.pk = ids[book.isbn13]


def rows_copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (values in ``columns`` order) into ``table`` (PostgreSQL only)."""
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
