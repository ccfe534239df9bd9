"""Scale benchmark: one gunicorn against two behind HAProxy, and checkout under lock contention.

    .venv/bin/python bench/scale.py [--seconds 10] [--connections 16] [--workers 2] [--orders 300]

Uses its own PostgreSQL database (``BENCH_SCALE_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/bookstore_bench_scale, created if missing) and Redis database
15. Seeds 500 books and the customers of the checkout rounds, then measures, each row with its
ratio to the first row of its table (taken in the same run):

1. Catalogue reads with ``wrk`` (``--connections`` connections, ``--seconds`` each, after a
   warm-up): an anonymous list page (served from the Redis cache) and a book's detail, against
   one gunicorn of ``--workers`` workers directly, the same behind HAProxy (the balancer's own
   cost), and two such gunicorns behind HAProxy, round-robin (``bookstore/gunicorn_conf.py``,
   the container's settings).
2. Checkout (``POST /api/v1/orders/``, the dummy provider, one order per customer, each with an
   Idempotency-Key) by ``--concurrency`` customers at once, ``--orders`` orders: every order
   taking the same best-seller (every checkout queues on that book's row lock in
   ``catalog.stock_reserve``), then every order a different book.

Bounded: wrk stops after ``--seconds``; each checkout round after its orders or ``--seconds``
(a row says what the limit left unsent). Targets 127.0.0.1 only; the database's name must
contain ``bench``; the servers and HAProxy are stopped at the end whatever happens. The
per-client rate limits are off for the run (``bench/settings.py``): all requests come from one
address. On one machine, two gunicorns share its cores: the two-server row measures the
balancer's fan-out, not two machines' capacity (docs/scaling.md says how to read it).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

from harness import (
    HOST,
    ROOT,
    Request,
    bench_env,
    fetch,
    flush_redis,
    gunicorn,
    prepare_database,
    run_child,
    run_scenario,
    setup_django,
    table_header,
    table_row,
)

sys.path.insert(0, str(ROOT))
from tests.servers import haproxy

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_scale"
BOOKS = 500
WRK = "wrk"
ADDRESS = {
    "name": "Bench Client",
    "line1": "1 rue du Banc",
    "postal_code": "75001",
    "city": "Paris",
    "country": "FR",
}


def seed(customers: int) -> None:
    """Runs inside the bench environment (a child process): Django is set up here."""
    setup_django()
    from decimal import Decimal

    from apps.accounts.models import User
    from apps.cart.models import Cart, CartLine
    from apps.catalog.models import Book
    from apps.orders.models import Order
    from bookstore.api.authentication import ShopRefreshToken

    Order.objects.all().delete()
    Cart.objects.all().delete()
    User.objects.filter(email__endswith="@bench.invalid").delete()
    if Book.objects.count() != BOOKS:
        Book.objects.all().delete()
        Book.objects.bulk_create(
            Book(
                isbn13=f"978{n:09d}0",
                title=f"Bench book {n}",
                slug=f"bench-book-{n}",
                price=Decimal("5.95") + Decimal(n % 40),
                stock=1_000_000,
            )
            for n in range(BOOKS)
        )
    Book.objects.update(stock=1_000_000)
    books = list(Book.objects.order_by("pk"))
    users = User.objects.bulk_create(
        User(email=f"customer{n}@bench.invalid", is_active=True, email_verified=True)
        for n in range(customers)
    )
    carts = Cart.objects.bulk_create(Cart(user=user) for user in users)
    # The first half buy the best-seller (books[0]); the second half each a book of their own.
    half = customers // 2
    CartLine.objects.bulk_create(
        CartLine(
            cart=cart,
            book=books[0] if n < half else books[1 + (n - half) % (BOOKS - 1)],
            quantity=1,
            price_when_added=(books[0] if n < half else books[1 + (n - half) % (BOOKS - 1)]).price,
        )
        for n, cart in enumerate(carts)
    )
    tokens = [str(ShopRefreshToken.for_user(user).access_token) for user in users]
    print(json.dumps({"book": books[0].pk, "tokens": tokens}))


def behind_haproxy(stack: ExitStack, ports: list[int], folder: Path) -> int:
    """The port of an HAProxy round-robin over ``ports``: the tests' own (``tests.servers``)."""
    folder.mkdir()
    base = stack.enter_context(haproxy([f"http://{HOST}:{port}" for port in ports], folder))
    return int(base.rsplit(":", 1)[1])


def wrk(port: int, path: str, *, seconds: float, connections: int) -> tuple[float, float, float]:
    """Requests per second and p50/p99 latency (ms) of ``wrk`` on ``path``."""
    threads = min(2, connections)
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:.0f}s",
        "--latency",
        f"http://{HOST}:{port}{path}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout  # noqa: S603
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        raise RuntimeError(f"wrk saw errors on {path}:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def latency(label: str) -> float:
        value, unit = re.search(rf"\s{label}\s+([\d.]+)(us|ms|s)\b", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, latency("50%"), latency("99%")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="per wrk run; time limit per checkout round"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--orders", type=int, default=300, help="orders per checkout round")
    parser.add_argument("--concurrency", type=int, default=8, help="customers checking out at once")
    parser.add_argument("--seed-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only)
        return

    database_url = os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_DB)
    env = bench_env(database_url, WEB_CONCURRENCY=str(args.workers), PAYMENT_PROVIDERS="dummy")
    prepare_database(database_url, env)
    seeded = json.loads(
        run_child([__file__, "--seed-only", str(2 * args.orders)], env, capture=True).strip().splitlines()[-1]
    )
    flush_redis()
    conf = ("-c", "python:bookstore.gunicorn_conf")
    paths = {"list": "/api/v1/books/?page_size=20", "detail": f"/api/v1/books/{seeded['book']}/"}

    print(
        f"\n1. Catalogue reads: wrk, {args.connections} connections, {args.seconds:.0f} s each; "
        f"gunicorn {args.workers} workers per server\n"
    )
    print(f"{'setup':<28} {'read':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        first = stack.enter_context(gunicorn(env, args.workers, args=conf))
        second = stack.enter_context(gunicorn(env, args.workers, args=conf))
        one_behind = behind_haproxy(stack, [first], Path(folder) / "one")
        two_behind = behind_haproxy(stack, [first, second], Path(folder) / "two")
        baseline: dict[str, float] = {}
        for label, port in (
            ("one gunicorn, direct", first),
            ("one gunicorn behind HAProxy", one_behind),
            ("two gunicorns behind HAProxy", two_behind),
            # Again, last: what the order of the rows (a warmer machine, cache, connections) is worth.
            ("one gunicorn, direct, again", first),
        ):
            for read, path in paths.items():
                for _ in range(50):  # warm-up: connections, the cache entry
                    fetch(port, Request("GET", path))
                rps, p50, p99 = wrk(port, path, seconds=args.seconds, connections=args.connections)
                baseline.setdefault(read, rps)
                print(
                    f"{label:<28} {read:<7} {rps:>8.0f} {p50:>8.1f} {p99:>8.1f} {rps / baseline[read]:>6.2f}"
                )

        print(
            f"\n2. Checkout: {args.orders} orders, {args.concurrency} customers at once, "
            f"one gunicorn of {args.workers} workers\n"
        )
        print(table_header(("orders", 28)) + f" {'ratio':>6}")
        tokens = seeded["tokens"]

        def orders(customers: list[str]) -> list[Request]:
            return [
                Request(
                    "POST",
                    "/api/v1/orders/",
                    {"shipping_address": ADDRESS, "payment_provider": "dummy"},
                    {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
                )
                for token in customers
            ]

        first_rps = 0.0
        for label, customers in (
            ("all on one best-seller", tokens[: args.orders]),
            ("each on its own book", tokens[args.orders :]),
        ):
            result = run_scenario(
                first, orders(customers), expected=201, concurrency=args.concurrency, seconds=args.seconds
            )
            first_rps = first_rps or result.rps
            print(table_row(((label, 28),), result) + f" {result.rps / first_rps:>6.2f}")


if __name__ == "__main__":
    main()
