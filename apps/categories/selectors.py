"""Reads of the category tree.

Counts are of active books in a category or any of its descendants, each book counted once
(a book filed under both a category and its child counts once for the parent).
"""

from typing import Any

from django.db import connection, connections, router
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from bookstore.cache import cached_under_generations

from .exceptions import CategoryNotFound
from .models import Category


def _book_table_names() -> tuple[str, str]:
    through = Category.books.through
    book_model = Category.books.field.model
    return through._meta.db_table, book_model._meta.db_table


def category_book_counts(*, book_ids_sql: tuple[str, tuple[Any, ...]] | None = None) -> dict[int, int]:
    """Category id → number of distinct active books in it or its descendants.

    ``book_ids_sql`` (SQL selecting book ids, and its parameters) narrows the count to those
    books, as the list's facets do. One query either way.
    """
    through, books = _book_table_names()
    categories = Category._meta.db_table
    sql = (
        f"SELECT c.id, COUNT(DISTINCT bc.book_id) FROM {categories} c "  # noqa: S608 (table names only)
        f"JOIN {categories} d ON d.path LIKE c.path || %s "
        f"JOIN {through} bc ON bc.category_id = d.id "
    )
    params: list[Any] = ["%"]
    if book_ids_sql is None:
        sql += f"JOIN {books} b ON b.id = bc.book_id WHERE b.is_active = %s "
        params.append(True)
    else:
        sql += f"WHERE bc.book_id IN ({book_ids_sql[0]}) "
        params.extend(book_ids_sql[1])
    sql += "GROUP BY c.id"
    with connections[router.db_for_read(Category)].cursor() as cursor:  # a replica, perhaps
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


COUNTS_KEY_PREFIX = "categories:counts"


def category_book_counts_cached() -> dict[int, int]:
    """``category_book_counts()`` over the whole catalogue, kept in the cache under the
    catalogue's generation (read before counting, with the entry: one round trip): the tree
    and the category pages share one count of the whole catalogue until a catalogue write.
    Stock moves do not change it."""
    return cached_under_generations(COUNTS_KEY_PREFIX, category_book_counts)


def category_tree() -> list[dict[str, Any]]:
    """The whole tree, nested, children by position then name, each node with its book count."""
    categories = list(Category.objects.order_by("depth", "position", "name"))
    counts = category_book_counts_cached()
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for category in categories:
        node = {
            "id": category.pk,
            "slug": category.slug,
            "name": category.name,
            "description": category.description,
            "position": category.position,
            "book_count": counts.get(category.pk, 0),
            "children": [],
        }
        nodes[category.pk] = node
        parent = nodes.get(category.parent_id) if category.parent_id else None
        (parent["children"] if parent is not None else roots).append(node)
    return roots


def category_get(*, slug: str) -> Category:
    try:
        return Category.objects.get(slug=slug)
    except Category.DoesNotExist as error:
        raise CategoryNotFound("No category has this slug.") from error


def category_detail(*, slug: str) -> dict[str, Any]:
    """One category with its breadcrumb (root first) and its children, with book counts."""
    category = category_get(slug=slug)
    ancestor_ids = [int(part) for part in category.path.split("/") if part][:-1]
    ancestors = {c.pk: c for c in Category.objects.filter(pk__in=ancestor_ids)}
    children = list(category.children.order_by("position", "name"))
    counts = category_book_counts_cached()
    return {
        "category": category,
        "book_count": counts.get(category.pk, 0),
        "ancestors": [ancestors[pk] for pk in ancestor_ids if pk in ancestors],
        "children": [(child, counts.get(child.pk, 0)) for child in children],
    }


def category_subtree_filter(*, slug: str, book_ref: str = "pk") -> Exists:
    """An ``Exists`` true for books filed under the category ``slug`` or a descendant.

    A subquery rather than a join: no duplicate rows, and no extra query to look the
    category up first.
    """
    through = Category.books.through
    path = Subquery(Category.objects.filter(slug=slug).values("path")[:1])
    return Exists(through.objects.filter(book_id=OuterRef(book_ref), category__path__startswith=path))


def categories_by_slugs(*, slugs: list[str]) -> QuerySet[Category]:
    return Category.objects.filter(slug__in=slugs)


def category_facets_sql(*, book_ids_sql: tuple[str, tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """SQL selecting, for the books that ``book_ids_sql`` selects, each category holding some
    of them (itself or through a descendant): ``slug, name, parent, depth, path, n`` (the
    number of those books, each counted once). A caller may run it alone
    (``category_facets``) or as one branch of a larger statement."""
    through, _ = _book_table_names()
    categories = Category._meta.db_table
    # The matching books are selected once (a materialised CTE), then their categories are
    # rolled up to every ancestor: the planner cannot re-run the filter per category.
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    sql = (
        f"WITH hits AS {materialized}(SELECT bc.category_id, bc.book_id FROM {through} bc "  # noqa: S608
        f"WHERE bc.book_id IN ({book_ids_sql[0]})), "
        # Each (ancestor, book) pair once: a hashed DISTINCT, cheaper than COUNT(DISTINCT),
        # which sorts every pair.
        f"rolled AS (SELECT DISTINCT c.id AS category_id, h.book_id FROM hits h "
        f"JOIN {categories} d ON d.id = h.category_id JOIN {categories} c ON d.path LIKE c.path || %s) "
        f"SELECT c.slug AS slug, c.name AS name, p.slug AS parent, c.depth AS depth, c.path AS path, "
        f"r.n AS n FROM (SELECT category_id, COUNT(*) AS n FROM rolled GROUP BY category_id) r "
        f"JOIN {categories} c ON c.id = r.category_id "
        f"LEFT JOIN {categories} p ON p.id = c.parent_id"
    )
    return sql, [*book_ids_sql[1], "%"]


def category_facets_from_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``(slug, name, parent, depth, path, n)`` rows → facet entries, root first (tree order)."""
    return [
        {"slug": slug, "name": name, "parent": parent, "depth": depth, "count": count}
        for slug, name, parent, depth, _path, count in sorted(rows, key=lambda row: row[4])
    ]


def category_rows_sql() -> str:
    """SQL selecting every category as ``id, slug, name, parent_id, depth, path``, for a caller
    that counts a few books' categories itself (``category_facets_from_sets``), as one branch
    of its own statement."""
    return f"SELECT id, slug, name, parent_id, depth, path FROM {Category._meta.db_table}"  # noqa: S608


def category_facets_from_sets(
    categories: list[tuple[Any, ...]], filed: dict[tuple[int, ...], int]
) -> list[dict[str, Any]]:
    """``category_facets`` counted here: ``categories`` are ``category_rows_sql``'s rows,
    ``filed`` the number of books counted filed in each set of categories (a book in none is in
    no set). Each category holding some of them, itself or through a descendant (its path a
    prefix of theirs, as the SQL's ``LIKE`` says), with the number of those books, each counted
    once; root first. For a bounded set of books (a search's hits): the rows are the sets their
    links make (a few dozen), not the catalogue's links."""
    by_id = {row[0]: row for row in categories}
    above: dict[int, list[int]] = {}  # category → itself and its ancestors
    counts: dict[int, int] = {}
    for linked, books in filed.items():
        for category_id in linked:
            if category_id not in above:
                path = by_id[category_id][5]
                above[category_id] = [row[0] for row in categories if path.startswith(row[5])]
        # A book in a category and in one of its descendants counts once in their ancestors.
        ancestors = above[linked[0]] if len(linked) == 1 else {a for c in linked for a in above[c]}
        for ancestor in ancestors:
            counts[ancestor] = counts.get(ancestor, 0) + books
    rows = []
    for category_id, count in counts.items():
        _, slug, name, parent_id, depth, path = by_id[category_id]
        parent = by_id[parent_id][1] if parent_id is not None and parent_id in by_id else None
        rows.append((slug, name, parent, depth, path, count))
    return category_facets_from_rows(rows)


def category_facets(*, book_ids_sql: tuple[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """For the books that ``book_ids_sql`` selects: each category holding some of them (itself
    or through a descendant), root first, with the number of those books. One query."""
    sql, params = category_facets_sql(book_ids_sql=book_ids_sql)
    with connections[router.db_for_read(Category)].cursor() as cursor:  # a replica, perhaps
        cursor.execute(sql, params)
        return category_facets_from_rows(cursor.fetchall())
