"""What every storefront page shows: the cart's item count in the header, read lazily."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .cart import cart_summary_for_request


def storefront(request: HttpRequest) -> dict[str, Any]:
    if not hasattr(request, "user"):
        # An error page for a request refused before authentication (an unknown host).
        return {"cart_count": 0}
    return {"cart_count": SimpleLazyObject(lambda: cart_summary_for_request(request).item_count)}
