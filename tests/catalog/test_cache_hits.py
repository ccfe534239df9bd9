"""What a cached catalogue read costs, and what it still checks: one Redis round trip, no SQL
for a customer's token, and a token that is invalid, revoked or now staff's treated as before."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis import Redis
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.catalog import services
from bookstore import cache as cache_module
from bookstore.api.authentication import ShopRefreshToken, stale_key, user_tokens_stale
from bookstore.cache import READ_KEY_PREFIX
from tests.services import requires_redis

pytestmark = [pytest.mark.django_db, requires_redis]

BOOKS = "/api/v1/books/"


def detail(book) -> str:
    return f"{BOOKS}{book.isbn13}/"


def signed_in(user, password) -> APIClient:
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"email": user.email, "password": password}).json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands sent to Redis, by name, but the throttles' (their history's GET and SET)."""
    sent: list[str] = []
    original = Redis.execute_command

    def counted(self, *args, **options):
        if len(args) < 2 or ":throttle_" not in str(args[1]):
            sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    return sent


@pytest.mark.parametrize(
    "url", [f"{BOOKS}?category=fiction", "dune", "/api/v1/categories/", "/api/v1/authors/"]
)
@pytest.mark.parametrize("reader", ["anonymous", "jwt"])
def test_a_hit_is_one_redis_round_trip_and_no_sql(
    api_client, user, password, catalogue, redis_commands, reader, url
):
    url = detail(catalogue["dune"]) if url == "dune" else url
    client = signed_in(user, password) if reader == "jwt" else api_client
    assert client.get(url)["X-Cache"] == "MISS"
    redis_commands.clear()
    with CaptureQueriesContext(connection) as queries:
        hit = client.get(url)
    assert hit["X-Cache"] == "HIT"
    assert len(queries) == 0
    # The entry and the keys its line names, which this process knows since it kept it.
    assert redis_commands == ["MGET"]
    # A process that has not read it yet (another worker): the script, then the MGET.
    cache_module._depends.clear()
    redis_commands.clear()
    assert client.get(url)["X-Cache"] == "HIT"
    assert client.get(url)["X-Cache"] == "HIT"
    assert redis_commands == ["EVALSHA", "MGET"]


def test_an_entry_rebuilt_on_other_keys_is_read_by_the_script(api_client, catalogue, redis_commands):
    url = detail(catalogue["dune"])
    assert api_client.get(url)["X-Cache"] == "MISS"
    # What this process remembers no longer matches the entry's line (it was rebuilt showing
    # other books): the values read with it are not its own, so the script reads it again.
    for key, depends in cache_module._depends.items():
        cache_module._depends[key] = depends[:1]
    redis_commands.clear()
    assert api_client.get(url)["X-Cache"] == "HIT"
    assert redis_commands == ["MGET", "EVALSHA"]
    redis_commands.clear()
    assert api_client.get(url)["X-Cache"] == "HIT"
    assert redis_commands == ["MGET"]


def test_a_remembered_entry_is_still_checked_against_its_books(
    api_client, catalogue, django_capture_on_commit_callbacks
):
    dune = catalogue["dune"]
    url = detail(dune)
    assert api_client.get(url)["X-Cache"] == "MISS"
    assert api_client.get(url)["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        cache_module.books_changed(book_ids=[dune.pk])
    assert api_client.get(url)["X-Cache"] == "MISS"
    assert api_client.get(url)["X-Cache"] == "HIT"


def test_tokens_say_whether_their_user_is_staff(api_client, user, staff_user, password):
    for who, staff in ((user, False), (staff_user, True)):
        pair = api_client.post("/api/v1/auth/token/", {"email": who.email, "password": password}).json()
        assert ShopRefreshToken(pair["refresh"])["is_staff"] is staff
        refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).json()
        assert ShopRefreshToken(refreshed["refresh"])["is_staff"] is staff
        assert ShopRefreshToken(refreshed["refresh"]).access_token["is_staff"] is staff


@pytest.mark.parametrize("token", ["garbage", "expired"])
def test_an_invalid_token_is_refused_on_a_cached_read(api_client, user, catalogue, token):
    url = detail(catalogue["dune"])
    assert api_client.get(url)["X-Cache"] == "MISS"
    if token == "expired":
        access = ShopRefreshToken.for_user(user).access_token
        access.set_exp(lifetime=-timedelta(seconds=1))
        token = str(access)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    refused = api_client.get(url)
    assert refused.status_code == 401
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["status"] == 401


@pytest.mark.parametrize("change", ["deactivate", "password"])
def test_a_revoked_token_is_refused_on_a_cached_read(
    api_client, user, password, catalogue, django_capture_on_commit_callbacks, change
):
    url = detail(catalogue["dune"])
    client = signed_in(user, password)
    assert client.get(url)["X-Cache"] == "MISS"
    assert client.get(url)["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        if change == "deactivate":
            accounts.user_deactivate(user=user)
        else:
            accounts.password_change(
                user=user, old_password=password, new_password="another-long-passphrase-9"
            )
    refused = client.get(url)
    assert refused.status_code == 401
    assert refused.json()["status"] == 401
    # Everyone else still reads the entry.
    assert api_client.get(url)["X-Cache"] == "HIT"


def test_a_customer_promoted_to_staff_reads_as_staff_at_once(
    user, password, catalogue, django_capture_on_commit_callbacks
):
    client = signed_in(user, password)  # its token says "not staff"
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[catalogue["salmon"].pk], active=False)
    assert "The Salmon of Doubt" not in [b["title"] for b in client.get(BOOKS).json()["results"]]
    assert client.get(BOOKS)["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        type(user).objects.filter(pk=user.pk).update(is_staff=True)
        user_tokens_stale(user_id=user.pk, staff_changed=True)  # as the admin does
    as_staff = client.get(BOOKS)
    assert "X-Cache" not in as_staff
    assert "The Salmon of Doubt" in [b["title"] for b in as_staff.json()["results"]]


def test_a_staff_change_is_marked_for_a_refresh_tokens_lifetime(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_tokens_stale(user_id=user.pk, staff_changed=True)
    with django_capture_on_commit_callbacks(execute=True):
        user_tokens_stale(user_id=user.pk)  # a later revocation does not shorten it
    assert cache.ttl(stale_key(user.pk)) > 24 * 3600


def test_an_entry_of_an_older_format_is_a_miss_and_is_replaced(api_client, catalogue):
    url = detail(catalogue["dune"])
    assert api_client.get(url)["X-Cache"] == "MISS"
    (key,) = cache.keys(f"{READ_KEY_PREFIX}:*")
    cache.set(key, ((), (), (b"{}", "application/json")))  # the previous format: a pickled tuple
    again = api_client.get(url)
    assert (again["X-Cache"], again.json()["isbn13"]) == ("MISS", catalogue["dune"].isbn13)
    assert api_client.get(url)["X-Cache"] == "HIT"


def test_a_token_checked_before_is_refused_once_expired(api_client, user, catalogue, monkeypatch):
    from bookstore.api import authentication

    url = detail(catalogue["dune"])
    access = ShopRefreshToken.for_user(user).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get(url).status_code == 200
    assert api_client.get(url)["X-Cache"] == "HIT"  # the token kept as checked
    later = datetime.fromtimestamp(access["exp"], tz=UTC) + timedelta(seconds=1)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
    refused = api_client.get(url)
    assert refused.status_code == 401
    assert refused.json()["status"] == 401


def test_a_miss_reads_what_building_needs_in_the_same_round_trip(api_client, catalogue, redis_commands):
    url = detail(catalogue["dune"])
    assert api_client.get(url)["X-Cache"] == "MISS"  # the generations made once
    cache.delete_many(cache.keys(f"{READ_KEY_PREFIX}:*"))
    redis_commands.clear()
    assert api_client.get(url)["X-Cache"] == "MISS"
    # The MGET of the entry with the generations and the counter (the script in a process that
    # never read the entry), the book's number after building, the entry.
    assert redis_commands == ["MGET", "MGET", "SET"]
    assert api_client.get(url)["X-Cache"] == "HIT"


def test_a_staff_token_loads_its_user_and_never_reads_the_shared_entries(
    api_client, staff_user, password, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[catalogue["salmon"].pk], active=False)
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"  # the public entry, without the withdrawn book
    staff = signed_in(staff_user, password)
    answer = staff.get(BOOKS)
    assert "X-Cache" not in answer
    assert "The Salmon of Doubt" in [b["title"] for b in answer.json()["results"]]


def test_a_demoted_staff_members_token_reads_as_a_customer(
    staff_user, password, catalogue, django_capture_on_commit_callbacks
):
    client = signed_in(staff_user, password)  # its token says "staff"
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[catalogue["salmon"].pk], active=False)
    type(staff_user).objects.filter(pk=staff_user.pk).update(is_staff=False)
    assert client.get(BOOKS)["X-Cache"] == "MISS"
    answer = client.get(BOOKS)
    assert answer["X-Cache"] == "HIT"
    assert "The Salmon of Doubt" not in [b["title"] for b in answer.json()["results"]]


def test_a_lifetime_of_zero_keeps_nothing_and_logs_no_error(api_client, catalogue, settings, caplog):
    # CATALOG_CACHE_TIMEOUT=0 turns the read cache off (as Django's timeout=0 means "do not
    # keep"): Redis refuses an expiry of 0, which was logged as an error on every read.
    settings.CATALOG_CACHE_TIMEOUT = 0
    url = detail(catalogue["dune"])

    answers = [api_client.get(url) for _ in range(2)]

    assert [(a.status_code, a["X-Cache"]) for a in answers] == [(200, "MISS"), (200, "MISS")]
    assert not [r for r in caplog.records if r.name == "bookstore.cache" and r.levelname == "ERROR"]


@pytest.fixture
def every_redis_command(monkeypatch):
    """Every command sent to Redis, by name and first key."""
    sent: list[tuple[str, str]] = []
    original = Redis.execute_command

    def counted(self, *args, **options):
        sent.append((str(args[0]).upper(), str(args[1]) if len(args) > 1 else ""))
        return original(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    return sent


@pytest.mark.parametrize("reader", ["anonymous", "jwt"])
def test_a_hit_reads_the_throttles_histories_with_its_entry(
    api_client, user, password, catalogue, every_redis_command, reader
):
    url = detail(catalogue["dune"])
    client = signed_in(user, password) if reader == "jwt" else api_client
    assert client.get(url)["X-Cache"] == "MISS"
    every_redis_command.clear()
    assert client.get(url)["X-Cache"] == "HIT"
    # One MGET (the entry, what it depends on, the rate throttles' histories), then each
    # history written back, as DRF's throttles write them (an anonymous reader is counted by
    # both, by address; a customer by the user throttle, by id). It was the script, then a GET
    # and a SET per throttle.
    scopes = ["anon", "user"] if reader == "anonymous" else ["user"]
    assert [name for name, _ in every_redis_command] == ["MGET", *(["SET"] * len(scopes))]
    written = [key for _, key in every_redis_command[1:]]
    for scope, key in zip(scopes, written, strict=True):
        assert f":throttle_{scope}_" in key
