"""Reads of the catalogue: the book list with its filters, search and facets, and lookups."""

import copy
import hashlib
from functools import lru_cache
from typing import Any

import django_filters
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from apps.categories.models import Category
from apps.categories.selectors import (
    category_subtree_filter,
)
from bookstore.cache import cached_under_generations

from .exceptions import AuthorNotFound, BookNotFound, InvalidFilter, PublisherNotFound
from .facets import book_facets
from .isbn import isbn_parse
from .models import Author, Book, BookAuthor, BookFormat, Publisher
from .search.query import SearchResult, search
from .statements import (
    Facts,
    SearchRank,
    book_read,
    ids_array_text,
    names_inline,
    page_read,
    publisher_columns,
)

FACETS_KEY_PREFIX = "catalog:facets"

ORDERINGS = {
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "publication_date": (F("publication_date").asc(nulls_last=True), "id"),
    "-publication_date": (F("publication_date").desc(nulls_last=True), "-id"),
    "rating": ("rating_average", "rating_count", "id"),
    "-rating": ("-rating_average", "-rating_count", "-id"),
    "newest": ("-created_at", "-id"),
}


def books_by_ids(*, ids: list[int] | set[int] | tuple[int, ...]) -> dict[int, Book]:
    """Book id → book, active or not (carts and orders show what they hold)."""
    return {book.pk: book for book in Book.objects.filter(pk__in=list(ids))}


def book_queryset(
    *, include_inactive: bool = False, with_description: bool = False, inline: bool = False
) -> QuerySet[Book]:
    """Books with their publisher, ordered authors and categories: three queries whatever the
    count; one with ``inline`` (authors and categories as ``authors_inline`` and
    ``categories_inline``, JSON text of ``[slug, name]`` pairs, for the API's rows:
    ``serializers.book_data``), no prefetch, and the publisher read by ``book_page`` (two
    columns of the page's rows, not an instance)."""
    if inline:
        queryset = Book.objects.annotate(**names_inline())
    else:
        queryset = Book.objects.select_related("publisher").prefetch_related(
            Prefetch(
                "book_authors", queryset=BookAuthor.objects.select_related("author").order_by("position")
            ),
            Prefetch("categories", queryset=Category.objects.order_by("path")),
        )
    queryset = queryset if with_description else queryset.defer("description")
    return queryset if include_inactive else queryset.filter(is_active=True)


def _book_lookup(key: str) -> dict[str, Any]:
    """A book's key (ISBN-13 or ISBN-10, id, or slug) as a lookup."""
    # An ISBN in any form (hyphens, spaces, ISBN-10) is its ISBN-13: one cache scope per book.
    isbn = isbn_parse(key) if 10 <= len(key) <= 24 else None
    if isbn is not None:
        return {"isbn13": isbn}
    if key.isascii() and key.isdigit():
        # isdigit() alone accepts "³" and other digits int() refuses.
        return {"pk": int(key)}
    return {"slug": key}


def book_get(*, key: str, include_inactive: bool = False, inline: bool = False) -> Book:
    """One book by ISBN-13 (or ISBN-10), slug or id (``inline``: see ``book_queryset``; read by
    ``statements.book_read``, its publisher as ``publisher_slug`` and ``publisher_name``)."""
    if inline:
        ((field, value),) = _book_lookup(key).items()
        book = book_read(field=field, value=value, include_inactive=include_inactive)
        if book is None:
            raise BookNotFound("No book matches the given ISBN, slug or id.")
        return book
    queryset = book_queryset(include_inactive=include_inactive, with_description=True)
    try:
        return queryset.get(**_book_lookup(key))
    except Book.DoesNotExist as error:
        raise BookNotFound("No book matches the given ISBN, slug or id.") from error


def book_id_get(*, key: str) -> int:
    """The id of the active book ``key`` names (ISBN, id or slug), in one small query."""
    book_id = Book.objects.filter(is_active=True, **_book_lookup(key)).values_list("pk", flat=True).first()
    if book_id is None:
        raise BookNotFound("No book matches the given ISBN, slug or id.")
    return book_id


def book_cache_scope(*, key: str) -> str:
    """The cache scope of the book ``key`` names, whichever of its keys it is: cached reads of
    one book put it in their key, and ``book_cache_scopes`` retires them all."""
    return _cache_scope(key)


@lru_cache(maxsize=4096)
def _cache_scope(key: str) -> str:
    # A function of the key alone (an ISBN parsed, an id, a slug), asked at every cached read.
    ((field, value),) = _book_lookup(key).items()
    return f"book:{field}:{value}"


def book_cache_scopes(*, book: Book) -> list[str]:
    return [f"book:pk:{book.pk}", f"book:isbn13:{book.isbn13}", f"book:slug:{book.slug}"]


def _ids_filter(ids: list[int], text: str | None) -> Q:
    """``pk`` among ``ids`` (``text``: their array's text, on PostgreSQL). On PostgreSQL one
    array parameter, unnested: the planner then probes the primary key for each (the facets'
    joins included) instead of hashing the whole table against an ``= ANY`` of up to 1,000
    values (at 100,000 books: 6 ms against 24)."""
    if text is not None:
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (text,)))
    return Q(pk__in=ids)


def _ids_position(
    ids: list[int], text: str | None, *, alone: bool, facts: dict[int, Facts] | None = None
) -> SearchRank:
    """The position of a book in the ranked ``ids`` (those not in it last), keeping the ids
    (``statements.page_read`` reads a page in their order without this expression; ``alone``:
    see ``SearchRank``)."""
    if text is not None:
        position: Func | Case = Func(
            Cast(Value(text), output_field=ArrayField(BigIntegerField())),
            F("pk"),
            function="array_position",
            output_field=IntegerField(),
        )
    else:
        position = Case(
            *(When(pk=book_id, then=Value(position)) for position, book_id in enumerate(ids)),
            default=Value(len(ids)),
            output_field=IntegerField(),
        )
    return SearchRank(position, ids=ids, alone=alone, facts=facts, ids_text=text)


# A constant rank, cast: as a bare literal, ``ORDER BY 0`` in book_page's subquery would be read
# by PostgreSQL as a column position.
_NO_RANK = Cast(Value(0), output_field=IntegerField())


def _search(
    queryset: QuerySet[Book], text: str, *, include_inactive: bool, alone: bool
) -> tuple[QuerySet[Book], SearchResult]:
    """The books of ``queryset`` the word index finds for ``text`` (``catalog.search``), with
    their place in its ranking (``search_rank``; ``alone``: no other filter applies). An ISBN
    in any form names that book alone (whatever the ordering asked, it is the only one)."""
    result = search(text, include_inactive=include_inactive)
    if result.isbn is not None:
        queryset = queryset.filter(isbn13=result.isbn).annotate(search_rank=_NO_RANK)
    elif result.ids:
        # The ids' array text, made once for the filter, the rank and the facets (PostgreSQL).
        ids_text = ids_array_text(result.ids) if connection.vendor == "postgresql" else None
        queryset = queryset.filter(_ids_filter(result.ids, ids_text)).annotate(
            search_rank=_ids_position(result.ids, ids_text, alone=alone, facts=result.facts)
        )
    else:
        # Nothing found: a condition that compiles (an empty IN would not, in the facets' SQL).
        queryset = queryset.filter(pk__lt=0).annotate(search_rank=_NO_RANK)
    return queryset, result


class _CopiedShallow(dict):
    """A class's filters (or its form's fields), which django-filter (and Django's forms) copy
    for every instance with ``copy.deepcopy``: their fields, choices and lazy labels, 200 µs of
    a list request. The list's are never changed once its class is built, so a shallow copy of
    each is enough: a filter set then gives each copy its own parent and model, and a method
    filter is bound again to its copy (``FilterMethod`` finds the method on its filter's
    parent)."""

    def __deepcopy__(self, memo: dict) -> dict:
        copies = {}
        for name, item in self.items():
            twin = copy.copy(item)
            if isinstance(twin, django_filters.Filter) and twin.method is not None:
                twin.method = twin.method
            copies[name] = twin
        return copies


class BookFilter(django_filters.FilterSet):
    """The list's query parameters. Unknown values of a choice are a 400, not an empty list."""

    category = django_filters.CharFilter(
        method="filter_category", help_text="Category slug; descendants included."
    )
    author = django_filters.CharFilter(method="filter_author", help_text="Author slug.")
    publisher = django_filters.CharFilter(field_name="publisher__slug", help_text="Publisher slug.")
    language = django_filters.CharFilter(method="filter_language", help_text="ISO 639-1 code, e.g. `fr`.")
    format = django_filters.ChoiceFilter(choices=BookFormat.choices)
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    in_stock = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")], method="filter_in_stock"
    )
    q = django_filters.CharFilter(
        method="filter_search",
        help_text="Search by words of the title, subtitle, authors, publisher and the start of the "
        "description: accents, case and elisions ignored, typos forgiven (one from 5 letters, two "
        "from 9), the last word a prefix, plurals found by their stem; an ISBN in any form "
        "matches that book. At most 1,000 books, best first.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS],
        method="filter_ordering",
        help_text="Relevance when `q` is given, else title, unless set.",
    )

    class Meta:
        model = Book
        fields: list[str] = []

    def filter_category(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        return queryset.filter(category_subtree_filter(slug=value))

    def filter_author(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        return queryset.filter(Exists(BookAuthor.objects.filter(book_id=OuterRef("pk"), author__slug=value)))

    def filter_language(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        return queryset.filter(language=value.lower())

    def filter_in_stock(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        return queryset.filter(stock__gt=0) if value in {"true", "1"} else queryset.filter(stock=0)

    include_inactive = False
    search_result: SearchResult | None = None
    _form_class: type | None = None

    def get_form_class(self) -> type:
        # The form is the same for every request (no field depends on the request or on a
        # queryset): built once, as a Django form class is, not at each request (half of the
        # 0.7 ms a filter set took to validate). Error messages stay lazy, so translated per
        # request; only the unused labels are of the first request's language.
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _CopiedShallow(form_class.base_fields)
            type(self)._form_class = form_class
        return form_class

    def filter_search(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        if not value.strip():
            return queryset
        # The list's books are exactly the search's when no other filter chooses among them.
        alone = all(
            self.form.cleaned_data.get(other) in (None, "")
            for other in self.filters
            if other not in {"q", "ordering"}
        )
        queryset, self.search_result = _search(
            queryset, value, include_inactive=self.include_inactive, alone=alone
        )
        return queryset

    def filter_ordering(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        # Applied in filter_queryset, after every filter (the search adds its rank first).
        return queryset

    def filter_queryset(self, queryset: QuerySet[Book]) -> QuerySet[Book]:
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering")
        searching = bool((self.form.cleaned_data.get("q") or "").strip())
        if ordering:
            order: tuple[Any, ...] = ORDERINGS[ordering]
            return queryset.order_by(*order)
        if searching:
            return queryset.order_by(F("search_rank").asc(), "id")
        return queryset.order_by("title", "id")


BookFilter.base_filters = _CopiedShallow(BookFilter.base_filters)


def book_page(books: QuerySet[Book], *, start: int, stop: int) -> list[Book] | QuerySet[Book]:
    """``books[start:stop]`` for ``book_queryset(inline=True)``: the page's ids chosen first, in
    a subquery without the inline columns, then those books read with them. Sliced directly, a
    deep page's OFFSET ran the authors' and categories' subqueries for every row it skipped
    (an index scan feeds the LIMIT, nothing postpones them): page 50 of the list took 50 ms.
    The filters and ordering stay on the outer query, so the page comes in the same order. The
    publisher comes as two columns (``publisher_slug``, ``publisher_name``: building a related
    instance for each row was a tenth of a page's Python). Ordered by the books' own columns
    or by a search's rank, the page is read by ``statements.page_read``: the same rows, its
    outer statement compiled once per ordering (it needs no filter: the subquery has them); a
    search's page is chosen from its ranked ids in their order, not sorted by its rank."""
    page = page_read(books, start=start, stop=stop)
    if page is not None:
        return page
    return books.filter(pk__in=books.values("pk")[start:stop]).annotate(**publisher_columns())


def book_list(*, params: Any, include_inactive: bool = False) -> QuerySet[Book]:
    """Active books filtered and ordered by the query parameters ``params`` (a QueryDict).

    A value that does not parse is ``InvalidFilter``, naming the parameters.
    """
    return book_list_searched(params=params, include_inactive=include_inactive)[0]


def book_list_searched(
    *, params: Any, include_inactive: bool = False, inline: bool = False
) -> tuple[QuerySet[Book], str | None]:
    """``book_list``, and the corrected query ("did you mean") when the words of ``q`` found
    no book: made of the catalogue's own words, from the search's first statement
    (``inline``: see ``book_queryset``)."""
    filterset = BookFilter(params, queryset=book_queryset(include_inactive=include_inactive, inline=inline))
    filterset.include_inactive = include_inactive
    if not filterset.is_valid():
        errors = {name: [str(message) for message in messages] for name, messages in filterset.errors.items()}
        raise InvalidFilter("One or more fields are invalid.", errors=errors)
    books = filterset.qs
    result = filterset.search_result
    return books, result.suggestion if result is not None else None


# The list's parameters that choose its books (not their order or the page): the facets' key.
FACET_FILTERS = tuple(name for name in BookFilter.base_filters if name != "ordering")


def book_facets_cached(
    *, params: Any, books: QuerySet[Book], include_inactive: bool = False
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """``book_facets(books=books)``, kept in the cache per filter set: every page and ordering
    of one filtered list shares one entry, so only its first reader pays the counts over the
    whole list. The entry records the catalogue's generation, read before counting, in the same
    round trip as the entry (``cached_under_generations``), so any catalogue write retires the
    counts (stock moves do not change them, except for a list filtered by stock, whose entry
    records the availability generation too)."""
    chosen = [
        (name, value)
        for name in FACET_FILTERS
        for value in (params.getlist(name) if hasattr(params, "getlist") else [params.get(name)])
        if value not in (None, "")
    ]
    digest = hashlib.sha256(repr((include_inactive, chosen)).encode()).hexdigest()
    # A search's books are at most MAX_HITS: counted from their own rows.
    bounded = any(name == "q" and value.strip() for name, value in chosen)
    return cached_under_generations(
        f"{FACETS_KEY_PREFIX}:{digest}",
        lambda: book_facets(books=books, bounded=bounded),
        availability=any(name == "in_stock" for name, _ in chosen),
    )


def books_by_authors(*, author_ids: list[int], exclude: int | None = None) -> QuerySet[Book]:
    """Active books by any of these authors (a book page's "by the same author"), newest first."""
    books = book_queryset().filter(
        Exists(BookAuthor.objects.filter(book_id=OuterRef("pk"), author_id__in=author_ids))
    )
    if exclude is not None:
        books = books.exclude(pk=exclude)
    return books.order_by(F("publication_date").desc(nulls_last=True), "id")


def author_list() -> QuerySet[Author]:
    return Author.objects.annotate(
        books_count=Count("book_authors", filter=Q(book_authors__book__is_active=True))
    ).order_by("name", "id")


def author_get(*, slug: str) -> Author:
    try:
        return author_list().get(slug=slug)
    except Author.DoesNotExist as error:
        raise AuthorNotFound("No author has this slug.") from error


def publisher_list() -> QuerySet[Publisher]:
    return Publisher.objects.annotate(books_count=Count("books", filter=Q(books__is_active=True))).order_by(
        "name", "id"
    )


def publisher_get(*, slug: str) -> Publisher:
    try:
        return publisher_list().get(slug=slug)
    except Publisher.DoesNotExist as error:
        raise PublisherNotFound("No publisher has this slug.") from error
