"""Request id and the one access-log line per request; domain errors on pages."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .exceptions import NotFound
from .logging import request_id_var

logger = logging.getLogger("bookstore.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it is a plausible id; anything else (too long, odd characters
# that could forge log lines) is replaced by a fresh one.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestLogMiddleware:
    """Accept or generate ``X-Request-ID``, return it, and log method, path, status, duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            response[REQUEST_ID_HEADER] = request_id
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class DomainErrorMiddleware:
    """Pages answer the domain's "not found" as Django's 404 page (the API has its own handler).

    Services and selectors raise the project's errors only (``bookstore.exceptions``), never an
    HTTP type; a page view that lets a ``NotFound`` through gets the storefront's 404 page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        return None


class NulByteMiddleware:
    """A NUL byte in the path or the query string is a 400 before any view runs.

    No name, slug or search of the shop holds one, and PostgreSQL's text columns refuse it: let
    through, ``books/a%00b/`` or ``?q=a%00b`` reached the database and came back a 500. (Request
    bodies are checked by their parsers and fields: DRF's ``CharField`` refuses NUL, as do
    Django's form fields.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The raw query string, not request.GET: parsing it here would raise its own errors
        # (too many fields) before the views' handlers could answer them.
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            from .views import bad_request

            return bad_request(request, SuspiciousOperation("NUL byte in the address"))
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A page whose database cannot be reached answers 503 (a page that needs nothing of it).

    The API's exception handler answers the same case with a 503 problem.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable for %s: %r", request.path, exception)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "5"
        return response
