"""A database that accepts connections and never answers: the shop says 503, quickly, not a hang.

The test runs gunicorn against a listener of its own that accepts and then stays silent; the
shared PostgreSQL is never touched.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    port = spare_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent_database}/bookstore",
        "DB_CONNECT_TIMEOUT": "2",
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": "memory://",
    }
    env.pop("REDIS_URL", None)
    with (tmp_path_factory.mktemp("gunicorn") / "gunicorn.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bookstore.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    # /healthz needs no database: it answers once a worker has booted.
                    requests.get(f"{base}/healthz", timeout=2).raise_for_status()
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
