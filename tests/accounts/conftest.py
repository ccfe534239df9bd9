import re

import pytest
from django.core import mail
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.throttling import StorefrontAuthThrottle
from tests.factories import UserFactory

TOKEN_IN_LINK = re.compile(r"\?token=([A-Za-z0-9_\-.]+)")


def link_token(message, path: str) -> str:
    """The token of the link to ``path`` in an email, checked in both the text and HTML parts."""
    text_match = re.search(re.escape(path) + TOKEN_IN_LINK.pattern, message.body)
    assert text_match, message.body
    html = message.alternatives[0].content
    assert f"{path}?token={text_match.group(1)}" in html
    return text_match.group(1)


@pytest.fixture
def outbox():
    mail.outbox.clear()
    return mail.outbox


def _auth_rate(monkeypatch, rate: str) -> None:
    # DRF reads the rates into each throttle class when it is defined, so a settings override
    # would not reach them: set the scope on the API's and the storefront's throttle alike.
    for throttle in (ScopedRateThrottle, StorefrontAuthThrottle):
        monkeypatch.setattr(throttle, "THROTTLE_RATES", {**throttle.THROTTLE_RATES, "auth": rate})


@pytest.fixture
def unthrottled_auth(monkeypatch):
    """Lift the strict "auth" rate for tests that make many calls (the throttle has its own tests)."""
    _auth_rate(monkeypatch, "1000/min")


@pytest.fixture
def strict_auth_throttle(monkeypatch):
    """The "auth" scope at 3 requests a minute, for the API and the storefront forms."""
    _auth_rate(monkeypatch, "3/min")


@pytest.fixture
def other_user(db, password):
    return UserFactory(password=password)
