"""Cart tokens a client makes up: found by schemathesis (a 500 for a token with a space)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.cart.models import Cart
from tests.factories import BookFactory

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["tfpFbm70 -LyU}*_jkE\\6mT", "a\tb", "é" * 10, "x:y"])
def test_a_token_no_cart_could_have_is_unknown_not_a_cache_key(token):
    # Tokens are URL-safe base64: anything else names no cart, and must never reach the cache
    # (spaces and control characters break memcached keys; Django warns on every backend).
    response = APIClient(headers={"X-Cart-Token": token}).get(CART)
    assert response.status_code == 200
    body = response.json()
    assert body["lines"] == []
    assert body["token"] != token


def test_an_item_added_with_such_a_token_goes_to_a_new_cart(book):
    response = APIClient(headers={"X-Cart-Token": "not a token"}).post(
        ITEMS, {"book": book.pk}, format="json"
    )
    assert response.status_code == 201
    token = response["X-Cart-Token"]
    assert token != "not a token"
    assert Cart.objects.get(token=token).lines.count() == 1


@pytest.mark.django_db
def test_a_cart_worth_more_than_twelve_digits_is_shown(user, user_client):
    # Two full lines of the dearest book a price column holds: a subtotal of 13 digits, which
    # the output field's old max_digits=12 could not quantize (decimal.InvalidOperation, a 500).
    books = BookFactory.create_batch(2, price=Decimal("99999999.99"), stock=200)
    for book in books:
        assert user_client.post(ITEMS, {"book": book.pk, "quantity": 99}, format="json").status_code == 201
    response = user_client.get(CART)
    assert response.status_code == 200
    body = response.json()
    assert body["subtotal"] == "19799999998.02"
    assert [line["line_total"] for line in body["lines"]] == ["9899999999.01", "9899999999.01"]
