"""The strict "auth" throttle: repeated attempts from one client, through the API or the
storefront forms, are answered 429 with Retry-After."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.throttling import StorefrontAuthThrottle
from tests.services import requires_redis

from .test_pages import csrf_from

User = get_user_model()

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


# --- The storefront forms share the allowance -----------------------------------------------


def page_post(browser: Client, url: str, data: dict, **extra):
    """GET the form (never throttled), then POST it with its CSRF token, as a browser does."""
    page = browser.get(url, **extra)
    assert page.status_code == 200
    return browser.post(url, {**data, "csrfmiddlewaretoken": csrf_from(page)}, **extra)


def assert_throttled_page(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "<h1>Trop de tentatives</h1>" in html
    assert f"patienter {response['Retry-After']} seconde" in html


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def test_repeated_failed_sign_ins_on_the_login_page_are_throttled(browser, user, password):
    for _ in range(3):
        response = page_post(browser, "/accounts/login/", {"username": user.email, "password": "guess"})
        assert response.status_code == 200
        assert "_auth_user_id" not in browser.session
    # Even the right password waits now, and the session stays anonymous.
    response = page_post(browser, "/accounts/login/", {"username": user.email, "password": password})
    assert_throttled_page(response)
    assert "_auth_user_id" not in browser.session
    user.refresh_from_db()
    assert user.last_login is None


def test_repeated_registrations_on_the_page_are_throttled_and_create_nothing(browser, outbox):
    form = {"new_password1": "Lecture-du-soir-2026", "new_password2": "Lecture-du-soir-2026"}
    for i in range(3):
        response = page_post(browser, "/accounts/register/", {**form, "email": f"r{i}@example.com"})
        assert response.status_code == 302
    response = page_post(browser, "/accounts/register/", {**form, "email": "r3@example.com"})
    assert_throttled_page(response)
    assert not User.objects.filter(email="r3@example.com").exists()
    assert User.objects.count() == 3


def test_repeated_reset_requests_on_the_page_are_throttled_and_send_nothing(
    browser, user, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            response = page_post(browser, "/accounts/password-reset/", {"email": f"n{i}@example.com"})
            assert response.status_code == 302
        response = page_post(browser, "/accounts/password-reset/", {"email": user.email})
    assert_throttled_page(response)
    assert outbox == []
    # The form itself can still be read while the client waits.
    assert browser.get("/accounts/password-reset/").status_code == 200


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/verify-email/resend/", {"email": "x@example.com"}),
        ("/accounts/verify-email/?token=nope", {"token": "nope"}),
    ],
)
def test_the_other_anonymous_forms_are_throttled_too(browser, url, data):
    for _ in range(3):
        assert page_post(browser, url, data).status_code != 429
    assert_throttled_page(page_post(browser, url, data))


def test_the_password_change_page_is_throttled(browser, user, password):
    browser.force_login(user)
    form = {"old_password": "guess", "new_password1": "Nouveau-mot-2026", "new_password2": "Nouveau-mot-2026"}
    for _ in range(3):
        assert page_post(browser, "/accounts/password/", form).status_code == 200
    assert_throttled_page(page_post(browser, "/accounts/password/", {**form, "old_password": password}))
    user.refresh_from_db()
    assert user.check_password(password)


def test_the_page_throttle_counts_per_client(browser, user):
    for _ in range(3):
        page_post(browser, "/accounts/password-reset/", {"email": user.email}, REMOTE_ADDR="198.51.100.7")
    assert_throttled_page(
        page_post(browser, "/accounts/password-reset/", {"email": user.email}, REMOTE_ADDR="198.51.100.7")
    )
    other = Client(enforce_csrf_checks=True)
    response = page_post(other, "/accounts/password-reset/", {"email": user.email}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302


def test_pages_and_api_draw_on_one_allowance(browser, api_client, user, password):
    # Alternating between the API and the pages does not buy a client more attempts.
    for _ in range(2):
        assert (
            api_client.post("/api/v1/auth/token/", {"email": user.email, "password": "guess"}).status_code
            == 401
        )
    assert (
        page_post(browser, "/accounts/login/", {"username": user.email, "password": "guess"}).status_code
        == 200
    )
    assert_throttled_page(
        page_post(browser, "/accounts/login/", {"username": user.email, "password": password})
    )
    assert_throttled(api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password}))


def test_the_page_throttle_uses_the_auth_rate_setting(browser, user, monkeypatch):
    monkeypatch.setattr(StorefrontAuthThrottle, "THROTTLE_RATES", {"auth": "5/min"})
    for _ in range(5):
        assert page_post(browser, "/accounts/password-reset/", {"email": user.email}).status_code == 302
    assert_throttled_page(page_post(browser, "/accounts/password-reset/", {"email": user.email}))


@requires_redis
def test_the_page_allowance_is_kept_in_the_shared_cache(browser, user):
    for _ in range(3):
        page_post(browser, "/accounts/password-reset/", {"email": user.email}, REMOTE_ADDR="198.51.100.7")
    # Another web process has its own connection to Redis: it sees the same history, so the
    # fourth attempt would be refused there too.
    another_process = caches.create_connection("default")
    history = another_process.get("throttle_auth_198.51.100.7")
    assert isinstance(history, list)
    assert len(history) == 3
    assert_throttled_page(
        page_post(browser, "/accounts/password-reset/", {"email": user.email}, REMOTE_ADDR="198.51.100.7")
    )


# --- Forged X-Forwarded-For -------------------------------------------------------------------


def test_a_forged_forwarded_for_does_not_reset_the_login_throttle(api_client, user, password):
    """Each guess claims another client address; the shop sees one client (no proxy is trusted)."""
    statuses = [
        api_client.post(
            "/api/v1/auth/token/",
            {"email": user.email, "password": f"guess-{n}"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 401]
    assert_throttled(
        api_client.post(
            "/api/v1/auth/token/",
            {"email": user.email, "password": password},
            HTTP_X_FORWARDED_FOR="198.51.100.99",
        )
    )


def test_a_forged_forwarded_for_does_not_reset_the_storefront_throttle(user):
    client = Client()
    for n in range(3):
        client.post("/accounts/password-reset/", {"email": user.email}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = client.post(
        "/accounts/password-reset/", {"email": user.email}, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_client_is_the_address_it_forwards(api_client, user, settings):
    """With TRUSTED_PROXY_COUNT=1 (one load balancer), its X-Forwarded-For names the client."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        for _ in range(3):
            api_client.post(
                "/api/v1/auth/password-reset/", {"email": user.email}, HTTP_X_FORWARDED_FOR="203.0.113.5"
            )
        assert_throttled(
            api_client.post(
                "/api/v1/auth/password-reset/", {"email": user.email}, HTTP_X_FORWARDED_FOR="203.0.113.5"
            )
        )
        # Another client behind the same proxy has its own allowance.
        response = api_client.post(
            "/api/v1/auth/password-reset/", {"email": user.email}, HTTP_X_FORWARDED_FOR="203.0.113.6"
        )
        assert response.status_code == 202
    finally:
        api_settings.reload()
