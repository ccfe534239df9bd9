"""The near cache (bookstore/near_cache.py): a hit this process has read before asks Redis
nothing, and yet a price or a stock figure changed by this process or any other is seen at the
next read.

Redis tells every tracking client of a flush or of a write to a key of the same name in any of
its databases, so these tests run on a Redis of their own: the other test workers' flushes
would only make them read Redis more often, never serve stale, but a count of round trips must
be exact.
"""

import os
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from redis import Redis

from apps.catalog import services
from apps.catalog.views import BookViewSet
from bookstore import cache as cache_module
from bookstore.near_cache import NearCache
from tests.catalog.test_cache_hits import signed_in
from tests.servers import OwnRedis
from tests.services import requires_redis

pytestmark = [pytest.mark.django_db, requires_redis]

BOOKS = "/api/v1/books/"


@pytest.fixture(scope="module")
def redis_server():
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_cache(redis_server):
    location = f"redis://127.0.0.1:{redis_server.port}/0"
    with override_settings(CACHES={"default": {**settings.CACHES["default"], "LOCATION": location}}):
        cache.clear()
        yield Redis.from_url(location)
        cache.clear()


@pytest.fixture
def near(own_cache) -> NearCache:
    found = cache_module.near_cache(caches["default"].client.get_client(write=False))
    assert found is not None
    found.clear()
    return found


@pytest.fixture
def unthrottled(monkeypatch):
    """A deployment without per-client throttles on the catalogue (as ``bench.settings``): a
    throttle's history is read and written at every request, so with one the hit reads Redis."""
    monkeypatch.setattr(BookViewSet, "throttle_classes", [])


@pytest.fixture
def redis_commands(monkeypatch):
    sent: list[str] = []
    original = Redis.execute_command

    def counted(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    return sent


def made_key(name: str) -> str:
    return caches["default"].make_key(name)


def settled(redis: Redis) -> None:
    """Until Redis's invalidations of a miss's own writes (the entry kept, the generations
    made) have reached this process's subscriber. They are on their way when the miss answers,
    and a read made before they arrive is forgotten when they do: one more round trip later,
    never a stale answer. One round trip on another connection waits for them: Redis writes
    them in the turn of its loop that made the writes, before it reads the next command."""
    redis.ping()


def written_elsewhere(redis: Redis, values: dict[str, object]) -> None:
    """What another process's catalogue write does (``bookstore.cache.invalidations_sent``):
    the new values, then one more round trip before it answers its customer."""
    encode = caches["default"].client.encode
    redis.mset({made_key(name): encode(value) for name, value in values.items()})
    redis.ping()


@pytest.mark.parametrize("reader", ["anonymous", "jwt"])
@pytest.mark.parametrize("url", [BOOKS, f"{BOOKS}?category=fiction", "dune"])
def test_a_hit_this_process_has_read_asks_redis_nothing(
    api_client, user, password, catalogue, near, own_cache, unthrottled, redis_commands, reader, url
):
    url = f"{BOOKS}{catalogue['dune'].isbn13}/" if url == "dune" else url
    client = signed_in(user, password) if reader == "jwt" else api_client
    miss = client.get(url)
    assert miss["X-Cache"] == "MISS"
    settled(own_cache)
    first = client.get(url)
    assert first["X-Cache"] == "HIT"
    trips = near.round_trips
    redis_commands.clear()
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert (again["X-Cache"], again.content) == ("HIT", miss.content)
    assert (near.round_trips, redis_commands, len(queries)) == (trips, [], 0)


def test_a_process_that_has_not_read_an_entry_reads_it_then_what_it_depends_on(
    api_client, catalogue, near, own_cache, unthrottled, redis_commands
):
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"
    settled(own_cache)
    # Another worker: it has read nothing yet.
    cache_module._depends.clear()
    near.clear()
    trips = near.round_trips
    redis_commands.clear()
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    # The entry (its first line names what it depends on), then those keys: no script.
    assert (near.round_trips - trips, redis_commands) == (2, [])
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    assert near.round_trips - trips == 2


def test_a_miss_reads_what_building_needs_with_the_entry(
    api_client, catalogue, near, unthrottled, redis_commands
):
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"  # the generations made, the facets kept
    trips = near.round_trips
    redis_commands.clear()
    assert api_client.get(f"{BOOKS}?page_size=3")["X-Cache"] == "MISS"
    # One read through the near cache (the entry, the generations, the books' counter), then
    # the list's facets (with their generations), the books' numbers read after building
    # (bookstore.cache.books_stamp) and the entry kept.
    assert (near.round_trips - trips, redis_commands) == (1, ["MGET", "MGET", "SET"])


def test_with_a_throttle_the_hit_reads_redis_as_before(api_client, catalogue, near, redis_commands):
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    trips = near.round_trips
    redis_commands.clear()
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    assert "MGET" in redis_commands
    assert near.round_trips == trips


def test_a_price_changed_here_is_seen_at_the_next_read(
    api_client, catalogue, near, unthrottled, django_capture_on_commit_callbacks
):
    dune = catalogue["dune"]
    url = f"{BOOKS}{dune.isbn13}/"
    for _ in range(3):
        api_client.get(url)
        api_client.get(BOOKS)
    assert api_client.get(url)["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        services.book_update(book=dune, data={"price": Decimal("4.20")})
    changed = api_client.get(url)
    assert (changed["X-Cache"], changed.json()["price"]) == ("MISS", "4.20")
    listed = {book["isbn13"]: book["price"] for book in api_client.get(BOOKS).json()["results"]}
    assert listed[dune.isbn13] == "4.20"


def test_a_write_by_another_process_is_seen_at_the_next_read(
    api_client, catalogue, near, unthrottled, own_cache
):
    dune = catalogue["dune"]
    url = f"{BOOKS}{dune.isbn13}/"
    api_client.get(url)
    assert api_client.get(url)["X-Cache"] == "HIT"
    assert api_client.get(url)["X-Cache"] == "HIT"
    # A stock move elsewhere: the book's number, which the entry recorded.
    number = own_cache.incr(made_key(cache_module.BOOKS_COUNTER_KEY))
    written_elsewhere(own_cache, {f"{cache_module.BOOK_KEY_PREFIX}:{dune.pk}": number})
    assert api_client.get(url)["X-Cache"] == "MISS"
    assert api_client.get(url)["X-Cache"] == "HIT"
    # Any catalogue write elsewhere: the catalogue's generation.
    written_elsewhere(own_cache, {cache_module.VERSION_KEY: "elsewhere"})
    assert api_client.get(url)["X-Cache"] == "MISS"


def test_a_flush_forgets_everything(api_client, catalogue, near, unthrottled, own_cache):
    api_client.get(BOOKS)
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    assert len(near) > 0
    own_cache.flushdb()
    own_cache.ping()
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"


def _near_of(port: int, **options) -> NearCache:
    pool = Redis(port=port).connection_pool
    return NearCache(
        lambda: pool.connection_class(**{**pool.connection_kwargs, "protocol": 2}),
        max_keys=options.get("max_keys", 100),
        retry_seconds=options.get("retry_seconds", 0.2),
    )


def test_it_holds_at_most_its_keys_the_oldest_forgotten_first(own_cache, redis_server):
    near = _near_of(redis_server.port, max_keys=3)
    own_cache.mset({f"k{n}": n for n in range(5)})
    assert near.mget([b"k0", b"k1"]) == [b"0", b"1"]
    assert near.mget([b"k2", b"k3"]) == [b"2", b"3"]
    assert len(near) == 3
    trips = near.round_trips
    assert near.mget([b"k1", b"k2", b"k3"]) == [b"1", b"2", b"3"]
    assert near.round_trips == trips
    assert near.mget([b"k0"]) == [b"0"]
    assert near.round_trips == trips + 1


def test_a_lost_redis_is_asked_again_later_and_nothing_old_is_kept(own_cache, redis_server, caplog):
    near = _near_of(redis_server.port, retry_seconds=0.3)
    own_cache.set("price", "10")
    assert near.mget([b"price"]) == [b"10"]
    redis_server.stop()
    assert near.mget([b"price"]) is None  # not the value held: nobody can say it is current
    assert any("Near cache off" in record.getMessage() for record in caplog.records)
    redis_server.start()  # empty: the write made while it was down is not in it
    Redis(port=redis_server.port).set("price", "12")
    assert near.mget([b"price"]) is None  # not asked again yet
    trips = near.round_trips
    time.sleep(0.35)
    assert near.mget([b"price"]) == [b"12"]
    assert near.round_trips == trips + 1


def test_a_forked_process_starts_with_nothing_and_leaves_its_parents_connections(own_cache, redis_server):
    near = _near_of(redis_server.port)
    own_cache.set("title", "Dune")
    assert near.mget([b"title"]) == [b"Dune"]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            values = near.mget([b"title"])
            os.write(write, repr((values, near.round_trips)).encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(child, 0)
    report = os.read(read, 1000).decode()
    os.close(read)
    assert status == 0
    # The child read with connections of its own (one more round trip than the parent's one).
    assert report == repr(([b"Dune"], 2))
    # The parent's subscriber still hears Redis: a write is seen.
    own_cache.set("title", "Dune Messiah")
    own_cache.ping()
    assert near.mget([b"title"]) == [b"Dune Messiah"]
