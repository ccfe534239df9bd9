"""Cart benchmark: serve the shop with gunicorn and measure add, read and update.

    .venv/bin/python bench/cart.py [--requests 400] [--concurrency 8] [--lines 10]

Uses its own PostgreSQL database (``BENCH_CART_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/bookstore_bench_cart, created if missing) and Redis
database 15. Seeds a few hundred books, starts gunicorn on 127.0.0.1 and, as anonymous API
clients (one token per cart), measures:

- add: ``POST cart/items/`` filling ``--requests / --lines`` carts to ``--lines`` lines each;
- read uncached: ``GET cart/`` of each of those carts once (its first read after a write);
- read cached: ``GET cart/`` of one cart again and again;
- update: ``PATCH cart/items/{id}/`` of every line of those carts.

Prints requests per second and p50/p99 latency. Bounded: ``--requests`` per scenario and
``--seconds`` at most each; gunicorn is stopped at the end whatever happens. Targets
127.0.0.1 only. The per-client rate limits are raised for the run: every request comes from
one address.
"""

import argparse
import http.client
import json
import os
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
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_cart"
REDIS = "redis://127.0.0.1:6379/15"
BOOKS = 500

Request = tuple[str, str, dict | None, dict[str, str]]


def bench_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS,
        DJANGO_ENV="development",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="bookstore.settings",
        CELERY_BROKER_URL="memory://",
        CONN_MAX_AGE="600",
        THROTTLE_ANON="1000000/min",
        THROTTLE_USER="1000000/min",
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


def seed() -> None:
    """Runs inside the bench environment (a child process): Django is set up here."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from decimal import Decimal

    from apps.cart.models import Cart
    from apps.catalog.models import Book

    Cart.objects.all().delete()
    if Book.objects.count() != BOOKS:
        Book.objects.all().delete()
        Book.objects.bulk_create(
            Book(
                isbn13=f"978{n:09d}0",
                title=f"Bench book {n}",
                slug=f"bench-book-{n}",
                price=Decimal("5.00") + Decimal(n % 40) + Decimal("0.95"),
                stock=1_000_000,
            )
            for n in range(BOOKS)
        )
    print(json.dumps(list(Book.objects.order_by("pk").values_list("pk", flat=True))))


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


def call(connection: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    method, path, body, headers = request
    payload = json.dumps(body) if body is not None else None
    all_headers = {"Content-Type": "application/json", **headers} if payload else headers
    connection.request(method, path, body=payload, headers=all_headers)
    response = connection.getresponse()
    return response.status, response.read()


def run_scenario(
    port: int, requests: list[Request], expected: int, concurrency: int, seconds: float
) -> dict[str, float]:
    """Send every request once, spread over ``concurrency`` keep-alive connections."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(reversed(requests))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                request = queue.pop()
            began = time.perf_counter()
            status, _ = call(connection, request)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if status != expected:
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
        "p50": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--lines", type=int, default=10, help="lines per cart")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per scenario")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed()
        return

    database_url = os.environ.get("BENCH_CART_DATABASE_URL", DEFAULT_DB)
    env = bench_env(database_url)
    ensure_database(database_url)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603 (our own interpreter)
    seeded = subprocess.run(  # noqa: S603
        [PYTHON, __file__, "--seed-only"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    book_ids = json.loads(seeded.stdout.strip().splitlines()[-1])
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
        setup = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = args.requests
        lines = max(1, min(args.lines, BOOKS))
        carts = max(1, n // lines)
        tokens = []
        for _ in range(carts):
            status, body = call(setup, ("GET", "/api/v1/cart/", None, {}))
            if status != 200:
                raise RuntimeError(f"GET /api/v1/cart/ answered {status}: {body[:300]!r}")
            tokens.append(json.loads(body)["token"])

        def as_cart(i: int) -> dict[str, str]:
            return {"X-Cart-Token": tokens[i % carts]}

        adds = [
            (
                "POST",
                "/api/v1/cart/items/",
                {"book": book_ids[(i // carts) % lines], "quantity": 1},
                as_cart(i),
            )
            for i in range(carts * lines)
        ]
        uncached = [("GET", "/api/v1/cart/", None, as_cart(i)) for i in range(carts)]
        cached = [("GET", "/api/v1/cart/", None, as_cart(0))] * n

        print(
            f"\n{carts} anonymous carts of {lines} lines, gunicorn {args.workers} workers, "
            f"{args.concurrency} connections\n"
        )
        print(f"{'scenario':<16} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")

        def report(name: str, requests: list[Request], expected: int) -> None:
            result = run_scenario(port, requests, expected, args.concurrency, args.seconds)
            print(
                f"{name:<16} {result['requests']:>8} {result['rps']:>8.0f} {result['p50']:>8.1f} "
                f"{result['p99']:>8.1f} {result['errors']:>7}"
            )

        report("add", adds, 201)
        report("read uncached", uncached, 200)
        call(setup, cached[0])
        report("read cached", cached, 200)
        updates = []
        for i in range(carts):
            status, body = call(setup, ("GET", "/api/v1/cart/", None, as_cart(i)))
            for j, line in enumerate(json.loads(body)["lines"]):
                patch = {"quantity": 2 + j % 3}
                updates.append(("PATCH", f"/api/v1/cart/items/{line['id']}/", patch, as_cart(i)))
        report("update", updates[:n], 200)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=15)


if __name__ == "__main__":
    main()
