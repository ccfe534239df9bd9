"""Rate limiting of the storefront's authentication forms, with DRF's throttle machinery.

The API's authentication endpoints use the strict ``auth`` scope (``THROTTLE_AUTH``); the
pages that sign in, register, verify and reset passwords take their POSTs from the same
allowance: same rate setting, same cache (Redis when configured, so it holds across
processes), and the same key as an anonymous API call under that scope
(``throttle_auth_<client ip>``). A client cannot double its attempts by alternating between
the pages and the API.
"""

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle

AUTH_SCOPE = "auth"


class StorefrontAuthThrottle(SimpleRateThrottle):
    """The ``auth`` scope keyed by client IP (``X-Forwarded-For`` is trusted only as far as
    DRF's ``NUM_PROXIES`` says, as for the API)."""

    scope = AUTH_SCOPE

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def too_many_requests(request: HttpRequest, wait: float | None) -> HttpResponse:
    retry_after = max(math.ceil(wait or 0), 1)
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def auth_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Count each POST of ``view`` against the client's ``auth`` allowance; once it is spent,
    answer 429 with ``Retry-After`` without running the view. Showing the form (GET) is free."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            throttle = StorefrontAuthThrottle()
            # SimpleRateThrottle reads only ``request.META`` (get_ident) and needs no view: a
            # plain Django request does.
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]
                return too_many_requests(request, throttle.wait())
        return view(request, *args, **kwargs)

    return wrapper
