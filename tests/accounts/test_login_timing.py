"""A failed sign-in costs the same password work whatever the account: its delay tells nothing.

A wrong password for an unverified or disabled account used to hash it twice (once to refuse,
once more to find out why), against once for an active or unknown account: a timing oracle.
"""

import pytest
from django.test import override_settings

from tests.factories import UserFactory

from .hashers import CountingHasher

pytestmark = pytest.mark.django_db

HASHERS = ["tests.accounts.hashers.CountingHasher"]


@pytest.fixture
def accounts():
    with override_settings(PASSWORD_HASHERS=HASHERS):
        active = UserFactory(email="active@example.com", password="right-password-1")
        unverified = UserFactory(
            email="new@example.com", password="right-password-1", is_active=False, email_verified=False
        )
        yield {"active": active.email, "unverified": unverified.email, "unknown": "nobody@example.com"}


def hashes_for(sign_in) -> int:
    CountingHasher.computed = 0
    sign_in()
    return CountingHasher.computed


@override_settings(PASSWORD_HASHERS=HASHERS)
def test_a_wrong_password_costs_the_same_through_the_api(api_client, accounts):
    costs = {
        kind: hashes_for(
            lambda email=email: api_client.post("/api/v1/auth/token/", {"email": email, "password": "wrong"})
        )
        for kind, email in accounts.items()
    }
    assert len(set(costs.values())) == 1, costs


@override_settings(PASSWORD_HASHERS=HASHERS)
def test_a_wrong_password_costs_the_same_through_the_sign_in_page(client, accounts):
    costs = {
        kind: hashes_for(
            lambda email=email: client.post("/accounts/login/", {"username": email, "password": "wrong"})
        )
        for kind, email in accounts.items()
    }
    assert len(set(costs.values())) == 1, costs
