"""Catalogue benchmark: seed N books, serve them with gunicorn, measure the read endpoints.

    .venv/bin/python bench/catalog.py [--books 10000] [--requests 400] [--concurrency 8]

Uses its own PostgreSQL database (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/bookstore_bench, created if missing) and Redis database 15.
Seeds the demo categories and N books (real demo titles, authors and publishers, repeated
with a running number and made-up ISBNs: bench data, never loaded in the shop), starts
gunicorn on 127.0.0.1, and prints requests per second and p50/p99 latency for the list, a
filtered list, a search, a detail, and the storefront's catalogue and book pages, uncached
(every request a new cache key) and cached (one key read again). Bounded: ``--requests`` per
scenario and ``--seconds`` at most each (a row says how many requests the time limit left
unsent); gunicorn is stopped at the end
whatever happens. Targets 127.0.0.1 only; the database's name must contain ``bench``.
The shared machinery (gunicorn, load loop, table) is in bench/harness.py.
"""

import argparse
import json
import os
import random
import time

from harness import (
    Request,
    bench_books_write,
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

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench"


def seed(count: int) -> None:
    """Runs inside the bench environment (a child process): Django is set up here."""
    setup_django()
    from django.core.cache import cache
    from django.db import connection, transaction

    from apps.catalog.demo import demo_catalog_load
    from apps.catalog.models import Book
    from apps.categories.models import Category

    if not Category.objects.exists():
        demo_catalog_load()
    bench = Book.objects.filter(isbn13__startswith="979")
    if bench.count() == count:
        print(f"seed: {count} bench books already there")
        return
    rng = random.Random(42)
    started = time.monotonic()
    with transaction.atomic():
        bench.delete()
        bench_books_write(count, stock=lambda n: rng.randint(0, 20))
    # Fresh statistics and visibility maps, as autovacuum would give a real shop (this
    # machine's server runs without it): without statistics the planner guesses a handful of
    # rows after a bulk insert; without a vacuum no index-only scan skips the heap.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    cache.clear()
    print(f"seed: {count} bench books in {time.monotonic() - started:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    scenario_arguments(parser, requests=400)
    parser.add_argument("--seed-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        seed(args.seed_only)
        return

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    env = bench_env(database_url)
    prepare_database(database_url, env)
    run_child([__file__, "--seed-only", str(args.books)], env)
    flush_redis()

    with gunicorn(env, args.workers) as port:
        first = json.loads(fetch(port, Request("GET", "/api/v1/books/?page_size=100&facets=false")))
        isbns = [book["isbn13"] for book in first["results"]]
        slugs = [book["slug"] for book in first["results"]]
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
            # The storefront's pages for a visitor: HTML rendered from the same selectors.
            "page: catalogue": lambda i: f"/books/?page={i % 50 + 1}",
            "page: book": lambda i: f"/books/{slugs[i % len(slugs)]}/",
        }
        print(
            f"\n{count} active books, gunicorn {args.workers} workers, {args.concurrency} connections, "
            f"{n} requests per scenario\n"
        )
        columns = (("scenario", 16), ("cache", 9))
        print(table_header(*columns))
        for name, path_for in scenarios.items():
            # Uncached: a throwaway parameter makes every request a new cache key (a miss that
            # runs the SQL and stores the result, as the first reader after a write does).
            uncached = [
                Request("GET", f"{path_for(i)}{'&' if '?' in path_for(i) else '?'}bench={i}")
                for i in range(n)
            ]
            cached = Request("GET", path_for(0))
            fetch(port, cached)
            for label, requests in (("uncached", uncached), ("cached", [cached] * n)):
                result = run_scenario(
                    port, requests, expected=200, concurrency=args.concurrency, seconds=args.seconds
                )
                print(table_row(((name, 16), (label, 9)), result))


if __name__ == "__main__":
    main()
