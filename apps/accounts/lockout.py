"""Per-account sign-in lockout, on top of the per-address throttle.

After ``LOGIN_LOCKOUT_FAILURES`` refused sign-ins for one email address within
``LOGIN_LOCKOUT_SECONDS``, that address cannot sign in until the window ends, from any client
address: rotating addresses no longer buys more guesses. The count is kept per address typed,
whether or not an account has it, so the lockout answers the same for an unknown address and
reveals nothing. Counts live in the cache (Redis); if it is down the lockout fails open, as
the throttles do, and the per-address throttle is what remains.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(email: str) -> str:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()
    return f"accounts:lockout:{digest}"


def login_locked(*, email: str) -> bool:
    """Whether sign-ins for ``email`` are refused now (too many recent failures)."""
    return int(cache.get(_key(email)) or 0) >= settings.LOGIN_LOCKOUT_FAILURES


def login_failure_record(*, email: str) -> None:
    """Count a refused sign-in for ``email``; the window starts with the first failure."""
    key = _key(email)
    cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
    try:
        cache.incr(key)
    except ValueError:
        # Expired between add and incr: this failure starts a new window.
        cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_failures_clear(*, email: str) -> None:
    """A successful sign-in forgets the failures before it."""
    cache.delete(_key(email))
