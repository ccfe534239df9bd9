"""The cart summary is cached in Redis: a repeated read runs no SQL, and any write that
changes what the cart shows (its lines, a price, the stock) is seen at the next read."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from apps.catalog.services import book_update, stock_reserve
from tests.factories import UserFactory
from tests.services import requires_redis

from .conftest import CART, ITEMS, item_url

# Real commits: the cache is invalidated when a write commits, as in production.
pytestmark = [requires_redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def filled_client(user_client, book, other_book):
    user_client.post(ITEMS, {"book": book.pk, "quantity": 2})
    user_client.post(ITEMS, {"book": other_book.pk, "quantity": 1})
    return user_client


def test_a_repeated_read_runs_no_sql(filled_client, django_assert_num_queries):
    first = filled_client.get(CART).json()
    with django_assert_num_queries(0):
        second = filled_client.get(CART)
    assert second.status_code == 200
    assert second.json() == first
    assert cache.keys("cart:summary:*")


def test_a_repeated_anonymous_read_runs_no_sql(anonymous_token, book, django_assert_num_queries):
    client = APIClient(headers={"X-Cart-Token": anonymous_token})
    client.post(ITEMS, {"book": book.pk, "quantity": 2})
    first = client.get(CART).json()
    with django_assert_num_queries(0):
        assert client.get(CART).json() == first
    assert first["lines"][0]["quantity"] == 2


def test_a_customers_empty_cart_is_cached_too(user_client, django_assert_num_queries):
    user_client.get(CART)
    with django_assert_num_queries(0):
        assert user_client.get(CART).json()["lines"] == []


@pytest.mark.parametrize("write", ["add", "update", "remove", "clear"])
def test_every_cart_write_is_seen_by_the_next_read(filled_client, book, write):
    before = filled_client.get(CART).json()
    line_id = before["lines"][0]["id"]
    if write == "add":
        filled_client.post(ITEMS, {"book": book.pk, "quantity": 1})
        expected_count = 4
    elif write == "update":
        filled_client.patch(item_url(line_id), {"quantity": 5})
        expected_count = 6
    elif write == "remove":
        filled_client.delete(item_url(line_id))
        expected_count = 1
    else:
        filled_client.delete(CART)
        expected_count = 0
    assert before["item_count"] == 3
    assert filled_client.get(CART).json()["item_count"] == expected_count


def test_a_price_change_in_the_catalogue_is_seen_at_once(filled_client, book, django_assert_num_queries):
    filled_client.get(CART)
    with django_assert_num_queries(0):
        filled_client.get(CART)

    # The catalogue's API and services change prices this way.
    book_update(book=book, data={"price": Decimal("13.90")})

    line = filled_client.get(CART).json()["lines"][0]
    assert line["unit_price"] == "13.90"
    assert line["price_changed"] is True
    assert line["price_when_added"] == "12.50"


def admin_change_form_data(response) -> dict:
    """The POST body the admin change page would send back unchanged (main form and inlines)."""

    def values(form) -> dict:
        data = {}
        for name in form.fields:
            value = form[name].value()
            if value is None or name == "cover":
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = value
        return data

    data = values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(values(formset.management_form))
        for form in formset.forms:
            data.update(values(form))
    return data


def test_a_price_change_through_the_admin_form_is_seen_at_once(filled_client, book, password):
    filled_client.get(CART)
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin_user)
    url = f"/admin/catalog/book/{book.pk}/change/"
    data = admin_change_form_data(browser.get(url))
    data["price"] = "9.99"
    data["_save"] = "Save"

    response = browser.post(url, data)

    assert response.status_code == 302
    line = filled_client.get(CART).json()["lines"][0]
    assert line["unit_price"] == "9.99"
    assert line["price_changed"] is True
    assert filled_client.get(CART).json()["subtotal"] == "28.88"


def test_a_stock_move_is_seen_at_once(filled_client, book):
    assert filled_client.get(CART).json()["lines"][0]["insufficient_stock"] is False
    stock_reserve(quantities={book.pk: 9})  # another customer's checkout: 1 copy left
    line = filled_client.get(CART).json()["lines"][0]
    assert line["insufficient_stock"] is True
    assert line["available"] == 1


def test_a_merge_at_sign_in_is_seen_by_both_carts(user, password, book, django_assert_num_queries):
    customer = APIClient()
    customer.force_authenticate(user)
    assert customer.get(CART).json()["lines"] == []
    visitor = APIClient()
    token = visitor.get(CART).json()["token"]
    visitor.credentials(HTTP_X_CART_TOKEN=token)
    visitor.post(ITEMS, {"book": book.pk, "quantity": 2})
    assert visitor.get(CART).json()["item_count"] == 2

    visitor.post("/api/v1/auth/token/", {"email": user.email, "password": password})

    assert customer.get(CART).json()["item_count"] == 2
    assert visitor.get(CART).json()["token"] != token


def test_a_cached_read_with_a_jwt_runs_only_the_authentication_query(
    api_client, user, password, book, django_assert_num_queries
):
    access = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password}).json()[
        "access"
    ]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    api_client.post(ITEMS, {"book": book.pk, "quantity": 1})
    api_client.get(CART)
    # simplejwt loads the user named by the token (one query); the cart itself comes from Redis.
    with django_assert_num_queries(1) as context:
        assert api_client.get(CART).json()["item_count"] == 1
    assert "accounts_user" in context.captured_queries[0]["sql"]
