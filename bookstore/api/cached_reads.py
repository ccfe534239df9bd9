"""Cached catalogue reads answered before DRF's dispatch.

A cached read (``bookstore.cache.cached_read``) is a few bytes from Redis, but DRF wraps the
request, negotiates, authenticates, checks permissions and throttles, and calls the view
first: on a hit, about a tenth of the request's CPU. ``CachedReadsMixin.dispatch``
looks for a current entry before, and answers it only when DRF would have answered the very
same thing; anything it is not sure of goes through DRF as before (which uses what was read,
when its keys are the same: a miss costs no more round trip). What it checks, in DRF's order:

- the media type: no ``Accept`` header, ``*/*`` or exactly the first renderer's media type
  (what DRF's negotiation then picks), no format suffix or ``?format=`` (a 406 or another
  renderer is DRF's to answer);
- the reader: anonymous (no ``Authorization`` header, and the session's user, read as DRF's
  ``SessionAuthentication`` reads it, is not signed in), or a JWT this process has already
  verified (``token_verified``), unexpired and saying "not staff", on a view that lets a token
  read (``token_user_reads``), whose user has no mark (``user_tokens_stale``, read in the same
  round trip as the entry); staff, signed-in sessions, users forced by DRF's test client, and
  tokens not yet seen go through DRF;
- permissions: only the views' ``list`` and ``retrieve`` on ``GET``, which the catalogue's
  ``IsStaffOrReadOnly`` allows to everyone (the mixin checks that the view's permissions are
  exactly that, and its authentication the API's: JWT, then the session);
- the throttles: the view's own, asked as DRF asks them, after the entry is found; when one
  refuses, the request goes through DRF, whose ``check_throttles`` refuses it with the waits
  already known (its 429 problem) instead of counting the request a second time. The histories
  of DRF's rate throttles (anonymous, user) are read in the same MGET as the entry when the
  process knows what the entry depends on (``bookstore.cache.entry_fetch``), and handed to the
  throttle as its ``cache.get`` would have returned them; each throttle writes its history as
  DRF's does.

The answer is the one DRF's path gives: the entry's bytes and content type, ``X-Cache: HIT``,
and the view's headers (``Allow``, ``Vary``) added by DRF's own ``finalize_response``; the
middleware (security headers, CORS, ``Content-Language`` and ``Vary``, the request id) runs
around both paths alike.

``CachedReadMiddleware``, the last middleware, asks this before Django resolves the URL: it
resolves the path once per process (``_route``), makes the viewset as DRF's ``as_view`` does
and asks its ``_early_hit``; the viewset's ``dispatch`` asks it only when the middleware has not.
"""

from functools import lru_cache
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.models import TokenUser

from bookstore.api.authentication import ShopJWTAuthentication, stale_key, token_reads, token_verified
from bookstore.api.permissions import IsStaffOrReadOnly
from bookstore.cache import EARLY_FETCH_ATTRIBUTE, cached_read_hit, read_key

_ANY = {None, "", "*/*"}
# Left on the request: the early answer was asked (not to be asked twice), and the throttles
# that refused it (for DRF's check_throttles, which answers the 429 without counting again).
_TRIED_ATTRIBUTE = "_cached_read_tried"
_REFUSED_ATTRIBUTE = "_cached_read_refused"
# The API's authentication (settings.REST_FRAMEWORK), which ``_reader`` reproduces: a view with
# other authentication classes goes through DRF.
_AUTHENTICATION = [ShopJWTAuthentication, SessionAuthentication]


class CachedReadsMixin:
    """For a viewset whose ``list`` and ``retrieve`` answer through ``cached_read``: a current
    entry answered before DRF's dispatch (module docstring). The viewset says what its entries
    depend on in ``cached_read_options`` (the same arguments its actions give ``cached_read``)."""

    def cached_read_options(self, action: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {}

    def check_throttles(self, request: Any) -> None:
        refused = getattr(request, _REFUSED_ATTRIBUTE, None)
        if refused is None:
            super().check_throttles(request)  # type: ignore[misc]
            return
        # As DRF's: the longest wait of those that refused.
        waits = [wait for wait in (throttle.wait() for throttle in refused) if wait is not None]
        view: Any = self
        view.throttled(request, max(waits, default=None))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Asked already by ``CachedReadMiddleware`` when it is installed.
        if request.method == "GET" and not getattr(request, _TRIED_ATTRIBUTE, False):
            answer = self._early_hit(request, kwargs)
            if answer is not None:
                return answer
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def _media_type(self, request: HttpRequest, kwargs: dict[str, Any]) -> str | None:
        view: Any = self
        renderers = view.renderer_classes
        if not renderers or kwargs.get("format") is not None:
            return None
        negotiation = view.content_negotiation_class
        override = getattr(negotiation.settings, "URL_FORMAT_OVERRIDE", None)
        if override and override in request.GET:
            return None
        # What DRF's negotiation picks for these: the first renderer, with its own media type.
        media_type = renderers[0].media_type
        accept = request.META.get("HTTP_ACCEPT")
        return media_type if accept in _ANY or accept == media_type else None

    def _reader(self, request: HttpRequest) -> tuple[Any, str | None] | None:
        """The reader and its mark's key, or None: DRF must authenticate this request."""
        if getattr(request, "_force_auth_user", None) is not None or getattr(
            request, "_force_auth_token", None
        ):
            return None
        authentication = ShopJWTAuthentication()
        header = authentication.get_header(request)  # type: ignore[arg-type]
        if header is None:
            # DRF's SessionAuthentication reads the session's user (and so marks the session
            # read, which gives ``Vary: Cookie``): the same here. A session nobody signed in to
            # (no cookie, most often) is an anonymous reader: its user is not loaded to say so.
            user = getattr(request, "user", None)
            session = getattr(request, "session", None)
            if session is not None and SESSION_KEY not in session:
                return user, None
            if user is not None and user.is_authenticated:
                return None
            return user, None
        try:
            raw = authentication.get_raw_token(header)
        except AuthenticationFailed:
            return None
        token = token_verified(raw) if raw is not None else None
        if token is None or not token_reads(self, token):
            return None
        user = TokenUser(token)
        return user, stale_key(user.pk)

    def _early_hit(self, request: HttpRequest, kwargs: dict[str, Any]) -> HttpResponse | None:
        view: Any = self
        action = view.action_map.get("get")
        if (
            action not in {"list", "retrieve"}
            or view.permission_classes != [IsStaffOrReadOnly]
            or list(view.authentication_classes) != _AUTHENTICATION
        ):
            return None
        try:
            request.GET  # noqa: B018 (parsed here, where its errors would escape DRF's handler)
        except SuspiciousOperation:
            return None  # too many parameters: DRF's path answers the 400 problem
        media_type = self._media_type(request, kwargs)
        if media_type is None:
            return None
        reader = self._reader(request)
        if reader is None:
            return None
        user, also = reader
        throttles = view.get_throttles()
        histories = _history_keys(throttles, request, view, user)
        key = read_key(request.path, request.GET, media_type)
        answer = cached_read_hit(
            request,
            key,
            also=also,
            histories=list(histories.values()),
            **self.cached_read_options(action, kwargs),
        )
        if answer is None:
            return None
        if also is not None:
            request.user = user  # as DRF's authentication sets it; the throttles read it
        read = getattr(request, EARLY_FETCH_ATTRIBUTE)[1].histories
        refused = []
        for index, throttle in enumerate(throttles):
            if read is not None and index in histories:
                # The history read with the entry, at the same instant: not read again.
                throttle.cache = _HistoryRead(throttle.cache, histories[index], read[histories[index]])
            if not throttle.allow_request(request, view):
                refused.append(throttle)
        if refused:
            # DRF's check_throttles, not asked again (this request is counted already), refuses.
            setattr(request, _REFUSED_ATTRIBUTE, refused)
            return None
        view.headers = view.default_response_headers
        return view.finalize_response(request, answer)


_UNSET = object()


def _history_keys(throttles: list[Any], request: HttpRequest, view: Any, user: Any) -> dict[int, str]:
    """The cache keys of the throttles' histories that can be read with the entry, by the
    throttle's index: DRF's rate throttles (``SimpleRateThrottle``) with their rate set when
    made (anonymous, user; the scoped one sets its own as it is asked) and their history in the
    default cache, for the reader DRF would authenticate."""
    previous = request.__dict__.get("user", _UNSET)
    request.user = user  # what the throttles' keys read; put back below
    try:
        keys = {}
        for index, throttle in enumerate(throttles):
            if (
                isinstance(throttle, SimpleRateThrottle)
                and throttle.cache is cache
                and getattr(throttle, "rate", None) is not None
            ):
                key = throttle.get_cache_key(request, view)
                if key is not None:
                    keys[index] = key
        return keys
    finally:
        if previous is _UNSET:
            del request.user
        else:
            request.user = previous


class _HistoryRead:
    """The throttle's cache, but for the history already read (``cache.get(key, default)`` as
    DRF's ``allow_request`` asks it); its write, and anything else, go to the cache."""

    def __init__(self, backend: Any, key: str, value: Any) -> None:
        self._backend, self._key, self._value = backend, key, value

    def get(self, key: str, default: Any = None, **options: Any) -> Any:
        if key == self._key and not options:
            return default if self._value is None else self._value
        return self._backend.get(key, default, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


@lru_cache(maxsize=4096)
def _route(resolver: Any, path: str) -> tuple[Any, dict[str, Any]] | None:
    """The view function and keyword arguments a path resolves to, when the view is a
    ``CachedReadsMixin`` viewset; else None. A path resolves the same way for as long as the
    resolver lives (a new ROOT_URLCONF is a new resolver), so it is resolved once per process."""
    try:
        match = resolver.resolve(path)
    except Resolver404:
        return None
    cls = getattr(match.func, "cls", None)
    if cls is None or not issubclass(cls, CachedReadsMixin) or match.args:
        return None
    return match.func, match.kwargs


def early_answer(request: HttpRequest) -> HttpResponse | None:
    """The early hit of the catalogue viewset a ``GET`` resolves to, or None (not one, or not
    current: Django's handler and DRF answer it, reusing what was read)."""
    if hasattr(request, "urlconf"):  # a middleware chose another URLconf: Django's to resolve
        return None
    route = _route(get_resolver(), request.path_info)
    if route is None:
        return None
    function, kwargs = route
    # The viewset as DRF's ``as_view`` makes it for this request (rest_framework/viewsets.py).
    view: Any = function.cls(**function.initkwargs)
    actions = function.actions
    view.action_map = actions
    for method, action in actions.items():
        setattr(view, method, getattr(view, action))
    if "get" in actions and "head" not in actions:
        view.head = view.get
    view.request, view.args, view.kwargs = request, (), kwargs
    setattr(request, _TRIED_ATTRIBUTE, True)
    return view._early_hit(request, kwargs)


class CachedReadMiddleware:
    """The catalogue's early hits (``early_answer``), asked before Django resolves the URL and
    calls the view: the last middleware, so that every other one (security headers, CSP, the
    session and its ``Vary``, the language and its headers, CORS, the request id and its log
    line) runs around the early answer as around DRF's."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            answer = early_answer(request)
            if answer is not None:
                return answer
        return self.get_response(request)
