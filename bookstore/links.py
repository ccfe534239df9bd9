"""The base of every link the shop hands out (emails, the dummy provider's pay page, returns).

It is ``FRONTEND_URL``. In development, when ``FRONTEND_URL`` is not set, links follow the
server that is answering (``FRONTEND_URL_FROM_REQUEST``): ``RequestOriginMiddleware`` keeps the
request's scheme and host for its duration, and the emails sent by eager Celery tasks during
that request link back to the same ``runserver``, whatever its port. A worker of its own (a
real broker) has no request and uses ``FRONTEND_URL``.
"""

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_request_origin: ContextVar[str | None] = ContextVar("request_origin", default=None)


def frontend_url() -> str:
    """``https://shop.example`` (no trailing slash)."""
    return (_request_origin.get() or settings.FRONTEND_URL).rstrip("/")


class RequestOriginMiddleware:
    """Development only: links made during a request point at the server that answers it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.FRONTEND_URL_FROM_REQUEST:
            return self.get_response(request)
        token = _request_origin.set(f"{request.scheme}://{request.get_host()}")
        try:
            return self.get_response(request)
        finally:
            _request_origin.reset(token)
