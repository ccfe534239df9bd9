"""Reads of the catalogue: the book list with its filters, search and facets, and lookups."""

import difflib
import hashlib
from decimal import Decimal
from typing import Any

import django_filters
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection, connections, router
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)

from apps.categories.models import Category
from apps.categories.selectors import category_facets_from_rows, category_facets_sql, category_subtree_filter
from bookstore.cache import generations

from .exceptions import AuthorNotFound, BookNotFound, InvalidFilter, PublisherNotFound
from .isbn import isbn_parse
from .models import Author, Book, BookAuthor, BookFormat, Publisher

# Price bands of the facets: (key, lower bound included, upper bound excluded).
PRICE_BANDS: list[tuple[str, Decimal | None, Decimal | None]] = [
    ("0-10", None, Decimal("10")),
    ("10-20", Decimal("10"), Decimal("20")),
    ("20-30", Decimal("20"), Decimal("30")),
    ("30-50", Decimal("30"), Decimal("50")),
    ("50+", Decimal("50"), None),
]

FACETS_KEY_PREFIX = "catalog:facets"

# Titles difflib compares a search with on a database without trigrams (the embedded default).
SUGGESTION_TITLES = 5000

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


def book_queryset(*, include_inactive: bool = False, with_description: bool = False) -> QuerySet[Book]:
    """Books with their publisher, ordered authors and categories: three queries whatever the count."""
    queryset = Book.objects.select_related("publisher").prefetch_related(
        Prefetch("book_authors", queryset=BookAuthor.objects.select_related("author").order_by("position")),
        Prefetch("categories", queryset=Category.objects.order_by("path")),
    )
    queryset = (
        queryset.defer("search_vector")
        if with_description
        else queryset.defer("search_vector", "description")
    )
    return queryset if include_inactive else queryset.filter(is_active=True)


def _book_lookup(key: str) -> dict[str, Any]:
    """A book's key (ISBN-13 or ISBN-10, id, or slug) as a lookup."""
    isbn = isbn_parse(key) if len(key) in (10, 13) else None
    if isbn is not None:
        return {"isbn13": isbn}
    if key.isascii() and key.isdigit():
        # isdigit() alone accepts "³" and other digits int() refuses.
        return {"pk": int(key)}
    return {"slug": key}


def book_get(*, key: str, include_inactive: bool = False) -> Book:
    """One book by ISBN-13 (or ISBN-10), slug or id."""
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
    ((field, value),) = _book_lookup(key).items()
    return f"book:{field}:{value}"


def book_cache_scopes(*, book: Book) -> list[str]:
    return [f"book:pk:{book.pk}", f"book:isbn13:{book.isbn13}", f"book:slug:{book.slug}"]


def _search(queryset: QuerySet[Book], text: str) -> QuerySet[Book]:
    """Full-text and trigram search on PostgreSQL, a contains-search elsewhere.

    An ISBN in the query (13 or 10, with or without hyphens) matches that book exactly, and
    it comes first whatever the ordering asked.
    """
    text = text.strip()
    if not text:
        return queryset
    isbn = isbn_parse(text)
    isbn_match = Q(isbn13=isbn) if isbn else Q(pk__in=[])
    if connection.vendor == "postgresql":
        query = SearchQuery(Func(Value(text), function="unaccent"), config="simple", search_type="websearch")
        matches = Q(search_vector=query) | Q(title__trigram_word_similar=text) | isbn_match
        queryset = queryset.filter(matches).annotate(
            rank=SearchRank(F("search_vector"), query) + TrigramWordSimilarity(text, "title")
        )
    else:
        in_authors = Exists(BookAuthor.objects.filter(book_id=OuterRef("pk"), author__name__icontains=text))
        matches = (
            Q(title__icontains=text)
            | Q(subtitle__icontains=text)
            | Q(publisher__name__icontains=text)
            | Q(description__icontains=text)
            | Q(in_authors)
            | isbn_match
        )
        queryset = queryset.filter(matches).annotate(rank=Value(0.0, output_field=FloatField()))
    return queryset.annotate(
        isbn_match=Case(When(isbn_match, then=Value(1)), default=Value(0), output_field=IntegerField())
    )


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
        help_text="Full-text search over title, subtitle, authors, publisher and description; "
        "an ISBN matches exactly.",
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

    def filter_search(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        return _search(queryset, value)

    def filter_ordering(self, queryset: QuerySet[Book], name: str, value: str) -> QuerySet[Book]:
        # Applied in filter_queryset, after every filter (the search adds its rank first).
        return queryset

    def filter_queryset(self, queryset: QuerySet[Book]) -> QuerySet[Book]:
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering")
        searching = bool((self.form.cleaned_data.get("q") or "").strip())
        if ordering:
            order: tuple[Any, ...] = ORDERINGS[ordering]
            return (
                queryset.order_by(F("isbn_match").desc(), *order) if searching else queryset.order_by(*order)
            )
        if searching:
            return queryset.order_by(F("isbn_match").desc(), F("rank").desc(), "title", "id")
        return queryset.order_by("title", "id")


def book_list(*, params: Any, include_inactive: bool = False) -> QuerySet[Book]:
    """Active books filtered and ordered by the query parameters ``params`` (a QueryDict).

    A value that does not parse is ``InvalidFilter``, naming the parameters.
    """
    filterset = BookFilter(params, queryset=book_queryset(include_inactive=include_inactive))
    if not filterset.is_valid():
        errors = {name: [str(message) for message in messages] for name, messages in filterset.errors.items()}
        raise InvalidFilter("One or more fields are invalid.", errors=errors)
    return filterset.qs


def _price_band_expression() -> Case:
    whens = []
    for key, low, high in PRICE_BANDS:
        condition = Q()
        if low is not None:
            condition &= Q(price__gte=low)
        if high is not None:
            condition &= Q(price__lt=high)
        whens.append(When(condition, then=Value(key)))
    return Case(*whens, default=Value(PRICE_BANDS[-1][0]))


def book_facets(*, books: QuerySet[Book]) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The number of ``books`` and their facets, in one query.

    Two statements joined by ``UNION ALL``: one counts by (format, language, price band) —
    the total and three facets are sums over its rows —, the other counts by category,
    descendants included, each book once. One round trip keeps a page of the list, facets
    included, at four queries.
    """
    ids = books.order_by().values("pk")
    grouped = (
        Book.objects.filter(pk__in=ids)
        .annotate(price_band=_price_band_expression())
        .order_by()
        .values("format", "language", "price_band")
        .annotate(n=Count("id"))
    )
    grouped_sql, grouped_params = grouped.query.sql_with_params()
    categories_sql, categories_params = category_facets_sql(book_ids_sql=ids.query.sql_with_params())
    sql = (
        "SELECT 'g', g.format, g.language, g.price_band, NULL, NULL, g.n "  # noqa: S608 (no user text)
        f"FROM ({grouped_sql}) g UNION ALL "
        "SELECT 'c', c.slug, c.name, c.parent, c.depth, c.path, c.n "
        f"FROM ({categories_sql}) c"
    )
    # Raw SQL: the router is asked which database, as a queryset would (a replica, perhaps).
    with connections[router.db_for_read(Book)].cursor() as cursor:
        cursor.execute(sql, [*grouped_params, *categories_params])
        rows = cursor.fetchall()

    total = 0
    formats: dict[str, int] = {}
    languages: dict[str, int] = {}
    bands: dict[str, int] = {}
    category_rows = []
    for kind, first, second, third, depth, path, n in rows:
        if kind == "c":
            category_rows.append((first, second, third, depth, path, n))
            continue
        total += n
        formats[first] = formats.get(first, 0) + n
        languages[second] = languages.get(second, 0) + n
        bands[third] = bands.get(third, 0) + n

    labels = dict(BookFormat.choices)
    facets = {
        "categories": category_facets_from_rows(category_rows),
        "formats": [
            {"value": value, "label": labels.get(value, value), "count": formats[value]}
            for value in sorted(formats, key=lambda v: (-formats[v], v))
        ],
        "languages": [
            {"value": value, "count": languages[value]}
            for value in sorted(languages, key=lambda v: (-languages[v], v))
        ],
        "price_bands": [
            {"key": key, "min": low, "max": high, "count": bands[key]}
            for key, low, high in PRICE_BANDS
            if key in bands
        ],
    }
    return total, facets


# The list's parameters that choose its books (not their order or the page): the facets' key.
FACET_FILTERS = tuple(name for name in BookFilter.base_filters if name != "ordering")


def book_facets_cached(
    *, params: Any, books: QuerySet[Book], include_inactive: bool = False
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """``book_facets(books=books)``, kept in the cache per filter set: every page and ordering
    of one filtered list shares one entry, so only its first reader pays the counts over the
    whole list. The key holds the catalogue's generation, read before counting, so any
    catalogue write retires the counts (stock moves do not change them, except for a list
    filtered by stock, whose key holds the availability generation too)."""
    chosen = [
        (name, value)
        for name in FACET_FILTERS
        for value in (params.getlist(name) if hasattr(params, "getlist") else [params.get(name)])
        if value not in (None, "")
    ]
    versions, _ = generations(availability=any(name == "in_stock" for name, _ in chosen))
    digest = hashlib.sha256(repr((include_inactive, chosen)).encode()).hexdigest()
    key = f"{FACETS_KEY_PREFIX}:{versions}:{digest}"
    found = cache.get(key)
    if found is None:
        found = book_facets(books=books)
        cache.set(key, found, timeout=settings.CATALOG_CACHE_TIMEOUT)
    return found


def books_by_authors(*, author_ids: list[int], exclude: int | None = None) -> QuerySet[Book]:
    """Active books by any of these authors (a book page's "by the same author"), newest first."""
    books = book_queryset().filter(
        Exists(BookAuthor.objects.filter(book_id=OuterRef("pk"), author_id__in=author_ids))
    )
    if exclude is not None:
        books = books.exclude(pk=exclude)
    return books.order_by(F("publication_date").desc(nulls_last=True), "id")


def search_suggestion(*, text: str) -> str | None:
    """A title close to ``text`` for "did you mean", when a search found nothing; None if none is.

    PostgreSQL ranks titles by trigram similarity (the ``pg_trgm`` index); elsewhere the
    closest of the titles is found by ``difflib``.
    """
    text = text.strip()[:200]
    if not text:
        return None
    books = Book.objects.filter(is_active=True)
    if connection.vendor == "postgresql":
        title = (
            books.annotate(similarity=TrigramWordSimilarity(text, "title"))
            .filter(similarity__gte=0.3)
            .order_by("-similarity", "title")
            .values_list("title", flat=True)
            .first()
        )
        return title
    wanted = text.lower()

    def closeness(title: str) -> float:
        # A search names the start of a title as often as the whole of it.
        title = title.lower()
        return max(
            difflib.SequenceMatcher(None, wanted, title).ratio(),
            difflib.SequenceMatcher(None, wanted, title[: len(wanted) + 2]).ratio(),
        )

    titles = books.values_list("title", flat=True)[:SUGGESTION_TITLES]
    best = max(titles, key=closeness, default=None)
    return best if best is not None and closeness(best) >= 0.75 else None


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
