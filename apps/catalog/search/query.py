"""Answering a search from the word index, in a fixed number of statements.

1. The candidate terms of the query's words, in one statement: the words and their French and
   English stems by text, the words' typo keys (symmetric deletes), and the last word as a
   prefix (its 30 commonest completions). Each candidate's distance is checked here against the
   word's typo budget (OSA: a swap of two adjacent letters is one typo).
2. The postings of those terms, for the books that have the rarest word: the books that have
   every word are ranked here. When none has them all, one more statement takes the books that
   have the first word, and ranks them by how many of the words, from the first, they have
   (Meilisearch's "last" matching strategy).

So a search is two statements, three when no book has every word; an ISBN is none (the book
list's query looks it up). At most ``MAX_HITS`` books are kept, as Meilisearch's
``maxTotalHits``.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from rapidfuzz.distance import OSA

from ..facets import price_band_sql
from ..isbn import isbn_parse
from ..statements import Facts
from .index import DESCRIPTION, STEM, TITLE, WORD
from .text import deletes, key, stems, typo_budget, words

MAX_HITS = 1000
MAX_WORDS = 10
PREFIX_TERMS = 30
# The postings read for one search, at most (a query of one very common word).
MAX_POSTINGS = 10_000
EXACT, STEMMED, PREFIX = 0, 1, 2


# A posting read: book, term, field, field length, and the book's rating count, stock, format,
# language and price band.
Row = tuple[int, int, int, int, int, int, str, str, str]


@dataclass(frozen=True)
class SearchResult:
    """The books a search found, best first (``ids``), or the ISBN it names; ``suggestion`` is
    a corrected query made of the catalogue's words when the words found nothing. ``facts``:
    the format, language and price band of each book of ``ids``, read with its postings, so that
    the facets of a search alone need not read the books again."""

    ids: list[int] = field(default_factory=list)
    isbn: str | None = None
    suggestion: str | None = None
    facts: dict[int, Facts] = field(default_factory=dict)


@dataclass
class _Match:
    word: int  # index of the query word
    typos: int
    how: int  # EXACT, STEMMED or PREFIX


def _next_prefix(prefix: str) -> str:
    """The smallest string above every string that starts with ``prefix`` (byte order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _placeholders(values: list[Any], postgres: bool) -> tuple[str, list[Any]]:
    if postgres:
        return "= ANY(%s)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


def search(text: str, *, include_inactive: bool = False) -> SearchResult:
    """The books ``text`` finds, ranked: whole title typed, then every word in the title, then
    authors, then the other fields; fewer typos first; an exact word before a stem before a
    prefix; then the most rated; then those in stock."""
    isbn = isbn_parse(text.strip())
    if isbn is not None:
        return SearchResult(isbn=isbn)
    query = words(text)[:MAX_WORDS]
    if not query:
        return SearchResult()
    from ..models import Book

    connection = connections[router.db_for_read(Book)]
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        terms = _candidates(cursor, query, postgres)
        matches, suggestions = _matches(query, terms)
        by_word: list[set[int]] = [set() for _ in query]
        for term_id, found in matches.items():
            for match in found:
                by_word[match.word].add(term_id)
        ranked: list[int] = []
        facts: dict[int, Facts] = {}
        if all(by_word):
            rarest = min(by_word, key=lambda ids: sum(terms[i][2] for i in ids))
            rows = _postings(cursor, terms, set(matches), rarest, include_inactive, postgres, every=by_word)
            ranked, facts = _rank(query, rows, matches, need=len(query))
        if not ranked and len(query) > 1 and by_word[0]:
            rows = _postings(cursor, terms, set(matches), by_word[0], include_inactive, postgres)
            ranked, facts = _rank(query, rows, matches, need=1)
    suggestion = None
    if not ranked:
        corrected = [suggestions.get(index, word) for index, word in enumerate(query)]
        suggestion = " ".join(corrected) if corrected != query else None
    return SearchResult(ids=ranked, suggestion=suggestion, facts=facts)


def _candidates(cursor: Any, query: list[str], postgres: bool) -> dict[int, tuple[str, int, int]]:
    """Statement 1: term id → (text, kind, books) of every term that may match a query word."""
    texts = set(query) | {stem for word in query for stem in stems(word)}
    # A suggestion may be one typo beyond the budget (at most two): "dume" suggests "dune".
    keys = {
        key(variant)
        for word in query
        if len(word) >= 4 and not word.isdigit()
        for variant in deletes(word, min(2, typo_budget(word) + 1))
    }
    in_texts, text_params = _placeholders(sorted(texts), postgres)
    # Placeholders only are formatted into these statements: S608 is moot.
    sql = f"SELECT id, text, kind, books FROM catalog_searchterm WHERE text {in_texts}"  # noqa: S608
    params = text_params
    if keys:
        in_keys, key_params = _placeholders(sorted(keys), postgres)
        sql += (
            " UNION ALL SELECT id, text, kind, books FROM catalog_searchterm WHERE id IN "  # noqa: S608
            f"(SELECT term_id FROM catalog_searchdelete WHERE key {in_keys})"
        )
        params += key_params
    last = query[-1]
    if len(last) >= 2 or len(query) > 1:
        sql += (
            " UNION ALL SELECT * FROM (SELECT id, text, kind, books FROM catalog_searchterm "
            "WHERE kind = %s AND text > %s AND text < %s ORDER BY books DESC LIMIT %s) AS prefixed"
        )
        params += [WORD, last, _next_prefix(last), PREFIX_TERMS]
    cursor.execute(sql, params)
    return {term_id: (term_text, kind, books) for term_id, term_text, kind, books in cursor.fetchall()}


def _matches(
    query: list[str], terms: dict[int, tuple[str, int, int]]
) -> tuple[dict[int, list[_Match]], dict[int, str]]:
    """Which query words each candidate term matches, and how; the correction of each word not
    found as typed (the closest term, then the commonest)."""
    matches: dict[int, list[_Match]] = {}
    query_stems = [stems(word) for word in query]
    exact_words: set[int] = set()
    # word → (distance, -books, text): the closest term within the budget, else beyond it.
    within: dict[int, tuple[int, int, str]] = {}
    nearest: dict[int, tuple[int, int, str]] = {}
    for term_id, (text, kind, books) in terms.items():
        for index, word in enumerate(query):
            match = None
            if kind == WORD and text == word:
                match = _Match(index, 0, EXACT)
            elif text in query_stems[index] or (kind == STEM and text == word):
                match = _Match(index, 0, STEMMED)
            elif kind == WORD and index == len(query) - 1 and text.startswith(word):
                match = _Match(index, 0, PREFIX)
            elif kind == WORD and not word.isdigit() and len(word) >= 4:
                budget = typo_budget(word)
                distance = OSA.distance(word, text, score_cutoff=min(2, budget + 1))
                candidate = (distance, -books, text)
                if distance <= budget:
                    match = _Match(index, distance, EXACT)
                    within[index] = min(within.get(index, candidate), candidate)
                elif distance <= min(2, budget + 1):
                    nearest[index] = min(nearest.get(index, candidate), candidate)
            if match is not None:
                matches.setdefault(term_id, []).append(match)
                if match.typos == 0:
                    exact_words.add(index)
    # A word found as typed (or as a stem or a prefix) stays; another becomes its closest term.
    suggestions = {
        index: (within.get(index) or nearest[index])[2]
        for index in within.keys() | nearest.keys()
        if index not in exact_words
    }
    return matches, suggestions


# The book's columns of a posting read (``Row``), after the posting's own.
# The price band is its key (``facets.PRICE_BANDS``; no price: the last one).
_BOOK_COLUMNS = f"b.rating_count, b.stock, b.format, b.language, {price_band_sql('b.price')}"

# Read the candidates' postings by term when they are at most this many times the required
# word's: one pass over the key, then the books; else book by book, from the required word.
BY_TERM_RATIO = 8


def _postings(
    cursor: Any,
    terms: dict[int, tuple[str, int, int]],
    term_ids: set[int],
    required: set[int],
    include_inactive: bool,
    postgres: bool,
    *,
    every: list[set[int]] | None = None,
) -> list[Row]:
    """Statement 2 (or 3): the postings of the candidate terms (``Row``), in the books that
    have one of the ``required`` terms and, given ``every`` (each query word's terms), one term
    of each word. Two shapes of one statement,
    chosen by the terms' counts: the planner cannot tell them apart.

    The books lacking a word are left out here, not by the ranking: for two common words the
    rarest one's books are thousands, most without the other word, and each of their postings
    was a book probed, a row sent and a row ranked for nothing (``bizarre adventure`` at 100,000
    books: 10,000 rows for 900 books found)."""
    in_terms, term_params = _placeholders(sorted(term_ids), postgres)
    in_required, required_params = _placeholders(sorted(required), postgres)
    active = "" if include_inactive else " AND b.is_active"
    # On PostgreSQL the book's columns come from a lateral probe of its key (where_active is
    # then in the probe); elsewhere from a join.
    where_active = "" if postgres else active
    everything = sum(terms[term_id][2] for term_id in term_ids)
    # The other words' term sets, each a book must have one of (the rarest is ``required``).
    others: list[set[int]] = []
    for ids in every or []:
        if ids != required and ids not in others:  # a word typed twice is one condition
            others.append(ids)
    if required >= term_ids:
        # One word: no book to intersect, the rows stream up to the limit (a very common word).
        sql = (
            f"SELECT p.book_id, p.term_id, p.field, p.length, {_BOOK_COLUMNS} "  # noqa: S608
            f"FROM catalog_searchposting p {_book_join('p', active, postgres)} "
            f"WHERE p.term_id {in_terms}{where_active} LIMIT %s"
        )
        required_params = []
        other_params: list[Any] = []
    elif everything <= BY_TERM_RATIO * max(1, sum(terms[term_id][2] for term_id in required)):
        # Every candidate's postings read once; a book kept when it has a term of each word.
        having, other_params = _every_word("term_id", [required, *others], postgres)
        sql = (
            "WITH c AS MATERIALIZED (SELECT book_id, term_id, field, length "  # noqa: S608
            f"FROM catalog_searchposting WHERE term_id {in_terms}) "
            f"SELECT c.book_id, c.term_id, c.field, c.length, {_BOOK_COLUMNS} "
            "FROM c JOIN catalog_book b ON b.id = c.book_id "
            f"WHERE c.book_id IN (SELECT book_id FROM c GROUP BY book_id HAVING {having}){active} LIMIT %s"
        )
        required_params = []
    else:
        # The required word's books, each probed by its key for a term of each other word.
        probes, other_params = [], []
        for ids in others:
            in_other, params = _placeholders(sorted(ids), postgres)
            probes.append(
                " AND EXISTS (SELECT 1 FROM catalog_searchposting o "  # noqa: S608
                f"WHERE o.book_id = r.book_id AND o.term_id {in_other})"
            )
            other_params += params
        sql = (
            f"SELECT p.book_id, p.term_id, p.field, p.length, {_BOOK_COLUMNS} "  # noqa: S608
            f"FROM catalog_searchposting p {_book_join('p', active, postgres)} "
            f"WHERE p.term_id {in_terms}{where_active} AND p.book_id IN "
            f"(SELECT r.book_id FROM catalog_searchposting r WHERE r.term_id {in_required}"
            f"{''.join(probes)}) LIMIT %s"
        )
    cursor.execute(sql, [*term_params, *required_params, *other_params, MAX_POSTINGS])
    return cursor.fetchall()


def _every_word(column: str, groups: list[set[int]], postgres: bool) -> tuple[str, list[Any]]:
    """A ``HAVING`` condition: the group's rows have a ``column`` in each of ``groups``."""
    conditions, params = [], []
    for ids in groups:
        in_ids, ids_params = _placeholders(sorted(ids), postgres)
        conditions.append(f"MAX(CASE WHEN {column} {in_ids} THEN 1 ELSE 0 END) = 1")
        params += ids_params
    return " AND ".join(conditions), params


def _book_join(postings: str, active: str, postgres: bool) -> str:
    """The join of the postings ``postings`` to their books (rating count, stock).

    On PostgreSQL a lateral subquery that cannot be flattened (``OFFSET 0``): a probe of the
    books' key per posting read. As a plain join the planner hashed the whole book table
    (a parallel sequential scan of every book: 33 ms of a one-word search at 100,000 books,
    growing with the catalogue), while the postings read are at most ``MAX_POSTINGS``: the
    probes cost what the search reads, whatever the catalogue's size (12 ms there). SQLite
    has no LATERAL and joins by probing the key anyway."""
    if postgres:
        where = active.replace(" AND b.", " AND ")
        return (
            "CROSS JOIN LATERAL (SELECT rating_count, stock, format, language, price FROM catalog_book "  # noqa: S608 (names only)
            f"WHERE id = {postings}.book_id{where} OFFSET 0) b"
        )
    return f"JOIN catalog_book b ON b.id = {postings}.book_id"


def _rank(
    query: list[str],
    rows: list[Row],
    matches: dict[int, list[_Match]],
    *,
    need: int,
) -> tuple[list[int], dict[int, Facts]]:
    """The books of ``rows`` that have at least the ``need`` first words, best first (at most
    ``MAX_HITS``), and their facts."""
    best: dict[int, list[tuple[int, int, int] | None]] = {}
    in_title: dict[int, set[int]] = {}  # book → query words found as typed in its title
    title_length: dict[int, int] = {}
    first: dict[int, Row] = {}  # book → its first row: its rating count, stock and facts
    empty: list[tuple[int, int, int] | None] = [None] * len(query)
    for row in rows:
        book_id, term_id, field_, length = row[:4]
        per_word = best.get(book_id)
        if per_word is None:
            per_word = best[book_id] = empty.copy()
            first[book_id] = row
        for match in matches.get(term_id, ()):
            if field_ == DESCRIPTION and match.typos:
                continue  # typos are forgiven in titles, subtitles and names, not descriptions
            if field_ == TITLE and match.how == EXACT and not match.typos:
                in_title.setdefault(book_id, set()).add(match.word)
                title_length[book_id] = length
            found = (field_, match.typos, match.how)
            current = per_word[match.word]
            if current is None or found < current:
                per_word[match.word] = found
    distinct = len(set(query))
    keys = []
    words_count = len(query)
    for book_id, per_word in best.items():
        # The leading words found, their worst field, typos and kinds of match, in one pass
        # (this loop runs for every book of the postings read: thousands for a common word).
        leading = worst = typos = how = 0
        for item in per_word:
            if item is None:
                break
            leading += 1
            if item[0] > worst:
                worst = item[0]
            typos += item[1]
            how += item[2]
        if leading < need:
            continue
        # The whole title typed: every word found as typed in a title of as many words.
        whole = len(in_title.get(book_id, ())) == words_count and title_length.get(book_id) == distinct
        row = first[book_id]
        keys.append(
            (-leading, 0 if whole else 1, worst, typos, how, -row[4], 0 if row[5] > 0 else 1, book_id)
        )
    keys.sort()
    ranked = [item[-1] for item in keys[:MAX_HITS]]
    return ranked, {book_id: first[book_id][6:] for book_id in ranked}
