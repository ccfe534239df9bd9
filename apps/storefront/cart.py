"""The browser's cart: the customer's, or the anonymous visitor's named by the session's token.

The pages use the cart app's services and selectors exactly as its API does; only where the
token lives differs (the session, never a header).
"""

from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest

from apps.cart.apps import CART_SESSION_KEY
from apps.cart.models import Cart
from apps.cart.selectors import CartSummary, cart_find, cart_summary_for_token, cart_summary_for_user
from apps.cart.services import cart_create_anonymous, cart_get_or_create_for_user


def _empty() -> CartSummary:
    return CartSummary(
        token=None, lines=(), item_count=0, subtotal=Decimal("0.00"), currency=settings.SHOP_CURRENCY
    )


def cart_summary_for_request(request: HttpRequest) -> CartSummary:
    """The cart shown to this browser (cached: no SQL on most pages)."""
    if request.user.is_authenticated:
        return cart_summary_for_user(user=request.user)
    summary = cart_summary_for_token(token=request.session.get(CART_SESSION_KEY))
    return summary if summary is not None else _empty()


def cart_for_writing(request: HttpRequest) -> Cart:
    """The cart a page adds to: made on the first add (an anonymous one kept in the session)."""
    if request.user.is_authenticated:
        return cart_get_or_create_for_user(user=request.user)
    cart = cart_find(token=request.session.get(CART_SESSION_KEY))
    if cart is None:
        cart = cart_create_anonymous()
        request.session[CART_SESSION_KEY] = cart.token
    return cart


def cart_for_request(request: HttpRequest) -> Cart | None:
    if request.user.is_authenticated:
        return cart_find(user=request.user)
    return cart_find(token=request.session.get(CART_SESSION_KEY))
