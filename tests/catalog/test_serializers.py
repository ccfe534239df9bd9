"""The hand-built read shapes (``book_data``, ``book_detail_data``, ``facets_data``) are the
declared serializers' output to the value: the serializers stay the schema and the reference."""

from decimal import Decimal, InvalidOperation

import pytest
from django.db.models import F

from apps.catalog import selectors, services, statements
from apps.catalog.exceptions import BookNotFound
from apps.catalog.models import Author
from apps.catalog.serializers import (
    BookDetailOutputSerializer,
    BookOutputSerializer,
    FacetsSerializer,
    book_data,
    book_detail_data,
    facets_data,
)
from bookstore.api.renderers import OrjsonRenderer
from bookstore.api.serializers import decimal_text
from tests.factories import BookFactory


def _json(data) -> bytes:
    """The bytes the API answers: key order and types included."""
    return OrjsonRenderer().render(data)


def test_book_data_is_the_serializers_output(catalogue, tree):
    # Edge values: no price, no publisher, no date, a cover with thumbnails, a rating.
    first, second = catalogue["dune"], catalogue["hitchhiker"]
    first.price = None
    first.publication_date = None
    first.rating_average = Decimal("4.5")
    first.save()
    second.cover.name = "covers/x.jpg"
    second.cover_thumbnails = {"300": "covers/x-w300.jpg", "120": "covers/x-w120.jpg"}
    second.publisher = None
    second.save()
    BookFactory(is_active=False, pages=None)
    # Two authors (cover order, not name order) and two categories (tree order).
    services.book_update(
        book=catalogue["salmon"],
        data={
            "authors": [Author.objects.get(name="Stephen Fry"), Author.objects.get(name="Douglas Adams")],
            "categories": [tree["space-opera"], tree["fiction"]],
        },
    )
    books = list(selectors.book_queryset(include_inactive=True, with_description=True))
    assert len(books) >= 6
    inline = {
        book.pk: book
        for book in selectors.book_queryset(include_inactive=True, with_description=True, inline=True)
    }
    for book in books:
        assert _json(book_data(book)) == _json(BookOutputSerializer(book).data)
        assert _json(book_detail_data(book)) == _json(BookDetailOutputSerializer(book).data)
        # Authors and categories inline (one statement): the same, in the same order.
        assert _json(book_detail_data(inline[book.pk])) == _json(BookDetailOutputSerializer(book).data)


def test_facets_data_is_the_serializers_output(catalogue):
    books = selectors.book_list(params={})
    _, facets = selectors.book_facets(books=books)
    assert facets["categories"]
    assert facets["price_bands"]
    assert _json(facets_data(facets)) == _json(FacetsSerializer(facets).data)


def test_a_book_read_by_its_key_is_the_serializers_output(catalogue, django_assert_num_queries):
    # ``book_get(inline=True)`` runs a statement compiled once (``statements.book_read``): by
    # ISBN-13 (plain or hyphenated), slug and id, with and without a publisher, the detail's bytes.
    book = catalogue["dune"]
    book.cover.name = "covers/dune.jpg"
    book.cover_thumbnails = {"300": "covers/dune-w300.jpg", "120": "covers/dune-w120.jpg"}
    book.save()
    other = catalogue["hitchhiker"]
    other.publisher = None
    other.save()
    for target in (book, other):
        expected = _json(BookDetailOutputSerializer(selectors.book_get(key=target.slug)).data)
        isbn = target.isbn13
        for key in (isbn, f"{isbn[:3]}-{isbn[3:]}", target.slug, str(target.pk)):
            with django_assert_num_queries(1):
                read = selectors.book_get(key=key, inline=True)
            assert _json(book_detail_data(read)) == expected


def test_a_book_read_by_its_key_hides_an_inactive_book_but_from_staff(catalogue):
    book = catalogue["dune"]
    book.is_active = False
    book.save()
    with pytest.raises(BookNotFound):
        selectors.book_get(key=book.isbn13, inline=True)
    assert selectors.book_get(key=book.isbn13, inline=True, include_inactive=True).pk == book.pk
    with pytest.raises(BookNotFound):
        selectors.book_get(key="9780000000002", inline=True, include_inactive=True)


@pytest.mark.parametrize("field", ["price", "rating_average"])
def test_decimals_are_written_as_drf_writes_them(field):
    declared = BookOutputSerializer._declared_fields[field]
    text = decimal_text(declared)
    for value in ["4.5", "9.999", "0", "2.675", "2.665", "-1.005", "0.001", "4.995", "12.3456789", 3.14159]:
        number = Decimal(value) if isinstance(value, str) else value
        try:
            expected = declared.to_representation(number)
        except InvalidOperation:  # more digits than the field holds: refused alike
            with pytest.raises(InvalidOperation):
                text(number)
        else:
            assert text(number) == expected


@pytest.mark.parametrize("ordering", [None, *selectors.ORDERINGS])
def test_a_page_read_by_its_compiled_statement_is_the_orms(
    catalogue, tree, ordering, django_assert_num_queries
):
    # ``statements.page_read``: the outer statement compiled once per ordering, the page's ids
    # chosen by a subquery of the filtered list. The same books, in the same order, as the
    # ORM's page, with the same bytes, in one statement.
    BookFactory(is_active=False)
    services.book_update(
        book=catalogue["salmon"], data={"categories": [tree["space-opera"], tree["fiction"]]}
    )
    params = {"ordering": ordering} if ordering else {}
    for include_inactive in (False, True):
        books = selectors.book_list_searched(params=params, include_inactive=include_inactive, inline=True)[0]
        orm = list(
            books.filter(pk__in=books.values("pk")[1:4]).annotate(
                publisher_slug=F("publisher__slug"), publisher_name=F("publisher__name")
            )
        )
        with django_assert_num_queries(1):
            page = statements.page_read(books, start=1, stop=4)
        assert page is not None
        assert [book.pk for book in page] == [book.pk for book in orm]
        assert [_json(book_data(book)) for book in page] == [_json(book_data(book)) for book in orm]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "the"},
        {"q": "dune"},
        {"q": "the", "max_price": "15"},
        {"q": "the", "category": "fiction"},
        {"q": "the", "ordering": "-price"},
        {"q": "dune", "ordering": "title"},
    ],
)
@pytest.mark.parametrize(("start", "stop"), [(0, 3), (1, 4), (2, 100)])
def test_a_search_s_page_read_from_its_ranked_ids_is_the_orms(
    catalogue, tree, params, start, stop, django_assert_num_queries
):
    # A search's page: its ids taken in the ranked ids' order among the filtered list, not sorted
    # by the rank's expression; the same books in the same order as the ORM's page, in one statement.
    services.book_update(
        book=catalogue["salmon"], data={"categories": [tree["space-opera"], tree["fiction"]]}
    )
    for number in range(4):
        BookFactory(title=f"The Dune Atlas {number}", price=Decimal(10 + 3 * number))
    BookFactory(title="The Dune Atlas 5", is_active=False)
    for include_inactive in (False, True):
        books = selectors.book_list_searched(params=params, include_inactive=include_inactive, inline=True)[0]
        orm = list(
            books.filter(pk__in=books.values("pk")[start:stop]).annotate(
                publisher_slug=F("publisher__slug"), publisher_name=F("publisher__name")
            )
        )
        with django_assert_num_queries(1):
            page = statements.page_read(books, start=start, stop=stop)
        assert page is not None
        assert [book.pk for book in page] == [book.pk for book in orm]
        assert [_json(book_data(book)) for book in page] == [_json(book_data(book)) for book in orm]
