"""Per-account lockout: rotating client addresses buys no more guesses, and reveals no account."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _three_failures(settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 900


def token(api_client, email: str, password: str, n: int):
    # Each attempt from another address: the per-address throttle never sees a repeat.
    return api_client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, REMOTE_ADDR=f"198.51.100.{n}"
    )


def test_after_repeated_failures_the_account_refuses_even_the_right_password(api_client, user, password):
    assert [token(api_client, user.email, "guess", n).status_code for n in range(3)] == [401, 401, 401]

    locked = token(api_client, user.email, password, 10)

    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"


def test_an_unknown_address_locks_the_same_way(api_client):
    answers = [token(api_client, "nobody@example.com", "guess", n).status_code for n in range(3)]
    locked = token(api_client, "nobody@example.com", "guess", 10)
    assert answers == [401, 401, 401]
    assert (locked.status_code, locked.json()["code"]) == (429, "account_locked")


def test_a_success_clears_the_count(api_client, user, password):
    token(api_client, user.email, "guess", 1)
    token(api_client, user.email, "guess", 2)
    assert token(api_client, user.email, password, 3).status_code == 200
    token(api_client, user.email, "guess", 4)
    token(api_client, user.email, "guess", 5)
    assert token(api_client, user.email, password, 6).status_code == 200


def test_the_sign_in_page_locks_too(client, user, password):
    for n in range(3):
        client.post(
            "/accounts/login/", {"username": user.email, "password": "guess"}, REMOTE_ADDR=f"203.0.113.{n}"
        )
    page = client.post(
        "/accounts/login/", {"username": user.email, "password": password}, REMOTE_ADDR="203.0.113.50"
    )
    assert page.status_code == 200  # the form again, not signed in
    assert "_auth_user_id" not in client.session
    assert "Trop de connexions refusées pour cette adresse" in page.content.decode()
