"""Read replicas: the catalogue's anonymous reads from a PostgreSQL streaming replica.

``DATABASE_REPLICA_URLS`` names the replicas (aliases ``replica1``, ``replica2``… in
``DATABASES``); with none, neither the router nor the middleware is installed and everything
reads the primary, as before.

What may read a replica, all of it at once:

- a view of the catalogue's reads (``CATALOGUE_VIEWS``: the API's lists and details of books,
  authors, publishers and categories, with their search and facets, and the storefront's
  catalogue pages), for a ``GET`` or ``HEAD``;
- by an anonymous client (no signed-in session, no ``Authorization`` header: signed-in
  customers and staff read the primary, as do the cart, checkout and every other view);
- reading the catalogue's own tables (``REPLICA_APPS``); a session, user or cart read in the
  same request goes to the primary;
- outside a transaction on the primary;
- not pinned: a client that sent an unsafe request (any ``POST``/``PUT``/``PATCH``/``DELETE``)
  reads the primary for ``DATABASE_REPLICA_PIN_SECONDS`` afterwards, by its session cookie
  (the one it sent and the one it was given) and its ``X-Cart-Token``; so does everyone for
  that long after a catalogue write commits (``catalogue_written``, called where the
  catalogue's cache generation is bumped), so that no cached read is rebuilt from a replica
  that has not replayed the write yet. The pins live in the cache (Redis): while Redis is
  unreachable nothing is cached and the pins are forgotten, so a client may read a replica
  right after its write, at most ``DATABASE_REPLICA_MAX_LAG`` behind; the replicas keep taking
  the catalogue's reads, which is when the primary most needs them to;
- and a replica that answers, is in recovery and is at most ``DATABASE_REPLICA_MAX_LAG``
  seconds behind, checked by one small query at most every ``DATABASE_REPLICA_CHECK_SECONDS``
  in each process. A replica that fails during a request is marked down and the request is
  answered again from the primary.

The decision is taken at the first query of the catalogue in a request (a request answered
from the cache asks nothing of the replicas, nor of the pins), and holds for the rest of it.
``/readyz`` names a replica that is down or lagging without failing: the shop serves from the
primary meanwhile.
"""

import contextlib
import hashlib
import logging
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA_APPS = frozenset({"catalog", "categories"})
CATALOGUE_VIEWS = frozenset(
    {
        "book-list",
        "book-detail",
        "author-list",
        "author-detail",
        "publisher-list",
        "publisher-detail",
        "category-list",
        "category-detail",
        "storefront:home",
        "storefront:books",
        "storefront:book",
        "storefront:category",
        "storefront:author",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD"})
CART_TOKEN_HEADER = "X-Cart-Token"  # noqa: S105 - a header's name

PIN_KEY_PREFIX = "replicas:pin"
CATALOGUE_WRITTEN_KEY = "replicas:catalogue-written"


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


# --- Health ------------------------------------------------------------------------------------

# How far behind the primary a replica is, in seconds: 0 when it has replayed all it received
# and still streams (an idle primary sends nothing new), else the age of the last transaction
# it replayed; NULL when it cannot say. Readable by any role (pg_stat_wal_receiver shows its
# row to all).
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                 AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
       END
"""


@dataclass(frozen=True)
class ReplicaStatus:
    state: str  # "ok", "down", "lagging", "not_in_recovery"
    lag: float | None
    checked_at: float

    @property
    def usable(self) -> bool:
        return self.state == "ok"

    def describe(self) -> str:
        if self.state == "lagging" and self.lag is not None:
            return f"lagging ({self.lag:.1f} s)"
        return self.state


_statuses: dict[str, ReplicaStatus] = {}


def _probe(alias: str) -> ReplicaStatus:
    now = time.monotonic()
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute("SELECT 1")
                return ReplicaStatus("ok", 0.0, now)
            cursor.execute(LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError:
        logger.warning("Read replica %s is unreachable", alias, exc_info=True)
        _close_quietly(alias)
        return ReplicaStatus("down", None, now)
    if not in_recovery:
        # Promoted, or never a replica: it no longer follows the primary.
        return ReplicaStatus("not_in_recovery", None, now)
    if lag is None or lag > settings.DATABASE_REPLICA_MAX_LAG:
        return ReplicaStatus("lagging", lag, now)
    return ReplicaStatus("ok", lag, now)


def _close_quietly(alias: str) -> None:
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


def replica_status(alias: str, *, fresh: bool = False) -> ReplicaStatus:
    """The replica's state, probed again when the last probe of this process is older than
    ``DATABASE_REPLICA_CHECK_SECONDS`` (or ``fresh`` asks)."""
    status = _statuses.get(alias)
    if (
        fresh
        or status is None
        or time.monotonic() - status.checked_at >= settings.DATABASE_REPLICA_CHECK_SECONDS
    ):
        status = _statuses[alias] = _probe(alias)
        if not status.usable:
            logger.warning("Read replica %s skipped: %s", alias, status.describe())
    return status


def replica_mark_down(alias: str) -> None:
    _statuses[alias] = ReplicaStatus("down", None, time.monotonic())
    _close_quietly(alias)


def replicas_report() -> dict[str, str]:
    """Each replica's state, probed now (for ``/readyz``)."""
    return {alias: replica_status(alias, fresh=True).describe() for alias in replica_aliases()}


# --- Pins --------------------------------------------------------------------------------------


def _pin_key(kind: str, value: str) -> str:
    return f"{PIN_KEY_PREFIX}:{hashlib.sha256(f'{kind}:{value}'.encode()).hexdigest()[:32]}"


def _request_pins(request: HttpRequest) -> set[str]:
    pins = set()
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        pins.add(_pin_key("session", session_key))
    cart_token = request.headers.get(CART_TOKEN_HEADER)
    if cart_token:
        pins.add(_pin_key("cart", cart_token))
    return pins


def client_pin(request: HttpRequest, response: HttpResponse) -> None:
    """Send this client's reads to the primary for ``DATABASE_REPLICA_PIN_SECONDS``: by the
    session and cart token it sent, and those the response gives it (a sign-in or sign-out
    changes the session's key)."""
    pins = _request_pins(request)
    session = response.cookies.get(settings.SESSION_COOKIE_NAME)
    if session is not None and session.value:
        pins.add(_pin_key("session", session.value))
    if response.has_header(CART_TOKEN_HEADER):
        pins.add(_pin_key("cart", response[CART_TOKEN_HEADER]))
    if pins:
        cache.set_many(dict.fromkeys(pins, 1), timeout=settings.DATABASE_REPLICA_PIN_SECONDS)


def catalogue_written() -> None:
    """A catalogue write has committed: every catalogue read goes to the primary while the
    replicas replay it (``DATABASE_REPLICA_PIN_SECONDS``), so that the cached reads rebuilt
    now are built from data that has it. Call before the new cache generation is published."""
    if replica_aliases():
        cache.set(CATALOGUE_WRITTEN_KEY, 1, timeout=settings.DATABASE_REPLICA_PIN_SECONDS)


def _primary_required(pins: set[str]) -> bool:
    return bool(cache.get_many([CATALOGUE_WRITTEN_KEY, *pins]))


# --- Routing -----------------------------------------------------------------------------------


@dataclass
class _Routing:
    """One request that may read a replica; which one is decided at its first catalogue query."""

    pins: set[str]
    resolved: bool = False
    alias: str = DEFAULT_DB_ALIAS
    tried: set[str] = field(default_factory=set)

    def resolve(self) -> str:
        if not self.resolved:
            self.resolved = True
            if not _primary_required(self.pins):
                healthy = [
                    alias
                    for alias in replica_aliases()
                    if alias not in self.tried and replica_status(alias).usable
                ]
                if healthy:
                    self.alias = random.choice(healthy)  # noqa: S311 - spreading load, not a secret
                    connections[self.alias].errors_occurred = False
        return self.alias


_routing: ContextVar[_Routing | None] = ContextVar("replica_routing", default=None)


class ReplicaRouter:
    """Django's database router: see the module's docstring for what reads a replica."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        if model._meta.app_label not in REPLICA_APPS:
            return None
        routing = _routing.get()
        # An object loaded from a replica (and cached) is read again on the primary elsewhere.
        if routing is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return routing.resolve()

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The replicas hold the primary's rows: an object read from one is the primary's.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaRoutingMiddleware:
    """Lets the catalogue's anonymous reads go to a replica, and pins a client that wrote to
    the primary. Placed before the session middleware, so that it sees the session key a
    response gives."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not replica_aliases():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
            routing: _Routing | None = getattr(request, "_replica_routing", None)
            if routing is not None and routing.alias != DEFAULT_DB_ALIAS:
                failed = routing.alias
                if connections[failed].errors_occurred:
                    # The replica failed under this request (its error is the answer so far):
                    # answer again from the primary or another replica.
                    logger.warning("Read replica %s failed during %s: answered again", failed, request.path)
                    replica_mark_down(failed)
                    request._replica_routing = _Routing(  # type: ignore[attr-defined]
                        pins=routing.pins, tried=routing.tried | {failed}
                    )
                    response = self.get_response(request)
        finally:
            _routing.set(None)
        if request.method not in SAFE_METHODS:
            client_pin(request, response)
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> None:
        routing = getattr(request, "_replica_routing", None)
        if routing is None:
            match = request.resolver_match
            if (
                request.method not in SAFE_METHODS
                or match is None
                or match.view_name not in CATALOGUE_VIEWS
                or "authorization" in request.headers
                or request.user.is_authenticated
            ):
                return
            routing = request._replica_routing = _Routing(pins=_request_pins(request))  # type: ignore[attr-defined]
        _routing.set(routing)
