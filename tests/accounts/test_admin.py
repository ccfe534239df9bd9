"""The Django admin for accounts and the Administrators group."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from apps.accounts.permissions import ADMINISTRATORS_GROUP
from tests.factories import AddressFactory, UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, password):
    admin = UserFactory(email="boss@librairie.example", password=password, is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.admin_user = admin
    return client


@pytest.fixture
def staff_admin_client(client, password):
    """A staff member whose only rights come from the Administrators group."""
    staff = UserFactory(email="staff@librairie.example", password=password, is_staff=True)
    staff.groups.add(Group.objects.get(name=ADMINISTRATORS_GROUP))
    client.force_login(staff)
    client.admin_user = staff
    return client


def test_user_list_searches_and_filters(superuser_client):
    UserFactory(email="alice@example.com", first_name="Alice")
    UserFactory(email="bob@example.com", is_active=False, email_verified=False)

    found = superuser_client.get("/admin/accounts/user/", {"q": "alice"}).content.decode()
    assert "alice@example.com" in found
    assert "bob@example.com" not in found

    inactive = superuser_client.get("/admin/accounts/user/", {"is_active__exact": "0"}).content.decode()
    assert "bob@example.com" in inactive
    assert "alice@example.com" not in inactive
    unverified = superuser_client.get(
        "/admin/accounts/user/", {"email_verified__exact": "0"}
    ).content.decode()
    assert "bob@example.com" in unverified


def test_user_page_shows_addresses_inline(superuser_client, user):
    AddressFactory(
        user=user,
        kind="shipping",
        name="Zoé",
        line1="12 rue des Libraires",
        postal_code="75005",
        city="Paris",
        country="FR",
    )
    page = superuser_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "12 rue des Libraires" in page
    assert "addresses-TOTAL_FORMS" in page


def test_deactivate_action_disables_the_account_and_ends_its_sessions(superuser_client, user, password):
    api = APIClient()
    tokens = api.post("/api/v1/auth/token/", {"email": user.email, "password": password}).json()

    response = superuser_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [user.pk, superuser_client.admin_user.pk]},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    # The administrator did not lock themselves out.
    superuser_client.admin_user.refresh_from_db()
    assert superuser_client.admin_user.is_active

    assert api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/v1/me/").status_code == 401
    login = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": password})
    assert login.json()["code"] == "account_disabled"


def test_administrators_group_carries_the_staff_permissions():
    group = Group.objects.get(name=ADMINISTRATORS_GROUP)
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    for model in ("book", "author", "publisher"):
        for action in ("add", "change", "delete", "view"):
            assert ("catalog", f"{action}_{model}") in codenames
    assert ("categories", "change_category") in codenames
    assert {("accounts", "view_user"), ("accounts", "change_user"), ("cart", "view_cart")} <= codenames
    # Staff may not create or delete accounts, nor touch permissions.
    assert ("accounts", "delete_user") not in codenames
    assert not any(label == "auth" for label, _ in codenames)


def test_group_member_runs_the_catalogue_but_cannot_grant_privileges(staff_admin_client, user):
    client = staff_admin_client
    assert client.admin_user.has_perms(
        ["catalog.change_book", "catalog.add_author", "categories.delete_category"]
    )
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/auth/group/").status_code == 403

    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="is_active"' in page
    # Posting privileges anyway changes nothing.
    response = client.post(
        f"/admin/accounts/user/{client.admin_user.pk}/change/",
        {
            "email": client.admin_user.email,
            "first_name": "x",
            "last_name": "y",
            "is_active": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.admin_user.refresh_from_db()
    assert client.admin_user.first_name == "x"  # the form was accepted…
    assert not client.admin_user.is_superuser  # …without the privilege


def test_group_migration_creates_missing_permissions_and_reverses():
    # As on a fresh database: the migration runs before post_migrate has made any permission.
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = import_module("apps.accounts.migrations.0003_administrators_group")
    state_apps = (
        MigrationExecutor(connection).loader.project_state(("accounts", "0003_administrators_group")).apps
    )
    Group.objects.filter(name=ADMINISTRATORS_GROUP).delete()
    Permission.objects.filter(content_type__app_label__in=["catalog", "categories", "cart"]).delete()

    migration.create_administrators(state_apps, None)
    migration.create_administrators(state_apps, None)  # safe to run twice

    group = Group.objects.get(name=ADMINISTRATORS_GROUP)
    assert group.permissions.filter(content_type__app_label="catalog", codename="change_book").exists()
    assert group.permissions.filter(content_type__app_label="categories").count() == 4
    migration.delete_administrators(state_apps, None)
    assert not Group.objects.filter(name=ADMINISTRATORS_GROUP).exists()
