import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tests.factories import UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_the_case():
    User.objects.create_user("Alice@Example.com", "pw-123456789")
    with pytest.raises(ValidationError):
        User.objects.create_user("alice@example.COM", "pw-123456789")
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="ALICE@EXAMPLE.COM").save()


def test_login_by_email_is_case_insensitive(password):
    user = UserFactory(email="Bob.Martin@example.fr", password=password)
    assert authenticate(email="bob.martin@EXAMPLE.FR", password=password) == user
    assert authenticate(email="bob.martin@example.fr", password="wrong") is None


def test_domain_part_is_normalised():
    user = User.objects.create_user("claire@EXAMPLE.org", "pw-123456789")
    assert user.email == "claire@example.org"


def test_passwords_are_hashed_with_argon2(settings):
    from bookstore import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = User.objects.create_user("dan@example.com", "pw-123456789")
    assert user.password.startswith("argon2$")
    assert user.check_password("pw-123456789")


def test_createsuperuser_works_with_the_email_login(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-pass-123456")
    call_command("createsuperuser", "--noinput", "--email", "admin@librairie.example", verbosity=0)
    admin = User.objects.get(email="admin@librairie.example")
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password("admin-pass-123456")


def test_staff_can_sign_in_to_the_admin(client, password):
    UserFactory(email="staff@example.com", password=password, is_staff=True, is_superuser=True)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "STAFF@example.com", "password": password}
    )
    assert response.status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 200
