"""Project-wide views: the home page and the error handlers.

Under ``/api/`` every error is a problem details body, even when no DRF view ran (unknown
URLs, errors raised by middleware); elsewhere the storefront's HTML error pages are served.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from .api.problems import problem_response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object) -> HttpResponse:
    """Catch-all for unknown URLs under /api/, so they too answer problem details."""
    return problem_response(request, status=404, code="not_found", detail=f"No endpoint at {request.path}.")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status=400, code="bad_request", detail="The request is malformed.")
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request, status=403, code="permission_denied", detail="You may not perform this action."
        )
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request,
            status=500,
            code="server_error",
            detail="An unexpected error occurred. Quote the X-Request-ID header when reporting it.",
        )
    return render(request, "500.html", status=500)
