"""The strict "auth" throttle: repeated attempts from one client are answered 429 with Retry-After."""

import pytest
from rest_framework.test import APIClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("strict_auth_throttle")]


def assert_throttled(response):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_repeated_failed_logins_are_throttled(api_client, user, password):
    statuses = [
        api_client.post("/api/v1/auth/token/", {"email": user.email, "password": "guess"}).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 401]
    # Even the right password waits now.
    assert_throttled(api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password}))


def test_repeated_reset_requests_are_throttled(api_client, user):
    statuses = [
        api_client.post("/api/v1/auth/password-reset/", {"email": f"n{i}@example.com"}).status_code
        for i in range(3)
    ]
    assert statuses == [202, 202, 202]
    assert_throttled(api_client.post("/api/v1/auth/password-reset/", {"email": user.email}))


def test_the_throttle_counts_per_client(api_client, user):
    for _ in range(3):
        api_client.post("/api/v1/auth/password-reset/", {"email": user.email}, REMOTE_ADDR="198.51.100.7")
    assert_throttled(
        api_client.post("/api/v1/auth/password-reset/", {"email": user.email}, REMOTE_ADDR="198.51.100.7")
    )
    other = APIClient()
    response = other.post("/api/v1/auth/password-reset/", {"email": user.email}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/auth/register/", {"email": "x@example.com"}),
        ("/api/v1/auth/verify-email/", {"token": "nope"}),
        ("/api/v1/auth/password-reset/confirm/", {"token": "nope", "new_password": "x"}),
        ("/api/v1/auth/logout/", {"refresh": "nope"}),
    ],
)
def test_every_auth_endpoint_uses_the_strict_scope(api_client, path, payload):
    for _ in range(3):
        assert api_client.post(path, payload).status_code != 429
    assert_throttled(api_client.post(path, payload))
