"""What the benchmarks share: their environment, their database, gunicorn, the load loop, the table.

A benchmark script prepares its own PostgreSQL database (``prepare_database``), seeds it in a
child process, then, inside ``with gunicorn(env, workers) as port:``, sends each scenario's
requests with ``run_scenario`` and prints one ``table_row`` per scenario.

Safety rails, the same for every script:

- everything targets 127.0.0.1: the server is bound there, the load loop connects only there,
  and a database URL on another host is refused;
- the database's name must contain ``bench``: the seeds delete rows (books, carts), so the
  shop's own database is never a benchmark's;
- every scenario is bounded by its list of requests and by a time limit;
- gunicorn is stopped when the ``with`` block ends, whatever ends it (an error, Ctrl-C, a
  SIGTERM to the script), and killed if it has not stopped 15 s later.
"""

import argparse
import http.client
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
# Redis database 15 is the benchmarks' (the test runs use the lower ones); it is flushed.
# ``BENCH_REDIS_URL`` picks another, so that two benchmarks can run side by side.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", f"redis://{HOST}:6379/15")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STOP_TIMEOUT = 15.0


class Request(NamedTuple):
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def scenario_arguments(parser: argparse.ArgumentParser, *, requests: int, books: bool = True) -> None:
    """The options of the request-count benchmarks (catalog, cart, replicas): how many books,
    requests per scenario and at once, gunicorn workers, and the time limit of a scenario."""
    if books:
        parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=requests, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per scenario")


def bench_env(database_url: str, *, settings: str = "bench.settings", **extra: str) -> dict[str, str]:
    """The environment of every child process: production-like (no DEBUG, quiet logs,
    persistent connections), the bench database and Redis database 15 (``BENCH_REDIS_URL``)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        DJANGO_ENV="development",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE=settings,
        CELERY_BROKER_URL="memory://",
        CONN_MAX_AGE="600",
    )
    env.update(extra)
    return env


def check_database_url(database_url: str) -> None:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(f"the benchmark needs a PostgreSQL URL, not {database_url!r}")
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"the benchmark runs against 127.0.0.1 only, not {parts.hostname!r}")
    if "bench" not in parts.path.lstrip("/"):
        raise SystemExit(
            f"the benchmark seeds (and deletes) rows: its database's name must contain 'bench', "
            f"not {parts.path.lstrip('/')!r}"
        )


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def prepare_database(database_url: str, env: dict[str, str]) -> None:
    """Check the URL, create the database if missing, and migrate it."""
    check_database_url(database_url)
    ensure_database(database_url)
    migrate = [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True)  # noqa: S603 (our own interpreter)


def run_child(args: Sequence[str], env: dict[str, str], *, capture: bool = False) -> str:
    """Run this interpreter on ``args`` in the bench environment; its stdout if captured."""
    # Only stdout is captured: a child's traceback still reaches the terminal.
    done = subprocess.run(  # noqa: S603 (our own interpreter on our own script)
        [PYTHON, *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    return done.stdout if capture else ""


def setup_django() -> None:
    """In a seeding child: make the project importable and set Django up."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def setup_in_process(**defaults: str) -> None:
    """For a script that times requests in its own process (``inprocess.py``, ``gc_pause.py``):
    ``bench.settings`` as the bench's gunicorn runs it (no DEBUG, quiet logs, no broker), with
    ``defaults`` for other variables, each unless the environment sets it; then Django."""
    for name, value in {
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
        **defaults,
    }.items():
        os.environ.setdefault(name, value)
    setup_django()


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until /healthz answers 200; fail at once if gunicorn has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode} before serving")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int,
    *,
    args: Sequence[str] = (),
    log: Path | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[int]:
    """Serve the shop with gunicorn on 127.0.0.1 for the block; yield its port.

    ``args`` go before the application's (``("-c", "python:bookstore.gunicorn_conf")`` serves
    it as the container does); ``log`` receives gunicorn's output instead of the terminal.
    """
    port = free_port()
    # A SIGTERM to the script becomes SystemExit, so the finally below still stops gunicorn.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    output = log.open("w") if log is not None else None
    process = subprocess.Popen(  # noqa: S603 (our own virtualenv's gunicorn)
        [
            str(Path(PYTHON).with_name("gunicorn")),
            *args,
            "bookstore.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    try:
        wait_for(port, process, ready_timeout)
        yield port
    finally:
        _stop(process)
        signal.signal(signal.SIGTERM, previous)
        if output is not None:
            output.close()


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=30)


def call(connection: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    method, path, body, headers = request
    payload = json.dumps(body) if body is not None else None
    all_headers = dict(headers or {})
    if payload is not None:
        all_headers["Content-Type"] = "application/json"
    connection.request(method, path, body=payload, headers=all_headers)
    response = connection.getresponse()
    return response.status, response.read()


def fetch(port: int, request: Request, expected: int = 200) -> bytes:
    """One request outside any measurement (setup, warm-up); anything but ``expected`` fails."""
    connection = connect(port)
    try:
        status, body = call(connection, request)
    finally:
        connection.close()
    if status != expected:
        raise RuntimeError(f"{request.method} {request.path} answered {status}: {body[:300]!r}")
    return body


@dataclass(frozen=True)
class Result:
    planned: int
    sent: int  # fewer than planned if the time limit hit
    requests: int  # answered, with any status
    errors: int  # answered with another status than expected, or failed on the connection
    rps: float
    p50: float  # milliseconds
    p99: float


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0.0 if empty)."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def run_scenario(
    port: int, requests: Sequence[Request], *, expected: int, concurrency: int, seconds: float
) -> Result:
    """Send every request once, in order, spread over ``concurrency`` keep-alive connections.

    No new request starts after ``seconds``. A request that fails on the connection counts
    as an error (its time is not a latency) and its worker reconnects.
    """
    latencies: list[float] = []
    errors = sent = 0
    lock = threading.Lock()
    queue = list(reversed(requests))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors, sent
        connection = connect(port)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    request = queue.pop()
                    sent += 1
                began = time.perf_counter()
                try:
                    status, _ = call(connection, request)
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = connect(port)
                    with lock:
                        errors += 1
                    continue
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.append(elapsed)
                    if status != expected:
                        errors += 1
        finally:
            connection.close()

    # Daemons: an interrupted run exits at once instead of draining the queue into a stopped server.
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    answered = len(latencies)
    return Result(
        planned=len(requests),
        sent=sent,
        requests=answered,
        errors=errors,
        rps=answered / wall if wall else 0.0,
        p50=statistics.median(latencies) * 1000 if latencies else 0.0,
        p99=percentile(latencies, 0.99) * 1000,
    )


def table_header(*labels: tuple[str, int]) -> str:
    """The header line: the scenario's label columns (name, width), then the measures."""
    left = " ".join(f"{name:<{width}}" for name, width in labels)
    return f"{left} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"


def table_row(labels: Sequence[tuple[str, int]], result: Result) -> str:
    left = " ".join(f"{value:<{width}}" for value, width in labels)
    row = (
        f"{left} {result.requests:>8} {result.rps:>8.0f} {result.p50:>8.1f} "
        f"{result.p99:>8.1f} {result.errors:>7}"
    )
    if result.sent < result.planned:
        row += f"  (time limit: {result.planned - result.sent} of {result.planned} not sent)"
    return row


def bench_books_write(count: int, *, stock: Callable[[int], int], batch: int = 1000) -> None:
    """In a child with Django set up, inside the caller's transaction: ``count`` bench books
    (979 ISBNs) made of the demo catalogue's rows, with their authors and categories (which
    must exist: ``demo_catalog_load``), and their search documents. ``stock(n)`` is book n's."""
    from apps.catalog.demo import demo_rows
    from apps.catalog.isbn import _isbn13_check_digit
    from apps.catalog.models import Author, Book, BookAuthor, Publisher
    from apps.catalog.services import book_search_refresh
    from apps.categories.models import Category

    rows, _ = demo_rows()
    authors = {a.name: a for a in Author.objects.all()}
    publishers = {p.name: p for p in Publisher.objects.all()}
    categories = {c.slug: c for c in Category.objects.all()}
    through = Book.categories.through
    for start in range(0, count, batch):
        books, links, cats = [], [], []
        for n in range(start, min(start + batch, count)):
            row = rows[n % len(rows)]
            first12 = f"979{n:09d}"
            isbn13 = first12 + _isbn13_check_digit(first12)
            books.append(
                Book(
                    isbn13=isbn13,
                    title=f"{row.title} {n // len(rows) + 1}",
                    subtitle=row.subtitle,
                    slug=f"bench-{isbn13}",
                    publisher=publishers[row.publisher],
                    publication_date=row.publication_date,
                    language=row.language,
                    format=row.format,
                    pages=row.pages,
                    description=f"{row.title} by {', '.join(row.authors)}.",
                    price=row.price,
                    currency="EUR",
                    stock=stock(n),
                )
            )
        Book.objects.bulk_create(books)
        for n, book in zip(range(start, start + len(books)), books, strict=True):
            row = rows[n % len(rows)]
            links += [
                BookAuthor(book=book, author=authors[name], position=i) for i, name in enumerate(row.authors)
            ]
            cats += [through(book_id=book.pk, category_id=categories[slug].pk) for slug in row.categories]
        BookAuthor.objects.bulk_create(links)
        through.objects.bulk_create(cats)
    book_search_refresh()
