"""The catalogue's cache generations, shared by the two apps that hold catalogue data
(categories and catalog) and by the readers that show it (the cart, the pages).

Three kinds of generation retire cached reads, each once the write's transaction commits:

- the catalogue's (``VERSION_KEY``), recorded by every cached read: any write to books,
  authors, publishers or categories (a price, a title, a book withdrawn) replaces it, and every
  older entry stops being read at once. Readers never see a price older than the last
  committed write.
- a scope's (``scope_version``): a part of the catalogue (one book: its reviews and rating).
- a book's stock number (``books_changed``): stock moves (checkouts, cancellations) change
  only the books they touch, so they do not empty the whole cache. A cached entry that shows
  books records each one's number when it was built (``books_stamp``) and is served only while
  they are all unchanged (``cached_books``): a stock figure shown is never older than
  the last committed change of that book. The numbers come from one counter, so an entry built
  while one of its books changed can tell, and is not kept (see ``books_stamp``).
"""

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import get_language
from django_redis.cache import RedisCache
from redis.exceptions import NoScriptError, RedisError

from bookstore.api.authentication import stale_key, token_user, token_user_confirm
from bookstore.near_cache import NearCache
from bookstore.replicas import catalogue_written

logger = logging.getLogger("bookstore.cache")

VERSION_KEY = "catalog:version"


def _generation(key: str, known: str | None = None) -> str:
    """The generation stored at ``key`` (``known`` when the caller has just read it), made now
    if there is none: ``add()`` keeps a generation another process has just set."""
    version = known if known is not None else cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, timeout=None):
            version = cache.get(key, version)
        near_forget([key])
    return version


def _bump_on_commit(keys: Iterable[str]) -> None:
    keys = list(keys)

    def bump() -> None:
        # First, so that a read keyed by the new generation is never built from a replica
        # that has not replayed the write (bookstore/replicas.py).
        catalogue_written()
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)
        invalidations_sent(keys)

    transaction.on_commit(bump, robust=True)


def catalog_version_bump() -> None:
    _bump_on_commit([VERSION_KEY])


SCOPE_KEY_PREFIX = "catalog:scope"


_UNSAFE_IN_KEY = re.compile(r"[\x00-\x20\x7f]")


def _scope_key(scope: str) -> str:
    # A scope names a book by what the client asked (a slug may hold anything): one with a space
    # or a control character is hashed, as an entry's first line lists its keys by spaces.
    if _UNSAFE_IN_KEY.search(scope):
        return f"{SCOPE_KEY_PREFIX}:sha256:{hashlib.sha256(scope.encode()).hexdigest()}"
    return f"{SCOPE_KEY_PREFIX}:{scope}"


def scope_version(scope: str) -> str:
    """The generation of one part of the catalogue (a book: see ``catalog.selectors``).

    A write that changes only that part (a review changes its book's rating) bumps it instead
    of the whole catalogue's generation, so the other cached reads live on.
    """
    return _generation(_scope_key(scope))


def scope_versions_bump(scopes: Iterable[str]) -> None:
    _bump_on_commit(_scope_key(scope) for scope in scopes)


def versions_key(scope: str | None) -> str:
    """The catalogue's generation, and the scope's when there is one (read in one round
    trip), for a cache key."""
    return generations(scope=scope)[0]


# --- Books' stock numbers ----------------------------------------------------------------------

BOOKS_COUNTER_KEY = "catalog:books:counter"
BOOK_KEY_PREFIX = "catalog:book"
# Replaced when a book's stock reaches or leaves zero: the key of lists filtered by stock.
AVAILABILITY_KEY = "catalog:availability"

BooksStamp = tuple[tuple[int, int], ...]


def _book_key(book_id: int) -> str:
    return f"{BOOK_KEY_PREFIX}:{book_id}"


def books_changed(*, book_ids: Iterable[int], availability: bool = False) -> None:
    """Once the transaction commits, give each of these books a new number: every cached read
    that shows one of them stops being served. ``availability``: a book's stock reached or left
    zero, which changes what a list filtered by stock holds, so those lists are retired too.

    The numbers (and the counter they come from) never expire: an entry whose book has no
    number recorded it as 0, and a lost number would make it current again.
    """
    ids = sorted(set(book_ids))
    if not ids:
        return

    def bump() -> None:
        # As for every catalogue write: no entry showing the new numbers is built from a
        # replica that has not replayed the stock move (bookstore/replicas.py).
        catalogue_written()
        cache.add(BOOKS_COUNTER_KEY, 0, timeout=None)
        number = cache.incr(BOOKS_COUNTER_KEY)
        values: dict[str, Any] = {_book_key(book_id): number for book_id in ids}
        if availability:
            values[AVAILABILITY_KEY] = uuid.uuid4().hex
        cache.set_many(values, timeout=None)
        invalidations_sent(values)

    transaction.on_commit(bump, robust=True)


def generations(*, scope: str | None = None, availability: bool = False) -> tuple[str, int]:
    """In one round trip: the generations for a cache key (the catalogue's, the scope's, the
    availability's when asked), and the books' counter as of now, for ``books_stamp``."""
    keys = _generation_keys(scope, availability)
    found = cache.get_many([*keys, BOOKS_COUNTER_KEY])
    key = ":".join(_generation(k, found.get(k)) for k in keys)
    return key, int(found.get(BOOKS_COUNTER_KEY) or 0)


def cached_under_generations(key: str, build: Callable[[], Any], *, availability: bool = False) -> Any:
    """A value that changes only with the catalogue's generation (and the availability's when
    asked), not with stock: from the cache, or built now and kept. One round trip to read it:
    the entry, under a key without the generations, records those it was built under (read
    before building, so a write committed while it is built retires it); it is served while
    they are current."""
    names = _generation_keys(None, availability)
    found = cache.get_many([*names, key])
    versions = tuple(_generation(name, found.get(name)) for name in names)
    entry = found.get(key)
    if entry is not None and entry[0] == versions:
        return entry[1]
    value = build()
    cache.set(key, (versions, value), timeout=settings.CATALOG_CACHE_TIMEOUT)
    return value


def _numbers(book_ids: Iterable[int]) -> dict[int, int]:
    keys = {_book_key(book_id): book_id for book_id in book_ids}
    if not keys:
        return {}
    found = cache.get_many(list(keys))
    return {book_id: int(found.get(key) or 0) for key, book_id in keys.items()}


def books_stamp(book_ids: Iterable[int], *, counter: int) -> BooksStamp | None:
    """The numbers of the books an entry shows, read after building it; None when one of them
    changed after ``counter`` was read (before building): the entry may show the old stock,
    so it must not be kept."""
    numbers = _numbers(book_ids)
    if any(number > counter for number in numbers.values()):
        return None
    return tuple(sorted(numbers.items()))


def stamp_digest(stamp: BooksStamp) -> str:
    return hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]


class Cached(NamedTuple):
    value: Any
    hit: bool
    # The entry's key with its generations, and its books' numbers: together they name this
    # version of the entry (the pages key their HTML fragments with them).
    key: str
    stamp: BooksStamp

    @property
    def version(self) -> str:
        return f"{self.key}:{stamp_digest(self.stamp)}"


def _generation_keys(scope: str | None, availability: bool) -> list[str]:
    keys = [VERSION_KEY]
    if scope:
        keys.append(_scope_key(scope))
    if availability:
        keys.append(AVAILABILITY_KEY)
    return keys


def cached_books(
    key: str,
    build: Callable[[], tuple[Any, Iterable[int] | None]],
    *,
    scope: str | None = None,
    availability: bool = False,
    timeout: int | None = None,
    also: str | None = None,
    also_seen: Callable[[Any], None] | None = None,
    fetched: "Fetched | None" = None,
) -> Cached:
    """A value that shows books, from the cache or built now.

    ``build`` returns the value and the ids of the books it shows (None: do not keep it). The
    entry, kept under ``key``, records the generations read before building (the catalogue's,
    and ``scope``'s and the availability's when asked) and its books' numbers; it is served
    while all of them are unchanged. On Redis a hit is one round trip (``entry_fetch``: the
    entry and what it recorded, read by one script); ``also`` names one more key read in that
    same trip, whose value goes to ``also_seen`` before the entry is served or built.
    ``fetched``: what ``entry_fetch`` gave for these same keys a moment ago, in this request
    (``cached_read_hit``), not read again.
    """
    names = _generation_keys(scope, availability)
    if fetched is None:
        fetched = entry_fetch(key, names, also=also)
    if also_seen is not None:
        also_seen(fetched.also)
    if fetched.entry is not None:
        versions, stamp, value = fetched.entry
        if fetched.current == [*versions, *(number for _, number in stamp)]:
            return Cached(value, True, f"{key}:{':'.join(versions)}", stamp)
    # A stale entry or a Redis error: read what building needs now.
    found = fetched.found if fetched.found is not None else cache.get_many([*names, BOOKS_COUNTER_KEY])
    versions = tuple(_generation(name, found.get(name)) for name in names)
    counter = int(found.get(BOOKS_COUNTER_KEY) or 0)
    full_key = f"{key}:{':'.join(versions)}"
    value, book_ids = build()
    if book_ids is None:
        return Cached(value, False, full_key, ())
    new_stamp = books_stamp(book_ids, counter=counter)
    if new_stamp is not None:
        entry_store(
            key, names, (versions, new_stamp, value), timeout=timeout or settings.CATALOG_CACHE_TIMEOUT
        )
    return Cached(value, False, full_key, new_stamp or ())


# --- One round trip per hit --------------------------------------------------------------------
#
# On Redis an entry is stored as one line (``bk1``, then the names of the keys it depends on:
# its generations and its books' numbers, in that order), then the entry itself as django-redis
# encodes it. The script reads the entry and, in the same call, the keys its first line names:
# a hit costs one round trip instead of two (the entry, then what it recorded). Redis runs a
# script atomically, so the values read are those of one instant, as an MGET's were. (A script
# that reads keys it was not given fits one Redis server, not a Redis Cluster: the shop runs one.)
#
# The script is the first read of an entry in a process. A process remembers the keys each entry's
# line named (``_depends``) and reads them afterwards in the same MGET as the entry: still one
# round trip and one instant, and Redis spends about 3 µs on an MGET where the script cost it
# about 35 (INFO commandstats; with a list page's 15 KB entry copied into Lua and back). What the
# entry read names is compared with what was asked; when it was rebuilt on other keys (a page now
# showing other books), the script reads it again.

_FETCH_SCRIPT = """
local entry = redis.call('GET', KEYS[1])
local also = redis.call('GET', KEYS[2])
local line = entry and string.sub(entry, 1, 3) == 'bk1' and string.find(entry, '\\n', 1, true)
if not line then
  -- A miss: what building needs, read now (the generations, then the books' counter).
  return {false, {}, also, redis.call('MGET', unpack(KEYS, 3))}
end
local keys = {}
for name in string.gmatch(string.sub(entry, 4, line - 1), '%S+') do keys[#keys + 1] = name end
if #keys == 0 then return {entry, {}, also, {}} end
return {entry, redis.call('MGET', unpack(keys)), also, {}}
"""
_FETCH_SHA = hashlib.sha1(_FETCH_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)

Entry = tuple[tuple[str, ...], BooksStamp, Any]
# The first bytes of an entry in this format: anything else at the key (an entry of an older
# format, after a deploy) is a miss, and is replaced.
_FORMAT = b"bk1"
# Read in place of ``also`` when there is none (never written).
_NOTHING_KEY = "catalog:nothing"


def _redis() -> Any:
    """The django-redis client of the default cache, or None (the local-memory cache)."""
    backend = caches["default"]
    return backend.client if isinstance(backend, RedisCache) else None


def _decoded(client: Any, value: Any) -> Any:
    return None if value is None else client.decode(value)


class Fetched(NamedTuple):
    entry: Entry | None
    # The current values of what the entry recorded: its generations, then its books' numbers.
    current: list[Any]
    # The value at ``also``.
    also: Any
    # On a miss, the generations and the books' counter that building needs (None: not read).
    found: dict[str, Any] | None = None
    # The values at ``histories`` (the throttles'), when they were read with the entry.
    histories: dict[str, Any] | None = None


def entry_fetch(
    key: str, names: list[str], *, also: str | None = None, histories: list[str] | None = None
) -> Fetched:
    """The entry at ``key`` with the current values of what it recorded, and the value at
    ``also``; on a miss, the generations ``names`` and the books' counter. On Redis in one
    round trip. A Redis error is a miss (logged), as the cache's own errors are.

    ``histories``: more keys, read in the same MGET when the process knows what the entry
    depends on (``Fetched.histories``; None when they were not read)."""
    client = _redis()
    if client is None:
        entry = cache.get(key)
        extra = cache.get(also) if also else None
        if entry is None:
            return Fetched(None, [], extra)
        versions, stamp, _value = entry
        book_keys = [_book_key(book_id) for book_id, _ in stamp]
        found = cache.get_many([*names, *book_keys])
        current = [*(found.get(n) for n in names), *(int(found.get(k) or 0) for k in book_keys)]
        return Fetched(entry, current, extra)
    wanted = [*names, BOOKS_COUNTER_KEY]
    keys = [client.make_key(k) for k in (key, also or _NOTHING_KEY, *wanted)]
    # The keys this entry's line named when this process last read it: asked in the same MGET
    # as the entry (no script), and used when the line still names exactly them.
    depends = _depends.get(keys[0])
    more = [client.make_key(k) for k in histories or ()]
    read: dict[str, Any] | None = None
    try:
        redis = client.get_client(write=False)
        if not more and (near := near_cache(redis)) is not None:
            held = _near_fetch(client, near, keys, depends, also=also, wanted=wanted)
            if held is not None:
                return held
        if depends is not None:
            raw, extra, *rest = redis.mget([*keys, *more, *depends])
            if more:
                read = {
                    name: _decoded(client, v)
                    for name, v in zip(
                        histories or (), rest[len(wanted) : len(wanted) + len(more)], strict=True
                    )
                }
                del rest[len(wanted) : len(wanted) + len(more)]
            missed, values = rest[: len(wanted)], rest[len(wanted) :]
            if raw is not None and _line_keys(raw) != depends:
                # Rebuilt since, on other keys (other books): the values read are not its own.
                depends, read = None, None
        if depends is None:
            try:
                raw, values, extra, missed = redis.evalsha(_FETCH_SHA, len(keys), *keys)
            except NoScriptError:
                raw, values, extra, missed = redis.eval(_FETCH_SCRIPT, len(keys), *keys)
    except RedisError:
        logger.exception("Cache entry not read: %s", key)
        return Fetched(None, [], None)
    extra = _decoded(client, extra) if also else None
    if raw is None:
        found = {name: _decoded(client, v) for name, v in zip(wanted, missed, strict=True) if v is not None}
        return Fetched(None, [], extra, found, read)
    held = _held(client, raw)  # of this format: the script and the MGET checked its line
    _remember(keys[0], held.depends)
    if held.entry is None:
        return Fetched(None, [], extra)
    entry = held.entry
    versions = entry[0]
    current = [_decoded(client, v) for v in values[: len(versions)]]
    current += [int(v or 0) for v in values[len(versions) :]]
    return Fetched(entry, current, extra, None, read)


class _Held(NamedTuple):
    """An entry as a near cache keeps it: decoded once, with the keys its first line names."""

    depends: tuple[bytes, ...] | None
    entry: Entry | None  # None: not readable (logged when it was read)


def _held(client: Any, raw: bytes) -> Any:
    """What a near cache keeps of a value read from Redis: an entry decoded, with its line's
    keys (``_Held``); any other value decoded as django-redis decodes it."""
    if not raw.startswith(_FORMAT):
        return client.decode(raw)
    try:
        entry = client.decode(raw[raw.find(b"\n") + 1 :])
    except Exception:  # a value this code did not write
        logger.exception("Cache entry not readable: %r", raw[:80])
        entry = None
    return _Held(_line_keys(raw), entry)


def _near_fetch(
    client: Any,
    near: NearCache,
    keys: list[str],
    depends: tuple[bytes, ...] | None,
    *,
    also: str | None,
    wanted: list[str],
) -> Fetched | None:
    """``entry_fetch`` from this process's near cache (bookstore/near_cache.py): the entry
    (``keys[0]``), the value at ``also`` (``keys[1]``) and the keys the entry's line names
    (``depends``, as this process last read it; None: not read yet, so the entry is read first,
    with what building needs, ``wanted``, at ``keys[2:]``, then the keys its line names), each
    as current as in Redis, already decoded. None: the near cache cannot be asked (Redis
    failed), or the entry was rebuilt on other keys (the script reads it). The miss of an entry
    this process had read does not read what building needs (``Fetched.found`` is None:
    ``cached_books`` reads it then): the books' counter, which every checkout changes, is not
    held for every hit."""
    decode = partial(_held, client)
    head = [keys[0].encode(), keys[1].encode()]
    if depends is None:
        first = near.mget([key.encode() for key in keys], decode=decode)
        if first is None:
            return None
        held, extra, *needed = first
        if not isinstance(held, _Held) or held.entry is None or held.depends is None:
            found = {name: value for name, value in zip(wanted, needed, strict=True) if value is not None}
            return Fetched(None, [], extra if also else None, found)
        depends = held.depends
        _remember(keys[0], depends)
    known = near.mget([*head, *depends], decode=decode)
    if known is None:
        return None
    held, extra, *values = known
    extra = extra if also else None
    if not isinstance(held, _Held) or held.entry is None:  # a miss, or another format
        return Fetched(None, [], extra)
    if held.depends != depends:
        return None
    versions = held.entry[0]
    current = [*values[: len(versions)], *(int(v or 0) for v in values[len(versions) :])]
    return Fetched(held.entry, current, extra)


# Entries' keys → the keys their first line names, as last read by this process (at most
# DEPENDS_MAX, the oldest forgotten first). Only a guess of what to read with the entry: what
# the entry read says it depends on is always checked against it.
DEPENDS_MAX = 8192
_depends: dict[str, tuple[bytes, ...]] = {}


# Where a connection pool keeps its near cache (one per pool: a test's own Redis has its own).
_NEAR_ATTRIBUTE = "bookstore_near_cache"


def near_cache(redis: Any) -> NearCache | None:
    """The near cache of the Redis connection pool ``redis`` reads through, made at its first
    use in the process (None: ``NEAR_CACHE_KEYS`` is 0)."""
    if not settings.NEAR_CACHE_KEYS:
        return None
    pool = redis.connection_pool
    near: NearCache | None = getattr(pool, _NEAR_ATTRIBUTE, None)
    if near is None:
        near = NearCache(
            # RESP2: Redis sends the invalidations as messages of a channel, which redis-py's
            # parser hands over as they are (in RESP3 it keeps them for its own client cache).
            lambda: pool.connection_class(**{**pool.connection_kwargs, "protocol": 2}),
            max_keys=settings.NEAR_CACHE_KEYS,
            retry_seconds=settings.NEAR_CACHE_RETRY_SECONDS,
        )
        setattr(pool, _NEAR_ATTRIBUTE, near)
    return near


def near_forget(names: Iterable[str]) -> None:
    """This process has just written these keys (unprefixed): its near cache forgets them at
    once, without waiting for Redis's invalidation (bookstore/near_cache.py)."""
    client = _redis()
    if client is None:
        return
    near = getattr(client.get_client(write=False).connection_pool, _NEAR_ATTRIBUTE, None)
    if near is not None:
        near.forget([client.make_key(name).encode() for name in names])


def invalidations_sent(names: Iterable[str]) -> None:
    """After writing keys a near cache may hold (a catalogue write's new generations): this
    process forgets them (``near_forget``), and one more round trip to Redis makes sure Redis
    has written their invalidations to every process's subscriber. Redis writes the replies
    and messages of one turn of its loop before it reads the next command: once this ``PING``
    is answered, a read that any process starts finds the invalidation on its socket, so the
    customer this write answers next sees it wherever the request lands."""
    near_forget(names)
    client = _redis()
    if client is not None and settings.NEAR_CACHE_KEYS:
        try:
            client.get_client(write=True).ping()
        except RedisError:
            logger.exception("Redis did not answer after a catalogue write")


def _line_keys(raw: bytes) -> tuple[bytes, ...] | None:
    """The keys an entry's first line names (None: not an entry of this format)."""
    end = raw.find(b"\n")
    if end < 0 or not raw.startswith(_FORMAT):
        return None
    return tuple(raw[len(_FORMAT) : end].split())


def _remember(key: str, depends: tuple[bytes, ...] | None) -> None:
    if depends is None or _depends.get(key) == depends:
        return
    if len(_depends) >= DEPENDS_MAX:
        _depends.pop(next(iter(_depends)), None)
    _depends[key] = depends


def entry_store(key: str, names: list[str], entry: Entry, *, timeout: int) -> None:
    """Keep ``entry`` under ``key`` for ``timeout`` seconds, with the line naming the keys it
    depends on (``names``, then its books' numbers) on Redis."""
    client = _redis()
    if client is None:
        cache.set(key, entry, timeout=timeout)
        return
    if timeout is not None and timeout <= 0:  # Django's "do not keep" (Redis refuses it)
        return
    _versions, stamp, _value = entry
    depends = [client.make_key(n) for n in names] + [client.make_key(_book_key(b)) for b, _ in stamp]
    raw = b"".join(
        [_FORMAT, *(b" " + k.encode() for k in depends), b"\n", client.encode(entry, allow_int=False)]
    )
    made_key = client.make_key(key)
    try:
        client.get_client(write=True).set(made_key, raw, ex=timeout)
    except RedisError:
        logger.exception("Cache entry not kept: %s", key)
        return
    finally:
        near_forget([key])
    _remember(made_key, _line_keys(raw))


# --- Cached API reads --------------------------------------------------------------------------

READ_KEY_PREFIX = "catalog:read"


def request_digest(path: str, query: Any) -> str:
    """The path, the full query string (parameters sorted) and the active language, hashed."""
    pairs = "&".join(f"{k}={v}" for k, values in sorted(query.lists()) for v in values)
    return hashlib.sha256(f"{get_language()}|{path}?{pairs}".encode()).hexdigest()


class _StaffAfterAll(Exception):
    """A token said "not staff" but its user has been promoted since."""


def cached_read(
    request: Any,
    build: Callable[[], Any],
    *,
    timeout: int | None = None,
    scope: str | None = None,
    books: Callable[[Any], Iterable[int]] | None = None,
    availability: bool = False,
) -> Any:
    """Serve a catalogue GET from the cache, or build it and keep its rendered bytes.

    A catalogue read is the same for every visitor, signed in or not, except staff (who see
    inactive books): they always build. The entry is the JSON as rendered, served without
    touching a serializer. The key holds the language, the path, the full query string (its
    parameters sorted) and the renderer's media type; the entry records the generations read
    *before* building: a response built while a write commits records the old generation, so
    it is never served after the write. ``scope`` adds the generation of the part of the catalogue the
    response shows (see ``scope_version``); ``books`` names the books the answer shows (from
    its data), whose stock changes retire it (``books_changed``); ``availability``: the answer
    depends on which books are in stock (a list filtered by stock).
    """
    user = getattr(request, "user", None)
    renderer = getattr(request, "accepted_renderer", None)
    # The browsable API (DEBUG only) renders pages about the view: not an entry for others.
    if (
        request.method != "GET"
        or getattr(user, "is_staff", False)
        or renderer is None
        or renderer.format == "api"
    ):
        return build()
    key = read_key(request.path, request.query_params, request.accepted_media_type)
    built: list[Any] = []
    # A reader known by its token alone: its user's mark, read with the entry, says whether
    # it must be loaded after all (bookstore/api/authentication.py).
    from_token = token_user(request)
    also = stale_key(from_token.pk) if from_token is not None else None

    def seen(stale: Any) -> None:
        if stale is not None and token_user_confirm(request).is_staff:
            raise _StaffAfterAll

    def make() -> tuple[Any, Iterable[int] | None]:
        response = build()
        built.append(response)
        if response.status_code != 200:
            return None, None
        body = renderer.render(response.data, request.accepted_media_type, {"request": request})
        content_type = renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
        return (body, content_type), (books(response.data) if books is not None else ())

    # What ``cached_read_hit`` read for this request, before DRF's dispatch, if it did.
    early = getattr(request, EARLY_FETCH_ATTRIBUTE, None)
    fetched = early[1] if early is not None and early[0] == (key, scope, availability, also) else None
    try:
        found = cached_books(
            key,
            make,
            scope=scope,
            availability=availability,
            timeout=timeout,
            also=also,
            also_seen=seen,
            fetched=fetched,
        )
    except _StaffAfterAll:
        return build()
    if found.value is None:
        return built[0]
    return _answer(found.value, hit=found.hit)


def _answer(value: tuple[bytes, str], *, hit: bool) -> HttpResponse:
    body, content_type = value
    answer = HttpResponse(body, content_type=content_type)
    answer["X-Cache"] = "HIT" if hit else "MISS"
    return answer


def read_key(path: str, query: Any, media_type: str) -> str:
    """The key of a cached catalogue read: the renderer's media type, then ``request_digest``."""
    return f"{READ_KEY_PREFIX}:{media_type}:{request_digest(path, query)}"


# The attribute of the request where ``cached_read_hit`` leaves what it read when it does not
# answer, for ``cached_read`` (same keys) to use instead of a second round trip.
EARLY_FETCH_ATTRIBUTE = "_cached_read_fetched"


def cached_read_hit(
    request: Any,
    key: str,
    *,
    scope: str | None = None,
    availability: bool = False,
    also: str | None = None,
    histories: list[str] | None = None,
) -> HttpResponse | None:
    """The answer ``cached_read`` would give from the entry at ``key`` when it is current, else
    None (a miss, a stale entry, or a value at ``also``: the reader must be checked).

    For ``bookstore.api.cached_reads``, which asks before DRF's dispatch; one round trip, as
    ``cached_books``'s hit, and none more when DRF's path then answers (what was read is left
    on the request).
    """
    fetched = entry_fetch(key, _generation_keys(scope, availability), also=also, histories=histories)
    setattr(request, EARLY_FETCH_ATTRIBUTE, ((key, scope, availability, also), fetched))
    if fetched.entry is None or fetched.also is not None:
        return None
    versions, stamp, value = fetched.entry
    if fetched.current != [*versions, *(number for _, number in stamp)] or value is None:
        return None
    return _answer(value, hit=True)
