import re

import pytest
from django.core import mail
from rest_framework.throttling import ScopedRateThrottle

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


@pytest.fixture
def unthrottled_auth(settings):
    """Lift the strict "auth" rate for tests that make many calls (the throttle has its own tests)."""
    saved = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = {**saved, "auth": "1000/min"}
    yield
    ScopedRateThrottle.THROTTLE_RATES = saved


@pytest.fixture
def strict_auth_throttle():
    """The "auth" scope at 3 requests a minute."""
    saved = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = {**saved, "auth": "3/min"}
    yield
    ScopedRateThrottle.THROTTLE_RATES = saved


@pytest.fixture
def other_user(db, password):
    return UserFactory(password=password)
