"""``field__any``: the ``__in`` of long lists, one array parameter on PostgreSQL."""

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Author, Book, BookAuthor
from tests.factories import AuthorFactory, BookFactory

pytestmark = pytest.mark.django_db


def test_it_finds_what_in_finds():
    books = BookFactory.create_batch(3)
    wanted = [books[0].isbn13, books[2].isbn13, "9780000000000", None]
    found = set(Book.objects.filter(isbn13__any=wanted).values_list("pk", flat=True))
    assert found == set(Book.objects.filter(isbn13__in=wanted).values_list("pk", flat=True))
    assert found == {books[0].pk, books[2].pk}
    assert not Book.objects.filter(isbn13__any=[]).exists()


def test_on_expressions_and_foreign_keys():
    author = AuthorFactory(name="Marguerite Duras")
    book = BookFactory()
    BookAuthor.objects.create(book=book, author=author, position=0)
    named = Author.objects.annotate(lowered=Lower("name")).filter(lowered__any=["marguerite duras"])
    assert list(named) == [author]
    links = BookAuthor.objects.values_list("author_id", flat=True)
    assert list(links.filter(book_id__any=[book.pk])) == [author.pk]
    assert list(links.filter(book__any=[book])) == [author.pk]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://…"
)
def test_a_thousand_values_are_one_parameter():
    # The planner takes a thousand listed values for a thousand rows and scans the whole table;
    # an array parameter is planned as an index lookup.
    isbns = [f"978{n:010d}" for n in range(1000)]
    with CaptureQueriesContext(connection) as queries:
        list(Book.objects.filter(isbn13__any=isbns))
    (query,) = queries.captured_queries
    assert '"catalog_book"."isbn13" = ANY(' in query["sql"]
    assert query["sql"].count("9780000000999") == 1
