"""Every API error, whatever raised it, is an application/problem+json body."""

import logging

import pytest
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from bookstore.exceptions import Conflict
from bookstore.urls import urlpatterns as project_urlpatterns

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f":{code}")
    assert body["title"]
    assert body["detail"]
    return body


# Probe views exercising the handler with what the apps will raise.
class _Line(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class _Order(serializers.Serializer):
    email = serializers.EmailField()
    lines = _Line(many=True)


class ValidateView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        _Order(data=request.data).is_valid(raise_exception=True)
        return Response({})


class PrivateView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({})


class BrokenView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("SELECT secret FROM users -- must never leak")


class DomainErrorView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise Conflict("The last copy was just sold.", errors={"lines.0": ["Out of stock."]})


class MissingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise Http404("No book matches the given query.")


class OnePerMinute(AnonRateThrottle):
    rate = "1/min"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OnePerMinute]

    def get(self, request):
        return Response({})


urlpatterns = [
    path("api/v1/probe/validate/", ValidateView.as_view()),
    path("api/v1/probe/private/", PrivateView.as_view()),
    path("api/v1/probe/broken/", BrokenView.as_view()),
    path("api/v1/probe/conflict/", DomainErrorView.as_view()),
    path("api/v1/probe/throttled/", ThrottledView.as_view()),
    path("api/v1/probe/missing/", MissingView.as_view()),
    *project_urlpatterns,
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_unknown_url_under_api_is_a_problem(api_client):
    body = assert_problem(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert body["instance"] == "/api/v1/no-such-thing/"


def test_unknown_url_outside_the_versioned_api_is_a_problem_too(api_client):
    assert_problem(api_client.post("/api/v2/books/", {}), 404, "not_found")


def test_django_http404_raised_in_a_view_is_a_problem(api_client):
    body = assert_problem(api_client.get("/api/v1/probe/missing/"), 404, "not_found")
    assert body["detail"] == "No book matches the given query."


def test_wrong_method_is_a_problem(api_client):
    assert_problem(api_client.get("/api/v1/auth/token/"), 405, "method_not_allowed")


def test_validation_error_lists_every_field_with_dotted_paths(api_client):
    response = api_client.post("/api/v1/probe/validate/", {"email": "nope", "lines": [{"quantity": 0}]})
    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"email", "lines.0.quantity"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_malformed_json_is_a_problem(api_client):
    response = api_client.post("/api/v1/probe/validate/", "{not json", content_type="application/json")
    assert_problem(response, 400, "parse_error")


def test_unauthenticated_is_a_problem(api_client):
    assert_problem(api_client.get("/api/v1/probe/private/"), 401, "not_authenticated")


def test_bad_bearer_token_is_a_problem(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_problem(api_client.get("/api/v1/probe/private/"), 401, "token_not_valid")


def test_throttled_is_a_problem_with_retry_after(api_client):
    assert api_client.get("/api/v1/probe/throttled/").status_code == 200
    response = api_client.get("/api/v1/probe/throttled/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_domain_error_keeps_its_status_code_and_errors(api_client):
    body = assert_problem(api_client.get("/api/v1/probe/conflict/"), 409, "conflict")
    assert body["detail"] == "The last copy was just sold."
    assert body["errors"] == {"lines.0": ["Out of stock."]}


def test_unexpected_error_is_a_bare_500_and_is_logged(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="bookstore.api"):
        response = api_client.get("/api/v1/probe/broken/")
    body = assert_problem(response, 500, "server_error")
    assert "SELECT" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "errors" not in body
    assert any("SELECT secret" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_a_body_over_the_upload_limit_is_a_413_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post(
        "/api/v1/probe/validate/", '{"email": "' + "x" * 2000 + '"}', content_type="application/json"
    )
    assert_problem(response, 413, "content_too_large")


def test_a_form_with_too_many_fields_is_a_400_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{i}=1" for i in range(11))
    response = api_client.post(
        "/api/v1/probe/validate/", body, content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 400, "parse_error")


def test_a_query_with_too_many_parameters_is_a_400_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"field{i}=1" for i in range(11))
    assert_problem(api_client.get(f"/api/v1/books/?{query}"), 400, "parse_error")


def test_a_body_in_a_media_type_without_a_parser_is_a_415_problem(api_client):
    response = api_client.post("/api/v1/probe/validate/", "email=a@b.fr", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")
