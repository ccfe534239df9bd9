"""Keeping the search index fresh: the terms, typo keys and postings of some books rewritten.

``search_index_refresh(book_ids=…)`` is called by every write that changes what a book is
searched by (the services, the importer once per batch), inside the writer's transaction: it
deletes those books' postings and inserts the new ones (the importer gives the postings of the
books it has just created, which have none yet: nothing to read or delete for them), inserts
the terms no book had yet (and typo keys for those only: the vocabulary grows slowly, the
postings do not), and moves the terms' ``books`` counts by the difference. A batch of 1,000 books is about ten
statements, whatever the catalogue's size. ``search_index_rebuild()`` does every book (the
migration and ``manage.py search_index_rebuild``).

The counts are hints (the rarest word of a query, a prefix's most common words): a book
deleted by a cascade rather than by ``search_index_remove`` leaves them a little high.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from django.apps import apps as global_apps
from django.db import connection

from .text import delete_distance, deletes, folded_words, key, stem_languages, stems

TITLE, SUBTITLE, AUTHOR, PUBLISHER, DESCRIPTION = 0, 1, 2, 3, 4
WORD, STEM = 0, 1
# The description is searched by its first distinct words only (docs/architecture.md, "Search").
DESCRIPTION_WORDS = 30
TERM_MAX = 200
_CHUNK = 5000

Posting = tuple[str, int, int, int]  # (term text, term kind, field, distinct words in the field)


class BookText(NamedTuple):
    """What a book is searched by."""

    title: str
    subtitle: str
    authors: Sequence[str]
    publisher: str
    description: str
    language: str


def book_postings(book: BookText) -> set[Posting]:
    """What a book is found by: each word of each field, and the stems of the words of its
    title, subtitle and description in the book's language (French and English both when it is
    neither) where they differ from the word. A term is posted once per book, in its best
    field (title, subtitle, author, publisher, description, in that order): the ranking reads
    a word's best field only, so the others would cost rows to write and to read for nothing."""
    languages = stem_languages(book.language)
    found: dict[tuple[str, int], tuple[int, int]] = {}  # (text, kind) → (field, field's length)
    keep = found.setdefault  # best field first: the first one kept

    def add(field: int, found_words: Iterable[str], *, stemmed: bool = True) -> None:
        distinct = dict.fromkeys(found_words)
        entry = (field, len(distinct))
        for word in distinct:
            keep((word, WORD), entry)
            if stemmed:
                for stem in stems(word, languages):
                    keep((stem, STEM), entry)

    # An import indexes a thousand books a batch: empty fields cost nothing.
    add(TITLE, folded_words(book.title))
    if book.subtitle:
        add(SUBTITLE, folded_words(book.subtitle))
    # Names are not stemmed: "Simone" is not a form of "Simon".
    add(AUTHOR, [word for name in book.authors for word in folded_words(name)], stemmed=False)
    if book.publisher:
        add(PUBLISHER, folded_words(book.publisher), stemmed=False)
    if book.description:
        add(DESCRIPTION, list(dict.fromkeys(folded_words(book.description[:2000])))[:DESCRIPTION_WORDS])
    return {(text, kind, field, length) for (text, kind), (field, length) in found.items()}


def _models(apps: Any) -> tuple[Any, Any, Any, Any, Any]:
    registry = apps or global_apps
    names = ("Book", "BookAuthor", "SearchTerm", "SearchDelete", "SearchPosting")
    book, book_author, term, delete, posting = (registry.get_model("catalog", name) for name in names)
    return book, book_author, term, delete, posting


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def search_index_refresh(
    *, book_ids: Iterable[int] = (), created: Mapping[int, set[Posting]] | None = None, apps: Any = None
) -> None:
    """Rewrite the postings of ``book_ids`` from their current title, subtitle, authors,
    publisher, description and language (a book that no longer exists keeps none); write
    those given of the ``created`` books (just inserted, with no postings yet: the
    ``book_postings`` of the text they were created with)."""
    ids = sorted(set(book_ids) - set(created or ()))
    wanted = dict(created or {})
    if not ids and not wanted:
        return
    if ids:
        Book, BookAuthor, _, _, _ = _models(apps)
        authors: dict[int, list[str]] = {}
        for book_id, name in (
            BookAuthor.objects.filter(book_id__in=ids)
            .order_by("book_id", "position")
            .values_list("book_id", "author__name")
        ):
            authors.setdefault(book_id, []).append(name)
        fields = ("pk", "title", "subtitle", "language", "description", "publisher__name")
        for book_id, title, subtitle, language, description, publisher in Book.objects.filter(
            pk__in=ids
        ).values_list(*fields):
            wanted[book_id] = book_postings(
                BookText(title, subtitle, authors.get(book_id, []), publisher or "", description, language)
            )
    _postings_write(ids, wanted, apps)


def search_index_remove(*, book_ids: Iterable[int], apps: Any = None) -> None:
    """Forget the postings of ``book_ids`` (before they are deleted), counts included."""
    ids = sorted(set(book_ids))
    if ids:
        _postings_write(ids, {}, apps)


def search_index_rebuild(*, apps: Any = None, batch: int = 2000) -> int:
    """Index every book again (existing catalogues, after a change of the folding rules)."""
    Book, _, SearchTerm, SearchDelete, SearchPosting = _models(apps)
    SearchPosting.objects.all().delete()
    SearchDelete.objects.all().delete()
    SearchTerm.objects.all().delete()
    ids = list(Book.objects.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(ids, batch):
        search_index_refresh(book_ids=chunk, apps=apps)
    return len(ids)


def _postings_write(cleared: list[int], wanted: dict[int, set[Posting]], apps: Any) -> None:
    """Delete the postings of the ``cleared`` books, write the ``wanted`` ones, move the counts."""
    _, _, SearchTerm, _, SearchPosting = _models(apps)
    old: Counter[int] = Counter()
    if cleared:
        table = connection.ops.quote_name(SearchPosting._meta.db_table)
        with connection.cursor() as cursor:
            for chunk in _chunks(cleared):
                if _postgres():
                    sql, params = (
                        f"DELETE FROM {table} WHERE book_id = ANY(%s) RETURNING term_id",  # noqa: S608
                        [list(chunk)],
                    )
                else:
                    marks = ", ".join(["%s"] * len(chunk))
                    sql, params = (
                        f"DELETE FROM {table} WHERE book_id IN ({marks}) RETURNING term_id",  # noqa: S608
                        list(chunk),
                    )
                cursor.execute(sql, params)
                old.update(term_id for (term_id,) in cursor.fetchall())
    needed = Counter((text, kind) for postings in wanted.values() for text, kind, _, _ in postings)
    # A term inserted here starts at its count: only the terms found move theirs.
    term_ids, inserted = _terms_get_or_create(needed, apps)
    rows = [
        (term_ids[(text, kind)], book_id, field, length)
        for book_id, postings in wanted.items()
        for text, kind, field, length in postings
    ]
    _rows_insert(SearchPosting, ("term_id", "book_id", "field", "length"), rows)
    new = Counter(row[0] for row in rows if row[0] not in inserted)
    deltas = sorted((term_id, new[term_id] - old[term_id]) for term_id in old.keys() | new.keys())
    _counts_move([(term_id, delta) for term_id, delta in deltas if delta], SearchTerm)


def _terms_get_or_create(
    needed: Counter[tuple[str, int]], apps: Any
) -> tuple[dict[tuple[str, int], int], set[int]]:
    """The id of each (text, kind) of ``needed`` (with its number of new postings), the missing
    terms inserted with that count and their typo keys; and the ids inserted."""
    _, _, SearchTerm, SearchDelete, _ = _models(apps)
    found: dict[tuple[str, int], int] = {}
    texts = sorted({text for text, _ in needed})
    for chunk in _chunks(texts):
        for term_id, text, kind in _terms_named(chunk, SearchTerm):
            if (text, kind) in needed:
                found[(text, kind)] = term_id
    missing = sorted(needed.keys() - found.keys())
    if not missing:
        return found, set()
    created = _terms_insert([(text, kind, needed[(text, kind)]) for text, kind in missing], SearchTerm)
    found.update(created)
    lost = [term for term in missing if term not in found]
    if lost:  # inserted meanwhile by a concurrent writer, which wrote their keys too
        for term_id, text, kind in _terms_named([text for text, _ in lost], SearchTerm):
            found.setdefault((text, kind), term_id)
    keys = [
        (key(variant), term_id)
        for (text, kind), term_id in created.items()
        if kind == WORD and (distance := delete_distance(text))
        for variant in deletes(text, distance)
    ]
    _rows_insert(SearchDelete, ("key", "term_id"), keys)
    return found, set(created.values())


def _terms_named(texts: Sequence[str], SearchTerm: Any) -> list[tuple[int, str, int]]:
    """(id, text, kind) of the terms spelt ``texts``: one array parameter on PostgreSQL (an IN
    list of thousands of literals costs more to build than to run)."""
    if not _postgres():
        return list(SearchTerm.objects.filter(text__in=texts).values_list("id", "text", "kind"))
    table = connection.ops.quote_name(SearchTerm._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, text, kind FROM {table} WHERE text = ANY(%s)", [list(texts)])  # noqa: S608
        return cursor.fetchall()


def _terms_insert(terms: list[tuple[str, int, int]], SearchTerm: Any) -> dict[tuple[str, int], int]:
    """Insert (text, kind, books) terms; the ids of those inserted (not of those another writer
    inserted first)."""
    table = connection.ops.quote_name(SearchTerm._meta.db_table)
    created: dict[tuple[str, int], int] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(terms, 2000):
            if _postgres():
                cursor.execute(
                    f"INSERT INTO {table} (text, kind, books) "  # noqa: S608 (our table)
                    "SELECT * FROM unnest(%s::text[], %s::smallint[], %s::int[]) "
                    "ON CONFLICT (text, kind) DO NOTHING RETURNING id, text, kind",
                    [[term[0] for term in chunk], [term[1] for term in chunk], [term[2] for term in chunk]],
                )
            else:
                values = ", ".join(["(%s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} (text, kind, books) VALUES {values} "  # noqa: S608
                    "ON CONFLICT (text, kind) DO NOTHING RETURNING id, text, kind",
                    [value for term in chunk for value in term],
                )
            created.update({(text, kind): term_id for term_id, text, kind in cursor.fetchall()})
    return created


def _rows_insert(model: Any, fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL (a batch's postings are tens of thousands of rows), bulk_create else."""
    if not rows:
        return
    if not _postgres():
        model.objects.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=2000
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name.removesuffix("_id")).column) for name in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    # The rows are integers only: written as COPY's text format in one buffer, not row by row.
    line = "\t".join(["%d"] * len(fields)) + "\n"
    data = "".join(map(line.__mod__, rows))
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(data)


def _counts_move(deltas: list[tuple[int, int]], SearchTerm: Any) -> None:
    if not deltas:
        return
    table = connection.ops.quote_name(SearchTerm._meta.db_table)
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                f"UPDATE {table} AS t SET books = t.books + v.d "  # noqa: S608 (our table)
                "FROM unnest(%s::bigint[], %s::int[]) AS v(id, d) WHERE t.id = v.id",
                [[term_id for term_id, _ in deltas], [delta for _, delta in deltas]],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET books = books + %s WHERE id = %s",  # noqa: S608
                [(delta, term_id) for term_id, delta in deltas],
            )
