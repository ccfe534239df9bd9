"""Writes and workflows of the accounts app: registration, verification, passwords, profile,
addresses, and the emails they send.

Emails are never sent inside a transaction: the services enqueue a Celery task on commit
(``tasks.py``), and the task calls the ``*_email_send`` service below with the user's id.
"""

from functools import partial
from typing import Any

from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from bookstore.api.authentication import user_tokens_stale
from bookstore.exceptions import InvalidInput
from bookstore.links import frontend_url
from bookstore.mail import email_send

from .exceptions import AccountDeactivated, InvalidToken
from .models import Address, User
from .signals import user_active_changed
from .tokens import (
    email_verification_tokens,
    password_reset_tokens,
    token_make,
    token_user,
)

VERIFY_EMAIL_PATH = "/accounts/verify-email/"
RESET_LINK_PATH = "/accounts/password-reset/confirm/"
LOGIN_PATH = "/accounts/login/"
RESET_REQUEST_PATH = "/accounts/password-reset/"
# However many times (and from however many clients) someone registers with an address that
# has an account, its owner gets at most one notice in this many seconds.
ACCOUNT_EXISTS_NOTICE_INTERVAL = 15 * 60

USER_EDITABLE_FIELDS = ("first_name", "last_name")
ADDRESS_FIELDS = ("kind", "name", "line1", "line2", "postal_code", "city", "country", "phone", "is_default")


# --- Helpers ------------------------------------------------------------------------------


INVALID = "One or more fields are invalid."


def _password_validate(*, password: str, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(INVALID, errors={field: error.messages}) from None


def _full_clean(instance: User | Address, **options: Any) -> None:
    """The model's own checks (field lengths, the country code …) as the domain's error."""
    try:
        instance.full_clean(**options)
    except ValidationError as error:
        raise InvalidInput(INVALID, errors=error.message_dict) from None


def _email_is_taken(*, email: str, exclude: User | None = None) -> bool:
    queryset = User.objects.filter(email__iexact=email)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset.exists()


def _link(path: str, token: str) -> str:
    """A storefront URL (``FRONTEND_URL``), with ``?token=`` when a token is given."""
    query = f"?token={token}" if token else ""
    return f"{frontend_url()}{path}{query}"


def _enqueue_on_commit(task: Any, *args: Any) -> None:
    """Send ``task`` to the broker once the transaction commits.

    ``robust``: if the broker (or, with tasks run in-process, the mail server) fails, the
    error is logged and the committed request still succeeds; the user can ask again.
    """
    transaction.on_commit(partial(task.delay, *args), robust=True)


def _verification_email_enqueue(user: User, address: str) -> None:
    from .tasks import verification_email_send

    _enqueue_on_commit(verification_email_send, user.pk, address)


def refresh_tokens_blacklist_all(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; return how many were new.

    Used when the password changes: every session opened with the old one ends (their access
    tokens die too, as they carry a hash of the password: ``CHECK_REVOKE_TOKEN``).
    """
    # The catalogue's reads do not load the user of a non-staff token: tell them to.
    user_tokens_stale(user_id=user.pk)
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


# --- Registration and verification --------------------------------------------------------


def _account_exists_notice_enqueue(user: User) -> None:
    if cache.add(f"accounts:account-exists-notice:{user.pk}", 1, ACCOUNT_EXISTS_NOTICE_INTERVAL):
        from .tasks import account_exists_email_send

        _enqueue_on_commit(account_exists_email_send, user.pk)


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User | None:
    """Create an inactive, unverified account and send the verification email after commit;
    return it, or None when the address already has an account.

    Registration does not reveal which addresses have accounts: for a taken address (whatever
    its case) nothing is created and the account's owner is emailed instead (sign in, reset the
    password, or verify a pending account; at most one such notice every
    ``ACCOUNT_EXISTS_NOTICE_INTERVAL``), so the caller answers alike in both cases. The
    password must pass Django's validators (judged against the new user's name and email), for
    a taken address too, and is hashed either way, so that neither the answer nor its delay
    tells the two apart. The account cannot sign in until the emailed link is followed.
    """
    email = User.objects.normalize_email(email.strip())
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip(), is_active=False)
    _password_validate(password=password, user=user)
    user.set_password(password)
    _full_clean(user, exclude=["password", "email"], validate_unique=False, validate_constraints=False)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user.save()
                _verification_email_enqueue(user, user.email)
        except IntegrityError:
            # Another registration with this address won the race since the lookup above.
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
        else:
            return user
    with transaction.atomic():
        _account_exists_notice_enqueue(existing)
    return None


def account_exists_email_send(*, user: User) -> None:
    """Tell the owner of ``user``'s address that someone tried to register with it, with what
    they can do: sign in or reset the password; verify the account if it is still pending
    (a fresh link); contact the shop if an administrator disabled it."""
    pending = not user.email_verified and not user.is_active and user.deactivated_at is None
    verify_url = _link(VERIFY_EMAIL_PATH, token_make(email_verification_tokens, user)) if pending else ""
    email_send(
        template="accounts/account_exists",
        context={
            "user": user,
            "login_url": _link(LOGIN_PATH, ""),
            "reset_url": _link(RESET_REQUEST_PATH, ""),
            "verify_url": verify_url,
            "disabled": user.deactivated_at is not None,
            "valid_hours": email_verification_tokens.timeout // 3600,
        },
        to=[user.email],
    )


def verification_email_send(*, user: User, address: str) -> None:
    """Email a one-time verification link to ``address`` if it is still the one awaiting
    verification: the pending new address of an email change, or the unverified address of a
    new account.

    A request overtaken by a newer one (another email change) sends nothing, so an address
    never receives a link that would verify a different one; running twice is harmless. An
    account an administrator deactivated is sent nothing.
    """
    if user.deactivated_at is not None:
        return
    awaiting = user.pending_email or ("" if user.email_verified else user.email)
    if not awaiting or awaiting.lower() != address.lower():
        return
    to = awaiting
    token = token_make(email_verification_tokens, user)
    email_send(
        template="accounts/verify_email",
        context={
            "user": user,
            "verify_url": _link(VERIFY_EMAIL_PATH, token),
            "token": token,
            "email": to,
            "valid_hours": email_verification_tokens.timeout // 3600,
        },
        to=[to],
    )


def verification_email_resend(*, email: str) -> None:
    """Send the verification link again to an account that has not been verified yet.

    Says nothing about whether the account exists (the caller answers the same either way).
    An account an administrator deactivated is not one that waits for verification.
    """
    user = User.objects.filter(
        email__iexact=email.strip(), email_verified=False, is_active=False, deactivated_at=None
    ).first()
    if user is not None:
        with transaction.atomic():
            _verification_email_enqueue(user, user.email)


def user_email_verify(*, token: str) -> User:
    """Verify the address a token was sent to: activates a new account, or applies an email change.

    A token works once: verifying changes the state it was made from. A malformed, forged,
    used or expired token is refused with ``InvalidToken``; so is a change to an address that
    another account took in the meantime. An account an administrator deactivated stays
    deactivated whatever link it holds (``AccountDeactivated``, a 400 too).
    """
    with transaction.atomic():
        user = token_user(email_verification_tokens, token, lock=True)
        if user is None:
            raise InvalidToken("This verification link is invalid, has already been used or has expired.")
        if user.deactivated_at is not None:
            raise AccountDeactivated(
                "This account has been disabled by the shop; the link cannot activate it. Contact the shop."
            )
        if user.pending_email:
            if _email_is_taken(email=user.pending_email, exclude=user):
                raise InvalidToken("This email address now belongs to another account.")
            user.email = user.pending_email
            user.pending_email = ""
            user.email_verified = True
            try:
                # Two accounts verifying the same new address at once: the check above passes
                # for both, the unique index stops the second.
                with transaction.atomic():
                    user.save(update_fields=["email", "pending_email", "email_verified"])
            except IntegrityError as error:
                raise InvalidToken("This email address now belongs to another account.") from error
        else:
            user.email_verified = True
            user.is_active = True
            user.save(update_fields=["email_verified", "is_active"])
    return user


# --- Sign-out and passwords ---------------------------------------------------------------


def refresh_token_blacklist(*, refresh: str) -> None:
    """Spend a refresh token (sign-out): it can never be refreshed again.

    Raises simplejwt's ``TokenError`` for a token that is malformed, expired or already spent.
    """
    token = RefreshToken(refresh)  # type: ignore[arg-type]
    token.blacklist()


def password_reset_request(*, email: str) -> None:
    """Email a one-time reset link if ``email`` names an active account; otherwise do nothing.

    The caller answers the same in both cases, so the endpoint reveals no account.
    """
    from .tasks import password_reset_email_send

    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    with transaction.atomic():
        _enqueue_on_commit(password_reset_email_send, user.pk)


def password_reset_email_send(*, user: User) -> None:
    """Email the reset link; nothing for an account that is disabled by the time it runs."""
    if not user.is_active:
        return
    token = token_make(password_reset_tokens, user)
    email_send(
        template="accounts/password_reset",
        context={
            "user": user,
            "reset_url": _link(RESET_LINK_PATH, token),
            "token": token,
            "valid_hours": max(password_reset_tokens.timeout // 3600, 1),
        },
        to=[user.email],
    )


def password_reset_token_check(*, token: str) -> User:
    """The user a reset token is valid for now, or ``InvalidToken``."""
    user = token_user(password_reset_tokens, token)
    if user is None or not user.is_active:
        raise InvalidToken("This password reset link is invalid, has already been used or has expired.")
    return user


def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Set a new password from a reset link, then sign the user out everywhere.

    The token works once (it hashes the password) and only for an active account; the new
    password must pass Django's validators. Every outstanding refresh token is blacklisted.
    """
    with transaction.atomic():
        user = token_user(password_reset_tokens, token, lock=True)
        if user is None or not user.is_active:
            raise InvalidToken("This password reset link is invalid, has already been used or has expired.")
        _password_validate(password=new_password, user=user, field="new_password")
        user.set_password(new_password)
        user.save(update_fields=["password"])
        refresh_tokens_blacklist_all(user=user)
    return user


def password_change(*, user: User, old_password: str, new_password: str) -> User:
    """Change the password of a signed-in user who proves they know the current one.

    The new password must pass Django's validators. Every outstanding refresh token is
    blacklisted, so other devices are signed out.
    """
    if not user.check_password(old_password):
        raise InvalidInput(INVALID, errors={"old_password": [str(_("The current password is incorrect."))]})
    _password_validate(password=new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        refresh_tokens_blacklist_all(user=user)
    return user


def user_deactivate(*, user: User) -> User:
    """Disable an account, verified or not: it can no longer sign in, and every session it had ends.

    The deactivation is recorded (``deactivated_at``, kept from the first one when repeated):
    an account that never verified its address is inactive already, and its emailed link
    must not activate it now (``user_email_verify`` refuses; no new link is sent). Refresh
    tokens are blacklisted; access tokens stop working at once too, since simplejwt checks
    ``is_active`` on every request.
    """
    with transaction.atomic():
        user.is_active = False
        user.deactivated_at = user.deactivated_at or timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        refresh_tokens_blacklist_all(user=user)
        user_active_changed.send(sender=User, user=user, active=False)
    return user


def user_activate(*, user: User) -> User:
    """Let an account sign in again (an administrator's decision, verified or not); ends a
    deactivation."""
    with transaction.atomic():
        user.is_active = True
        user.deactivated_at = None
        user.save(update_fields=["is_active", "deactivated_at"])
        user_active_changed.send(sender=User, user=user, active=True)
    return user


# --- Profile ------------------------------------------------------------------------------


def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Update the profile fields a user may edit: names, and the email (with re-verification).

    Only ``first_name``, ``last_name`` and ``email`` are read from ``data``; anything else
    (``is_staff``, ``is_active``, ``email_verified`` …) is ignored. A new email is not applied:
    it waits in ``pending_email`` and a verification link is sent to it; the login stays the
    old address until the link is followed. Asking for the current address cancels a pending
    change. An address already used by another account is answered alike (it shows as pending)
    but gets no link: the answer reveals no account.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        fields: list[str] = []
        for name in USER_EDITABLE_FIELDS:
            if name in data:
                setattr(user, name, str(data[name]).strip())
                fields.append(name)
        send_verification = False
        if "email" in data:
            email = User.objects.normalize_email(str(data["email"]).strip())
            if email.lower() == user.email.lower():
                if user.pending_email:
                    user.pending_email = ""
                    fields.append("pending_email")
            else:
                # An address another account has is taken in the same way, without a link: the
                # answer must not tell whether an address has an account (as registration does
                # not); the change simply never completes (and verification refuses it anyway).
                user.pending_email = email
                fields.append("pending_email")
                send_verification = not _email_is_taken(email=email, exclude=user)
        if fields:
            _full_clean(user, exclude=["password", "email"])
            user.save(update_fields=fields)
        if send_verification:
            _verification_email_enqueue(user, user.pending_email)
    return user


# --- Addresses ----------------------------------------------------------------------------


def _address_clean(address: Address) -> None:
    address.country = (address.country or "").strip().upper()
    # The one-default constraint is enforced by the callers, which unset the previous default.
    _full_clean(address, exclude=["user"], validate_constraints=False)


def _defaults_unset(*, user: User, kind: str, keep: Address | None = None) -> None:
    others = Address.objects.filter(user=user, kind=kind, is_default=True)
    if keep is not None and keep.pk:
        others = others.exclude(pk=keep.pk)
    others.update(is_default=False)


def address_create(*, user: User, data: dict[str, Any]) -> Address:
    """Add an address to ``user``'s book.

    At most one default per kind: a new default takes over from the previous one, and the
    first address of a kind becomes its default. The user's row is locked meanwhile, so two
    concurrent requests cannot both make a default.
    """
    address = Address(user=user, **{name: data[name] for name in ADDRESS_FIELDS if name in data})
    _address_clean(address)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if not Address.objects.filter(user=user, kind=address.kind).exists():
            address.is_default = True
        elif address.is_default:
            _defaults_unset(user=user, kind=address.kind)
        address.save()
    return address


def address_update(*, address: Address, data: dict[str, Any]) -> Address:
    """Change an address; making it the default (or moving a default to another kind) takes
    the default over from the one it replaces."""
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    _address_clean(address)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=address.user_id).first()
        if address.is_default:
            _defaults_unset(user=address.user, kind=address.kind, keep=address)
        address.save()
    return address


def address_delete(*, address: Address) -> None:
    """Remove an address; when it was the default, the most recent other one of its kind
    becomes the default."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=address.user_id).first()
        was_default, user_id, kind = address.is_default, address.user_id, address.kind
        address.delete()
        if was_default:
            successor = (
                Address.objects.filter(user_id=user_id, kind=kind).order_by("-updated_at", "-pk").first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])
