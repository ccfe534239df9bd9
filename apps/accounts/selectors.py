"""Reads of accounts data, for this app's views and for the apps that depend on accounts."""

from django.contrib.auth.hashers import make_password
from django.db.models import QuerySet

from .exceptions import AddressNotFound
from .models import Address, User


def address_list_for_user(*, user: User) -> QuerySet[Address]:
    """The user's addresses, defaults first within each kind."""
    return Address.objects.filter(user=user).order_by("kind", "-is_default", "-created_at", "-pk")


def address_get_for_user(*, user: User, address_id: int) -> Address:
    """The address ``address_id`` if it belongs to ``user``.

    Raises ``AddressNotFound`` (a subclass of ``Address.DoesNotExist``, rendered as a 404) for
    an unknown id and for another user's address alike, so ids reveal nothing about others.
    """
    try:
        return Address.objects.get(pk=address_id, user=user)
    except (Address.DoesNotExist, ValueError, TypeError):
        raise AddressNotFound() from None


def address_default_for_user(*, user: User, kind: str) -> Address | None:
    """The user's default address of ``kind`` (``Address.Kind``), or None."""
    return Address.objects.filter(user=user, kind=kind, is_default=True).first()


def user_get_by_email(*, email: str) -> User | None:
    """The user whose login is ``email``, whatever its case, or None."""
    return User.objects.filter(email__iexact=email.strip()).first()


def user_inactive_reason(*, email: str, password: str) -> str | None:
    """Why an account whose password is right may not sign in: ``"email_not_verified"`` or
    ``"account_disabled"``; None when the credentials are wrong or the account is active.

    Only someone who knows the password learns the account's state, so sign-in errors can be
    clear without telling strangers which addresses have accounts.
    """
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None or user.is_active:
        # The same password work as the check below, so that a refused sign-in takes as long
        # for an active or unknown account as for an inactive one (no timing oracle).
        make_password(password)
        return None
    if not user.check_password(password):
        return None
    if user.email_verified or user.deactivated_at is not None:
        return "account_disabled"
    return "email_not_verified"
