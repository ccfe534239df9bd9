"""Read replicas against a real PostgreSQL primary and streaming replica (``tests/replication.py``).

The shop runs under gunicorn with ``DATABASE_REPLICA_URLS`` naming the replica. Which server
answered is seen from outside: replay is paused on the replica and a row changed on the primary
alone, so a read that shows the old row came from the replica, and one that shows the new row
from the primary.
"""

import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings
from django.core.cache import cache

from tests import replication as replicas
from tests.orders.conftest import INLINE_ADDRESS
from tests.servers import ROOT, gunicorn, the_test_database_url

pytestmark = [
    # The test database is where the primary's schema comes from (pytest-django sets it up for
    # tests that ask for it).
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs DATABASE_URL on PostgreSQL"),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: the pins live in the cache"),
    pytest.mark.skipif(
        not replicas.available(), reason=f"needs PostgreSQL's binaries in {replicas.BINARIES}"
    ),
]

STAFF_EMAIL, PASSWORD = "staff@example.com", "correct-horse-battery-staple"
DUNE, HITCHHIKER, CRONICA, SALMON = "9780441172696", "9780345453747", "9781400034956", "9780345455291"
PIN_SECONDS = 1.0
SEED = f"""
from tests.factories import UserFactory, catalogue_make, category_tree_make
catalogue_make(category_tree_make())
UserFactory(email={STAFF_EMAIL!r}, password={PASSWORD!r}, is_staff=True)
"""


@pytest.fixture(scope="session")
def pair(django_db_setup, django_db_blocker):
    """The primary (with the test database's schema and the catalogue of ``catalogue_make``)
    and its replica, for the whole session."""
    with django_db_blocker.unblock(), replicas.replication(the_test_database_url()) as pair:
        subprocess.run(  # noqa: S603 - fixed command
            [sys.executable, "manage.py", "shell", "-c", SEED],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "DATABASE_URL": pair.primary_url,
                "DJANGO_SETTINGS_MODULE": "bookstore.settings",
            },
            check=True,
            capture_output=True,
            timeout=60,
        )
        pair.wait_replayed()
        yield pair


def _shop(pair, tmp_path_factory, **overrides):
    env = {
        "DATABASE_URL": pair.primary_url,
        "DATABASE_REPLICA_URLS": pair.replica_url,
        "DATABASE_REPLICA_PIN_SECONDS": str(PIN_SECONDS),
        # Probed once in a while: a replica that fails between two probes is survived by
        # answering the request again from the primary (test_..._replica_stopped).
        "DATABASE_REPLICA_CHECK_SECONDS": "30",
        # Replay is paused for whole tests: the replica counts as fresh unless a test says not.
        "DATABASE_REPLICA_MAX_LAG": "3600",
        # The test's own Redis database, which each test clears.
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "CELERY_BROKER_URL": "memory://",
        "WEB_CONCURRENCY": "2",
        **overrides,
    }
    return gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")


@pytest.fixture(scope="module")
def shop(pair, tmp_path_factory):
    with _shop(pair, tmp_path_factory) as base:
        yield base


@pytest.fixture
def paused(pair):
    """Replay paused on the replica for the test; resumed and caught up afterwards."""
    pair.replay_pause()
    try:
        yield pair
    finally:
        pair.replay_resume()
        pair.wait_replayed()


@pytest.fixture(scope="module")
def staff_headers(shop) -> dict[str, str]:
    response = requests.post(
        f"{shop}/api/v1/auth/token/", json={"email": STAFF_EMAIL, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access']}"}


def retitle(pair, isbn: str, title: str) -> None:
    """A write on the primary alone while replay is paused (no cache generation bumped)."""
    pair.on_primary("UPDATE catalog_book SET title = %s WHERE isbn13 = %s", (title, isbn))


def title_of(shop: str, isbn: str, **kwargs) -> str:
    response = requests.get(f"{shop}/api/v1/books/{isbn}/", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["title"]


def test_the_catalogues_anonymous_reads_are_served_by_the_replica(shop, paused, staff_headers):
    retitle(paused, DUNE, "Dune Messiah, on the primary")
    paused.on_primary("UPDATE categories_category SET name = 'Polar' WHERE slug = 'fiction'")

    # Details, lists with their facets, search, the category tree and the storefront's pages:
    # all from the replica, which has not replayed the change.
    assert title_of(shop, DUNE) == "Dune Messiah"
    listed = requests.get(f"{shop}/api/v1/books/?ordering=title", timeout=10).json()
    assert "Dune Messiah" in [book["title"] for book in listed["results"]]
    assert "Fiction" in str(listed["facets"])
    assert "Polar" not in str(listed["facets"])
    found = requests.get(f"{shop}/api/v1/books/?q=messiah", timeout=10).json()
    assert [book["title"] for book in found["results"]] == ["Dune Messiah"]
    tree = requests.get(f"{shop}/api/v1/categories/", timeout=10).text
    assert "Fiction" in tree
    assert "Polar" not in tree
    page = requests.get(f"{shop}/books/", params={"q": "messiah"}, timeout=10).text
    assert "Dune Messiah" in page
    assert "on the primary" not in page

    # Signed-in clients read the primary.
    assert title_of(shop, DUNE, headers=staff_headers) == "Dune Messiah, on the primary"
    tree = requests.get(f"{shop}/api/v1/categories/", headers=staff_headers, timeout=10).text
    assert "Polar" in tree

    readiness = requests.get(f"{shop}/readyz", timeout=10).json()
    assert readiness["replicas"] == {"replica1": "ok"}
    assert readiness["degraded"] == []

    # Once the replica has replayed it, anonymous readers see the change too.
    paused.replay_resume()
    paused.wait_replayed()
    cache.clear()
    assert title_of(shop, DUNE) == "Dune Messiah, on the primary"


def test_a_client_that_wrote_reads_the_primary_for_the_pin_window(shop, pair, paused):
    (cronica_id,) = pair.on_primary("SELECT id FROM catalog_book WHERE isbn13 = %s", (CRONICA,))[0]
    (slug,) = pair.on_primary("SELECT slug FROM catalog_book WHERE isbn13 = %s", (CRONICA,))[0]
    retitle(paused, CRONICA, "Crónica, on the primary")

    # An API client with an anonymous cart: its write pins its cart token.
    added = requests.post(f"{shop}/api/v1/cart/items/", json={"book": cronica_id, "quantity": 1}, timeout=10)
    assert added.status_code == 201, added.text
    token = {"X-Cart-Token": added.headers["X-Cart-Token"]}
    assert title_of(shop, CRONICA, headers=token) == "Crónica, on the primary"
    cache.clear()
    assert title_of(shop, CRONICA) == "Crónica de una muerte anunciada"  # another client

    # A browser: its form's POST pins its session, for its next pages.
    browser = requests.Session()
    browser.get(f"{shop}/books/", timeout=10)
    posted = browser.post(
        f"{shop}/cart/add/",
        data={"book": cronica_id, "quantity": 1, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code == 302, posted.text
    assert "on the primary" in browser.get(f"{shop}/books/{slug}/", timeout=10).text

    # The pin lasts DATABASE_REPLICA_PIN_SECONDS: then the replica again.
    time.sleep(PIN_SECONDS + 0.3)
    cache.clear()
    assert title_of(shop, CRONICA, headers=token) == "Crónica de una muerte anunciada"
    assert "on the primary" not in browser.get(f"{shop}/books/{slug}/", timeout=10).text


def test_a_catalogue_write_sends_every_reader_to_the_primary_until_replicas_replay_it(
    shop, paused, staff_headers
):
    """The cached reads rebuilt after a write never come from a replica that lacks it."""
    changed = requests.patch(
        f"{shop}/api/v1/books/{HITCHHIKER}/",
        json={"title": "The Hitchhiker, revised"},
        headers=staff_headers,
        timeout=10,
    )
    assert changed.status_code == 200, changed.text

    first = requests.get(f"{shop}/api/v1/books/{HITCHHIKER}/", timeout=10)
    assert (first.json()["title"], first.headers["X-Cache"]) == ("The Hitchhiker, revised", "MISS")
    time.sleep(PIN_SECONDS + 0.3)
    # Cached from the primary; a read not cached yet now goes to the (still paused) replica.
    assert title_of(shop, HITCHHIKER) == "The Hitchhiker, revised"
    assert requests.get(f"{shop}/api/v1/books/{HITCHHIKER}/?facets=0", timeout=10).json()["title"] == (
        "The Ultimate Hitchhiker's Guide to the Galaxy"
    )


def test_stock_at_checkout_comes_from_the_primary(shop, pair, paused, staff_headers):
    (salmon_id,) = pair.on_primary("SELECT id FROM catalog_book WHERE isbn13 = %s", (SALMON,))[0]
    paused.replay_resume()
    added = requests.post(
        f"{shop}/api/v1/cart/items/",
        json={"book": salmon_id, "quantity": 1},
        headers=staff_headers,
        timeout=10,
    )
    assert added.status_code == 201, added.text
    paused.wait_replayed()
    paused.replay_pause()
    paused.on_primary("UPDATE catalog_book SET stock = 0 WHERE id = %s", (salmon_id,))
    time.sleep(PIN_SECONDS + 0.3)  # no pin left from the cart's write
    cache.clear()

    # The replica still says 1 copy; the cart and checkout say what the primary says.
    assert requests.get(f"{shop}/api/v1/books/{SALMON}/", timeout=10).json()["stock"] == 1
    line = requests.get(f"{shop}/api/v1/cart/", headers=staff_headers, timeout=10).json()["lines"][0]
    assert (line["available"], line["insufficient_stock"]) == (0, True)
    checkout = requests.post(
        f"{shop}/api/v1/orders/",
        json={"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"},
        headers=staff_headers,
        timeout=10,
    )
    assert checkout.status_code == 409, checkout.text
    assert checkout.json()["errors"] == {"lines.0": ["“The Salmon of Doubt” is out of stock."]}
    paused.on_primary("UPDATE catalog_book SET stock = 1 WHERE id = %s", (salmon_id,))


def test_a_lagging_replica_is_skipped_and_named_by_readyz(pair, tmp_path_factory):
    with _shop(
        pair,
        tmp_path_factory,
        DATABASE_REPLICA_MAX_LAG="1",
        DATABASE_REPLICA_CHECK_SECONDS="0.2",
        WEB_CONCURRENCY="1",
    ) as strict:
        assert requests.get(f"{strict}/readyz", timeout=10).json()["replicas"] == {"replica1": "ok"}
        pair.replay_pause()
        try:
            retitle(pair, DUNE, "Dune, while the replica lags")
            time.sleep(1.5)  # the replica's last replayed transaction is now more than 1 s old

            assert title_of(strict, DUNE) == "Dune, while the replica lags"
            readiness = requests.get(f"{strict}/readyz", timeout=10)
            assert readiness.status_code == 200
            assert readiness.json()["degraded"] == ["replica1"]
            assert readiness.json()["replicas"]["replica1"].startswith("lagging (")
        finally:
            pair.replay_resume()
            pair.wait_replayed()
        assert requests.get(f"{strict}/readyz", timeout=10).json()["replicas"] == {"replica1": "ok"}


def test_the_shop_serves_from_the_primary_with_the_replica_stopped(shop, pair):
    (slug,) = pair.on_primary("SELECT slug FROM catalog_book WHERE isbn13 = %s", (DUNE,))[0]
    assert title_of(shop, DUNE)  # the workers hold a connection to the replica
    pair.stop("replica")
    try:
        cache.clear()
        started = time.monotonic()
        for _ in range(4):  # both workers, whatever their last probe said
            assert title_of(shop, DUNE)
            assert requests.get(f"{shop}/books/{slug}/", timeout=10).status_code == 200
            assert requests.get(f"{shop}/api/v1/categories/?n={_}", timeout=10).status_code == 200
        assert time.monotonic() - started < 10
        readiness = requests.get(f"{shop}/readyz", timeout=10)
        assert readiness.status_code == 200
        assert readiness.json()["replicas"] == {"replica1": "down"}
        assert readiness.json()["degraded"] == ["replica1"]
    finally:
        pair.start("replica")
        pair.wait_replayed()
