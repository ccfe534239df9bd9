"""The Content-Security-Policy header: on every kind of response, and built from what is configured."""

import pytest

from bookstore.csp import content_security_policy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/books/", "/api/v1/books/", "/admin/login/", "/api/docs/", "/nope/"])
def test_every_response_carries_the_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_swagger_ui_has_no_inline_script():
    from django.test import Client

    page = Client().get("/api/docs/").content.decode()

    assert "<script>" not in page
    assert "?script" in page  # its bootstrap is a script of its own


def test_outside_origins_only_for_what_is_configured():
    bare = content_security_policy(stripe_api_base=None, paypal_api_base=None, media_urls=["/media/"])
    full = content_security_policy(
        stripe_api_base="https://api.stripe.com",
        paypal_api_base="https://api-m.sandbox.paypal.com",
        media_urls=["https://covers.librairie.example/media/", "/media/"],
    )

    assert bare["frame-src"] == ["'none'"]
    assert "https://js.stripe.com" not in str(bare)
    assert full["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert full["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert full["frame-src"] == [
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert full["form-action"] == ["'self'", "https://www.sandbox.paypal.com"]
    assert full["img-src"] == ["'self'", "data:", "https://covers.librairie.example"]
