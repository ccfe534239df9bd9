"""A lost Redis slows the shop down but does not take it down; it recovers when Redis is back.

The test runs a Redis of its own on a spare port and stops it: the shared one is never touched.
"""

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from tests.factories import BookFactory
from tests.servers import OwnRedis
from tests.services import requires_redis

pytestmark = [requires_redis, pytest.mark.django_db]


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    redis.start()
    cache_settings = {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{redis.port}/0"}
    with override_settings(CACHES={"default": cache_settings}):
        caches["default"].clear()
        yield redis
    redis.stop()


def test_with_redis_down_the_catalogue_login_cart_and_pages_still_answer(
    own_redis, client, api_client, user, password, caplog
):
    book = BookFactory(title="Le Rouge et le Noir", stock=5)
    assert api_client.get("/api/v1/books/").status_code == 200
    assert client.get("/readyz").status_code == 200
    customer = type(client)()
    customer.force_login(user)

    own_redis.stop()

    # The session is read from its table (cached_db); the page does not need Redis.
    assert customer.get("/accounts/orders/").status_code == 200

    assert api_client.get("/api/v1/books/").status_code == 200
    assert api_client.get(f"/api/v1/books/{book.isbn13}/").status_code == 200
    assert client.get("/books/").status_code == 200
    assert client.get(f"/books/{book.slug}/").status_code == 200
    login = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password})
    assert login.status_code == 200, login.content
    cart = api_client.post("/api/v1/cart/items/", {"book": book.pk, "quantity": 1})
    assert cart.status_code in {200, 201}, cart.content
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "cache" in ready.content.decode()
    # Each failure is logged (django-redis, on the bookstore.cache logger), with its cause.
    assert any(r.name == "bookstore.cache" and r.exc_info for r in caplog.records)

    own_redis.start()

    assert client.get("/readyz").status_code == 200
    assert api_client.get("/api/v1/books/").status_code == 200
