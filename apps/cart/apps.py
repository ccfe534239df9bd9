from typing import Any

from django.apps import AppConfig
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

CART_SESSION_KEY = "cart_token"
SESSION_CART_MERGE = "cart_merge"
CART_HEADER = "X-Cart-Token"


def merge_anonymous_cart(sender: Any, request: Any, user: Any, **kwargs: Any) -> dict[str, Any] | None:
    """At every sign-in, fold the visitor's anonymous cart into the customer's.

    The anonymous cart is named by the ``X-Cart-Token`` header (API clients, JWT login) or
    kept in the session (storefront; ``login()`` cycles the session key but keeps its data).
    The JWT login adds the returned ``cart_merge`` report to its response; a session login
    keeps it in the session and tells the customer through a message.
    """
    from .services import cart_merge

    if request is None:
        return None
    session = getattr(request, "session", None)
    token = request.headers.get(CART_HEADER) or (session.get(CART_SESSION_KEY) if session else None)
    result = cart_merge(user=user, token=token)
    if session is not None:
        session.pop(CART_SESSION_KEY, None)
    if result is None:
        return None
    report = result.as_dict()
    # A plain HttpRequest is a session sign-in (admin or storefront login view); the DRF
    # Request of the JWT login answers with the report instead.
    if isinstance(request, HttpRequest) and session is not None:
        session[SESSION_CART_MERGE] = report
        if result.added or result.increased:
            messages.info(
                request,
                gettext("The books you picked before signing in are in your cart."),
                fail_silently=True,
            )
        if result.capped or result.discarded:
            messages.warning(
                request,
                gettext(
                    "Some books of your cart were limited to the copies in stock or not kept: "
                    "check your cart."
                ),
                fail_silently=True,
            )
    return {"cart_merge": report}


class CartConfig(AppConfig):
    name = "apps.cart"
    label = "cart"
    verbose_name = _("Cart")

    def ready(self) -> None:
        user_logged_in.connect(merge_anonymous_cart, dispatch_uid="cart.merge_anonymous_cart")
        from . import schema  # noqa: F401 (registers the token response's cart_merge documentation)
