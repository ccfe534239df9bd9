"""The facets of a list of books: how many there are of each format, language, price band and
category (descendants included, each book once), counted in one statement.

``book_facets`` counts a list over the whole catalogue (two grouped counts joined by ``UNION
ALL``); a search's hits, at most ``MAX_HITS``, are counted from their own rows
(``_book_facets_counted``). The selectors keep the counts in the cache per filter set
(``selectors.book_facets_cached``).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.db.models import Case, Count, F, Q, QuerySet, Value, When

from apps.categories.selectors import (
    category_facets_from_rows,
    category_facets_from_sets,
    category_facets_sql,
    category_rows_sql,
)

from .models import Book, BookFormat
from .statements import SearchRank, ranked_ids_sql

# Price bands of the facets: (key, lower bound included, upper bound excluded).
PRICE_BANDS: list[tuple[str, Decimal | None, Decimal | None]] = [
    ("0-10", None, Decimal("10")),
    ("10-20", Decimal("10"), Decimal("20")),
    ("20-30", Decimal("20"), Decimal("30")),
    ("30-50", Decimal("30"), Decimal("50")),
    ("50+", Decimal("50"), None),
]


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


def _price_band_sql(column: str, *, inline: bool = False) -> tuple[str, list[Decimal]]:
    """``_price_band_expression`` as SQL text on ``column``, with its parameters (``inline``:
    none, the bounds written in the text: they are the code's own numbers): a book without a
    price falls in the last band (every comparison with NULL is false)."""
    whens, params = [], []
    for key, low, high in PRICE_BANDS[:-1]:
        conditions = []
        for bound, operator in ((low, ">="), (high, "<")):
            if bound is not None:
                conditions.append(f"{column} {operator} {bound if inline else '%s'}")
                if not inline:
                    params.append(bound)
        whens.append(f"WHEN {' AND '.join(conditions)} THEN '{key}'")
    return f"CASE {' '.join(whens)} ELSE '{PRICE_BANDS[-1][0]}' END", params


def price_band_sql(column: str) -> str:
    """The key of the price band of ``column`` in SQL, its bounds written in (the search's
    postings read a book's band: a price, as a ``Decimal``, cost three times as much to read
    as its band's key)."""
    return _price_band_sql(column, inline=True)[0]


def _book_facets_counted(books: QuerySet[Book]) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """``book_facets`` for a bounded set of books (a search's hits, at most ``MAX_HITS``), in
    one statement over the hits read once (``h``: the filtered list itself, not a subquery of
    it, so its books are probed once), by ``UNION ALL``: the hits counted by (format,
    language, price band); by the set of categories each is filed in (a few dozen sets); and
    the category table. The roll-up to every ancestor, each book once, is made here from the
    sets. Two grouped counts and a roll-up in SQL cost twice the probes of the hits (12 ms for
    1,000 hits, at 10,000 books as at 100,000); a row per hit and link, counted here, was a
    thousand rows to receive and walk. When the search alone chose the books, the hits are
    its ids (``statements.ranked_ids_sql``: a statement written once, not compiled from the
    list) and their formats, languages and prices are those the search read with their
    postings (``SearchRank.facts``): they are counted here, and the statement reads only the
    hits' category links, not the hits' rows too (a key probe per hit: half the statement)."""
    database = connections[router.db_for_read(Book)]
    # Typed: two untyped NULLs would make PostgreSQL's union of the first branches text.
    no_id = "CAST(NULL AS INTEGER)"
    rank = books.query.annotations.get("search_rank")
    hits_params: Sequence[Any]
    # Rows of the grouped branch's shape, one per hit, when the search read its facts.
    counted: list[tuple[Any, ...]] = []
    grouped = ""
    if isinstance(rank, SearchRank) and rank.alone and rank.facts is not None:
        ranked_sql, ranked_param = ranked_ids_sql(database.vendor, rank.ids, text=rank.ids_text)
        hits_sql, hits_params = f"SELECT id AS facet_id FROM ({ranked_sql}) r", [ranked_param]  # noqa: S608
        # A thousand hits are a few dozen (format, language, band): counted as such.
        counted = [("g", *facts, None, None, n) for facts, n in Counter(rank.facts.values()).items()]
    else:
        hits = books.order_by().values(
            facet_id=F("pk"), facet_format=F("format"), facet_language=F("language"), facet_price=F("price")
        )
        hits_sql, hits_params = hits.query.sql_with_params()
        band_sql, band_params = _price_band_sql("h.facet_price")
        grouped = (
            f"SELECT 'g', h.facet_format, h.facet_language, {band_sql}, {no_id}, {no_id}, COUNT(*) "  # noqa: S608
            "FROM h GROUP BY 2, 3, 4 UNION ALL "
        )
        hits_params = [*hits_params, *band_params]
    filed = Book.categories.through._meta.db_table
    # In no order (an ordered aggregate would sort every link): each set is sorted here.
    if database.vendor == "postgresql":
        linked = "string_agg(bc.category_id::text, ',')"
    else:
        linked = "group_concat(bc.category_id)"
    sql = (
        f"WITH h AS ({hits_sql}) {grouped}"  # noqa: S608 (SQL and table names only)
        f"SELECT 's', NULL, NULL, s.linked, {no_id}, {no_id}, COUNT(*) FROM "
        f"(SELECT {linked} AS linked FROM h JOIN {filed} bc ON bc.book_id = h.facet_id "
        "GROUP BY h.facet_id) s GROUP BY s.linked UNION ALL "
        "SELECT 'c', c.slug, c.name, c.path, c.id, c.parent_id, c.depth "
        f"FROM ({category_rows_sql()}) c"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, hits_params)
        rows = cursor.fetchall()
    total = 0
    formats: dict[str, int] = {}
    languages: dict[str, int] = {}
    bands: dict[str, int] = {}
    sets: dict[tuple[int, ...], int] = {}
    categories: list[tuple[Any, ...]] = []
    for kind, first, second, third, category_id, parent_id, n in [*counted, *rows]:
        if kind == "g":
            total += n
            formats[first] = formats.get(first, 0) + n
            languages[second] = languages.get(second, 0) + n
            bands[third] = bands.get(third, 0) + n
        elif kind == "s":
            key = tuple(sorted(int(part) for part in str(third).split(",")))
            sets[key] = sets.get(key, 0) + n
        else:
            categories.append((category_id, first, second, parent_id, n, third))
    return total, _facets(category_facets_from_sets(categories, sets), formats, languages, bands)


@dataclass(frozen=True)
class FormatLabel:
    """A format's label, in the language active when it is shown (``str``). The cached facets
    keep this, not the lazy translation: Django unpickles a lazy string by building a class for
    it, which was 7 % of an uncached list page's CPU."""

    value: str

    def __str__(self) -> str:
        return str(_FORMAT_LABELS.get(self.value, self.value))


_FORMAT_LABELS = dict(BookFormat.choices)


def _facets(
    categories: list[dict[str, Any]],
    formats: dict[str, int],
    languages: dict[str, int],
    bands: dict[str, int],
) -> dict[str, list[dict[str, Any]]]:
    return {
        "categories": categories,
        "formats": [
            {"value": value, "label": FormatLabel(value), "count": formats[value]}
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


def book_facets(
    *, books: QuerySet[Book], bounded: bool = False
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The number of ``books`` and their facets, in one query.

    Two statements joined by ``UNION ALL``: one counts by (format, language, price band) —
    the total and three facets are sums over its rows —, the other counts by category,
    descendants included, each book once. One round trip keeps a page of the list, facets
    included, at four queries. ``bounded`` (a search: at most ``MAX_HITS`` books): the same
    counts made here from the books' own rows (``_book_facets_counted``).
    """
    if bounded:
        return _book_facets_counted(books)
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
    return total, _facets(category_facets_from_rows(category_rows), formats, languages, bands)
