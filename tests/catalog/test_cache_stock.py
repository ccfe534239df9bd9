"""What a stock move retires from the cache, and what it leaves: a checkout retires only what
shows the books it bought (their details, the list pages and cart summaries holding them), a
stock figure shown is never older than the last committed change, and signed-in readers share
the anonymous readers' entries without ever seeing another customer's data."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.cart.selectors import cart_summary_for_user
from apps.catalog import services
from apps.orders.services import order_place
from bookstore.cache import books_changed, cached_books
from tests.factories import AddressFactory, CartFactory, CartLineFactory, UserFactory
from tests.services import requires_redis

pytestmark = [pytest.mark.django_db, requires_redis]

BOOKS = "/api/v1/books/"


def detail(book) -> str:
    return f"{BOOKS}{book.isbn13}/"


def fill_cart(customer, *lines) -> None:
    cart = CartFactory(user=customer)
    for book, quantity in lines:
        CartLineFactory(cart=cart, book=book, quantity=quantity, price_when_added=book.price)


def checkout(book, quantity: int, capture) -> None:
    """A customer buys ``quantity`` copies of ``book`` through the checkout, committed."""
    customer = UserFactory()
    fill_cart(customer, (book, quantity))
    with capture(execute=True):
        order_place(
            user=customer, shipping_address=AddressFactory(user=customer).pk, payment_provider="dummy"
        )


@pytest.fixture
def jwt_client(user, password) -> APIClient:
    """A customer signed in as a client is: with the token the API hands out."""
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"email": user.email, "password": password}).json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_checkout_leaves_the_other_books_cached(api_client, catalogue, django_capture_on_commit_callbacks):
    dune, cronica = catalogue["dune"], catalogue["cronica"]
    crime = f"{BOOKS}?category=crime"
    space_opera = f"{BOOKS}?category=space-opera"
    for url in (detail(dune), detail(cronica), crime, space_opera):
        assert api_client.get(url)["X-Cache"] == "MISS"

    checkout(dune, 2, django_capture_on_commit_callbacks)

    # What shows Dune is built again, with its stock as the checkout left it...
    fresh = api_client.get(detail(dune))
    assert (fresh["X-Cache"], fresh.json()["stock"]) == ("MISS", 1)
    listed = api_client.get(space_opera)
    assert listed["X-Cache"] == "MISS"
    assert [b["stock"] for b in listed.json()["results"]] == [1]
    # ...and what does not show it stays cached.
    assert api_client.get(detail(cronica))["X-Cache"] == "HIT"
    assert api_client.get(crime)["X-Cache"] == "HIT"


def test_a_stock_move_never_shows_an_older_figure(api_client, catalogue, django_capture_on_commit_callbacks):
    dune = catalogue["dune"]
    assert api_client.get(detail(dune)).json()["stock"] == 3
    for expected, move in ((1, services.stock_reserve), (3, services.stock_release)):
        with django_capture_on_commit_callbacks(execute=True):
            move(quantities={dune.pk: 2})
        assert api_client.get(detail(dune)).json()["stock"] == expected
        listed = {b["id"]: b["stock"] for b in api_client.get(BOOKS).json()["results"]}
        assert listed[dune.pk] == expected


def test_a_list_filtered_by_stock_follows_a_book_running_out(
    api_client, catalogue, django_capture_on_commit_callbacks
):
    # Page 2 of the books in stock does not show Dune (page 1 does), yet moves when Dune runs out.
    url = f"{BOOKS}?in_stock=true&page_size=1&page=2&ordering=price"
    before = api_client.get(url).json()
    assert before["count"] == 3
    checkout(catalogue["dune"], 3, django_capture_on_commit_callbacks)
    after = api_client.get(url)
    assert after["X-Cache"] == "MISS"
    assert after.json()["count"] == 2
    assert after.json()["results"] != before["results"]


def test_an_entry_built_while_its_book_changed_is_not_kept(catalogue, django_capture_on_commit_callbacks):
    dune = catalogue["dune"]

    def build_during_a_checkout():
        # The rows were read; a checkout of the same book commits before the entry is stored.
        with django_capture_on_commit_callbacks(execute=True):
            books_changed(book_ids=[dune.pk])
        return "stock as read before the checkout", [dune.pk]

    assert cached_books("test:race", build_during_a_checkout).hit is False
    assert cached_books("test:race", lambda: ("fresh", [dune.pk])).value == "fresh"


def test_a_checkout_retires_only_the_carts_holding_its_books(catalogue, django_capture_on_commit_callbacks):
    dune, cronica = catalogue["dune"], catalogue["cronica"]
    holding, other = UserFactory(), UserFactory()
    fill_cart(holding, (dune, 1))
    fill_cart(other, (cronica, 1))
    assert cart_summary_for_user(user=holding).lines[0].available == 3
    cart_summary_for_user(user=other)

    checkout(dune, 2, django_capture_on_commit_callbacks)

    assert cart_summary_for_user(user=holding).lines[0].available == 1
    keys_before = set(cache.keys("cart:summary:*"))
    # The other cart is read from the cache, as it was.
    with CaptureQueriesContext(connection) as queries:
        assert cart_summary_for_user(user=other).lines[0].available == 7
    assert len(queries) == 0
    assert set(cache.keys("cart:summary:*")) == keys_before


@pytest.mark.parametrize("signed_in", ["jwt", "session"])
def test_signed_in_readers_share_the_anonymous_entries(
    api_client, jwt_client, user, catalogue, django_assert_num_queries, signed_in
):
    url = f"{BOOKS}?category=fiction"
    first = api_client.get(url)
    assert first["X-Cache"] == "MISS"
    if signed_in == "jwt":
        # The token says it is not staff's: its customer is not loaded (bookstore/api/authentication.py).
        client, queries = jwt_client, 0
    else:
        client = APIClient()
        client.force_login(user)
        queries = 1  # the customer (the session is read from the cache)
    with django_assert_num_queries(queries):
        second = client.get(url)
    assert second["X-Cache"] == "HIT"
    assert second.content == first.content


def test_staff_never_read_or_fill_the_shared_entries(
    api_client, staff_client, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[catalogue["salmon"].pk], active=False)
    staff_titles = [b["title"] for b in staff_client.get(BOOKS).json()["results"]]
    assert "The Salmon of Doubt" in staff_titles
    public = api_client.get(BOOKS)
    assert public["X-Cache"] == "MISS"
    assert "The Salmon of Doubt" not in [b["title"] for b in public.json()["results"]]
    staff_again = staff_client.get(BOOKS)
    assert "X-Cache" not in staff_again
    assert [b["title"] for b in staff_again.json()["results"]] == staff_titles


def test_a_signed_in_reader_sees_a_price_change_at_once(
    jwt_client, staff_client, catalogue, django_capture_on_commit_callbacks
):
    dune = catalogue["dune"]
    assert jwt_client.get(detail(dune)).json()["price"] == "9.99"
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.patch(detail(dune), {"price": "14.00"}, format="json")
    assert jwt_client.get(detail(dune)).json()["price"] == "14.00"
    assert Decimal(jwt_client.get(f"{BOOKS}?category=space-opera").json()["results"][0]["price"]) == Decimal(
        "14.00"
    )


def test_the_cart_of_one_customer_is_never_anothers(catalogue):
    first, second = UserFactory(), UserFactory()
    fill_cart(first, (catalogue["dune"], 1))
    fill_cart(second, (catalogue["cronica"], 2))
    for _ in range(2):  # built, then from the cache
        assert [line.book.id for line in cart_summary_for_user(user=first).lines] == [catalogue["dune"].pk]
        assert [line.quantity for line in cart_summary_for_user(user=second).lines] == [2]


def test_facets_are_counted_once_per_filter_set(api_client, catalogue, django_assert_num_queries):
    first = api_client.get(f"{BOOKS}?category=fiction&ordering=price&page_size=1")
    assert first.json()["count"] == 3
    # Another page and ordering of the same filtered list: a new entry, but the same counts.
    with django_assert_num_queries(1):  # the page of books (their authors and categories inline)
        second = api_client.get(f"{BOOKS}?category=fiction&ordering=-price&page_size=1&page=2")
    assert second["X-Cache"] == "MISS"
    assert second.json()["facets"] == first.json()["facets"]
    assert second.json()["count"] == 3


def test_cached_facets_name_formats_in_each_readers_language(api_client, catalogue):
    # One count for both languages (the facets' entry holds no language), each label in the
    # reader's own.
    def labels(language):
        page = api_client.get(f"{BOOKS}?page_size=1&l={language}", HTTP_ACCEPT_LANGUAGE=language).json()
        return {entry["value"]: entry["label"] for entry in page["facets"]["formats"]}

    assert labels("fr")["paperback"] == "Broché"
    assert labels("en")["paperback"] == "Paperback"
    assert labels("fr")["paperback"] == "Broché"


def test_facets_follow_a_catalogue_write(
    api_client, staff_client, catalogue, django_capture_on_commit_callbacks
):
    def bands(url):
        return {band["key"]: band["count"] for band in api_client.get(url).json()["facets"]["price_bands"]}

    assert bands(BOOKS)["0-10"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.patch(detail(catalogue["dune"]), {"price": "14.00"}, format="json")
    assert "0-10" not in bands(f"{BOOKS}?page_size=2")


def test_facets_of_a_list_filtered_by_stock_follow_a_book_selling_out(
    api_client, catalogue, django_capture_on_commit_callbacks
):
    # Counts kept under the availability's generation too: the last copy sold retires them,
    # while another filter set's counts stay.
    book = catalogue["dune"]
    book.stock = 1
    book.save()

    def total(url):
        return api_client.get(url).json()["count"]

    in_stock, everything = total(f"{BOOKS}?in_stock=true"), total(BOOKS)
    checkout(book, 1, django_capture_on_commit_callbacks)
    assert total(f"{BOOKS}?in_stock=true&page_size=1") == in_stock - 1
    assert total(f"{BOOKS}?page_size=1") == everything


def test_category_tree_counts_once_per_catalogue_generation(
    api_client, catalogue, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first = api_client.get("/api/v1/categories/").json()
    with django_assert_num_queries(1):  # the categories; their counts come from the cache
        again = api_client.get("/api/v1/categories/?any=thing").json()
    assert again == first
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[catalogue["salmon"].pk], active=False)
    counts = {node["slug"]: node["book_count"] for node in api_client.get("/api/v1/categories/").json()}
    assert counts["non-fiction"] == 0


def test_a_cached_read_is_the_bytes_the_serializers_made(api_client, catalogue):
    first = api_client.get(detail(catalogue["dune"]))
    second = api_client.get(detail(catalogue["dune"]))
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert second.content == first.content
    assert second["Content-Type"] == "application/json"
    assert first.json()["price"] == "9.99"


def test_a_book_page_stays_cached_when_another_book_sells(
    client, catalogue, django_capture_on_commit_callbacks
):
    cronica = catalogue["cronica"]
    assert client.get(f"/books/{cronica.slug}/").wsgi_request.catalog_cache == "MISS"
    assert client.get(f"/books/{catalogue['dune'].slug}/").wsgi_request.catalog_cache == "MISS"
    checkout(catalogue["dune"], 1, django_capture_on_commit_callbacks)
    assert client.get(f"/books/{cronica.slug}/").wsgi_request.catalog_cache == "HIT"
    page = client.get(f"/books/{catalogue['dune'].slug}/")
    assert page.wsgi_request.catalog_cache == "MISS"
    assert page.context["book"].stock == 2


def test_staff_signed_in_by_session_are_not_served_the_shared_entries(
    api_client, staff_user, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[catalogue["salmon"].pk], active=False)
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    staff = APIClient()
    staff.force_login(staff_user)  # the session's user, as the admin's pages sign staff in
    answer = staff.get(BOOKS)
    assert "X-Cache" not in answer
    assert "The Salmon of Doubt" in [b["title"] for b in answer.json()["results"]]
