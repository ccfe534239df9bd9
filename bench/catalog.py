"""Catalogue benchmark: seed N books, serve them with gunicorn, measure the read endpoints.

    .venv/bin/python bench/catalog.py [--books 10000] [--requests 400] [--concurrency 8]

Uses its own PostgreSQL database (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/bookstore_bench, created if missing) and Redis database 15.
Seeds the demo categories and N books (real demo titles, authors and publishers, repeated
with a running number and made-up ISBNs: bench data, never loaded in the shop), starts
gunicorn on 127.0.0.1, and prints requests per second and p50/p99 latency for the list, a
filtered list, a search and a detail, uncached (every request a new cache key) and cached
(one key read again). Bounded: ``--requests`` per scenario and ``--seconds`` at most each;
gunicorn is stopped at the end whatever happens. Targets 127.0.0.1 only.
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench"
REDIS = "redis://127.0.0.1:6379/15"


def bench_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS,
        DJANGO_ENV="development",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="bench.settings",
        CELERY_BROKER_URL="memory://",
        CONN_MAX_AGE="600",
    )
    return env


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def seed(count: int) -> None:
    """Runs inside the bench environment (a child process): Django is set up here."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection, transaction

    from apps.catalog.demo import demo_catalog_load, demo_rows
    from apps.catalog.isbn import _isbn13_check_digit
    from apps.catalog.models import Author, Book, BookAuthor, Publisher
    from apps.catalog.services import book_search_vector_refresh
    from apps.categories.models import Category

    if not Category.objects.exists():
        demo_catalog_load()
    bench = Book.objects.filter(isbn13__startswith="979")
    if bench.count() == count:
        print(f"seed: {count} bench books already there")
        return
    rows, _ = demo_rows()
    authors = {a.name: a for a in Author.objects.all()}
    publishers = {p.name: p for p in Publisher.objects.all()}
    categories = {c.slug: c for c in Category.objects.all()}
    through = Book.categories.through
    rng = random.Random(42)
    started = time.monotonic()
    with transaction.atomic():
        bench.delete()
        for start in range(0, count, 1000):
            books, links, cats = [], [], []
            for n in range(start, min(start + 1000, count)):
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
                        stock=rng.randint(0, 20),
                    )
                )
            Book.objects.bulk_create(books)
            for n, book in zip(range(start, start + len(books)), books, strict=True):
                row = rows[n % len(rows)]
                links += [
                    BookAuthor(book=book, author=authors[name], position=i)
                    for i, name in enumerate(row.authors)
                ]
                cats += [through(book_id=book.pk, category_id=categories[slug].pk) for slug in row.categories]
            BookAuthor.objects.bulk_create(links)
            through.objects.bulk_create(cats)
        book_search_vector_refresh()
    # Fresh statistics, as autovacuum would give a real shop: without them the planner
    # guesses a handful of rows after a bulk insert.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    cache.clear()
    print(f"seed: {count} bench books in {time.monotonic() - started:.1f}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def run_scenario(port: int, paths: list[str], concurrency: int, seconds: float) -> dict[str, float]:
    """GET every path once (spread over ``concurrency`` keep-alive connections)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(reversed(paths))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            began = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    errors += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per scenario")
    parser.add_argument("--seed-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        seed(args.seed_only)
        return

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    env = bench_env(database_url)
    ensure_database(database_url)
    migrate = [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True)  # noqa: S603 (our own interpreter)
    subprocess.run([PYTHON, __file__, "--seed-only", str(args.books)], cwd=ROOT, env=env, check=True)  # noqa: S603
    import redis

    redis.Redis.from_url(REDIS).flushdb()

    port = free_port()
    gunicorn = subprocess.Popen(  # noqa: S603 (our own virtualenv's gunicorn)
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "bookstore.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(port)
        first = json.loads(_get(port, "/api/v1/books/?page_size=100&facets=false"))
        isbns = [book["isbn13"] for book in first["results"]]
        count = first["count"]
        n = args.requests
        scenarios = {
            "list": lambda i: f"/api/v1/books/?page={i % 50 + 1}",
            "filtered list": lambda i: (
                "/api/v1/books/?category=litterature&language=en&min_price=10&ordering=-price"
                f"&page={i % 20 + 1}"
            ),
            "search": lambda i: (
                f"/api/v1/books/?q={['tolstoy', 'dune', 'harry+potter', 'marquez', 'auster'][i % 5]}"
            ),
            "detail": lambda i: f"/api/v1/books/{isbns[i % len(isbns)]}/",
        }
        print(
            f"\n{count} active books, gunicorn {args.workers} workers, {args.concurrency} connections, "
            f"{n} requests per scenario\n"
        )
        print(f"{'scenario':<16} {'cache':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, path_for in scenarios.items():
            # Uncached: a throwaway parameter makes every request a new cache key (a miss that
            # runs the SQL and stores the result, as the first reader after a write does).
            uncached = [
                f"{path_for(i)}&bench={i}" if "?" in path_for(i) else f"{path_for(i)}?bench={i}"
                for i in range(n)
            ]
            cached_path = path_for(0)
            _get(port, cached_path)
            for label, paths in (("uncached", uncached), ("cached", [cached_path] * n)):
                result = run_scenario(port, paths, args.concurrency, args.seconds)
                rps, p50, p99 = result["rps"], result["p50"], result["p99"]
                print(f"{name:<16} {label:<9} {rps:>8.0f} {p50:>8.1f} {p99:>8.1f} {result['errors']:>7}")
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=15)


def _get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]}")
    return body


if __name__ == "__main__":
    main()
