"""Answering a search from the word index, in a fixed number of statements.

1. The candidate terms of the query's words, in one statement: the words and their French and
   English stems by text, the words' typo keys (symmetric deletes), and the last word as a
   prefix (its 30 commonest completions). Each candidate's distance is checked here against the
   word's typo budget (OSA: a swap of two adjacent letters is one typo).
2. The postings of those terms, for the books that have the rarest word: the books that have
   every word, grouped and ranked in the database, the best ``MAX_HITS`` sent back. When none
   has them all, one more statement takes the books that have the first word, and ranks them by
   how many of the words, from the first, they have (Meilisearch's "last" matching strategy).

So a search is two statements, three when no book has every word; an ISBN is none (the book
list's query looks it up). At most ``MAX_HITS`` books are kept, as Meilisearch's
``maxTotalHits``.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from rapidfuzz.distance import OSA

from bookstore.db import prepared_cursor

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


@dataclass(frozen=True)
class SearchResult:
    """The books a search found, best first (``ids``), or the ISBN it names; ``suggestion`` is
    a corrected query made of the catalogue's words when the words found nothing. ``facts``:
    the format, language and price band of each book of ``ids``, read with its ranking, so that
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

    alias = router.db_for_read(Book)
    connection = connections[alias]
    postgres = connection.vendor == "postgresql"
    # The candidates' statement has a few texts only (its words are array values): PostgreSQL
    # prepares it (``bookstore.db.prepared_cursor``). The ranking's text changes with the
    # query's terms, and its plan with their counts: it is planned each time.
    with prepared_cursor(alias) as cursor:
        terms = _candidates(cursor, query, postgres)
    with connection.cursor() as cursor:
        matches, suggestions = _matches(query, terms)
        by_word: list[set[int]] = [set() for _ in query]
        for term_id, found in matches.items():
            for match in found:
                by_word[match.word].add(term_id)
        ranked: list[int] = []
        facts: dict[int, Facts] = {}
        if all(by_word):
            rarest = min(by_word, key=lambda ids: sum(terms[i][2] for i in ids))
            ranked, facts = _ranked(
                cursor, query, terms, matches, rarest, include_inactive, postgres, every=by_word
            )
        if not ranked and len(query) > 1 and by_word[0]:
            ranked, facts = _ranked(cursor, query, terms, matches, by_word[0], include_inactive, postgres)
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


# Read the candidates' postings by term when they are at most this many times the required
# word's: one pass over the key, then the books; else book by book, from the required word.
BY_TERM_RATIO = 8


def _ranked(
    cursor: Any,
    query: list[str],
    terms: dict[int, tuple[str, int, int]],
    matches: dict[int, list[_Match]],
    required: set[int],
    include_inactive: bool,
    postgres: bool,
    *,
    every: list[set[int]] | None = None,
) -> tuple[list[int], dict[int, Facts]]:
    """Statement 2 (or 3): the books that have one of the ``required`` terms and, given
    ``every`` (each query word's terms), one term of each word, else at least the first word,
    ranked in the database (at most ``MAX_HITS``, best first), and their facts.

    The postings are grouped per book and ranked where they are, so only the page of hits
    comes back: for a common word, 10,000 postings were sent and ranked in Python for 1,000
    books kept, and each posting read probed its book (``hitchhiker adams`` at 100,000 books:
    6,871 rows sent for 1,794 books, 29 ms; ``_relevance`` says how they are ranked)."""
    values, match_params = [], []
    for term_id, found in matches.items():
        for match in found:
            values.append("(%s, %s, %s, %s)")
            match_params += [term_id, match.word, match.typos, match.how]
    postings, postings_params = _postings(terms, set(matches), required, postgres, every=every)
    # The leading words of a book: those before its first missing word (every word, when each
    # is required). Typos are forgiven in titles, subtitles and names, not in descriptions.
    # ``best``: a word's best (field, typos, kind of match) in a book, as one number that
    # compares as the triple (each below 10); ``title``: the title's length if it has the word.
    # One word: ``w`` has a row per book already, ranked as it is (a second grouping of 2,093
    # books was 1.5 ms of ``rowling``'s 15 at 100,000 books).
    relevance = f"SELECT book_id, {_relevance(query, one_row=len(query) == 1)} AS relevance FROM"
    if len(query) == 1:
        ranked = f"{relevance} w"
    elif every:
        ranked = f"{relevance} w GROUP BY book_id HAVING COUNT(*) = {len(query)}"
    else:
        ranked = (
            f"{relevance} (SELECT w.*, SUM(1 << word) OVER (PARTITION BY book_id) AS mask FROM w) AS w "  # noqa: S608
            "WHERE mask & ((2 << word) - 1) = (2 << word) - 1 GROUP BY book_id"
        )
    active = "" if include_inactive else " AND b.is_active"
    sql = (
        f"WITH m (term_id, word, typos, how) AS (VALUES {', '.join(values)}), "  # noqa: S608
        f"p AS MATERIALIZED ({postings} LIMIT %s), "
        "w AS (SELECT p.book_id, m.word, MIN(p.field * 100 + m.typos * 10 + m.how) AS best, "
        f"MAX(CASE WHEN p.field = {TITLE} AND m.typos = 0 AND m.how = {EXACT} "
        "THEN p.length ELSE -1 END) AS title "
        f"FROM p JOIN m ON m.term_id = p.term_id WHERE p.field <> {DESCRIPTION} OR m.typos = 0 "
        "GROUP BY p.book_id, m.word), "
        f"k AS ({ranked}) "
        f"SELECT k.book_id, b.format, b.language, {price_band_sql('b.price')} "
        f"FROM k {_book_join('k', active, postgres)} "
        f"ORDER BY {_ORDER} LIMIT %s"
    )
    cursor.execute(sql, [*match_params, *postings_params, MAX_POSTINGS, MAX_HITS])
    rows = cursor.fetchall()
    return [row[0] for row in rows], {row[0]: row[1:] for row in rows}


def _relevance(query: list[str], *, one_row: bool = False) -> str:
    """A grouped book's relevance, one integer, the lowest first: the most leading words found;
    the whole title typed (every word found as typed in a title of as many words); the worst
    field of those words, their typos, their kinds of match (an exact word, a stem, a prefix).
    Each in bits of its own (at most ``MAX_WORDS`` words of two typos and kinds each: 5 bits
    for their sums), so that the sort compares one column before the books' own.

    ``one_row``: the same number from a book's one row of ``w`` (a query of one word), with no
    second grouping: the aggregates over its words are that row's own values."""
    if one_row:
        count, in_title, longest = "1", "CASE WHEN title >= 0 THEN 1 ELSE 0 END", "title"
        field, typos, how = "best / 100", "best / 10 %% 10", "best %% 10"
    else:
        count, in_title, longest = "COUNT(*)", "SUM(CASE WHEN title >= 0 THEN 1 ELSE 0 END)", "MAX(title)"
        field, typos, how = "MAX(best / 100)", "SUM(best / 10 %% 10)", "SUM(best %% 10)"
    whole = f"CASE WHEN {in_title} = {len(query)} AND {longest} = {len(set(query))} THEN 0 ELSE 1 END"
    return f"(((({MAX_WORDS} - {count}) * 2 + {whole}) * 8 + {field}) * 32 + {typos}) * 32 + {how}"


# Ties of relevance: the most rated, then in stock, then the oldest. The first three as one
# number, sorted as the triple: a sort on four keys, a CASE among them, compared each pair of
# books key by key (``rowling`` at 100,000 books: 2,093 books sorted for the best 1,000, 18 ms
# against 14). Each relevance has 2^32 numbers of its own: twice the rating count (a
# PostgreSQL ``integer``, below 2^31) taken from it, and one more when out of stock.
_ORDER = (
    "(k.relevance * 4294967296 - 2 * CAST(b.rating_count AS BIGINT) "
    "+ CASE WHEN b.stock > 0 THEN 0 ELSE 1 END), k.book_id"
)


def _postings(
    terms: dict[int, tuple[str, int, int]],
    term_ids: set[int],
    required: set[int],
    postgres: bool,
    *,
    every: list[set[int]] | None = None,
) -> tuple[str, list[Any]]:
    """The postings of the candidate terms in the books that have one of the ``required`` terms
    and, given ``every`` (each query word's terms), one term of each word, as a statement and
    its parameters. Two shapes of one statement, chosen by the terms' counts: the planner
    cannot tell them apart.

    The books lacking a word are left out here, not by the ranking: for two common words the
    rarest one's books are thousands, most without the other word, and each of their postings
    was a book probed, a row sent and a row ranked for nothing (``bizarre adventure`` at 100,000
    books: 10,000 rows for 900 books found)."""
    in_terms, term_params = _placeholders(sorted(term_ids), postgres)
    columns = "SELECT book_id, term_id, field, length FROM catalog_searchposting"
    everything = sum(terms[term_id][2] for term_id in term_ids)
    # The other words' term sets, each a book must have one of (the rarest is ``required``).
    others: list[set[int]] = []
    for ids in every or []:
        if ids != required and ids not in others:  # a word typed twice is one condition
            others.append(ids)
    if required >= term_ids:
        # One word: no book to intersect, the rows stream up to the limit (a very common word).
        return f"{columns} WHERE term_id {in_terms}", term_params
    if everything <= BY_TERM_RATIO * max(1, sum(terms[term_id][2] for term_id in required)):
        # Every candidate's postings read once; a book kept when it has a term of each word.
        having, other_params = _every_word("term_id", [required, *others], postgres)
        sql = (
            f"WITH c AS MATERIALIZED ({columns} WHERE term_id {in_terms}) "  # noqa: S608
            f"SELECT * FROM c WHERE book_id IN (SELECT book_id FROM c GROUP BY book_id HAVING {having})"
        )
        return sql, [*term_params, *other_params]
    # The required word's books, each probed by its key for a term of each other word.
    in_required, required_params = _placeholders(sorted(required), postgres)
    probes, other_params = [], []
    for ids in others:
        in_other, params = _placeholders(sorted(ids), postgres)
        probes.append(
            " AND EXISTS (SELECT 1 FROM catalog_searchposting o "  # noqa: S608
            f"WHERE o.book_id = r.book_id AND o.term_id {in_other})"
        )
        other_params += params
    sql = (
        f"{columns} WHERE term_id {in_terms} AND book_id IN "  # noqa: S608
        f"(SELECT r.book_id FROM catalog_searchposting r WHERE r.term_id {in_required}{''.join(probes)})"
    )
    return sql, [*term_params, *required_params, *other_params]


def _every_word(column: str, groups: list[set[int]], postgres: bool) -> tuple[str, list[Any]]:
    """A ``HAVING`` condition: the group's rows have a ``column`` in each of ``groups``."""
    conditions, params = [], []
    for ids in groups:
        in_ids, ids_params = _placeholders(sorted(ids), postgres)
        conditions.append(f"MAX(CASE WHEN {column} {in_ids} THEN 1 ELSE 0 END) = 1")
        params += ids_params
    return " AND ".join(conditions), params


def _book_join(grouped: str, active: str, postgres: bool) -> str:
    """The join of the ranked books ``grouped`` to their rows (rating count, stock, facts).

    On PostgreSQL a lateral subquery that cannot be flattened (``OFFSET 0``): a probe of the
    books' key per book found. As a plain join the planner hashed the whole book table
    (a parallel sequential scan of every book: 33 ms of a one-word search at 100,000 books,
    growing with the catalogue), while the books found are at most ``MAX_POSTINGS``: the
    probes cost what the search reads, whatever the catalogue's size. SQLite has no LATERAL
    and joins by probing the key anyway."""
    if postgres:
        where = active.replace(" AND b.", " AND ")
        return (
            "CROSS JOIN LATERAL (SELECT rating_count, stock, format, language, price FROM catalog_book "  # noqa: S608 (names only)
            f"WHERE id = {grouped}.book_id{where} OFFSET 0) b"
        )
    return f"JOIN catalog_book b ON b.id = {grouped}.book_id{active}"
