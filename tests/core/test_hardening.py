"""Hardening, as a browser sees it under the production settings: HTTPS only (HSTS), a CSP,
no MIME sniffing, no framing, a strict referrer, cookies that are Secure and HttpOnly, CSRF on
every session write; and, in the code, an explicit permission on every API view.

The production checks run in a child process (``DJANGO_ENV=production`` with throwaway secrets
and an SQLite database of the test's own), with Django's test client.
"""

import inspect
import json
import subprocess
import sys

import pytest
from rest_framework.views import APIView

from tests.urls import routes

from .test_settings import ROOT, STRONG_KEY, clean_env

PRODUCTION_REQUESTS = r"""
import json
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from apps.accounts.models import User

# The static files' manifest is built by collectstatic in the image; plain storage here.
override_settings(STORAGES={
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}).enable()
call_command("migrate", verbosity=0)
User.objects.create_user(email="lea@example.com", password="Lecture-du-soir-2026", email_verified=True)
https = {"secure": True, "HTTP_HOST": "shop.example.com"}
answers = {}

plain = Client().get("/accounts/login/", HTTP_HOST="shop.example.com")
answers["http"] = {"status": plain.status_code, "location": plain.get("Location", "")}

browser = Client(enforce_csrf_checks=True)
page = browser.get("/accounts/login/", **https)
answers["page"] = {"status": page.status_code, "headers": dict(page.headers),
                   "cookies": {k: dict(v) for k, v in page.cookies.items()}}
no_token = browser.post("/accounts/login/", {"username": "lea@example.com", "password": "x"}, **https)
answers["post_without_csrf"] = no_token.status_code
token = page.cookies["csrftoken"].value
signed_in = browser.post(
    "/accounts/login/",
    {"username": "lea@example.com", "password": "Lecture-du-soir-2026", "csrfmiddlewaretoken": token},
    HTTP_REFERER="https://shop.example.com/accounts/login/",
    **https,
)
answers["sign_in"] = {"status": signed_in.status_code,
                      "cookies": {k: dict(v) for k, v in signed_in.cookies.items()}}
api = Client().get("/api/v1/nope/", **https)
answers["api"] = {"status": api.status_code, "headers": dict(api.headers)}
print("ANSWERS" + json.dumps(answers))
"""


def production_answers(tmp_path) -> dict:
    env = clean_env(
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'production.sqlite3'}",
    )
    result = subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, "manage.py", "shell", "-c", PRODUCTION_REQUESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.split("ANSWERS", 1)[1])


def test_production_answers_carry_the_security_headers_and_secure_cookies(tmp_path):
    answers = production_answers(tmp_path)

    assert answers["http"]["status"] == 301
    assert answers["http"]["location"].startswith("https://shop.example.com/")
    page = answers["page"]
    assert page["status"] == 200
    headers = {name.lower(): value for name, value in page["headers"].items()}
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csrf = page["cookies"]["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"

    assert answers["post_without_csrf"] == 403
    assert answers["sign_in"]["status"] == 302
    session = answers["sign_in"]["cookies"]["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"

    api = answers["api"]
    api_headers = {name.lower(): value for name, value in api["headers"].items()}
    assert api["status"] == 404
    assert api_headers["content-type"] == "application/problem+json"
    assert "strict-transport-security" in api_headers
    assert "content-security-policy" in api_headers


def _api_views() -> list[tuple[str, type]]:
    views = set()
    for route, callback in routes():
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view is not None and issubclass(view, APIView):
            views.add((route, view))
    return sorted(views, key=lambda row: row[0])


def _declares_permissions(view: type) -> bool:
    """The view (or a class it inherits from, the project's or a library's) sets
    ``permission_classes`` or ``get_permissions``: never DRF's default by omission."""
    return any(
        "permission_classes" in vars(klass) or "get_permissions" in vars(klass)
        for klass in inspect.getmro(view)
        if klass is not APIView
    )


def test_every_api_view_declares_its_permissions():
    views = _api_views()

    assert len(views) > 20
    assert [route for route, view in views if not _declares_permissions(view)] == []


SESSION_WRITES = [
    # The storefront's forms.
    "/cart/add/",
    "/cart/lines/1/",
    "/cart/lines/1/remove/",
    "/checkout/",
    "/orders/LB-AAAA-AAAA/cancel/",
    "/books/a-book/reviews/",
    "/reviews/1/edit/",
    "/reviews/1/delete/",
    "/reviews/1/helpful/",
    "/accounts/logout/",
    "/accounts/profile/",
    "/accounts/password/",
    "/accounts/addresses/new/",
    "/accounts/addresses/1/delete/",
    "/i18n/setlang/",
    # The API, called with the storefront's session instead of a token.
    "/api/v1/cart/items/",
    "/api/v1/orders/",
    "/api/v1/me/addresses/",
    "/api/v1/books/a-book/reviews/",
    "/api/v1/auth/password-change/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", SESSION_WRITES)
def test_every_session_write_needs_its_csrf_token(path):
    from django.test import Client

    from tests.factories import UserFactory

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())

    response = browser.post(path, {"quantity": "1"})

    assert response.status_code == 403, (path, response.status_code)
    assert b"CSRF" in response.content, (path, response.content[:200])
