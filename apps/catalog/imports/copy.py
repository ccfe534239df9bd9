"""Writing many new rows at once: PostgreSQL's COPY, ``bulk_create`` elsewhere.

An import creates thousands of books, and their author and category links, per batch. On
PostgreSQL, ``COPY … FROM STDIN`` streams them in one statement without building (and having
the server parse) an ``INSERT`` with tens of thousands of parameters, which is most of the
time ``bulk_create`` takes. Rows are written inside the caller's transaction, so a batch is
still whole or absent. The embedded SQLite default takes
``bulk_create``.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from ..models import Book


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


def books_copy(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert new books, each given as its values by attribute name (``publisher_id``; the
    fields a row leaves out take their defaults), and return their ids by ISBN-13."""
    if not rows:
        return {}
    isbns = [row["isbn13"] for row in rows]
    if connection.vendor != "postgresql":
        Book.objects.bulk_create(Book(**row) for row in rows)
        return dict(Book.objects.filter(isbn13__in=isbns).values_list("isbn13", "pk"))
    now = timezone.now()
    fields = [f for f in Book._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        else:
            defaults[field.attname] = field.get_db_prep_save(field.get_default(), connection)
    names = [field.attname for field in fields]
    rows_copy(
        Book._meta.db_table,
        [field.column for field in fields],
        ([row.get(name, defaults[name]) for name in names] for row in rows),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT isbn13, id FROM catalog_book WHERE isbn13 = ANY(%s)", [isbns])
        return dict(cursor.fetchall())


def rows_copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` (values in ``columns`` order) into ``table`` (PostgreSQL only)."""
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
