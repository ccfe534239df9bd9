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

Writes go round the carts (request i to cart i mod carts), so concurrent writes land on
different carts, as different shoppers' would, rather than queueing on one cart's row lock.
Prints requests per second and p50/p99 latency. Bounded: ``--requests`` per scenario and
``--seconds`` at most each (a row says how many requests the time limit left unsent);
gunicorn is stopped at the end whatever happens. Targets 127.0.0.1 only; the database's name
must contain ``bench``. The per-client rate limits are raised for the run (they still run, a
cache round trip per request): every request comes from one address. The shared machinery
(gunicorn, load loop, table) is in bench/harness.py.
"""

import argparse
import json
import os

from harness import (
    Request,
    bench_env,
    fetch,
    flush_redis,
    gunicorn,
    prepare_database,
    run_child,
    run_scenario,
    scenario_arguments,
    setup_django,
    table_header,
    table_row,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_cart"
BOOKS = 500


def seed() -> None:
    """Runs inside the bench environment (a child process): Django is set up here."""
    setup_django()
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    scenario_arguments(parser, requests=400, books=False)
    parser.add_argument("--lines", type=int, default=10, help="lines per cart")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed()
        return

    database_url = os.environ.get("BENCH_CART_DATABASE_URL", DEFAULT_DB)
    env = bench_env(
        database_url,
        settings="bookstore.settings",
        THROTTLE_ANON="1000000/min",
        THROTTLE_USER="1000000/min",
    )
    prepare_database(database_url, env)
    book_ids = json.loads(run_child([__file__, "--seed-only"], env, capture=True).strip().splitlines()[-1])
    flush_redis()

    with gunicorn(env, args.workers) as port:
        n = args.requests
        lines = max(1, min(args.lines, BOOKS))
        carts = max(1, n // lines)
        tokens = [json.loads(fetch(port, Request("GET", "/api/v1/cart/")))["token"] for _ in range(carts)]

        def as_cart(i: int) -> dict[str, str]:
            return {"X-Cart-Token": tokens[i % carts]}

        adds = [
            Request(
                "POST",
                "/api/v1/cart/items/",
                {"book": book_ids[(i // carts) % lines], "quantity": 1},
                as_cart(i),
            )
            for i in range(carts * lines)
        ]
        uncached = [Request("GET", "/api/v1/cart/", None, as_cart(i)) for i in range(carts)]
        cached = [Request("GET", "/api/v1/cart/", None, as_cart(0))] * n

        print(
            f"\n{carts} anonymous carts of {lines} lines, gunicorn {args.workers} workers, "
            f"{args.concurrency} connections\n"
        )
        print(table_header(("scenario", 16)))

        def report(name: str, requests: list[Request], expected: int) -> None:
            result = run_scenario(
                port, requests, expected=expected, concurrency=args.concurrency, seconds=args.seconds
            )
            print(table_row(((name, 16),), result))

        report("add", adds, 201)
        report("read uncached", uncached, 200)
        fetch(port, cached[0])
        report("read cached", cached, 200)
        # Line j of every cart, then line j + 1 of every cart: round the carts, as the adds.
        by_cart = []
        for i in range(carts):
            body = json.loads(fetch(port, Request("GET", "/api/v1/cart/", None, as_cart(i))))
            patches = [
                Request("PATCH", f"/api/v1/cart/items/{line['id']}/", {"quantity": 2 + j % 3}, as_cart(i))
                for j, line in enumerate(body["lines"])
            ]
            by_cart.append(patches)
        updates = [row[j] for j in range(lines) for row in by_cart if j < len(row)]
        report("update", updates[:n], 200)


if __name__ == "__main__":
    main()
