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

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from ..models import Book
from ..services import search_document_sql


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


_STAGE = "catalog_import_book_stage"


def books_copy(
    rows: Sequence[Mapping[str, Any]], *, authors: Mapping[str, str], publishers: Mapping[str, str]
) -> dict[str, int]:
    """Insert new books, each given as its values by attribute name (``publisher_id``; the
    fields a row leaves out take their defaults), and return their ids by ISBN-13. ``authors``
    and ``publishers`` (by ISBN-13) are the names their search document holds (their links
    are written after)."""
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        Book.objects.bulk_create(Book(**row) for row in rows)
        isbns = [row["isbn13"] for row in rows]
        return dict(Book.objects.filter(isbn13__in=isbns).values_list("isbn13", "pk"))
    now = timezone.now()
    fields = [f for f in Book._meta.concrete_fields if not f.primary_key and f.name != "search_vector"]
    defaults = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        else:
            defaults[field.attname] = field.get_db_prep_save(field.get_default(), connection)
    # Only the columns the rows give go through the stage; the others take one value for the
    # whole batch (dates, defaults), sent once as parameters of the insert.
    given = {name for row in rows for name in row}
    staged = [field for field in fields if field.attname in given]
    constant = [field for field in fields if field.attname not in given]
    names = [field.attname for field in staged]
    quote = connection.ops.quote_name
    document = search_document_sql(
        title="s.title",
        subtitle="s.subtitle" if "subtitle" in given else "''",
        authors="s.search_authors",
        publisher="s.search_publisher",
        description="s.description" if "description" in given else "''",
    )
    stage_columns = ", ".join(quote(field.column) for field in staged)
    targets = ", ".join(quote(field.column) for field in [*staged, *constant])
    sources = ", ".join([*(f"s.{quote(field.column)}" for field in staged), *(["%s"] * len(constant))])
    # Every name in these statements is the model's own (no input reaches them): S608 is moot.
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE} AS "  # noqa: S608
            f"SELECT {stage_columns} FROM catalog_book WITH NO DATA"
        )
        cursor.execute(
            f"ALTER TABLE {_STAGE} ADD COLUMN search_authors text, ADD COLUMN search_publisher text"
        )
        rows_copy(
            _STAGE,
            [*(field.column for field in staged), "search_authors", "search_publisher"],
            (
                [
                    *(row.get(name, defaults[name]) for name in names),
                    authors.get(row["isbn13"]),
                    publishers.get(row["isbn13"]),
                ]
                for row in rows
            ),
        )
        cursor.execute(
            f"INSERT INTO catalog_book ({targets}, search_vector) "  # noqa: S608
            f"SELECT {sources}, {document} FROM {_STAGE} s RETURNING isbn13, id",
            [defaults[field.attname] for field in constant],
        )
        ids = dict(cursor.fetchall())
        # Dropped here, not at commit: a batch may run inside a caller's transaction, and a
        # rollback takes the table with it anyway.
        cursor.execute(f"DROP TABLE {_STAGE}")
    return ids


def rows_copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (values in ``columns`` order) into ``table`` (PostgreSQL only)."""
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
