"""A database that accepts connections and never answers: the shop says 503, quickly, not a hang.

The test runs gunicorn against a listener of its own that accepts and then stays silent; the
shared PostgreSQL is never touched.
"""

import socket
import threading
import time

import pytest
import requests

from tests.servers import gunicorn


@pytest.fixture(scope="module")
def silent_database():
    """A TCP listener that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture(scope="module")
def shop_on_a_silent_database(silent_database, tmp_path_factory):
    """gunicorn serving the shop with the silent listener as its database (one for the module)."""
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent_database}/bookstore",
        "DB_CONNECT_TIMEOUT": "2",
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": "memory://",
        "WEB_CONCURRENCY": "2",
        "REDIS_URL": None,
    }
    with gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as base:
        yield base


def timed(url: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.get(url, timeout=30)
    return response, time.monotonic() - started


def test_readyz_says_503_within_two_seconds(shop_on_a_silent_database):
    response, seconds = timed(f"{shop_on_a_silent_database}/readyz")
    assert response.status_code == 503
    assert "database" in response.json()["failed"]
    assert seconds < 2.5


def test_the_api_answers_a_503_problem_not_a_hang_or_a_500(shop_on_a_silent_database):
    response, seconds = timed(f"{shop_on_a_silent_database}/api/v1/books/")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert seconds < 5


def test_a_page_answers_a_503_page(shop_on_a_silent_database):
    response, seconds = timed(f"{shop_on_a_silent_database}/books/")
    assert response.status_code == 503
    assert "text/html" in response.headers["Content-Type"]
    assert seconds < 5
