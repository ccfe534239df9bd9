"""JWT authentication of the catalogue's reads without loading the customer.

A catalogue read is the same for every reader but staff (``bookstore.cache.cached_read``), so
to answer one the API needs to know only that the token is valid (signature, expiry, type:
simplejwt's checks, a 401 problem otherwise) and that its holder is not staff. Tokens say the
latter in an ``is_staff`` claim (``ShopRefreshToken``, copied into each access token made from
the refresh token). For a safe method on a view with ``token_user_reads`` (the catalogue's), a
token whose claim is false authenticates as simplejwt's ``TokenUser`` (its id and ``is_staff``
from the token, no query); any other token (staff, no claim: issued before the claim existed)
loads the user as before.

What the token cannot know is a change since it was issued. Loading the user caught three;
they now leave a mark in the cache (``user_tokens_stale``) that the catalogue's cached reads
read in the same round trip as their entry, and a marked user is loaded again
(``token_user_confirm``): refused as before when deactivated or when the password changed
(``CHECK_REVOKE_TOKEN``), and answered as staff when promoted. The mark lasts as long as a
token issued before the change can be used: an access token's lifetime for a revocation
(refresh tokens are blacklisted with it), a refresh token's for a change of ``is_staff``
(access tokens copy the claim of the refresh token they come from, and rotation keeps it).
A demoted staff member's token still says staff: it loads the user, who is no longer staff.
"""

from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.tokens import RefreshToken, Token
from rest_framework_simplejwt.utils import aware_utcnow

STAFF_CLAIM = "is_staff"
STALE_KEY_PREFIX = "auth:stale"


class ShopRefreshToken(RefreshToken):
    """A refresh token (and the access tokens made from it) that says whether its user is staff."""

    @classmethod
    def for_user(cls, user: Any) -> "ShopRefreshToken":
        token = super().for_user(user)
        token[STAFF_CLAIM] = bool(user.is_staff)
        return token  # type: ignore[return-value]


def stale_key(user_id: Any) -> str:
    return f"{STALE_KEY_PREFIX}:{user_id}"


def user_tokens_stale(*, user_id: int, staff_changed: bool = False) -> None:
    """Once the transaction commits, make the tokens issued so far to this user load it again
    at every catalogue read: its password, its active flag or (``staff_changed``) its staff
    flag changed since they were issued."""
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME" if staff_changed else "ACCESS_TOKEN_LIFETIME"]
    seconds = int(lifetime.total_seconds()) + 60  # the clock's margin

    def mark() -> None:
        # Never shortened: a staff change's mark outlives a later password change's.
        current = cache.ttl(stale_key(user_id)) if hasattr(cache, "ttl") else None
        if current is None or current < seconds:
            cache.set(stale_key(user_id), 1, timeout=seconds)
            from bookstore.cache import invalidations_sent

            invalidations_sent([stale_key(user_id)])

    transaction.on_commit(mark, robust=True)


# Tokens whose signature this process has checked, by their bytes (at most VERIFIED_MAX, the
# oldest forgotten first): checking an HS256 signature and decoding the claims is most of a
# cached read's cost for a signed-in reader, and a customer browsing sends the same token for
# many reads. Only tokens that passed every check are kept; the expiry is checked again at
# every use, so a kept token stops working at the same second as one checked afresh.
VERIFIED_MAX = 4096
_verified: dict[bytes, Token] = {}


def token_verified(raw_token: bytes) -> Token | None:
    """The token these bytes are, when this process has verified them and it has not expired
    since; None otherwise (to be checked afresh: simplejwt's checks, its 401s)."""
    token = _verified.get(raw_token)
    if token is None:
        return None
    try:
        token.check_exp(current_time=aware_utcnow())
    except TokenError:
        _verified.pop(raw_token, None)
        return None
    return token


class ShopJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication; on a safe method of a view with ``token_user_reads`` and a
    non-staff token, no user query."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = token_verified(raw_token)
        if token is not None:
            return token
        token = super().get_validated_token(raw_token)
        if len(_verified) >= VERIFIED_MAX:
            _verified.pop(next(iter(_verified)), None)
        _verified[raw_token] = token
        return token

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        token = self.get_validated_token(raw_token)
        view = request.parser_context.get("view") if request.parser_context else None
        if request.method in SAFE_METHODS and token_reads(view, token):
            return TokenUser(token), token
        return self.get_user(token), token


def token_reads(view: Any, token: Token) -> bool:
    """Whether this token's holder reads ``view`` as a ``TokenUser`` (on a safe method): the view
    says so (``token_user_reads``) and the token says "not staff"."""
    return bool(getattr(view, "token_user_reads", False)) and token.get(STAFF_CLAIM) is False


def token_user(request: Request) -> TokenUser | None:
    """The request's user when it came from a token alone (no query), else None."""
    user = getattr(request, "user", None)
    return user if isinstance(user, TokenUser) else None


def token_user_confirm(request: Request) -> Any:
    """Load the user a ``TokenUser`` stands for, with simplejwt's checks (it raises
    ``AuthenticationFailed``: a 401 problem), and make it the request's user."""
    user = JWTAuthentication().get_user(cast(Token, request.auth))
    request.user = user  # type: ignore[assignment]
    return user


class ShopJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema's description of it: simplejwt's bearer scheme (``jwtAuth``)."""

    target_class = "bookstore.api.authentication.ShopJWTAuthentication"
