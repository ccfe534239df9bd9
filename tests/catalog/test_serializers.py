"""The hand-built read shapes (``book_data``, ``book_detail_data``, ``facets_data``) are the
declared serializers' output to the value: the serializers stay the schema and the reference."""

from decimal import Decimal

from apps.catalog import selectors, services
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
