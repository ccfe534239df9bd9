"""Catalogue reads come from Redis (for everyone but staff) until a catalogue write commits."""

import pytest

from apps.catalog import services
from apps.catalog.models import Book
from apps.categories.services import category_update
from tests.factories import UserFactory
from tests.services import requires_redis

pytestmark = [pytest.mark.django_db, requires_redis]

BOOKS = "/api/v1/books/"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/books/?category=fiction&ordering=price",
        "/api/v1/books/9780441172696/",
        "/api/v1/categories/",
        "/api/v1/categories/sf/",
        "/api/v1/authors/",
    ],
)
def test_second_anonymous_read_runs_no_sql(api_client, catalogue, django_assert_num_queries, url):
    first = api_client.get(url)
    assert first.status_code == 200
    assert first["X-Cache"] == "MISS"
    with django_assert_num_queries(0):
        second = api_client.get(url)
    assert second["X-Cache"] == "HIT"
    assert second.json() == first.json()


def test_query_string_is_part_of_the_key(api_client, catalogue):
    api_client.get(BOOKS, {"ordering": "price"})
    assert api_client.get(BOOKS, {"ordering": "-price"})["X-Cache"] == "MISS"
    assert api_client.get(BOOKS, {"ordering": "price"})["X-Cache"] == "HIT"


def test_a_price_change_is_never_served_stale(
    api_client, staff_client, catalogue, django_capture_on_commit_callbacks
):
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    list_url = f"{BOOKS}?ordering=price"
    assert api_client.get(url).json()["price"] == "9.99"
    assert api_client.get(list_url).json()["results"][0]["price"] == "9.99"
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.patch(url, {"price": "14.00"}, format="json").status_code == 200
    detail = api_client.get(url)
    assert detail["X-Cache"] == "MISS"
    assert detail.json()["price"] == "14.00"
    assert [b["price"] for b in api_client.get(list_url).json()["results"]] == [
        "12.00",
        "14.00",
        "24.50",
        "55.00",
    ]


@pytest.mark.parametrize(
    "write",
    [
        lambda books: services.stock_reserve(quantities={books["dune"].pk: 3}),
        lambda books: services.book_set_active(book_ids=[books["dune"].pk], active=False),
        lambda books: services.author_update(
            author=books["dune"].book_authors.get().author, name="F. Herbert"
        ),
        lambda books: services.publisher_update(publisher=books["dune"].publisher, name="Ace"),
    ],
)
def test_every_catalogue_write_invalidates(api_client, catalogue, django_capture_on_commit_callbacks, write):
    url = f"{BOOKS}?category=sf"
    before = api_client.get(url).json()
    with django_capture_on_commit_callbacks(execute=True):
        write(catalogue)
    response = api_client.get(url)
    assert response["X-Cache"] == "MISS"
    assert response.json() != before


def test_a_category_move_invalidates_the_tree(api_client, tree, django_capture_on_commit_callbacks):
    api_client.get("/api/v1/categories/")
    with django_capture_on_commit_callbacks(execute=True):
        category_update(category=tree["crime"], parent=tree["non-fiction"])
    roots = api_client.get("/api/v1/categories/").json()
    non_fiction = next(node for node in roots if node["slug"] == "non-fiction")
    assert [child["slug"] for child in non_fiction["children"]] == ["crime"]


def test_signed_in_reads_come_from_the_same_entries(api_client, user_client, catalogue):
    # Who may see more (staff, inactive books included) is in test_cache_stock.py.
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    assert api_client.get(url)["X-Cache"] == "MISS"
    assert user_client.get(url)["X-Cache"] == "HIT"


@pytest.fixture
def admin_site_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_bulk_deactivate_invalidates(
    admin_site_client, api_client, catalogue, django_capture_on_commit_callbacks
):
    book = catalogue["dune"]
    url = f"{BOOKS}{book.isbn13}/"
    assert api_client.get(url).json()["stock"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_site_client.post(
            "/admin/catalog/book/",
            {"action": "deactivate_books", "_selected_action": [book.pk]},
        )
    assert response.status_code == 302
    assert api_client.get(url).status_code == 404
    assert Book.objects.get(pk=book.pk).is_active is False
    assert book.title not in [b["title"] for b in api_client.get(BOOKS).json()["results"]]
