"""The hot reads whose text never changes are prepared by PostgreSQL (``bookstore.db``'s
``prepared_cursor``): a book by its key, a search's page and its candidate terms."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog import selectors, services
from apps.catalog.search.query import search
from tests.services import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_book_read_by_its_key_is_prepared_and_still_counted():
    books = [
        services.book_create(isbn=f"97820703600{n}{check}", title=f"Livre {n}", price=Decimal("5.00"))
        for n, check in ((2, 4), (3, 1), (4, 8), (5, 5), (6, 2), (7, 9))
    ]
    assert not any("catalog_book" in statement for statement in prepared())
    with CaptureQueriesContext(connection) as queries:
        read = [selectors.book_get(key=str(book.pk), inline=True) for book in books]
    # Every read is one query that Django sees, with its value; the books are theirs.
    assert len(queries) == len(books)
    assert [book.title for book in read] == [book.title for book in books]
    # Run five times, the statement is prepared: PostgreSQL plans it no more, whatever the key.
    statements = [statement for statement in prepared() if '"catalog_book"."id" = $1' in statement]
    assert len(statements) == 1, prepared()


def test_a_search_s_candidate_terms_are_one_prepared_statement_whatever_the_words():
    services.book_create(isbn="9782070360024", title="L'Étranger", price=Decimal("5.00"))
    for text in ("etranger", "etrange", "etrangers", "lettre", "etranjer", "etrangere"):
        search(text)
    statements = [
        statement for statement in prepared() if "FROM catalog_searchterm WHERE text = ANY($1)" in statement
    ]
    assert len(statements) == 1, prepared()
    assert search("etranjer").ids  # a typo, found through the prepared statement's typo keys
