"""OpenAPI generation: every operation documents its problem details error responses."""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular import openapi
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from .problems import PROBLEM_CONTENT_TYPE
from .serializers import ProblemSerializer


class AutoSchema(openapi.AutoSchema):
    def get_auth(self):
        """drf-spectacular marks authentication optional (``{}``) only for DRF's own
        ``AllowAny`` and ``IsAuthenticatedOrReadOnly``; the shop's permissions (the catalogue's
        ``IsStaffOrReadOnly``) are asked, as an anonymous request of this method."""
        auths = super().get_auth()
        if auths and {} not in auths and self._anonymous_allowed():
            auths.append({})
        return auths

    def _anonymous_allowed(self) -> bool:
        request = Request(APIRequestFactory().generic(self.method, self.path))
        request.user = AnonymousUser()
        return all(
            permission.has_permission(request, self.view) for permission in self.view.get_permissions()
        )

    def _get_parameters(self):
        parameters = super()._get_parameters()
        self._query_parameters = {p["name"] for p in parameters if p["in"] == "query"}
        return parameters

    def _error_statuses(self) -> list[str]:
        query = getattr(self, "_query_parameters", set())
        # Any request may be refused before its view runs: a NUL byte in its address
        # (bookstore.middleware.NulByteMiddleware: 400), an address or headers longer than the
        # server reads (gunicorn: 414, 431; bookstore/gunicorn_conf.py answers them as problems).
        statuses = ["400", "414", "431"]
        if self.method in {"POST", "PUT", "PATCH"}:
            # A body over DATA_UPLOAD_MAX_MEMORY_SIZE (bookstore.api.exceptions.ContentTooLarge),
            # and one in a media type the view has no parser for.
            statuses += ["413", "415"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses += ["401", "403"]
        # Open views that check credentials of their own (the token endpoints) say so.
        statuses += [code for code in getattr(self.view, "problem_statuses", ()) if code not in statuses]
        # A page past the last one (or not a number) is DRF's 404 "Invalid page".
        if "{" in self.path or (self.method == "GET" and "page" in query):
            statuses.append("404")
        if self.view.get_throttles():
            statuses.append("429")
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_statuses():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
        return responses


def invalid_input(description: str) -> dict:
    """The 400 of an operation, with what the business rules refuse (for its ``responses``)."""
    from drf_spectacular.utils import OpenApiResponse

    return {(400, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=description)}


VALIDATORS_RULE = (
    "`errors.{field}` lists what Django's password validators refuse: fewer than 8 characters, "
    "too common, only digits, or too close to the email or name."
)
COUNTRY_RULE = "`errors.country`: not an ISO 3166-1 alpha-2 code (`FR`, `BE`, `CH`…)"
