"""Reads of carts. The API's cached read lives in ``apps.cart.cache``."""

from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User

from .models import Cart, CartLine


def _lines() -> QuerySet[CartLine]:
    return CartLine.objects.select_related("book")


def cart_get_for_user(*, user: User) -> Cart | None:
    """The customer's cart with its lines and their books prefetched (two queries), or None."""
    return Cart.objects.filter(user=user).prefetch_related(Prefetch("lines", queryset=_lines())).first()
