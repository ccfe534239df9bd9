"""The catalogue pages: home, the book list with its filters and facets, a book, a category, an author.

Each page reads through the catalogue's and the categories' selectors, as the API does. The
data of these pages is cached under the catalogue's generation and their books' stock numbers
(``..cache``), so a cached page runs no query for its books and a catalogue write, or a stock
move of a book it shows, shows at once.
"""

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from apps.catalog import selectors as catalog
from apps.catalog.exceptions import InvalidFilter
from apps.catalog.models import BookFormat
from apps.categories import selectors as categories
from apps.reviews import selectors as reviews

from ..cache import cached_data
from ..forms import AddToCartForm, ReviewForm
from ..paging import pager

PAGE_SIZE = 24
HOME_SHELF = 8
# The filters the sidebar offers, named as the API names them.
FILTERS = ("q", "category", "author", "format", "language", "min_price", "max_price", "in_stock", "ordering")
ORDERINGS = [
    ("", _("Relevance")),
    ("title", _("Title (A→Z)")),
    ("price", _("Price, lowest first")),
    ("-price", _("Price, highest first")),
    ("-publication_date", _("Recently published")),
    ("-rating", _("Highest rated")),
    ("newest", _("New releases")),
]
PRICE_BANDS = {
    "0-10": ("", "10"),
    "10-20": ("10", "20"),
    "20-30": ("20", "30"),
    "30-50": ("30", "50"),
    "50+": ("50", ""),
}


def home(request: HttpRequest) -> HttpResponse:
    def build() -> dict[str, Any]:
        return {
            "new_books": list(catalog.book_list(params={"ordering": "newest"})[:HOME_SHELF]),
            "best_rated": list(
                catalog.book_list(params={"ordering": "-rating"}).filter(rating_count__gt=0)[:HOME_SHELF]
            ),
            "tree": categories.category_tree(),
        }

    return render(request, "storefront/home.html", cached_data(request, build))


def _filters(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET[name].strip() for name in FILTERS if request.GET.get(name, "").strip()}


def book_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page_number = request.GET.get("page") or "1"

    def build() -> dict[str, Any]:
        errors, suggestion = None, None
        try:
            books, suggestion = catalog.book_list_searched(params=filters)
            total, facets = catalog.book_facets_cached(params=filters, books=books)
        except InvalidFilter as error:
            # A hand-edited address: the whole catalogue, and what was ignored.
            errors, books = error.errors, catalog.book_list(params={})
            total, facets = catalog.book_facets_cached(params={}, books=books)
        paginator = Paginator(books, PAGE_SIZE)
        paginator.count = total  # known from the facets: no second COUNT
        page = paginator.get_page(page_number)
        return {
            "page": pager(page),
            "books": list(page.object_list),
            "total": total,
            "facets": facets,
            "errors": errors,
            "suggestion": suggestion if total == 0 else None,
        }

    data = cached_data(request, build, availability="in_stock" in filters)
    return render(
        request,
        "storefront/book_list.html",
        {
            **data,
            "filters": filters,
            "query": urlencode(filters),
            "orderings": ORDERINGS,
            "formats": dict(BookFormat.choices),
            "price_bands": PRICE_BANDS,
        },
    )


REVIEWS_SHOWN = 10
REVIEW_ORDERINGS = [
    ("newest", _("Newest")),
    ("helpful", _("Most helpful")),
    ("-rating", _("Best rated")),
    ("rating", _("Lowest rated")),
]


def book_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return book_page(request, slug)


def book_page(
    request: HttpRequest, slug: str, *, review_form: ReviewForm | None = None, status: int = 200
) -> HttpResponse:
    """A book with its reviews. What every visitor sees is cached under the book's own scope
    (a review retires it, not the whole catalogue's); the customer's own review and the forms
    are added for each request."""
    ordering = request.GET.get("reviews") or reviews.DEFAULT_ORDERING
    if ordering not in dict(REVIEW_ORDERINGS):
        ordering = reviews.DEFAULT_ORDERING

    def build() -> dict[str, Any]:
        book = catalog.book_get(key=slug)
        authors = [entry.author for entry in book.book_authors.all()]
        others = catalog.books_by_authors(author_ids=[a.pk for a in authors], exclude=book.pk)[:6]
        rating = reviews.review_rating(book_id=book.pk)
        shown = reviews.review_list_for_book(book_id=book.pk, ordering=ordering)[:REVIEWS_SHOWN]
        return {
            "book": book,
            "authors": authors,
            "others": list(others),
            "reviews": [(review, reviews.author_display_name(review.user)) for review in shown],
            "distribution": _distribution_bars(rating),
            "review_total": rating.count,
        }

    data = cached_data(request, build, scope=catalog.book_cache_scope(key=slug))
    book = data["book"]
    form = AddToCartForm(initial={"book": book.pk, "quantity": 1}, max_quantity=max(min(book.stock, 99), 1))
    my_review = None
    if request.user.is_authenticated:
        my_review = reviews.review_of_user_for_book(user=request.user, book_id=book.pk)
        if my_review is None and review_form is None:
            review_form = ReviewForm()
    context = {
        **data,
        "form": form,
        "my_review": my_review,
        "review_form": review_form,
        "review_orderings": REVIEW_ORDERINGS,
        "review_ordering": ordering,
    }
    return render(request, "storefront/book_detail.html", context, status=status)


def _distribution_bars(rating: reviews.Rating) -> list[tuple[int, int, int]]:
    """(stars, count, percent of the reviews) for each star, 5 to 1."""
    return [
        (stars, count, round(100 * count / rating.count) if rating.count else 0)
        for stars, count in rating.distribution.items()
    ]


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page_number = request.GET.get("page") or "1"

    def build() -> dict[str, Any]:
        detail = categories.category_detail(slug=slug)
        page = Paginator(catalog.book_list(params={"category": slug}), PAGE_SIZE).get_page(page_number)
        return {**detail, "page": pager(page), "books": list(page.object_list)}

    return render(request, "storefront/category_detail.html", cached_data(request, build))


def author_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page_number = request.GET.get("page") or "1"

    def build() -> dict[str, Any]:
        author = catalog.author_get(slug=slug)
        page = Paginator(catalog.book_list(params={"author": slug}), PAGE_SIZE).get_page(page_number)
        return {"author": author, "page": pager(page), "books": list(page.object_list)}

    return render(request, "storefront/author_detail.html", cached_data(request, build))
