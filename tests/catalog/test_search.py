"""Search through the API, the same on PostgreSQL and SQLite: typos by word length, prefix,
accents and elisions, stems, ISBN forms, ranking, "did you mean", filters, queries, freshness."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from apps.catalog import selectors, services
from apps.catalog.imports.records import BookRecord
from apps.catalog.imports.writer import books_import_batch
from apps.catalog.isbn import _isbn13_check_digit
from apps.catalog.models import Book, SearchTerm
from apps.catalog.search.text import words

pytestmark = pytest.mark.django_db

BOOKS = "/api/v1/books/"


def isbn(first12: str) -> str:
    return first12 + _isbn13_check_digit(first12)


def found(client, q: str, **params) -> list[str]:
    response = client.get(BOOKS, {"q": q, **params})
    assert response.status_code == 200, response.content
    return [book["title"] for book in response.json()["results"]]


@pytest.fixture
def shelf(catalogue):
    """The five books of ``catalogue`` and some French ones, through the services."""
    camus = services.author_create(name="Albert Camus")
    rowling = services.author_create(name="J. K. Rowling")
    beatrix = services.author_create(name="Beatrix Potter")
    gallimard = services.publisher_create(name="Gallimard")

    def book(isbn12: str, title: str, **data):
        data.setdefault("price", Decimal("9.00"))
        data.setdefault("stock", 2)
        return services.book_create(isbn=isbn(isbn12), title=title, **data)

    return {
        **catalogue,
        "etranger": services.book_create(
            isbn="9782070360024",
            title="L'Étranger",
            authors=[camus],
            publisher=gallimard,
            language="fr",
            price=Decimal("7.50"),
            stock=4,
        ),
        "harry_fr": book(
            "978207054127", "Harry Potter à l'école des sorciers", authors=[rowling], language="fr"
        ),
        "harry_en": book(
            "978074753269", "Harry Potter and the Chamber of Secrets", authors=[rowling], language="en"
        ),
        "rabbit": book("978072324770", "The Tale of Peter Rabbit", authors=[beatrix], language="en"),
        "pottery": book(
            "978000000011",
            "Glazes",
            language="en",
            description="A handbook of pottery for Potter fans and beginners.",
        ),
        "rose": book("978225300613", "Le Roman de la rose", language="fr"),
    }


# --- Typos -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "messiah",  # as typed
        "messoah",  # substitution
        "messsiah",  # insertion
        "mesiah",  # deletion
        "mesisah",  # swap of two adjacent letters: one typo
    ],
)
def test_a_typo_in_a_title_word_of_five_letters_or_more_is_forgiven(api_client, shelf, query):
    assert found(api_client, query) == ["Dune Messiah"]


@pytest.mark.parametrize("query", ["herbert", "hurbert", "herbbert", "herbrt", "hrebert"])
def test_a_typo_in_an_author_name_is_forgiven(api_client, shelf, query):
    assert found(api_client, query) == ["Dune Messiah"]


def test_a_word_under_five_letters_takes_no_typo(api_client, shelf):
    assert found(api_client, "dune") == ["Dune Messiah"]
    assert found(api_client, "dume") == []


def test_two_typos_need_nine_letters(api_client, shelf):
    # "hitchhiker" (10 letters): a deletion and a swap are two typos, forgiven.
    assert found(api_client, "hitchiekr") == ["The Ultimate Hitchhiker's Guide to the Galaxy"]
    # "ultimate" (8 letters) takes one typo, not two.
    assert found(api_client, "ultimaet") == ["The Ultimate Hitchhiker's Guide to the Galaxy"]
    assert found(api_client, "ulitmaet") == []


def test_typos_are_not_forgiven_in_descriptions(api_client, shelf):
    assert found(api_client, "handbook") == ["Glazes"]
    assert found(api_client, "handbok") == []


# --- Prefix, accents, elisions, stems, ISBN ----------------------------------------------------


def test_the_last_word_is_a_prefix(api_client, shelf):
    assert set(found(api_client, "harry pot")) == {
        "Harry Potter and the Chamber of Secrets",
        "Harry Potter à l'école des sorciers",
    }
    assert found(api_client, "dune mess") == ["Dune Messiah"]
    # Only the last word: "pot harry" needs the word "pot".
    assert found(api_client, "pot harry") == []


@pytest.mark.parametrize("query", ["l'etranger", "L\u2019Étranger", "etranger", "ÉTRANGER", "l etranger"])
def test_accents_case_and_elisions_are_ignored(api_client, shelf, query):
    assert found(api_client, query)[0] == "L'Étranger"


def test_hyphens_and_punctuation_split_words():
    assert words("Jean-Paul Sartre: Huis clos (1944)!") == ["jean", "paul", "sartre", "huis", "clos", "1944"]
    assert words("Qu\u2019importe l'Œuvre d'aujourd'hui") == ["importe", "oeuvre", "aujourd", "hui"]


def test_a_plural_finds_the_singular_by_its_stem(api_client, shelf):
    assert found(api_client, "romans") == ["Le Roman de la rose"]
    assert found(api_client, "guides") == ["The Ultimate Hitchhiker's Guide to the Galaxy"]


@pytest.mark.parametrize("query", ["978-2-07-036002-4", "9782070360024", "2070360024", "978 2 07 036002 4"])
def test_an_isbn_in_any_form_finds_that_book(api_client, shelf, query):
    assert found(api_client, query) == ["L'Étranger"]


@pytest.mark.parametrize("key", ["978-2-07-036002-4", "9782070360024", "2070360024", "978 2 07 036002 4"])
def test_the_detail_url_takes_an_isbn_in_any_form(api_client, shelf, key):
    response = api_client.get(f"{BOOKS}{key}/")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "L'Étranger"
    assert selectors.book_cache_scope(key=key) == "book:isbn13:9782070360024"
    assert selectors.book_cache_scope(key=key) in selectors.book_cache_scopes(book=shelf["etranger"])


def test_inactive_books_are_not_found(api_client, shelf):
    assert found(api_client, "chapterhouse") == []


# --- Ranking -----------------------------------------------------------------------------------


def test_the_whole_title_comes_first_then_title_words_then_authors_then_other_fields(api_client, shelf):
    services.book_create(isbn="9780441013593", title="Dune", price=Decimal("9.00"))
    assert found(api_client, "dune") == ["Dune", "Dune Messiah"]
    assert found(api_client, "potter") == [
        "Harry Potter à l'école des sorciers",  # title (equal: the first made first)
        "Harry Potter and the Chamber of Secrets",
        "The Tale of Peter Rabbit",  # author
        "Glazes",  # description
    ]


def test_fewer_typos_come_first(api_client, shelf):
    services.book_create(isbn=isbn("978000000002"), title="Salmin Road", price=Decimal("9.00"))
    assert found(api_client, "salmon") == ["The Salmon of Doubt", "Salmin Road"]
    assert found(api_client, "salmin") == ["Salmin Road", "The Salmon of Doubt"]


def test_an_exact_word_comes_before_a_stem_before_a_prefix(api_client, db):
    for number, title in [
        ("978000000003", "Guidebook"),
        ("978000000004", "Guides"),
        ("978000000005", "Guide"),
    ]:
        services.book_create(isbn=isbn(number), title=f"{title} Extra", price=Decimal("5.00"), language="en")
    assert found(api_client, "guide") == ["Guide Extra", "Guides Extra", "Guidebook Extra"]


def test_ties_go_to_the_most_rated_then_to_books_in_stock(api_client, db):
    first = services.book_create(isbn=isbn("978000000006"), title="Twin", price=Decimal("5.00"), stock=0)
    second = services.book_create(isbn=isbn("978000000007"), title="Twin", price=Decimal("5.00"), stock=3)
    third = services.book_create(isbn=isbn("978000000008"), title="Twin", price=Decimal("5.00"), stock=0)
    Book.objects.filter(pk=third.pk).update(rating_count=12)
    ids = [book["id"] for book in api_client.get(BOOKS, {"q": "twin"}).json()["results"]]
    assert ids == [third.pk, second.pk, first.pk]


def test_no_rating_count_outranks_a_better_match(api_client, db):
    # The ranking sorts by one number made of the relevance, the rating count and the stock:
    # the largest count a PostgreSQL integer holds, out of stock, must stay below the least
    # better match (a word as typed against its stem, all else equal).
    stem = services.book_create(
        isbn=isbn("978000000009"), title="Marvels Told", price=Decimal("5.00"), stock=0, language="en"
    )
    exact = services.book_create(
        isbn=isbn("978000000010"), title="Marvel Told", price=Decimal("5.00"), stock=0, language="en"
    )
    Book.objects.filter(pk=stem.pk).update(rating_count=2**31 - 1)
    ids = [book["id"] for book in api_client.get(BOOKS, {"q": "marvel"}).json()["results"]]
    assert ids == [exact.pk, stem.pk]


def test_books_with_every_word_first_else_the_first_words(api_client, shelf):
    # No book has "zanzibar": the books with the words before it are found.
    assert found(api_client, "dune zanzibar") == ["Dune Messiah"]
    assert found(api_client, "zanzibar dune") == []


# --- Did you mean ------------------------------------------------------------------------------


def test_a_search_that_finds_nothing_suggests_the_catalogue_s_words(api_client, shelf):
    body = api_client.get(BOOKS, {"q": "dume mesiah"}).json()
    assert body["count"] == 0
    assert body["suggestion"] == "dune messiah"
    assert found(api_client, body["suggestion"]) == ["Dune Messiah"]


def test_no_suggestion_when_books_are_found_or_without_a_search(api_client, shelf):
    assert api_client.get(BOOKS, {"q": "mesiah"}).json()["suggestion"] is None
    assert api_client.get(BOOKS, {"q": "qwxzvk"}).json()["suggestion"] is None
    assert "suggestion" not in api_client.get(BOOKS).json()


def test_the_schema_documents_the_suggestion(api_client, db):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    page = schema["components"]["schemas"]["BookPage"]
    assert "Did you mean" in page["properties"]["suggestion"]["description"]


def test_the_storefront_shows_the_suggestion(client, shelf):
    page = client.get("/books/", {"q": "dume"}).content.decode()
    assert 'data-testid="suggestion"' in page
    assert "?q=dune" in page


# --- Filters, facets, orderings ----------------------------------------------------------------


def test_filters_facets_and_orderings_apply_to_the_search(api_client, shelf):
    body = api_client.get(BOOKS, {"q": "harry potter"}).json()
    assert body["count"] == 2
    assert {item["value"]: item["count"] for item in body["facets"]["languages"]} == {"en": 1, "fr": 1}
    assert found(api_client, "harry potter", language="fr") == ["Harry Potter à l'école des sorciers"]
    assert found(api_client, "potter", ordering="title") == [
        "Glazes",
        "Harry Potter and the Chamber of Secrets",
        "Harry Potter à l'école des sorciers",
        "The Tale of Peter Rabbit",
    ]
    assert found(api_client, "adams", ordering="-price") == [
        "The Salmon of Doubt",
        "The Ultimate Hitchhiker's Guide to the Galaxy",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "harry potter"},
        {"q": "potter"},
        {"q": "potter rabbit"},
        {"q": "adams"},
        {"q": "adams", "category": "fiction"},
        {"q": "potter", "language": "en", "ordering": "-price"},
        {"q": "dune"},
        {"q": "978-2-07-036002-4"},
        {"q": "zanzibar"},
    ],
)
def test_a_search_s_facets_counted_from_its_books_are_the_sql_counts(shelf, tree, params):
    # Edge cases of the roll-up and the bands: a book in a category and in its descendant (counted
    # once in each ancestor), a book in no category, a book without a price (the last band).
    services.book_update(book=shelf["hitchhiker"], data={"categories": [tree["sf"], tree["space-opera"]]})
    services.book_update(book=shelf["harry_en"], data={"price": None})
    services.book_set_active(book_ids=[shelf["rabbit"].pk], active=False)  # counted for staff only
    for include_inactive in (False, True):
        books = selectors.book_list(params=params, include_inactive=include_inactive)
        assert selectors.book_facets(books=books, bounded=True) == selectors.book_facets(books=books)


# --- Queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "queries"),
    [
        # The terms, their postings; then the facets, the page (its authors and categories inline).
        ("harry pot", 4),
        ("harry poter rowling", 4),
        # A word no term is near: the postings of the books with the first word.
        ("dune zanzibar", 4),
        # Every word is known but no book has them all: the postings again, for the first word.
        ("dune salmon", 5),
        # An ISBN: no search statement, the list's two.
        ("978-2-07-036002-4", 2),
    ],
)
def test_a_search_runs_a_fixed_number_of_queries(
    api_client, shelf, django_assert_num_queries, query, queries
):
    for _ in range(2):
        cache.clear()
        with django_assert_num_queries(queries):
            assert api_client.get(BOOKS, {"q": query}).json()["count"] > 0


def test_a_search_that_finds_nothing_runs_its_terms_query_and_the_facets(
    api_client, shelf, django_assert_num_queries
):
    cache.clear()
    # The terms; the facets of no book (an always false condition; no page to fetch).
    with django_assert_num_queries(2):
        assert api_client.get(BOOKS, {"q": "dume"}).json()["count"] == 0


# --- Freshness ---------------------------------------------------------------------------------


def test_the_index_follows_a_book_update(api_client, shelf):
    services.book_update(book=shelf["rose"], data={"title": "Les Fleurs du mal"})
    assert found(api_client, "fleurs") == ["Les Fleurs du mal"]
    assert found(api_client, "rose") == []


def test_the_index_follows_an_author_and_a_publisher_rename(api_client, shelf):
    services.author_update(author=shelf["etranger"].book_authors.get().author, name="Albert Kamus")
    assert found(api_client, "kamus") == ["L'Étranger"]
    assert found(api_client, "albert camus") == ["L'Étranger"]  # one typo in "camus" (5 letters)
    services.publisher_update(publisher=shelf["etranger"].publisher, name="Folio")
    assert found(api_client, "folio") == ["L'Étranger"]


def test_the_index_follows_an_import(api_client, shelf):
    books_import_batch(
        records=[
            BookRecord(
                isbn13="9782070584833",
                source="line 2",
                title="Le Petit Prince",
                authors=("Antoine de Saint-Exupéry",),
                language="fr",
                price=Decimal("6.00"),
            ),
            BookRecord(
                isbn13="9782070360024", source="line 3", title="L'Étranger (Folio)", price=Decimal("7.50")
            ),
        ]
    )
    assert found(api_client, "saint exupery") == ["Le Petit Prince"]
    assert found(api_client, "etranger folio") == ["L'Étranger (Folio)"]


def test_counts_follow_writes_and_deletes(shelf):
    term = SearchTerm.objects.get(text="rose", kind=SearchTerm.Kind.WORD)
    assert term.books == 1
    services.book_delete(book=shelf["rose"])
    term.refresh_from_db()
    assert term.books == 0


def test_the_rebuild_command_indexes_every_book(api_client, shelf):
    from django.core.management import call_command

    call_command("search_index_rebuild", verbosity=0)
    assert found(api_client, "etranger") == ["L'Étranger"]


def test_filter_sets_made_at_once_keep_their_own_search_and_filters(shelf):
    # The filters are copied shallow for each filter set (``selectors._CopiedShallow``): each
    # copy's method filter reaches its own filter set, never another's nor the class's.
    first = selectors.BookFilter({"q": "etranger"}, queryset=selectors.book_queryset())
    second = selectors.BookFilter({"q": "rabit", "language": "en"}, queryset=selectors.book_queryset())
    assert first.is_valid()
    assert second.is_valid()
    assert [book.title for book in first.qs] == ["L'Étranger"]
    assert [book.title for book in second.qs] == ["The Tale of Peter Rabbit"]
    assert first.search_result is not second.search_result
    assert first.filters["q"].parent is first
    assert second.filters["q"].parent is second
    assert all(not hasattr(f, "parent") for f in selectors.BookFilter.base_filters.values())
