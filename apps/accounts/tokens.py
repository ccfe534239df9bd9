"""One-time tokens for the links the accounts emails carry.

A token is ``<uid>.<timestamp>-<hmac>``: Django's password reset token scheme, keyed on the
user's state, so it stops working as soon as it has been used (the state it hashes changes)
and after a timeout. The two kinds are signed with different salts and cannot stand in for
each other.
"""

from django.conf import settings
from django.contrib.auth import tokens as django_tokens
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from .models import User

DEFAULT_EMAIL_VERIFICATION_TIMEOUT = 60 * 60 * 24 * 3
DEFAULT_PASSWORD_RESET_TIMEOUT = 60 * 60 * 24


class _StateTokenGenerator(django_tokens.PasswordResetTokenGenerator):
    timeout_setting: str = ""
    default_timeout: int = 0

    @property
    def timeout(self) -> int:
        return int(getattr(settings, self.timeout_setting, self.default_timeout))

    def check_token(self, user: User | None, token: str | None) -> bool:  # type: ignore[override]
        # Django's own check reads PASSWORD_RESET_TIMEOUT; each kind here has its own.
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= self.timeout


class EmailVerificationTokenGenerator(_StateTokenGenerator):
    """Spent once the address it was sent to is verified (or another change is asked for)."""

    key_salt = "apps.accounts.tokens.EmailVerificationTokenGenerator"
    timeout_setting = "EMAIL_VERIFICATION_TIMEOUT"
    default_timeout = DEFAULT_EMAIL_VERIFICATION_TIMEOUT

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        return (
            f"{user.pk}|{user.email}|{user.pending_email}|{user.email_verified}|{user.is_active}|{timestamp}"
        )


class PasswordResetTokenGenerator(_StateTokenGenerator):
    """Spent once the password changes or the user signs in; refused for disabled accounts."""

    key_salt = "apps.accounts.tokens.PasswordResetTokenGenerator"
    timeout_setting = "PASSWORD_RESET_TIMEOUT"
    default_timeout = DEFAULT_PASSWORD_RESET_TIMEOUT

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        return f"{super()._make_hash_value(user, timestamp)}|{user.is_active}"


email_verification_tokens = EmailVerificationTokenGenerator()
password_reset_tokens = PasswordResetTokenGenerator()


def token_make(generator: _StateTokenGenerator, user: User) -> str:
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{generator.make_token(user)}"


def token_user(generator: _StateTokenGenerator, token: str, *, lock: bool = False) -> User | None:
    """The user ``token`` is valid for now, or None (malformed, forged, used or expired)."""
    uidb64, _sep, user_token = (token or "").strip().partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    queryset = User.objects.select_for_update() if lock else User.objects.all()
    user = queryset.filter(pk=pk).first()
    if user is None or not generator.check_token(user, user_token):
        return None
    return user
