from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.cart.models import Cart, CartLine
from apps.cart.tasks import cart_purge_anonymous
from tests.factories import BookFactory, CartFactory, CartLineFactory

pytestmark = pytest.mark.django_db


def cart_aged(days: float, *, user=None, token: str | None = None) -> Cart:
    cart = CartFactory(user=user) if user else CartFactory(anonymous=True, token=token)
    CartLineFactory(cart=cart)
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=days))
    return cart


def test_purge_deletes_anonymous_carts_untouched_for_30_days_and_their_lines(user):
    stale = cart_aged(31, token="stale")
    recent = cart_aged(29, token="recent")
    customers = cart_aged(400, user=user)

    assert cart_purge_anonymous.delay().get() == 1

    assert set(Cart.objects.values_list("pk", flat=True)) == {recent.pk, customers.pk}
    assert not CartLine.objects.filter(cart_id=stale.pk).exists()


def test_purge_is_safe_to_run_twice():
    cart_aged(45, token="old")
    assert cart_purge_anonymous.delay().get() == 1
    assert cart_purge_anonymous.delay().get() == 0


def test_a_cart_used_again_is_no_longer_stale(api_client):
    cart = cart_aged(40, token="t" * 43)
    book = BookFactory()
    response = api_client.post("/api/v1/cart/items/", {"book": book.pk}, headers={"X-Cart-Token": cart.token})
    assert response.status_code == 201
    assert cart_purge_anonymous.delay().get() == 0
    assert Cart.objects.filter(pk=cart.pk).exists()


def test_purge_runs_periodically():
    entry = settings.CELERY_BEAT_SCHEDULE["cart-purge-anonymous"]
    assert entry["task"] == cart_purge_anonymous.name
    assert entry["schedule"] <= timedelta(days=1)
