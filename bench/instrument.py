"""What bench/run's gunicorn adds to the shop: the baseline view, and two response headers.

- ``/bench/baseline/<size>/`` answers a static JSON body of ``size`` bytes: the plainest
  Django view, through the same middleware, under the same gunicorn; each scenario's ratio is
  its throughput over this view's, for a body of the same size, measured just before it.
- ``X-Bench-Queries``: the SQL statements the request ran (every database, every middleware).
- ``X-Cache``: for pages, whether their catalogue data came from the cache (the API's cached
  reads set it themselves).

Loaded only by ``bench.settings``; never by the shop.
"""

from collections.abc import Callable
from functools import cache

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


@cache
def _body(size: int) -> bytes:
    pad = max(size - len('{"pad":""}'), 0)
    return b'{"pad":"' + b"x" * pad + b'"}'


def baseline(request: HttpRequest, size: int) -> HttpResponse:
    return HttpResponse(_body(min(size, 5_000_000)), content_type="application/json")


class QueryCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        wrappers = [connection.execute_wrapper(counted) for connection in connections.all()]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Bench-Queries"] = str(count)
        status = getattr(request, "catalog_cache", None)
        if status and not response.has_header("X-Cache"):
            response["X-Cache"] = status
        return response


urlpatterns = [
    path("bench/baseline/<int:size>/", baseline),
    path("", include("bookstore.urls")),
]

handler400 = "bookstore.views.bad_request"
handler403 = "bookstore.views.permission_denied"
handler404 = "bookstore.views.page_not_found"
handler500 = "bookstore.views.server_error"
