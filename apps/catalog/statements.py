"""The API's reads of books: the inline columns, and statements compiled once per process.

Django compiles a queryset into SQL every time it is evaluated. For a book's detail (every
column, the publisher joined, the authors and categories inline), compiling was 280 µs of the
read's 700, and building the instance with its related publisher most of the rest. The
statements here are compiled once, from the queryset the ORM would run, and their rows built
as the ORM builds them, from what the compiler said of the columns (their places and
converters), kept with them:

- ``book_read``: one book by its key, once per database, lookup field and visibility, the
  key's value in the place of a marker;
- ``page_read``: a page of a list ordered by the books' own columns, its outer statement once
  per ordering, the subquery choosing the page's ids (the list's filters) spliced in; or by a
  search's rank (``SearchRank``), the page's ids chosen in the ranked ids' order;
- ``ranked_ids_sql``: a search's ranked ids as rows, for the page and the facets.

The publisher comes as two columns of the book (``publisher_columns``, which
``serializers.book_data`` reads), not as a related instance.
"""

import json
from functools import cache
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, router
from django.db.models import Expression, ExpressionWrapper, F, IntegerField, QuerySet, TextField
from django.db.models.expressions import RawSQL

from apps.categories.models import Category
from bookstore.db import prepared_cursor

from .models import Author, Book, BookAuthor


def names_inline() -> dict[str, RawSQL]:
    """``_names_inline`` for the database in use (the expressions are copied as a queryset
    resolves them: one set serves every query)."""
    return _names_inline(connection.vendor)


@cache
def _names_inline(vendor: str) -> dict[str, RawSQL]:
    """The book's authors (in cover order) and categories (in tree order) as JSON text of
    ``[slug, name]`` pairs, each a correlated subquery of the book's row: the list's page and a
    detail in one statement, instead of two more for the prefetches (and the ORM's instances
    for every link, most of a page's time in Python). The subqueries name the book table
    itself: the queryset must not be nested under an alias (``book_queryset(inline=True)`` is
    for reading rows; the facets select ``pk`` only, and these are left out)."""
    book = Book._meta.db_table
    links = BookAuthor._meta.db_table
    authors = Author._meta.db_table
    filed = Book.categories.through._meta.db_table
    categories = Category._meta.db_table
    if vendor == "postgresql":
        # Each link's author and category probed by its key: joined, the planner hashed the
        # whole author table (and the category table) once for every book of the page.
        # ``OFFSET 0`` keeps the category's subquery a probe (not flattened into the join).
        authors_sql = (
            f"(SELECT COALESCE(json_agg((SELECT json_build_array(a.slug, a.name) FROM {authors} a "  # noqa: S608
            f"WHERE a.id = ba.author_id) ORDER BY ba.position, ba.id), '[]')::text FROM {links} ba "
            f'WHERE ba.book_id = "{book}"."id")'
        )
        categories_sql = (
            "(SELECT COALESCE(json_agg(json_build_array(c.slug, c.name) ORDER BY c.path), '[]')::text "  # noqa: S608
            f"FROM {filed} bc CROSS JOIN LATERAL (SELECT slug, name, path FROM {categories} "
            f'WHERE id = bc.category_id OFFSET 0) c WHERE bc.book_id = "{book}"."id")'
        )
    else:
        # SQLite aggregates in the order its subquery gives (no ORDER BY inside an aggregate
        # before 3.44).
        authors_sql = (
            "(SELECT json_group_array(json_array(slug, name)) FROM (SELECT a.slug, a.name "  # noqa: S608
            f"FROM {links} ba JOIN {authors} a ON a.id = ba.author_id "
            f'WHERE ba.book_id = "{book}"."id" ORDER BY ba.position, ba.id))'
        )
        categories_sql = (
            "(SELECT json_group_array(json_array(slug, name)) FROM (SELECT c.slug, c.name "  # noqa: S608
            f"FROM {filed} bc JOIN {categories} c ON c.id = bc.category_id "
            f'WHERE bc.book_id = "{book}"."id" ORDER BY c.path))'
        )
    return {
        "authors_inline": RawSQL(authors_sql, (), output_field=TextField()),  # noqa: S611 (table names only)
        "categories_inline": RawSQL(categories_sql, (), output_field=TextField()),  # noqa: S611
    }


# A value no key has, compiled in the key's place and found again among the parameters.
_MARKERS: dict[str, Any] = {"isbn13": "\x00isbn13\x00", "slug": "\x00slug\x00", "pk": -(2**62) + 7}


class _Compiled(NamedTuple):
    """A statement reading books, compiled once, with what building its rows needs."""

    sql: str
    params: tuple[Any, ...]
    # The model's columns: their positions in a row and their attribute names.
    fields: list[int]
    names: list[str]
    # The annotations' positions (the inline columns, the publisher's two).
    annotations: dict[str, int]
    # Position → (the converters of a column's value, its expression), as the compiler made them
    # (JSON text decoded; on SQLite, dates and decimals read from text).
    converters: dict[int, tuple[list[Any], Any]]


def publisher_columns() -> dict[str, F]:
    """The book's publisher as two columns of its row (``publisher_slug``, ``publisher_name``),
    for ``serializers.book_data``: no related instance built per row."""
    return {"publisher_slug": F("publisher__slug"), "publisher_name": F("publisher__name")}


def _read_columns() -> QuerySet[Book]:
    """What the API's rows read: every column, the inline names and the publisher's two."""
    return Book.objects.annotate(**publisher_columns(), **names_inline())


def _compile(queryset: QuerySet[Book], alias: str) -> _Compiled:
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    # What Django's ModelIterable reads off the compiler to build instances, read once here.
    fields = compiler.klass_info["select_fields"]
    columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
    return _Compiled(
        sql=sql,
        params=tuple(params),
        fields=fields,
        names=[compiler.select[i][0].target.attname for i in fields],
        annotations=dict(compiler.annotation_col_map),
        converters=compiler.get_converters(columns),
    )


def _books(
    compiled: _Compiled, alias: str, sql: str, params: list[Any], *, prepared: bool = False
) -> list[Book]:
    """Run ``sql`` (``compiled``'s, its parameters filled in) and build its books as the ORM
    would. ``prepared``: ``sql`` is the same text at every call, only its values change (a key,
    an array of ids): PostgreSQL prepares it (``bookstore.db.prepared_cursor``), planning was
    as long as running it."""
    database = connections[alias]
    with prepared_cursor(alias) if prepared else database.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    books = []
    for found in rows:
        row = list(found)
        for position, (converters, expression) in compiled.converters.items():
            for converter in converters:
                row[position] = converter(row[position], expression, database)
        book = Book.from_db(alias, compiled.names, [row[i] for i in compiled.fields])
        for name, position in compiled.annotations.items():
            setattr(book, name, row[position])
        books.append(book)
    return books


@cache
def _by_key(alias: str, field: str, include_inactive: bool) -> tuple[_Compiled, int]:
    """``book_read``'s statement, and where the key's value goes among its parameters."""
    queryset = _read_columns()
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    marker = _MARKERS[field]
    # One row: no ORDER BY (the model's default ordering would sort it).
    compiled = _compile(queryset.filter(**{field: marker}).order_by(), alias)
    return compiled, compiled.params.index(marker)


def book_read(*, field: str, value: Any, include_inactive: bool) -> Book | None:
    """The book whose ``field`` (``isbn13``, ``slug`` or ``pk``) is ``value``, every column
    read, with ``authors_inline``, ``categories_inline`` (``names_inline``),
    ``publisher_slug`` and ``publisher_name``; None when there is none (or it is inactive and
    ``include_inactive`` is false)."""
    alias = router.db_for_read(Book)
    compiled, slot = _by_key(alias, field, include_inactive)
    values = list(compiled.params)
    values[slot] = value
    found = _books(compiled, alias, compiled.sql, values, prepared=True)
    return found[0] if found else None


# Where the page's ids go in ``_page``'s SQL: a subquery no page has, replaced by the page's own.
_PAGE_MARKER = "SELECT -7 AS page_marker"


@cache
def _page(alias: str, ordering: tuple[Any, ...]) -> _Compiled:
    """The rows of the books whose ids a subquery selects, in ``ordering`` (no other filter:
    the subquery has them)."""
    queryset = _read_columns().defer("description").filter(pk__in=RawSQL(_PAGE_MARKER, ()))  # noqa: S611
    return _compile(queryset.order_by(*ordering), alias)


# What the facets count of a book a search found, read with its postings: its format, language
# and price band's key (``search.query.SearchResult.facts``).
Facts = tuple[str, str, str]


class SearchRank(ExpressionWrapper):
    """A book's place in a search's ranked ids (``expression``: its SQL), keeping the ids, so
    that ``page_read`` chooses a page in that order from the ids themselves rather than by
    sorting on the expression (``array_position`` scans the array for every hit: 1,000 hits,
    half a million comparisons, most of a search's page). ``alone``: the list is filtered by
    nothing but the search, so its books are exactly the ids (the search keeps active books
    only, unless it includes the others as the list does). ``facts``: the format, language and
    price band of each of the ids, as the search read them (``SearchResult.facts``), which the facets
    of a search alone count without reading the books again."""

    def __init__(
        self,
        expression: Expression,
        *,
        ids: list[int],
        alone: bool = False,
        facts: dict[int, Facts] | None = None,
        ids_text: str | None = None,
    ) -> None:
        super().__init__(expression, output_field=IntegerField())
        self.ids = ids
        self.alone = alone
        self.facts = facts
        # ``ids_array_text(ids)`` when the caller made it already (PostgreSQL).
        self.ids_text = ids_text


def ids_array_text(ids: list[int]) -> str:
    """``ids`` (the database's integers) as PostgreSQL's text form of an array (``{1,2,3}``),
    cast in the SQL: one string parameter, where a list of 1,000 ints was adapted value by
    value by Django's ArrayField and dumped element by element by psycopg. A search's ids go
    into its filter, its rank and its facets: the text is made once (``SearchRank.ids_text``)."""
    return "{" + ",".join(map(str, ids)) + "}"


def ranked_ids_sql(vendor: str, ids: list[int], *, text: str | None = None) -> tuple[str, Any]:
    """SQL of the rows ``(id, n)`` of ``ids`` with their places, and its one parameter (on
    PostgreSQL the array's text form, cast, ``text`` when the caller has it; on SQLite a JSON
    array)."""
    if vendor == "postgresql":
        literal = ids_array_text(ids) if text is None else text
        return "SELECT id, n FROM unnest(%s::bigint[]) WITH ORDINALITY AS r(id, n)", literal
    return "SELECT value AS id, key AS n FROM json_each(%s)", json.dumps(ids)


def page_read(books: QuerySet[Book], *, start: int, stop: int) -> list[Book] | None:
    """``books[start:stop]`` read as ``book_page`` reads it (the page's ids chosen by a subquery
    of ``books``, then those books with the API's columns), the outer statement compiled once
    per ordering: only the subquery is compiled for each page. Ordered first by a search's rank
    (``SearchRank``), the subquery takes the ranked ids in their order that are among ``books``
    (or, the search ``alone`` choosing them, the page's slice of the ids), and the page's books
    are put in that order here. None when ``books`` is ordered by another
    annotation, which the outer statement does not have: the caller reads the page through the
    ORM then."""
    ordering = tuple(books.query.order_by)
    rank = _search_rank(books, ordering)
    fields = {field.attname for field in Book._meta.concrete_fields} | {"pk"}
    for term in ordering if rank is None else ():
        # A field's name, or an ``OrderBy`` of one (``F("publication_date").asc(nulls_last=True)``).
        if _ordered_name(term) not in fields:
            return None
    alias = books.db
    compiled = _page(alias, ordering if rank is None else ())
    before, marker, after = compiled.sql.partition(_PAGE_MARKER)
    if not marker or compiled.params:
        return None  # not the statement this expects: the ORM reads the page
    try:
        if rank is None:
            inner_sql, inner_params = books.values("pk")[start:stop].query.get_compiler(using=alias).as_sql()
        elif rank.alone:
            # The list is the ids: the page is theirs, nothing to probe but the page's books.
            ranked_sql, ranked_param = ranked_ids_sql(connections[alias].vendor, rank.ids[start:stop])
            inner_sql, inner_params = f"SELECT r.id FROM ({ranked_sql}) r", (ranked_param,)  # noqa: S608
        else:
            # The ranked ids among the list's (its filters probe every hit once), in their order.
            listed_sql, listed_params = books.order_by().values("pk").query.get_compiler(using=alias).as_sql()
            ranked_sql, ranked_param = ranked_ids_sql(connections[alias].vendor, rank.ids)
            inner_sql = (
                f"SELECT r.id FROM ({ranked_sql}) r WHERE r.id IN ({listed_sql}) "  # noqa: S608 (SQL only)
                "ORDER BY r.n LIMIT %s OFFSET %s"
            )
            inner_params = (ranked_param, *listed_params, max(0, stop - start), start)
    except EmptyResultSet:  # a filter no book can match (an unknown category): no page
        return []
    # A search alone's page is the same statement at every call, its ids the only value.
    alone = rank is not None and rank.alone
    page = _books(compiled, alias, f"{before}{inner_sql}{after}", list(inner_params), prepared=alone)
    if rank is not None:
        # The page's books are among the ids: their places only (not a map of a thousand).
        read = {book.pk for book in page}
        places = {book_id: place for place, book_id in enumerate(rank.ids) if book_id in read}
        page.sort(key=lambda book: places[book.pk])
    return page


def _ordered_name(term: Any) -> str | None:
    """The name an ordering's term sorts by: a field's or annotation's (``"-price"``, or an
    ``OrderBy`` of an ``F``)."""
    if isinstance(term, str):
        return term.lstrip("-")
    return getattr(getattr(term, "expression", None), "name", None)


def _search_rank(books: QuerySet[Book], ordering: tuple[Any, ...]) -> SearchRank | None:
    """The search's rank ``books`` are ordered by first (ascending), if they are."""
    first = ordering[0] if ordering else None
    if first is None:
        return None
    if first.startswith("-") if isinstance(first, str) else getattr(first, "descending", True):
        return None
    name = _ordered_name(first)
    rank = books.query.annotations.get(name) if name else None
    return rank if isinstance(rank, SearchRank) else None
