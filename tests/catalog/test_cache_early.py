"""Cached catalogue reads answered before DRF's dispatch (bookstore/api/cached_reads.py): the
same answer, byte for byte and header for header, as DRF's path gives from the same entry, and
nothing of what DRF checks given up (staff, inactive books, throttles, freshness)."""

import pytest
from django.core.handlers.base import BaseHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from apps.catalog import services
from apps.catalog.views import BookViewSet
from bookstore.api.cached_reads import CachedReadsMixin
from tests.catalog.test_cache_hits import signed_in
from tests.services import requires_redis

pytestmark = [pytest.mark.django_db, requires_redis]

BOOKS = "/api/v1/books/"
ORIGIN = "https://shop.example"


@pytest.fixture
def dispatched(monkeypatch):
    """How many requests went through DRF's checks (``APIView.initial``)."""
    calls: list[str] = []
    original = APIView.initial

    def counted(self, request, *args, **kwargs):
        calls.append(request.path)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", counted)
    return calls


def _headers(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.items() if k != "X-Request-ID"]


@pytest.mark.parametrize("url", ["list", "detail", "/api/v1/categories/", "/api/v1/authors/"])
@pytest.mark.parametrize("reader", ["anonymous", "jwt"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_early_hit_is_the_answer_drf_gives_from_the_entry(
    api_client, user, password, catalogue, dispatched, monkeypatch, settings, url, reader, language
):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    url = {"list": f"{BOOKS}?page=1&ordering=title", "detail": f"{BOOKS}{catalogue['dune'].isbn13}/"}.get(
        url, url
    )
    client = signed_in(user, password) if reader == "jwt" else api_client
    ask = {"HTTP_ACCEPT_LANGUAGE": language, "HTTP_ORIGIN": ORIGIN}
    assert client.get(url, **ask)["X-Cache"] == "MISS"
    dispatched.clear()
    with CaptureQueriesContext(connection) as queries:
        early = client.get(url, **ask)
    assert dispatched == []  # answered before DRF
    assert len(queries) == 0
    monkeypatch.setattr(CachedReadsMixin, "_early_hit", lambda self, request, kwargs: None)
    through_drf = client.get(url, **ask)
    assert dispatched == [url.split("?")[0]]
    assert early.status_code == through_drf.status_code == 200
    assert early.content == through_drf.content
    assert _headers(early) == _headers(through_drf)
    assert early["X-Cache"] == "HIT"
    assert early["Content-Language"] == language
    assert early["Access-Control-Allow-Origin"] == ORIGIN
    assert "Accept-Language" in early["Vary"]
    assert early["X-Request-ID"]


def test_what_drf_must_negotiate_goes_through_drf(api_client, catalogue, dispatched):
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    assert api_client.get(url)["X-Cache"] == "MISS"
    dispatched.clear()
    refused = api_client.get(url, HTTP_ACCEPT="application/xml")
    assert refused.status_code == 406
    assert refused["Content-Type"].startswith("application/problem+json")
    assert api_client.get(url, HTTP_ACCEPT="application/json; indent=2")["X-Cache"] == "MISS"
    assert api_client.head(url).status_code == 200
    assert api_client.get(url, HTTP_ACCEPT="text/html").status_code == 200  # DEBUG's browsable API
    assert len(dispatched) == 4


def test_staff_never_read_an_entry_and_see_inactive_books(
    api_client, staff_user, password, catalogue, django_capture_on_commit_callbacks, dispatched
):
    salmon = catalogue["salmon"]
    with django_capture_on_commit_callbacks(execute=True):
        services.book_set_active(book_ids=[salmon.pk], active=False)
    assert api_client.get(BOOKS)["X-Cache"] == "MISS"
    assert api_client.get(BOOKS)["X-Cache"] == "HIT"
    staff = signed_in(staff_user, password)
    for _ in range(2):
        listed = staff.get(BOOKS)
        assert "X-Cache" not in listed
        assert salmon.title in [b["title"] for b in listed.json()["results"]]
        assert staff.get(f"{BOOKS}{salmon.isbn13}/").status_code == 200
    hidden = api_client.get(f"{BOOKS}{salmon.isbn13}/")
    assert hidden.status_code == 404
    assert hidden["Content-Type"].startswith("application/problem+json")
    assert api_client.get(f"{BOOKS}{salmon.isbn13}/").status_code == 404


def test_a_price_change_is_seen_at_once(
    api_client, user, password, catalogue, django_capture_on_commit_callbacks
):
    dune = catalogue["dune"]
    url = f"{BOOKS}{dune.isbn13}/"
    client = signed_in(user, password)
    for reader in (api_client, client):
        reader.get(url)
        assert reader.get(url)["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        services.book_update(book=dune, data={"price": "12.34"})
    for reader in (api_client, client):
        fresh = reader.get(url)
        assert fresh.json()["price"] == "12.34"
    assert api_client.get(url)["X-Cache"] == "HIT"


def test_an_early_hit_counts_once_for_the_throttles(api_client, catalogue, monkeypatch, dispatched):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    answers = [api_client.get(url) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.get("X-Cache") for a in answers[:3]] == ["MISS", "HIT", "HIT"]
    refused = answers[3]
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["status"] == 429
    assert int(refused["Retry-After"]) > 0
    # The first (built) and the refused one went through DRF; the two hits did not.
    assert len(dispatched) == 2


@pytest.mark.parametrize("change", ["authentication", "permissions"])
def test_a_view_checked_otherwise_goes_through_drf(api_client, catalogue, monkeypatch, dispatched, change):
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    assert api_client.get(url)["X-Cache"] == "MISS"
    if change == "authentication":
        monkeypatch.setattr(BookViewSet, "authentication_classes", [SessionAuthentication])
    else:
        monkeypatch.setattr(BookViewSet, "permission_classes", [AllowAny])
    dispatched.clear()
    assert api_client.get(url)["X-Cache"] == "HIT"  # DRF's path, from the same entry
    assert dispatched == [url]


def test_an_early_hit_is_answered_before_the_url_is_resolved(api_client, catalogue, monkeypatch):
    resolved: list[str] = []
    original = BaseHandler.resolve_request

    def counted(self, request):
        resolved.append(request.path)
        return original(self, request)

    monkeypatch.setattr(BaseHandler, "resolve_request", counted)
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    assert api_client.get(url)["X-Cache"] == "MISS"
    assert resolved == [url]
    resolved.clear()
    assert api_client.get(url)["X-Cache"] == "HIT"
    assert resolved == []  # CachedReadMiddleware, the last middleware, answered it
    # Not a catalogue read: Django resolves it as ever.
    api_client.get("/api/v1/cart/")
    assert resolved == ["/api/v1/cart/"]


def test_without_the_middleware_the_viewset_answers_early(api_client, catalogue, settings, dispatched):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("CachedReadMiddleware")]
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    assert api_client.get(url)["X-Cache"] == "MISS"
    dispatched.clear()
    early = api_client.get(url)
    assert early["X-Cache"] == "HIT"
    assert dispatched == []


def test_a_customers_early_hits_count_once_for_the_user_throttle(user, password, catalogue, monkeypatch):
    client = signed_in(user, password)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    url = f"{BOOKS}{catalogue['dune'].isbn13}/"
    answers = [client.get(url) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.get("X-Cache") for a in answers[:3]] == ["MISS", "HIT", "HIT"]
    assert answers[3].json()["status"] == 429
    assert int(answers[3]["Retry-After"]) > 0
