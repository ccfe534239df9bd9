"""Registration, verification, sign-in, sign-out and passwords, through the API."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.accounts.tokens import email_verification_tokens, password_reset_tokens
from tests.factories import UserFactory

from .conftest import link_token

User = get_user_model()
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled_auth")]

GOOD_PASSWORD = "Lecture-du-soir-2026"
PROBLEM = "application/problem+json"


def register(client, django_capture_on_commit_callbacks, **overrides):
    payload = {
        "email": "Zoe.Martin@Example.COM",
        "password": GOOD_PASSWORD,
        "first_name": "Zoé",
        "last_name": "Martin",
    }
    payload.update(overrides)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/v1/auth/register/", payload)


def obtain(client, email, password):
    return client.post("/api/v1/auth/token/", {"email": email, "password": password})


def forge_old_token(generator, user, seconds_ago: int) -> str:
    """A token as the generator would have made it ``seconds_ago`` (for expiry tests)."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    timestamp = generator._num_seconds(generator._now()) - seconds_ago
    token = generator._make_token_with_timestamp(user, timestamp, generator.secret)
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{token}"


# --- Registration and verification --------------------------------------------------------


def test_register_creates_an_inactive_account_and_emails_a_verification_link(
    api_client, outbox, django_capture_on_commit_callbacks, settings
):
    settings.FRONTEND_URL = "https://shop.example"
    response = register(api_client, django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.content
    assert response.json()["detail"].startswith("Check the inbox of this address")
    user = User.objects.get(email="Zoe.Martin@example.com")
    assert user.first_name == "Zoé"
    assert not user.is_active
    assert not user.email_verified
    assert user.check_password(GOOD_PASSWORD)

    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["Zoe.Martin@example.com"]
    assert "Confirmez votre adresse" in message.subject
    assert "\n" not in message.subject
    assert message.alternatives[0].mimetype == "text/html"
    assert "https://shop.example/accounts/verify-email/?token=" in message.body
    assert link_token(message, "https://shop.example/accounts/verify-email/")


def test_no_email_is_sent_when_registration_is_rolled_back(api_client, outbox):
    # Without the commit callbacks running, nothing goes out: the task is enqueued on commit.
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "a@example.com", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 201
    assert outbox == []


def test_unverified_account_cannot_sign_in_and_is_told_why(api_client, django_capture_on_commit_callbacks):
    register(api_client, django_capture_on_commit_callbacks)

    response = obtain(api_client, "zoe.martin@example.com", GOOD_PASSWORD)
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "email_not_verified"

    # A wrong password learns nothing about the account.
    wrong = obtain(api_client, "zoe.martin@example.com", "not-the-password")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "no_active_account"


def test_verification_activates_the_account_once(api_client, outbox, django_capture_on_commit_callbacks):
    register(api_client, django_capture_on_commit_callbacks)
    token = link_token(outbox[0], "/accounts/verify-email/")

    response = api_client.post("/api/v1/auth/verify-email/", {"token": token})
    assert response.status_code == 200, response.content
    user = User.objects.get(email__iexact="zoe.martin@example.com")
    assert user.is_active
    assert user.email_verified
    assert obtain(api_client, "zoe.martin@example.com", GOOD_PASSWORD).status_code == 200

    replay = api_client.post("/api/v1/auth/verify-email/", {"token": token})
    assert replay.status_code == 400
    assert replay["Content-Type"] == PROBLEM
    assert replay.json()["code"] == "invalid_token"


def test_expired_or_forged_verification_token_is_a_clear_400(api_client, settings):
    user = UserFactory(is_active=False, email_verified=False)
    settings.EMAIL_VERIFICATION_TIMEOUT = 3600
    expired = forge_old_token(email_verification_tokens, user, seconds_ago=3601)
    fresh = forge_old_token(email_verification_tokens, user, seconds_ago=60)
    reset_token = forge_old_token(password_reset_tokens, user, seconds_ago=0)

    for token in (
        expired,
        "garbage",
        "MQ.abc-def",
        reset_token,
        fresh[:-1] + ("0" if fresh[-1] != "0" else "1"),
    ):
        response = api_client.post("/api/v1/auth/verify-email/", {"token": token})
        assert response.status_code == 400, token
        assert response.json()["code"] == "invalid_token"
        assert response.json()["detail"]
    user.refresh_from_db()
    assert not user.is_active

    assert api_client.post("/api/v1/auth/verify-email/", {"token": fresh}).status_code == 200


def test_register_answers_a_taken_email_like_a_new_one_and_emails_its_owner(
    api_client, django_capture_on_commit_callbacks, outbox, settings
):
    settings.FRONTEND_URL = "https://shop.example"
    owner = UserFactory(email="taken@example.com", first_name="Inès", password="her-own-password-1")
    new = register(api_client, django_capture_on_commit_callbacks, email="fresh@example.com")
    outbox.clear()

    taken = register(api_client, django_capture_on_commit_callbacks, email="TAKEN@example.com")

    # Same status, same body: the caller cannot tell which address had an account.
    assert taken.status_code == new.status_code == 201
    assert taken.json() == new.json()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password("her-own-password-1")
    assert owner.first_name == "Inès"

    [notice] = outbox
    assert notice.to == ["taken@example.com"]
    assert notice.subject == "Vous avez déjà un compte à la Librairie"
    html = notice.alternatives[0].content
    for part in (notice.body, html):
        assert "Bonjour Inès" in part
        assert "https://shop.example/accounts/login/" in part
        assert "https://shop.example/accounts/password-reset/" in part
        assert "?token=" not in part


def test_registering_a_pending_address_again_sends_a_fresh_verification_link(
    api_client, django_capture_on_commit_callbacks, outbox
):
    register(api_client, django_capture_on_commit_callbacks)
    outbox.clear()
    again = register(api_client, django_capture_on_commit_callbacks, password="Another-Good-Pass-99")
    assert again.status_code == 201
    [notice] = outbox
    assert "déjà un compte" in notice.subject
    token = link_token(notice, "/accounts/verify-email/")
    assert api_client.post("/api/v1/auth/verify-email/", {"token": token}).status_code == 200
    # The first registration's password stands; the second one was not applied.
    assert obtain(api_client, "zoe.martin@example.com", GOOD_PASSWORD).status_code == 200
    assert obtain(api_client, "zoe.martin@example.com", "Another-Good-Pass-99").status_code == 401


def test_a_deactivated_address_is_told_to_contact_the_shop(
    api_client, django_capture_on_commit_callbacks, outbox
):
    from apps.accounts.services import user_deactivate

    user_deactivate(user=UserFactory(email="gone@example.com", is_active=False, email_verified=False))
    response = register(api_client, django_capture_on_commit_callbacks, email="gone@example.com")
    assert response.status_code == 201
    [notice] = outbox
    assert "désactivé" in notice.body
    assert "?token=" not in notice.body


def test_repeated_registrations_of_a_taken_address_send_one_notice(
    api_client, django_capture_on_commit_callbacks, outbox, user
):
    for client_ip in ("198.51.100.7", "203.0.113.9", "192.0.2.1"):
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post(
                "/api/v1/auth/register/",
                {"email": user.email, "password": GOOD_PASSWORD},
                REMOTE_ADDR=client_ip,
            )
        assert response.status_code == 201
    assert [message.to for message in outbox] == [[user.email]]


def test_register_still_refuses_a_bad_password_for_a_taken_address(
    api_client, django_capture_on_commit_callbacks, outbox, user
):
    # Validation does not depend on the address having an account, so it reveals nothing.
    taken = register(api_client, django_capture_on_commit_callbacks, email=user.email, password="short")
    new = register(api_client, django_capture_on_commit_callbacks, email="new@example.com", password="short")
    assert taken.status_code == new.status_code == 400
    assert taken.json()["errors"] == new.json()["errors"]
    assert outbox == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "trop court"),
        ("password123", "trop courant"),
        ("83749201948", "entièrement numérique"),
        ("zoemartin1", "trop semblable"),
    ],
)
def test_register_applies_the_password_validators_as_field_errors(
    api_client, django_capture_on_commit_callbacks, password, reason
):
    response = register(
        api_client, django_capture_on_commit_callbacks, password=password, email="zoemartin@example.com"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    errors = response.json()["errors"]
    assert list(errors) == ["password"]
    assert any(reason in message for message in errors["password"]), errors
    assert not User.objects.exists()


def test_register_ignores_attempts_to_set_privileges(api_client, django_capture_on_commit_callbacks):
    response = register(
        api_client,
        django_capture_on_commit_callbacks,
        is_staff=True,
        is_superuser=True,
        is_active=True,
        email_verified=True,
    )
    assert response.status_code == 201
    user = User.objects.get(email__iexact="zoe.martin@example.com")
    assert (user.is_staff, user.is_superuser, user.is_active, user.email_verified) == (
        False,
        False,
        False,
        False,
    )


def test_register_requires_email_and_password(api_client):
    response = api_client.post("/api/v1/auth/register/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password"}


def test_verification_can_be_resent_without_revealing_accounts(
    api_client, outbox, django_capture_on_commit_callbacks
):
    UserFactory(email="pending@example.com", is_active=False, email_verified=False)
    UserFactory(email="active@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            api_client.post("/api/v1/auth/verify-email/resend/", {"email": email})
            for email in ("PENDING@example.com", "active@example.com", "nobody@example.com")
        ]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.json()["detail"] for a in answers}) == 1
    assert [m.to for m in outbox] == [["pending@example.com"]]
    token = link_token(outbox[0], "/accounts/verify-email/")
    assert api_client.post("/api/v1/auth/verify-email/", {"token": token}).status_code == 200


# --- Sign-in, refresh, sign-out -----------------------------------------------------------


def test_disabled_account_cannot_sign_in_or_refresh(api_client, user, password):
    tokens = obtain(api_client, user.email, password).json()
    user.is_active = False
    user.save()

    response = obtain(api_client, user.email, password)
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"

    refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refresh.status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get("/api/v1/me/").status_code == 401


def test_refresh_of_a_deleted_account_is_401_not_500(api_client, user, password):
    tokens = obtain(api_client, user.email, password).json()
    user.delete()
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_logout_blacklists_the_refresh_token(api_client, user, password):
    tokens = obtain(api_client, user.email, password).json()

    response = api_client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]})
    assert response.status_code == 204

    refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refresh.status_code == 401
    assert refresh.json()["code"] == "token_not_valid"
    again = api_client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]})
    assert again.status_code == 401


def test_logout_refuses_garbage_and_access_tokens(api_client, user, password):
    tokens = obtain(api_client, user.email, password).json()
    assert api_client.post("/api/v1/auth/logout/", {"refresh": "garbage"}).status_code == 401
    assert api_client.post("/api/v1/auth/logout/", {"refresh": tokens["access"]}).status_code == 401
    assert api_client.post("/api/v1/auth/logout/", {}).status_code == 400
    # The real refresh token still works.
    assert api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 200


# --- Password reset -----------------------------------------------------------------------


def reset_request(client, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/v1/auth/password-reset/", {"email": email})


def test_password_reset_answers_202_whether_or_not_the_account_exists(
    api_client, user, outbox, django_capture_on_commit_callbacks
):
    known = reset_request(api_client, user.email.upper(), django_capture_on_commit_callbacks)
    unknown = reset_request(api_client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(outbox) == 1
    assert outbox[0].to == [user.email]
    assert "mot de passe" in outbox[0].subject


def test_password_reset_sends_nothing_to_a_disabled_account(
    api_client, outbox, django_capture_on_commit_callbacks
):
    disabled = UserFactory(is_active=False, email_verified=True)
    assert reset_request(api_client, disabled.email, django_capture_on_commit_callbacks).status_code == 202
    assert outbox == []


def test_password_reset_confirm_changes_the_password_and_signs_out_everywhere(
    api_client, user, password, outbox, django_capture_on_commit_callbacks
):
    phone = APIClient()
    laptop_tokens = obtain(api_client, user.email, password).json()
    phone_tokens = obtain(phone, user.email, password).json()
    reset_request(api_client, user.email, django_capture_on_commit_callbacks)
    token = link_token(outbox[0], "/accounts/password-reset/confirm/")

    response = api_client.post(
        "/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "Un-nouveau-Depart-77"}
    )
    assert response.status_code == 200, response.content

    assert obtain(api_client, user.email, password).status_code == 401
    assert obtain(api_client, user.email, "Un-nouveau-Depart-77").status_code == 200
    for tokens in (laptop_tokens, phone_tokens):
        refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert refresh.status_code == 401
        # Access tokens issued under the old password stop working as well.
        phone.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert phone.get("/api/v1/me/").status_code == 401

    replay = api_client.post(
        "/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "Encore-un-autre-88"}
    )
    assert replay.status_code == 400
    assert replay.json()["code"] == "invalid_token"


def test_password_reset_confirm_validates_the_new_password(
    api_client, user, password, outbox, django_capture_on_commit_callbacks
):
    reset_request(api_client, user.email, django_capture_on_commit_callbacks)
    token = link_token(outbox[0], "/accounts/password-reset/confirm/")
    response = api_client.post(
        "/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "123"}
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["new_password"]
    user.refresh_from_db()
    assert user.check_password(password)
    # The refused attempt did not spend the token.
    ok = api_client.post(
        "/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "Un-nouveau-Depart-77"}
    )
    assert ok.status_code == 200


def test_password_reset_token_expires(api_client, user, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    token = forge_old_token(password_reset_tokens, user, seconds_ago=3601)
    response = api_client.post(
        "/api/v1/auth/password-reset/confirm/", {"token": token, "new_password": "Un-nouveau-Depart-77"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


# --- Password change ----------------------------------------------------------------------


def test_password_change_needs_the_old_password(api_client, user, password):
    access = obtain(api_client, user.email, password).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    wrong = api_client.post(
        "/api/v1/auth/password-change/", {"old_password": "nope", "new_password": "Un-nouveau-Depart-77"}
    )
    assert wrong.status_code == 400
    assert list(wrong.json()["errors"]) == ["old_password"]

    weak = api_client.post("/api/v1/auth/password-change/", {"old_password": password, "new_password": "abc"})
    assert weak.status_code == 400
    assert list(weak.json()["errors"]) == ["new_password"]
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_change_signs_other_devices_out_and_returns_new_tokens(api_client, user, password):
    other_device = obtain(APIClient(), user.email, password).json()
    access = obtain(api_client, user.email, password).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = api_client.post(
        "/api/v1/auth/password-change/", {"old_password": password, "new_password": "Un-nouveau-Depart-77"}
    )
    assert response.status_code == 200, response.content
    new_tokens = response.json()
    assert set(new_tokens) == {"access", "refresh"}
    user.refresh_from_db()
    assert user.check_password("Un-nouveau-Depart-77")

    fresh = APIClient()
    assert fresh.post("/api/v1/auth/token/refresh/", {"refresh": other_device["refresh"]}).status_code == 401
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {new_tokens['access']}")
    assert fresh.get("/api/v1/me/").status_code == 200
    assert fresh.post("/api/v1/auth/token/refresh/", {"refresh": new_tokens["refresh"]}).status_code == 200


def test_password_change_requires_authentication(api_client):
    response = api_client.post("/api/v1/auth/password-change/", {"old_password": "a", "new_password": "b"})
    assert response.status_code == 401
