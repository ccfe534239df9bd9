"""The profile (``me/``) and the address book (``me/addresses/``), through the API."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Address
from apps.accounts.selectors import address_get_for_user
from tests.factories import AddressFactory

from .conftest import link_token

User = get_user_model()
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled_auth")]

HOME = {
    "kind": "shipping",
    "name": "Zoé Martin",
    "line1": "12 rue des Libraires",
    "line2": "Bâtiment B",
    "postal_code": "75005",
    "city": "Paris",
    "country": "fr",
    "phone": "+33 1 23 45 67 89",
}


def make_address(client, **overrides):
    response = client.post("/api/v1/me/addresses/", {**HOME, **overrides})
    assert response.status_code == 201, response.content
    return response.json()


# --- Profile ------------------------------------------------------------------------------


def test_me_requires_authentication(api_client):
    for method in ("get", "patch"):
        response = getattr(api_client, method)("/api/v1/me/")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"


def test_me_shows_the_signed_in_user_only(user_client, user, other_user):
    body = user_client.get("/api/v1/me/").json()
    assert body["id"] == user.pk
    assert body["email"] == user.email
    assert set(body) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "email_verified",
        "pending_email",
        "date_joined",
    }


def test_me_patch_changes_names(user_client, user):
    response = user_client.patch("/api/v1/me/", {"first_name": " Zoé ", "last_name": "Martin"})
    assert response.status_code == 200
    assert response.json()["first_name"] == "Zoé"
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Zoé", "Martin")


def test_me_patch_cannot_grant_privileges(user_client, user):
    response = user_client.patch(
        "/api/v1/me/",
        {
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "email_verified": False,
            "id": 999,
            "password": "x",
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.is_active, user.email_verified, user.pk) == (
        False,
        False,
        True,
        True,
        user.pk,
    )
    assert user.check_password("correct-horse-battery-staple")


def test_email_change_waits_for_verification_of_the_new_address(
    user_client, user, password, outbox, django_capture_on_commit_callbacks, api_client
):
    old_email = user.email
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.patch("/api/v1/me/", {"email": "Nouvelle@Example.com"})
    assert response.status_code == 200
    assert response.json()["email"] == old_email
    assert response.json()["pending_email"] == "Nouvelle@example.com"
    user.refresh_from_db()
    assert user.email == old_email
    # The old address still signs in until the new one is confirmed.
    assert (
        api_client.post("/api/v1/auth/token/", {"email": old_email, "password": password}).status_code == 200
    )

    assert [m.to for m in outbox] == [["Nouvelle@example.com"]]
    token = link_token(outbox[0], "/accounts/verify-email/")
    assert api_client.post("/api/v1/auth/verify-email/", {"token": token}).status_code == 200

    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified, user.is_active) == (
        "Nouvelle@example.com",
        "",
        True,
        True,
    )
    assert (
        api_client.post("/api/v1/auth/token/", {"email": old_email, "password": password}).status_code == 401
    )
    assert (
        api_client.post(
            "/api/v1/auth/token/", {"email": "nouvelle@example.com", "password": password}
        ).status_code
        == 200
    )
    assert api_client.post("/api/v1/auth/verify-email/", {"token": token}).status_code == 400


def test_email_change_to_a_taken_address_reveals_nothing_and_sends_no_link(
    user_client, user, other_user, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        taken = user_client.patch("/api/v1/me/", {"email": other_user.email.upper()})
    assert outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        free = user_client.patch("/api/v1/me/", {"email": "nobody-has-this@example.com"})

    assert taken.status_code == free.status_code == 200
    assert set(taken.json()) == set(free.json())
    assert taken.json()["pending_email"] == other_user.email.upper().replace("@EXAMPLE.COM", "@example.com")
    assert [m.to for m in outbox] == [["nobody-has-this@example.com"]]
    user.refresh_from_db()
    assert user.email != other_user.email


def test_email_change_link_fails_if_the_address_was_taken_meanwhile(
    user_client, user, outbox, django_capture_on_commit_callbacks, api_client
):
    with django_capture_on_commit_callbacks(execute=True):
        user_client.patch("/api/v1/me/", {"email": "contested@example.com"})
    token = link_token(outbox[0], "/accounts/verify-email/")
    User.objects.create_user("Contested@example.com", "some-Password-123", email_verified=True)

    response = api_client.post("/api/v1/auth/verify-email/", {"token": token})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email != "contested@example.com"


def test_a_newer_email_change_spends_the_older_link(
    user_client, user, outbox, django_capture_on_commit_callbacks, api_client
):
    with django_capture_on_commit_callbacks(execute=True):
        user_client.patch("/api/v1/me/", {"email": "first@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        user_client.patch("/api/v1/me/", {"email": "second@example.com"})
    assert [m.to for m in outbox] == [["first@example.com"], ["second@example.com"]]
    first, second = (link_token(m, "/accounts/verify-email/") for m in outbox)

    assert api_client.post("/api/v1/auth/verify-email/", {"token": first}).status_code == 400
    assert api_client.post("/api/v1/auth/verify-email/", {"token": second}).status_code == 200
    user.refresh_from_db()
    assert user.email == "second@example.com"


def test_an_overtaken_email_change_sends_no_link(user_client, outbox, django_capture_on_commit_callbacks):
    # Both requests commit before the first email goes out: the first address must not receive
    # a link (it would verify the second one).
    with django_capture_on_commit_callbacks(execute=True):
        user_client.patch("/api/v1/me/", {"email": "first@example.com"})
        user_client.patch("/api/v1/me/", {"email": "second@example.com"})
    assert [m.to for m in outbox] == [["second@example.com"]]


def test_asking_for_the_current_email_cancels_a_pending_change(user_client, user):
    user_client.patch("/api/v1/me/", {"email": "later@example.com"})
    response = user_client.patch("/api/v1/me/", {"email": user.email.upper()})
    assert response.status_code == 200
    assert response.json()["pending_email"] is None


def test_me_rejects_put(user_client):
    assert user_client.put("/api/v1/me/", {"first_name": "x"}).status_code == 405


# --- Addresses ----------------------------------------------------------------------------


def test_addresses_require_authentication(api_client):
    assert api_client.get("/api/v1/me/addresses/").status_code == 401
    assert api_client.post("/api/v1/me/addresses/", HOME).status_code == 401


def test_create_address_normalises_the_country_and_makes_the_first_one_default(user_client, user):
    body = make_address(user_client)
    assert body["country"] == "FR"
    assert body["is_default"] is True
    assert {k: body[k] for k in ("kind", "name", "line1", "line2", "postal_code", "city", "phone")} == {
        k: HOME[k] for k in ("kind", "name", "line1", "line2", "postal_code", "city", "phone")
    }
    assert Address.objects.get(pk=body["id"]).user == user


@pytest.mark.parametrize(
    ("field", "value"),
    [("country", "XX"), ("country", "FRA"), ("phone", "call me"), ("kind", "holiday"), ("postal_code", "")],
)
def test_invalid_address_fields_are_field_errors(user_client, field, value):
    response = user_client.post("/api/v1/me/addresses/", {**HOME, field: value})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not Address.objects.exists()


def test_one_default_per_kind(user_client, user):
    home = make_address(user_client)
    office = make_address(user_client, line1="1 place du Travail", is_default=True)
    billing = make_address(user_client, kind="billing")

    assert office["is_default"] is True
    assert billing["is_default"] is True  # first of its kind
    assert user_client.get(f"/api/v1/me/addresses/{home['id']}/").json()["is_default"] is False
    defaults = Address.objects.filter(user=user, is_default=True)
    assert sorted(defaults.values_list("kind", flat=True)) == ["billing", "shipping"]

    response = user_client.patch(f"/api/v1/me/addresses/{home['id']}/", {"is_default": True})
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    assert Address.objects.get(pk=office["id"]).is_default is False


def test_database_allows_only_one_default_per_kind(user):
    from django.db import IntegrityError, transaction

    # Rows written straight through the manager on purpose: the database's own constraint is
    # what is tested here, not the address services (which keep one default themselves).
    Address.objects.create(
        user=user,
        kind="shipping",
        name="a",
        line1="a",
        postal_code="1",
        city="c",
        country="FR",
        is_default=True,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(
            user=user,
            kind="shipping",
            name="b",
            line1="b",
            postal_code="1",
            city="c",
            country="FR",
            is_default=True,
        )


def test_deleting_the_default_promotes_another(user_client, user):
    first = make_address(user_client)
    second = make_address(user_client, line1="2 rue B")
    assert user_client.delete(f"/api/v1/me/addresses/{first['id']}/").status_code == 204
    assert not Address.objects.filter(pk=first["id"]).exists()
    assert Address.objects.get(pk=second["id"]).is_default is True


def test_list_shows_only_own_addresses(user_client, user, other_user):
    mine = make_address(user_client)
    AddressFactory(user=other_user, kind="shipping")
    body = user_client.get("/api/v1/me/addresses/").json()
    assert body["count"] == 1
    assert [a["id"] for a in body["results"]] == [mine["id"]]


def test_another_users_address_is_404_for_every_method(user_client, other_user):
    theirs = AddressFactory(user=other_user, kind="shipping", line1="secret", is_default=True)
    url = f"/api/v1/me/addresses/{theirs.pk}/"
    for response in (
        user_client.get(url),
        user_client.patch(url, {"line1": "hacked", "is_default": False}),
        user_client.delete(url),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert "secret" not in response.content.decode()
    theirs.refresh_from_db()
    assert (theirs.line1, theirs.is_default) == ("secret", True)
    assert user_client.get("/api/v1/me/addresses/999999/").status_code == 404


def test_address_cannot_be_moved_to_another_user(user_client, user, other_user):
    address = make_address(user_client)
    response = user_client.patch(
        f"/api/v1/me/addresses/{address['id']}/", {"user": other_user.pk, "id": 12345}
    )
    assert response.status_code == 200
    stored = Address.objects.get(pk=address["id"])
    assert stored.user == user


def test_patch_validates_and_loses_nothing(user_client):
    address = make_address(user_client)
    response = user_client.patch(f"/api/v1/me/addresses/{address['id']}/", {"city": "Lyon", "country": "ZZ"})
    assert response.status_code == 400
    assert Address.objects.get(pk=address["id"]).city == "Paris"


def test_address_selector_for_orders(user, other_user):
    mine = AddressFactory(user=user, kind="billing")
    assert address_get_for_user(user=user, address_id=mine.pk) == mine
    with pytest.raises(Address.DoesNotExist):
        address_get_for_user(user=other_user, address_id=mine.pk)


def test_addresses_endpoints_are_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    for path, methods in {
        "/api/v1/auth/register/": {"post"},
        "/api/v1/auth/verify-email/": {"post"},
        "/api/v1/auth/logout/": {"post"},
        "/api/v1/auth/password-reset/": {"post"},
        "/api/v1/auth/password-reset/confirm/": {"post"},
        "/api/v1/auth/password-change/": {"post"},
        "/api/v1/me/": {"get", "patch"},
        "/api/v1/me/addresses/": {"get", "post"},
        "/api/v1/me/addresses/{id}/": {"get", "patch", "delete"},
    }.items():
        assert methods <= set(paths[path]), path
        assert "put" not in paths[path]
        for method in methods - {"get", "delete"}:
            assert "requestBody" in paths[path][method], (path, method)
    assert "201" in paths["/api/v1/auth/register/"]["post"]["responses"]
    assert "202" not in paths["/api/v1/auth/register/"]["post"]["responses"]
    assert "202" in paths["/api/v1/auth/password-reset/"]["post"]["responses"]
    assert "429" in paths["/api/v1/auth/password-reset/"]["post"]["responses"]
    assert "404" in paths["/api/v1/me/addresses/{id}/"]["get"]["responses"]
