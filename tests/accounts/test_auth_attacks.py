"""What an attacker tries against sign-in, and what they get: never an account, never a hint.

Already proved elsewhere, and not repeated here: a bad bearer token is a 401 problem
(tests/core/test_errors.py), a disabled account's access token stops working
(test_api_auth.py, test_admin.py), a forged X-Forwarded-For does not reset the strict throttle
at 3 a minute (test_throttle.py), the per-account lockout across client addresses
(test_lockout.py), equal answers of register and reset for an active account and a new address
(test_api_auth.py), and equal password work of a failed sign-in (test_login_timing.py). This
module adds the forged tokens one by one, the throttle and the lockout at their configured
numbers under rotating X-Forwarded-For, equal answers for every kind of account down to the
headers, and equal password work of registration and reset.
"""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.test import override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.services import user_deactivate
from tests.factories import UserFactory

from .test_login_timing import HASHERS, hashes_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
TOKEN = "/api/v1/auth/token/"
PROBLEM = "application/problem+json"
GOOD_PASSWORD = "Lecture-du-soir-2026"


# --- Forged tokens --------------------------------------------------------------------------


def b64url(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part, separators=(",", ":")).encode()).rstrip(b"=").decode()


def real_payload(user) -> dict:
    return dict(AccessToken.for_user(user).payload)


def signed_with_another_key(user) -> str:
    return jwt.encode(real_payload(user), "not-the-shop-key-" * 4, algorithm="HS256")


def expired(user) -> str:
    token = AccessToken.for_user(user)  # signed with the shop's key, but its time is up
    token.set_exp(lifetime=-timedelta(minutes=1))
    return str(token)


def alg_none(user) -> str:
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(real_payload(user))}."


def alg_none_keeping_the_signature(user) -> str:
    _header, payload, signature = str(AccessToken.for_user(user)).split(".")
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"


def another_users_id_under_a_real_signature(user) -> str:
    header, _payload, signature = str(AccessToken.for_user(user)).split(".")
    staff = UserFactory(is_staff=True)
    return f"{header}.{b64url({**real_payload(user), 'user_id': str(staff.pk)})}.{signature}"


def refresh_token(user) -> str:
    return str(RefreshToken.for_user(user))


def of_a_deactivated_user(user) -> str:
    token = str(AccessToken.for_user(user))
    user_deactivate(user=user)
    return token


def of_a_deleted_user(user) -> str:
    token = str(AccessToken.for_user(user))
    user.delete()
    return token


def truncated_signature(user) -> str:
    return str(AccessToken.for_user(user))[:-4]


FORGERIES = {
    "signed with another key": signed_with_another_key,
    "expired": expired,
    "alg none": alg_none,
    "alg none, the real signature kept": alg_none_keeping_the_signature,
    "another user's id under a real signature": another_users_id_under_a_real_signature,
    "a refresh token": refresh_token,
    "of a deactivated user": of_a_deactivated_user,
    "of a deleted user": of_a_deleted_user,
    "signature cut short": truncated_signature,
    "garbage": lambda user: "garbage",
    "three empty parts": lambda user: "..",
    "nothing after Bearer": lambda user: "",
}


def test_a_real_access_token_gets_in(api_client, user):
    # The control: what the forgeries below start from does work.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    response = api_client.get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_token_is_a_401_problem(api_client, user, forgery):
    email = user.email
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {FORGERIES[forgery](user)}")

    response = api_client.get(ME)

    assert response.status_code == 401, response.content
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["code"]
    assert body["type"].endswith(body["code"])
    assert email not in response.content.decode()


# --- Throttle and lockout under rotating X-Forwarded-For -------------------------------------


def forwarded_for(n: int) -> str:
    # Every shape a client can claim: one address, a chain, IPv6.
    return [f"203.0.113.{n}", f"198.51.100.{n}, 10.0.0.{n}", f"2001:db8::{n:x}"][n % 3]


def sign_in(client, email: str, password: str, n: int):
    return client.post(TOKEN, {"email": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded_for(n))


def test_credential_stuffing_from_claimed_addresses_meets_the_configured_throttle(api_client, settings):
    """Many accounts, one guess each (the lockout never triggers), each request claiming another
    client address: with no trusted proxy the shop sees one client, and throttles it at the
    configured "auth" rate."""
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert api_settings.NUM_PROXIES == 0
    allowed, _period = ScopedRateThrottle().parse_rate(ScopedRateThrottle.THROTTLE_RATES["auth"])

    statuses = [
        sign_in(api_client, f"victim{n}@example.com", "123456", n).status_code for n in range(allowed)
    ]
    refused = sign_in(api_client, "one-more@example.com", "123456", allowed)

    assert statuses == [401] * allowed
    assert refused.status_code == 429
    assert refused["Content-Type"] == PROBLEM
    assert refused.json()["code"] == "throttled"


@pytest.mark.usefixtures("unthrottled_auth")
def test_the_lockout_holds_at_its_configured_count_whatever_address_or_spelling(
    api_client, user, password, settings
):
    """With the throttle out of the way, rotating the claimed address and the spelling of the
    email buys no more guesses than ``LOGIN_LOCKOUT_FAILURES``."""
    assert settings.TRUSTED_PROXY_COUNT == 0
    failures = settings.LOGIN_LOCKOUT_FAILURES
    spellings = [user.email, user.email.upper(), f"  {user.email}  ", user.email.capitalize()]

    statuses = [
        sign_in(api_client, spellings[n % len(spellings)], f"guess-{n}", n).status_code
        for n in range(failures)
    ]
    locked = sign_in(APIClient(), user.email.upper(), password, failures)

    assert statuses == [401] * failures
    assert locked.status_code == 429
    assert locked["Content-Type"] == PROBLEM
    assert locked.json()["code"] == "account_locked"
    assert "access" not in locked.json()


# --- Equal answers for known and unknown accounts --------------------------------------------


@pytest.fixture
def known_accounts():
    """An address of each kind of account; ``unknown`` has none."""
    with override_settings(PASSWORD_HASHERS=HASHERS):
        active = UserFactory(email="active@example.com", password="her-own-password-1")
        pending = UserFactory(
            email="pending@example.com", password="her-own-password-1", is_active=False, email_verified=False
        )
        deactivated = user_deactivate(
            user=UserFactory(email="gone@example.com", password="her-own-password-1")
        )
        yield {"active": active.email, "unverified": pending.email, "deactivated": deactivated.email}


UNKNOWN = "nobody@example.com"
ASKS = {
    "a wrong password": ("/api/v1/auth/token/", {"password": "not-her-password"}),
    "a registration": ("/api/v1/auth/register/", {"password": GOOD_PASSWORD}),
    "a password reset": ("/api/v1/auth/password-reset/", {}),
}


def ask(what: str, email: str):
    path, data = ASKS[what]
    return APIClient().post(path, {"email": email, **data})


def answer(response) -> tuple:
    """All a caller sees, but the request id each answer has of its own."""
    headers = {name: value for name, value in response.headers.items() if name != "X-Request-ID"}
    return response.status_code, headers, response.content


@pytest.mark.usefixtures("unthrottled_auth")
@pytest.mark.parametrize("kind", ["active", "unverified", "deactivated"])
@pytest.mark.parametrize("what", list(ASKS))
def test_a_known_address_is_answered_like_an_unknown_one(known_accounts, what, kind):
    known = ask(what, known_accounts[kind])
    unknown = ask(what, UNKNOWN)
    assert known.status_code in (201, 202, 401)
    assert answer(known) == answer(unknown)


# --- Equal password work: the delay tells nothing either --------------------------------------


@pytest.mark.usefixtures("unthrottled_auth")
@override_settings(PASSWORD_HASHERS=HASHERS)
@pytest.mark.parametrize("what", ["a registration", "a password reset"])
def test_a_known_address_costs_the_same_password_work_as_an_unknown_one(known_accounts, what):
    costs = {kind: hashes_for(lambda email=email: ask(what, email)) for kind, email in known_accounts.items()}
    costs["unknown"] = hashes_for(lambda: ask(what, UNKNOWN))
    assert len(set(costs.values())) == 1, costs
    if what == "a registration":
        # The password is hashed whatever the address, so equal counts mean equal cost.
        assert costs["unknown"] >= 1, costs


@override_settings(PASSWORD_HASHERS=HASHERS)
def test_a_wrong_password_for_a_deactivated_account_costs_what_an_unknown_address_costs(known_accounts):
    # test_login_timing.py compares active, unverified and unknown addresses; a deactivated one too.
    costs = {
        kind: hashes_for(lambda email=email: ask("a wrong password", email))
        for kind, email in (("deactivated", known_accounts["deactivated"]), ("unknown", UNKNOWN))
    }
    assert costs["deactivated"] == costs["unknown"] >= 1, costs
