from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.factories import BookFactory

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def item_url(line_id: int) -> str:
    return f"/api/v1/cart/items/{line_id}/"


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", price=Decimal("12.50"), stock=10)


@pytest.fixture
def other_book(db):
    return BookFactory(title="Germinal", price=Decimal("8.90"), stock=5)


@pytest.fixture
def anonymous_token(api_client: APIClient, db) -> str:
    """A fresh anonymous cart's token, as an API client receives it."""
    return api_client.get(CART).json()["token"]
