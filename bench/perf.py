"""The shop's performance benchmark (``bench/run``): every scenario as a ratio to a baseline
measured in the same run, under the same gunicorn.

    bench/run [--books 10000] [--quick] [--rounds 3] [--seconds 3] [--workers 4]

1. Creates (if missing) and migrates its own PostgreSQL database (``BENCH_DATABASE_URL``,
   default postgres://postgres@127.0.0.1:5432/bookstore_bench) and seeds it: the demo category
   tree, authors and publishers, ``--books`` books (demo titles repeated with a running number),
   reviews on a share of them, customers with JWTs. Stock is reset at every run, orders and
   carts deleted. Redis database 15, with a key prefix of the run's own (nothing is flushed).
2. Starts gunicorn on 127.0.0.1 as in production: ``DEBUG`` off, Redis cache and sessions,
   ``--workers`` sync workers (4 on two cores), persistent database connections; the settings
   are ``bench.settings`` (the shop's, without the per-client throttles, plus
   ``bench.instrument``: the baseline view and the query count header).
3. For each scenario, ``--rounds`` times: wrk (``-t2 -c16``, ``--seconds``) on the baseline, a
   static JSON body of the same size as the scenario's answer, then on the scenario. Lua
   (bench/wrk/scenario.lua) varies the URLs, signs in with a JWT, posts, and counts errors,
   cache hits and SQL queries from the answers. Checkouts run from Python threads (a cart line
   then the order, per customer).
4. Prints one table (scenario | requests/s | p50 | p99 | errors | SQL queries per request |
   cache hit ratio | ratio to baseline: median of the rounds, with their range) and writes it
   as JSON and markdown under bench/results/.

Bounded: every wrk run stops after ``--seconds``, checkouts likewise; gunicorn is stopped at
the end whatever happens. Targets 127.0.0.1 only; the database's name must contain ``bench``.
Not part of the test suite: a benchmark prints numbers, it asserts nothing.
"""

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    ROOT,
    Request,
    bench_books_write,
    bench_env,
    call,
    connect,
    fetch,
    gunicorn,
    prepare_database,
    run_child,
    setup_django,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench"
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "wrk" / "scenario.lua"
CUSTOMERS = 200
REVIEWED_BOOKS = 3000
SEARCHES = ["tolstoy", "dune", "harry potter", "marquez", "auster", "tolstoi", "hary poter", "orwel"]
ADDRESS = {
    "name": "Jeanne Banc",
    "line1": "3 rue des Bancs",
    "postal_code": "75005",
    "city": "Paris",
    "country": "FR",
}


def initial_stock_sql(column: str = "id") -> str:
    """Every bench book's stock at the start of a run: 0 to 20, from its id."""
    return f"(({column} * 7) % 21)"


# --- Seed (in a child process, Django set up) -------------------------------------------------


def seed(count: int) -> None:
    setup_django()
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from apps.accounts.models import User
    from apps.cart.models import Cart
    from apps.catalog.demo import demo_catalog_load
    from apps.catalog.models import Book
    from apps.categories.models import Category
    from apps.orders.models import Order
    from apps.reviews.models import Review, ReviewStatus
    from bookstore.api.authentication import ShopRefreshToken

    started = time.monotonic()
    if not Category.objects.exists():
        demo_catalog_load()
    bench = Book.objects.filter(isbn13__startswith="979")
    with transaction.atomic():
        Order.objects.all().delete()
        Cart.objects.all().delete()
    if bench.count() != count:
        with transaction.atomic():
            Review.objects.all().delete()
            bench.delete()
            bench_books_write(count, stock=lambda n: 0, batch=2000)
    users = list(User.objects.filter(email__endswith="@bench.example").order_by("pk"))
    if len(users) < CUSTOMERS:
        password = make_password("bench-password")
        User.objects.bulk_create(
            [
                User(
                    email=f"customer{n}@bench.example", password=password, is_active=True, email_verified=True
                )
                for n in range(len(users), CUSTOMERS)
            ]
        )
        users = list(User.objects.filter(email__endswith="@bench.example").order_by("pk"))
    if not Review.objects.exists():
        rng = random.Random(7)
        reviews = []
        for book_id in bench.order_by("pk").values_list("pk", flat=True)[:REVIEWED_BOOKS]:
            for user in rng.sample(users, rng.randint(1, 4)):
                reviews.append(
                    Review(
                        book_id=book_id,
                        user=user,
                        rating=rng.randint(1, 5),
                        title="Bench review",
                        body="Read it on the bench.",
                        status=ReviewStatus.PUBLISHED,
                    )
                )
        Review.objects.bulk_create(reviews, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_book b SET rating_count = r.n, rating_average = r.mean "
                "FROM (SELECT book_id, COUNT(*) AS n, ROUND(AVG(rating), 2) AS mean FROM reviews_review "
                "GROUP BY book_id) r WHERE r.book_id = b.id"
            )
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE catalog_book SET stock = {initial_stock_sql()}")  # noqa: S608
        # As autovacuum would after a bulk write (this machine's server runs without it):
        # statistics, and visibility maps for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    first = bench.order_by("pk").values_list("pk", "isbn13", "slug")[:400]
    in_stock = list(bench.filter(stock__gt=0).order_by("?").values_list("pk", flat=True)[:3000])
    print(
        json.dumps(
            {
                "seconds": round(time.monotonic() - started, 1),
                "books": list(first),
                "in_stock": in_stock,
                "tokens": [str(ShopRefreshToken.for_user(user).access_token) for user in users],
                "active_books": Book.objects.filter(is_active=True).count(),
            }
        )
    )


def oversold_check() -> None:
    """Books whose stock plus what the orders took is not their starting stock, or below 0."""
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM catalog_book b LEFT JOIN (SELECT book_id, SUM(quantity) AS q "  # noqa: S608
            "FROM orders_orderline GROUP BY book_id) o ON o.book_id = b.id "
            f"WHERE b.isbn13 LIKE '979%%' AND (b.stock < 0 OR b.stock + COALESCE(o.q, 0) != "
            f"{initial_stock_sql('b.id')})"
        )
        wrong = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT book_id FROM orders_orderline GROUP BY book_id HAVING "  # noqa: S608
            f"SUM(quantity) > {initial_stock_sql('book_id')}) s"
        )
        oversold = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM orders_order")
        orders = cursor.fetchone()[0]
    print(json.dumps({"stock_mismatch": wrong, "oversold": oversold, "orders": orders}))


# --- Load ---------------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p50: float  # ms
    p99: float
    errors: int
    requests: int
    queries: float | None
    hits: int
    misses: int


@dataclass
class Row:
    scenario: str
    runs: list[Run] = field(default_factory=list)
    baselines: list[Run] = field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        rps = statistics.median(r.rps for r in self.runs)
        ratios = [r.rps / b.rps for r, b in zip(self.runs, self.baselines, strict=False) if b.rps]
        answered = sum(r.requests for r in self.runs)
        queries = [r.queries for r in self.runs if r.queries is not None]
        hits, misses = sum(r.hits for r in self.runs), sum(r.misses for r in self.runs)
        return {
            "scenario": self.scenario,
            "requests_per_s": round(rps, 1),
            "p50_ms": round(statistics.median(r.p50 for r in self.runs), 2),
            "p99_ms": round(statistics.median(r.p99 for r in self.runs), 2),
            "errors": sum(r.errors for r in self.runs),
            "requests": answered,
            "queries_per_request": round(statistics.mean(queries), 2) if queries else None,
            "cache_hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
            "ratio": round(statistics.median(ratios), 4) if ratios else None,
            "ratio_min": round(min(ratios), 4) if ratios else None,
            "ratio_max": round(max(ratios), 4) if ratios else None,
            "baseline_rps": round(statistics.median(b.rps for b in self.baselines), 1)
            if self.baselines
            else None,
            "note": self.note,
            **self.extra,
        }


def write_requests(requests: list[Request], directory: Path) -> Path:
    path = Path(tempfile.mkstemp(suffix=".tsv", dir=directory)[1])
    lines = []
    for method, target, body, headers in requests:
        headers = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
        head = "|".join(f"{k}: {v}" for k, v in headers.items()) or "-"
        lines.append(f"{method}\t{target}\t{head}\t{json.dumps(body) if body is not None else '-'}")
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(port: int, requests_file: Path, *, seconds: float, connections: int, expected: int = 200) -> Run:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
    ]
    done = subprocess.run(  # noqa: S603 (wrk from Debian, on loopback)
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        env={**os.environ, "BENCH_EXPECT": str(expected), "BENCH_NONCE": uuid.uuid4().hex[:8]},
        check=True,
    )
    match = re.search(r"BENCH-JSON (\{.*\})", done.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no result: {done.stdout}\n{done.stderr}")
    data = json.loads(match.group(1))
    duration = data["duration_us"] / 1e6
    answered = data["answered"]
    return Run(
        rps=data["requests"] / duration if duration else 0.0,
        p50=data["p50_us"] / 1000,
        p99=data["p99_us"] / 1000,
        errors=data["errors"] + data["socket_errors"],
        requests=answered,
        queries=data["queries"] / answered if answered else None,
        hits=data["hits"],
        misses=data["misses"],
    )


def answer_size(port: int, request: Request, expected: int) -> int:
    return len(
        fetch(
            port,
            Request(
                request.method, request.path.replace("{n}", uuid.uuid4().hex), request.body, request.headers
            ),
            expected,
        )
    )


def baseline_file(port: int, size: int, directory: Path) -> Path:
    return write_requests([Request("GET", f"/bench/baseline/{size}/")], directory)


def measure(
    row: Row,
    port: int,
    requests: list[Request],
    args: argparse.Namespace,
    directory: Path,
    *,
    expected: int = 200,
    size: int | None = None,
    warm_seconds: float = 0,
) -> Row:
    size = size if size is not None else answer_size(port, requests[0], expected)
    scenario_file = write_requests(requests, directory)
    base = baseline_file(port, size, directory)
    if warm_seconds:
        # Every worker serves the requests before they are measured: each process keeps its
        # own copy of the hits' keys (bookstore/near_cache.py), which one connection's pass
        # (``warm``) gives to one worker only.
        wrk(port, scenario_file, seconds=warm_seconds, connections=args.connections, expected=expected)
    for _ in range(args.rounds):
        row.baselines.append(wrk(port, base, seconds=args.seconds, connections=args.connections))
        row.runs.append(
            wrk(port, scenario_file, seconds=args.seconds, connections=args.connections, expected=expected)
        )
    row.extra["answer_bytes"] = size
    return row


def warm(port: int, requests: list[Request]) -> None:
    connection = connect(port)
    try:
        for request in requests:
            call(connection, request)
    finally:
        connection.close()


class Checkouts:
    """Customers buying from Python threads: a cart line, then the order; ``rate`` orders/s in
    all (paced), or as fast as ``threads`` allow when ``rate`` is None."""

    def __init__(self, port: int, tokens: list[str], books: list[int], *, threads: int, rate: float | None):
        self.port, self.tokens, self.books = port, tokens, books
        self.threads, self.rate = threads, rate
        self.orders = self.refused = self.errors = 0
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.next_token = 0

    def _one(self, connection, rng: random.Random) -> None:
        with self.lock:
            token = self.tokens[self.next_token % len(self.tokens)]
            self.next_token += 1
        auth = {"Authorization": f"Bearer {token}"}
        book = rng.choice(self.books)
        began = time.perf_counter()
        status, _ = call(
            connection, Request("POST", "/api/v1/cart/items/", {"book": book, "quantity": 1}, auth)
        )
        if status == 409 or status == 400:
            with self.lock:
                self.refused += 1
            call(connection, Request("DELETE", "/api/v1/cart/", None, auth))
            return
        if status != 201:
            with self.lock:
                self.errors += 1
            return
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        body = {"shipping_address": ADDRESS, "payment_provider": "dummy"}
        status, _ = call(connection, Request("POST", "/api/v1/orders/", body, headers))
        elapsed = time.perf_counter() - began
        with self.lock:
            if status == 201:
                self.orders += 1
                self.latencies.append(elapsed)
            elif status == 409:
                self.refused += 1
            else:
                self.errors += 1
        if status != 201:
            call(connection, Request("DELETE", "/api/v1/cart/", None, auth))

    def _worker(self, index: int) -> None:
        rng = random.Random(index)
        connection = connect(self.port)
        interval = self.threads / self.rate if self.rate else 0.0
        next_at = time.monotonic() + rng.random() * interval
        try:
            while not self.stop.is_set():
                if interval:
                    delay = next_at - time.monotonic()
                    if delay > 0 and self.stop.wait(delay):
                        return
                    next_at += interval
                try:
                    self._one(connection, rng)
                except OSError:
                    connection.close()
                    connection = connect(self.port)
                    with self.lock:
                        self.errors += 1
        finally:
            connection.close()

    def run(self, seconds: float) -> float:
        workers = [threading.Thread(target=self._worker, args=(i,), daemon=True) for i in range(self.threads)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        self.stop.wait(seconds)
        self.stop.set()
        for worker in workers:
            worker.join(timeout=30)
        return time.monotonic() - started


# --- The run ------------------------------------------------------------------------------------


def scenarios(seeded: dict[str, Any]) -> dict[str, tuple[list[Request], int, str]]:
    """name → (requests, expected status, what is measured)."""
    books = seeded["books"]
    tokens = seeded["tokens"]
    rng = random.Random(3)

    def jwt(i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}

    list_pages = [f"/api/v1/books/?page={p}" for p in range(1, 21)]
    details = [f"/api/v1/books/{isbn}/" for _, isbn, _ in books[:200]]
    categories = ["litterature", "imaginaire", "science-fiction", "polar", "jeunesse"]
    return {
        "list, cached": ([Request("GET", p) for p in list_pages], 200, "20 pages, warm"),
        "list, cached, signed in": (
            [Request("GET", p, None, jwt(i)) for i, p in enumerate(list_pages * 5)],
            200,
            "JWT, 20 pages",
        ),
        "detail, cached": ([Request("GET", d) for d in details], 200, "200 books, warm"),
        "detail, cached, signed in": (
            [Request("GET", d, None, jwt(i)) for i, d in enumerate(details)],
            200,
            "JWT, 200 books",
        ),
        "list, uncached (facets)": (
            [Request("GET", f"/api/v1/books/?page={p % 50 + 1}&u={{n}}") for p in range(50)],
            200,
            "a new URL per request",
        ),
        "filtered list, uncached": (
            [
                Request(
                    "GET",
                    f"/api/v1/books/?category={categories[i % 5]}&language={'en' if i % 2 else 'fr'}"
                    f"&min_price={5 + i % 6}&ordering=-price&u={{n}}",
                )
                for i in range(30)
            ],
            200,
            "category, language, price, ordering",
        ),
        "search, uncached": (
            [Request("GET", f"/api/v1/books/?q={q.replace(' ', '+')}&u={{n}}") for q in SEARCHES],
            200,
            "8 queries, 3 with typos",
        ),
        "detail, uncached": (
            [Request("GET", f"/api/v1/books/{isbn}/?u={{n}}") for _, isbn, _ in books[:200]],
            200,
            "a new URL per request",
        ),
        "category tree, uncached": (
            [Request("GET", "/api/v1/categories/?u={n}")],
            200,
            "a new URL per request",
        ),
        "page: catalogue, cached": (
            [Request("GET", f"/books/?page={p}") for p in range(1, 11)],
            200,
            "HTML, 10 pages, warm",
        ),
        "page: book, cached": (
            [Request("GET", f"/books/{slug}/") for _, _, slug in books[:100]],
            200,
            "HTML, 100 books, warm",
        ),
        "cart read, signed in": (
            [Request("GET", "/api/v1/cart/", None, jwt(i)) for i in range(50)],
            200,
            "50 carts of 3 lines",
        ),
        "add to cart, anonymous": (
            [
                Request(
                    "POST", "/api/v1/cart/items/", {"book": rng.choice(seeded["in_stock"]), "quantity": 1}
                )
                for _ in range(200)
            ],
            201,
            "a new cart per request",
        ),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    env = bench_env(
        database_url,
        JWT_ACCESS_MINUTES="600",
        CONN_MAX_AGE="600",
        BENCH_CACHE_PREFIX=f"perf-{uuid.uuid4().hex[:8]}",
    )
    prepare_database(database_url, env)
    print(f"seeding {args.books} books …", flush=True)
    # Seeding 100,000 books runs statements longer than the shop's 20 s limit.
    seed_env = {**env, "DB_STATEMENT_TIMEOUT": "1800"}
    seeded = json.loads(run_child([__file__, "--seed-only", str(args.books)], seed_env, capture=True))
    print(f"seeded in {seeded['seconds']} s: {seeded['active_books']} active books", flush=True)
    # No flush: the run's cache keys have a prefix of their own (bench.settings).
    rows: list[Row] = []
    directory = Path(tempfile.mkdtemp(prefix="bench-"))
    log = directory / "gunicorn.log"
    with gunicorn(env, args.workers, log=log, ready_timeout=120) as port:
        tokens = seeded["tokens"]
        # Carts for the cart read: 3 lines each, the first 50 customers.
        for i in range(50):
            auth = {"Authorization": f"Bearer {tokens[i]}"}
            for book in seeded["in_stock"][i * 3 : i * 3 + 3]:
                fetch(port, Request("POST", "/api/v1/cart/items/", {"book": book, "quantity": 1}, auth), 201)
        wanted = [name.strip() for name in args.only.split(",")] if args.only else None
        for name, (requests, expected, note) in scenarios(seeded).items():
            if wanted and not any(w in name for w in wanted):
                continue
            cached = "uncached" not in name
            if cached:
                warm(port, requests)
            print(f"  {name} …", flush=True)
            rows.append(
                measure(
                    Row(name, note=note),
                    port,
                    requests,
                    args,
                    directory,
                    expected=expected,
                    warm_seconds=1.0 if cached else 0,
                )
            )
            print("   ", _line(rows[-1].summary()), flush=True)
        if not wanted or any(w in "checkout" for w in wanted):
            rows.append(checkout_row(port, seeded, args, directory))
            print("   ", _line(rows[-1].summary()), flush=True)
        if not wanted or any(w in "mixed" for w in wanted):
            rows.extend(mixed_rows(port, seeded, args, directory))
            for row in rows[-2:]:
                print("   ", _line(row.summary()), flush=True)
    check = json.loads(run_child([__file__, "--oversold-check"], env, capture=True))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    return {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.stdout.strip() + ("+changes" if dirty.stdout.strip() else ""),
        "books": seeded["active_books"],
        "workers": args.workers,
        "connections": args.connections,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "load_average": os.getloadavg()[0],
        "stock_check": check,
        "rows": [row.summary() for row in rows],
    }


def checkout_row(port: int, seeded: dict[str, Any], args: argparse.Namespace, directory: Path) -> Row:
    """Orders as fast as 8 customers at a time place them (dummy provider)."""
    print("  checkout …", flush=True)
    row = Row("checkout (orders/s)", note="8 customers at a time, cart line then order")
    size = 1200
    base = baseline_file(port, size, directory)
    for _ in range(args.rounds):
        row.baselines.append(wrk(port, base, seconds=args.seconds, connections=args.connections))
        checkouts = Checkouts(port, seeded["tokens"][50:], seeded["in_stock"], threads=8, rate=None)
        wall = checkouts.run(args.seconds)
        lat = sorted(checkouts.latencies) or [0.0]
        row.runs.append(
            Run(
                rps=checkouts.orders / wall,
                p50=statistics.median(lat) * 1000,
                p99=lat[max(0, int(len(lat) * 0.99) - 1)] * 1000,
                errors=checkouts.errors,
                requests=checkouts.orders,
                queries=None,
                hits=0,
                misses=0,
            )
        )
        row.extra["refused_out_of_stock"] = row.extra.get("refused_out_of_stock", 0) + checkouts.refused
    row.extra["answer_bytes"] = size
    row.note += "; ratio: orders/s (2 requests each, from Python) over the baseline's requests/s (wrk)"
    return row


def mixed_rows(port: int, seeded: dict[str, Any], args: argparse.Namespace, directory: Path) -> list[Row]:
    """Readers (cached list pages and details, half of them signed in) alone, then while
    customers place ``--orders-rate`` orders per second."""
    tokens = seeded["tokens"]
    readers = [Request("GET", f"/api/v1/books/?page={p}") for p in range(1, 21)]
    readers += [
        Request(
            "GET",
            f"/api/v1/books/{isbn}/",
            None,
            {"Authorization": f"Bearer {tokens[i % 40]}"} if i % 2 else None,
        )
        for i, (_, isbn, _) in enumerate(seeded["books"][:200])
    ]
    readers += [
        Request("GET", f"/api/v1/books/?page={p}", None, {"Authorization": f"Bearer {tokens[p]}"})
        for p in range(1, 21)
    ]
    readers_file = write_requests(readers, directory)
    seconds = args.seconds * 2
    alone = Row("mixed: readers, no orders", note="list pages and details, half signed in")
    busy = Row(
        "mixed: readers, orders flowing", note=f"the same, while orders are placed at {args.orders_rate}/s"
    )
    print("  mixed …", flush=True)
    warm(port, readers)
    wrk(port, readers_file, seconds=1.0, connections=args.connections)  # every worker (``measure``)
    orders_per_s = []
    for _ in range(args.rounds):
        alone.runs.append(wrk(port, readers_file, seconds=seconds, connections=args.connections))
        alone.baselines.append(alone.runs[-1])
        checkouts = Checkouts(port, tokens[50:], seeded["in_stock"], threads=4, rate=args.orders_rate)
        thread = threading.Thread(target=checkouts.run, args=(seconds + 1,), daemon=True)
        thread.start()
        busy.runs.append(wrk(port, readers_file, seconds=seconds, connections=args.connections))
        thread.join()
        busy.baselines.append(alone.runs[-1])
        orders_per_s.append(checkouts.orders / (seconds + 1))
        busy.extra["order_errors"] = busy.extra.get("order_errors", 0) + checkouts.errors
    busy.extra["orders_per_s"] = round(statistics.median(orders_per_s), 1)
    alone.baselines = []
    busy.note += "; ratio: to the readers without orders"
    return [alone, busy]


# --- Output -------------------------------------------------------------------------------------

COLUMNS = ["scenario", "req/s", "p50 ms", "p99 ms", "errors", "SQL/req", "cache hits", "ratio (range)"]


def _cells(s: dict[str, Any]) -> list[str]:
    def num(v: Any, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    ratio = "-" if s["ratio"] is None else f"{s['ratio']:.3f} ({s['ratio_min']:.3f} to {s['ratio_max']:.3f})"
    hits = "-" if s["cache_hit_ratio"] is None else f"{100 * s['cache_hit_ratio']:.1f} %"
    return [
        s["scenario"],
        num(s["requests_per_s"], ".0f"),
        num(s["p50_ms"], ".1f"),
        num(s["p99_ms"], ".1f"),
        str(s["errors"]),
        num(s["queries_per_request"], ".1f"),
        hits,
        ratio,
    ]


def _line(s: dict[str, Any]) -> str:
    return " | ".join(_cells(s))


def table(result: dict[str, Any]) -> str:
    rows = [COLUMNS] + [_cells(s) for s in result["rows"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def markdown(result: dict[str, Any]) -> str:
    head = (
        f"{result['when']}, commit {result['commit']}, {result['books']} active books, gunicorn "
        f"{result['workers']} sync workers, wrk -t2 -c{result['connections']}, {result['rounds']} rounds of "
        f"{result['seconds']} s, load average {result['load_average']:.1f} at the end; "
        f"stock check: {result['stock_check']}\n\n"
    )
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(s)) + " |" for s in result["rows"]]
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn sync workers"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--orders-rate", type=float, default=6.0, help="orders/s during the mixed run")
    parser.add_argument("--quick", action="store_true", help="one round of 2 s per scenario")
    parser.add_argument("--only", default="", help="comma-separated parts of scenario names")
    parser.add_argument("--seed-only", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--oversold-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        seed(args.seed_only)
        return
    if args.oversold_check:
        oversold_check()
        return
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{result['books']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(result))
    print()
    print(table(result))
    print(f"\nstock check: {result['stock_check']}")
    print(f"written: {stem}.json and .md")


if __name__ == "__main__":
    main()
