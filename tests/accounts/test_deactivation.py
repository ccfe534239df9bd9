"""An account an administrator deactivates stays deactivated, verified or not, whatever links it holds."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from tests.factories import UserFactory

from .conftest import link_token
from .test_pages import csrf_from

User = get_user_model()
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled_auth")]

PASSWORD = "Lecture-du-soir-2026"
PROBLEM = "application/problem+json"


@pytest.fixture
def superuser_client(client, password):
    admin = UserFactory(email="boss@librairie.example", password=password, is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin_user = admin
    return client


@pytest.fixture
def registered(api_client, outbox, django_capture_on_commit_callbacks):
    """A new account, never verified, and the token of the link it was emailed."""
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register/", {"email": "spam@example.com", "password": PASSWORD}
        )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="spam@example.com")
    token = link_token(outbox[0], "/accounts/verify-email/")
    outbox.clear()
    return user, token


def verify(token: str):
    return APIClient().post("/api/v1/auth/verify-email/", {"token": token})


def admin_change_form(user, **changes) -> dict:
    """The admin change form of ``user`` as a superuser would post it, with ``changes``."""
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email_verified": "on" if user.email_verified else "",
        "pending_email": user.pending_email,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_the_link_of_an_account_deactivated_by_the_service_is_a_clear_400(api_client, registered):
    user, token = registered
    services.user_deactivate(user=user)

    response = verify(token)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "account_disabled"
    assert "disabled" in body["detail"]
    user.refresh_from_db()
    assert not user.is_active
    assert not user.email_verified
    # Its owner, who knows the password, is told the account is disabled, not to verify it.
    login = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
    assert login.status_code == 403
    assert login.json()["code"] == "account_disabled"


def test_the_admin_action_deactivates_an_unverified_account_and_its_link_stops_working(
    superuser_client, registered
):
    user, token = registered
    response = superuser_client.post(
        "/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [user.pk]}, follow=True
    )
    assert "1 user(s) deactivated." in response.content.decode()
    user.refresh_from_db()
    assert user.deactivated_at is not None

    assert verify(token).json()["code"] == "account_disabled"
    # The storefront page the email links to says so too, and offers no new link.
    browser = Client(enforce_csrf_checks=True)
    landing = browser.get(f"/accounts/verify-email/?token={token}")
    page = browser.post(
        "/accounts/verify-email/", {"token": token, "csrfmiddlewaretoken": csrf_from(landing)}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "a été désactivé" in html
    assert "Recevoir un nouveau lien" not in html
    user.refresh_from_db()
    assert not user.is_active

    listed = superuser_client.get(
        "/admin/accounts/user/", {"deactivated_at__isnull": "False"}
    ).content.decode()
    assert "spam@example.com" in listed


def test_a_deactivated_account_is_sent_no_new_link(
    api_client, registered, outbox, django_capture_on_commit_callbacks
):
    user, _token = registered
    services.user_deactivate(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/auth/verify-email/resend/", {"email": user.email})
    assert response.status_code == 202
    assert outbox == []


def test_a_link_queued_before_the_deactivation_is_not_sent(
    api_client, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        api_client.post("/api/v1/auth/register/", {"email": "late@example.com", "password": PASSWORD})
    services.user_deactivate(user=User.objects.get(email="late@example.com"))
    for callback in queued:
        callback()
    assert outbox == []


def test_reactivation_lets_the_account_in_and_does_not_revive_the_old_link(
    superuser_client, registered, api_client
):
    user, token = registered
    services.user_deactivate(user=user)
    superuser_client.post(
        "/admin/accounts/user/", {"action": "activate_users", "_selected_action": [user.pk]}
    )
    user.refresh_from_db()
    assert user.is_active
    assert user.deactivated_at is None
    assert (
        api_client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}).status_code == 200
    )
    # The link was made from the account's state before; it is spent.
    assert verify(token).json()["code"] == "invalid_token"


def test_unticking_active_in_the_change_form_is_a_recorded_deactivation(superuser_client, password):
    customer = UserFactory(email="reader@example.com", password=password)
    tokens = APIClient().post("/api/v1/auth/token/", {"email": customer.email, "password": password}).json()

    response = superuser_client.post(
        f"/admin/accounts/user/{customer.pk}/change/",
        admin_change_form(customer, is_active="", first_name="Zoé"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.first_name == "Zoé"
    assert not customer.is_active
    assert customer.deactivated_at is not None
    # Its sessions ended, as with the action.
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401

    response = superuser_client.post(
        f"/admin/accounts/user/{customer.pk}/change/", admin_change_form(customer, is_active="on")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.is_active
    assert customer.deactivated_at is None


def test_the_change_form_shows_when_the_account_was_deactivated(superuser_client, registered):
    user, _token = registered
    services.user_deactivate(user=user)
    page = superuser_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Deactivated at" in page
    assert 'name="deactivated_at"' not in page  # recorded by the services, not typed in


def test_the_database_refuses_an_active_deactivated_account(user):
    user.deactivated_at = timezone.now()
    user.is_active = True
    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()


def test_the_migration_records_past_deactivations():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("apps.accounts.migrations.0004_user_deactivated_at")
    disabled = UserFactory(is_active=False, email_verified=True)
    pending = UserFactory(is_active=False, email_verified=False)
    active = UserFactory()

    migration.record_past_deactivations(apps, None)

    for account in (disabled, pending, active):
        account.refresh_from_db()
    assert disabled.deactivated_at is not None
    assert pending.deactivated_at is None
    assert active.deactivated_at is None
