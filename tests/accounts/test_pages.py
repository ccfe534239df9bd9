"""Storefront account pages, driven like a browser: CSRF enforced, forms posted with their token."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import Address
from tests.factories import AddressFactory, UserFactory

from .conftest import link_token

User = get_user_model()
pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEW_PASSWORD = "Lecture-du-soir-2026"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_from(response) -> str:
    match = CSRF_INPUT.search(response.content.decode())
    assert match, "the page has no CSRF token in its form"
    return match.group(1)


def submit(browser: Client, url: str, data: dict, *, page: str | None = None, **extra):
    """GET the page holding the form, then POST the form with its CSRF token."""
    token = csrf_from(browser.get(page or url))
    return browser.post(url, {**data, "csrfmiddlewaretoken": token}, **extra)


def signed_in(browser: Client, user, password: str) -> Client:
    response = submit(browser, "/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302
    return browser


# --- Login, logout ------------------------------------------------------------------------


def test_login_page_signs_in_with_csrf(browser, user, password):
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_username">Adresse email' in html
    assert 'type="password"' in html

    response = submit(browser, "/accounts/login/", {"username": user.email.upper(), "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert browser.get("/accounts/profile/").status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_post_without_csrf_token_is_refused(browser, user, password):
    response = browser.post("/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_login_page_explains_an_unverified_account(browser, password):
    pending = UserFactory(password=password, is_active=False, email_verified=False)
    response = submit(browser, "/accounts/login/", {"username": pending.email, "password": password})
    assert response.status_code == 200
    assert "pas encore confirmée" in response.content.decode()
    wrong = submit(browser, "/accounts/login/", {"username": pending.email, "password": "nope"})
    assert "pas encore confirmée" not in wrong.content.decode()


def test_logout_is_a_post_and_signs_out(browser, user, password):
    signed_in(browser, user, password)
    home = browser.get("/")
    assert "Se déconnecter" in home.content.decode()
    response = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": csrf_from(home)})
    assert response.status_code == 302
    assert browser.get("/accounts/profile/").status_code == 302
    assert "Se connecter" in browser.get("/").content.decode()


def test_account_pages_redirect_anonymous_visitors_to_login(browser):
    for url in (
        "/accounts/profile/",
        "/accounts/addresses/",
        "/accounts/password/",
        "/accounts/addresses/new/",
    ):
        response = browser.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


# --- Registration and verification --------------------------------------------------------


def test_register_then_verify_through_the_pages(
    browser, outbox, django_capture_on_commit_callbacks, password
):
    form = {
        "email": "Lea@Example.com",
        "first_name": "Léa",
        "last_name": "Dupont",
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(browser, "/accounts/register/", form)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/register/done/"
    user = User.objects.get(email="Lea@example.com")
    assert not user.is_active

    token = link_token(outbox[0], "/accounts/verify-email/")
    landing = browser.get(f"/accounts/verify-email/?token={token}")
    assert landing.status_code == 200
    # Opening the link does not verify by itself (mail scanners open links too).
    user.refresh_from_db()
    assert not user.is_active
    done = browser.post(
        "/accounts/verify-email/", {"token": token, "csrfmiddlewaretoken": csrf_from(landing)}
    )
    assert done.status_code == 200
    assert "est confirmée" in done.content.decode()
    user.refresh_from_db()
    assert user.is_active
    assert user.email_verified

    again = browser.post(
        "/accounts/verify-email/", {"token": token, "csrfmiddlewaretoken": csrf_from(landing)}
    )
    assert again.status_code == 400
    assert "pas valable" in again.content.decode()
    signed_in(Client(enforce_csrf_checks=True), user, NEW_PASSWORD)


def test_register_page_shows_field_errors(browser, user):
    response = submit(
        browser,
        "/accounts/register/",
        {"email": user.email, "new_password1": "123", "new_password2": "1234"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "ne correspondent pas" in html
    assert User.objects.count() == 1

    response = submit(
        browser, "/accounts/register/", {"email": user.email, "new_password1": "123", "new_password2": "123"}
    )
    html = response.content.decode()
    assert "trop court" in html
    # A taken address is not reported on the form: registration reveals no account.
    assert "existe déjà" not in html
    assert "already exists" not in html
    assert User.objects.count() == 1


def test_register_page_answers_alike_for_a_taken_address(
    browser, user, outbox, django_capture_on_commit_callbacks
):
    form = {"email": user.email.upper(), "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(browser, "/accounts/register/", form)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/register/done/"
    assert User.objects.count() == 1
    [notice] = outbox
    assert notice.to == [user.email]
    assert "déjà un compte" in notice.subject


# --- Password reset -----------------------------------------------------------------------


def test_password_reset_through_the_pages(
    browser, user, password, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(browser, "/accounts/password-reset/", {"email": user.email})
    assert response["Location"] == "/accounts/password-reset/done/"
    token = link_token(outbox[0], "/accounts/password-reset/confirm/")

    landing = browser.get(f"/accounts/password-reset/confirm/?token={token}")
    # The token leaves the address bar at once.
    assert landing.status_code == 302
    assert landing["Location"] == "/accounts/password-reset/confirm/"
    response = submit(
        browser,
        "/accounts/password-reset/confirm/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/complete/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    stale = Client(enforce_csrf_checks=True)
    stale.get(f"/accounts/password-reset/confirm/?token={token}")
    assert stale.get("/accounts/password-reset/confirm/").status_code == 400


def test_password_reset_page_does_not_reveal_accounts(browser, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(browser, "/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password-reset/done/"
    assert outbox == []


# --- Profile, password, addresses ---------------------------------------------------------


def test_profile_page_updates_names_and_asks_to_verify_a_new_email(
    browser, user, password, outbox, django_capture_on_commit_callbacks
):
    signed_in(browser, user, password)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            browser,
            "/accounts/profile/",
            {"first_name": "Zoé", "last_name": "Martin", "email": "new@example.com"},
        )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.pending_email) == ("Zoé", "new@example.com")
    assert [m.to for m in outbox] == [["new@example.com"]]
    page = browser.get("/accounts/profile/").content.decode()
    assert "new@example.com" in page

    # Saving the names again keeps the pending change.
    submit(browser, "/accounts/profile/", {"first_name": "Zoe", "last_name": "Martin", "email": user.email})
    user.refresh_from_db()
    assert (user.first_name, user.pending_email) == ("Zoe", "new@example.com")


def test_password_change_page_keeps_the_session(browser, user, password):
    signed_in(browser, user, password)
    response = submit(
        browser,
        "/accounts/password/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert browser.get("/accounts/profile/").status_code == 200


def test_address_pages_create_edit_delete(browser, user, password):
    signed_in(browser, user, password)
    data = {
        "kind": "shipping",
        "name": "Zoé Martin",
        "line1": "12 rue des Libraires",
        "postal_code": "75005",
        "city": "Paris",
        "country": "fr",
        "phone": "01 23 45 67 89",
    }
    assert submit(browser, "/accounts/addresses/new/", data).status_code == 302
    address = Address.objects.get(user=user)
    assert (address.country, address.is_default) == ("FR", True)
    listing = browser.get("/accounts/addresses/").content.decode()
    assert "12 rue des Libraires" in listing

    bad = submit(browser, f"/accounts/addresses/{address.pk}/", {**data, "country": "XX"})
    assert bad.status_code == 200
    assert "ISO 3166-1" in bad.content.decode()

    assert submit(browser, f"/accounts/addresses/{address.pk}/", {**data, "city": "Lyon"}).status_code == 302
    address.refresh_from_db()
    assert address.city == "Lyon"

    response = submit(browser, f"/accounts/addresses/{address.pk}/delete/", {})
    assert response.status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()


def test_address_pages_of_another_user_are_404(browser, user, password, other_user):
    theirs = AddressFactory(user=other_user, kind="billing", line1="secret")
    signed_in(browser, user, password)
    assert browser.get(f"/accounts/addresses/{theirs.pk}/").status_code == 404
    token = csrf_from(browser.get("/accounts/addresses/new/"))
    assert (
        browser.post(f"/accounts/addresses/{theirs.pk}/delete/", {"csrfmiddlewaretoken": token}).status_code
        == 404
    )
    assert "secret" not in browser.get("/accounts/addresses/").content.decode()
    assert Address.objects.filter(pk=theirs.pk).exists()
