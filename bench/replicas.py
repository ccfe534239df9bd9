"""Read-replica benchmark: the catalogue's anonymous reads served by the primary alone, then
with a streaming replica taking them.

    .venv/bin/python bench/replicas.py [--books 10000] [--requests 300] [--concurrency 8]

Makes a PostgreSQL primary and its streaming replica of its own on spare ports (Debian's
PostgreSQL 15 binaries, as the tests do: tests/replication.py), with the schema and rows of the
database ``BENCH_DATABASE_URL`` (default bookstore_bench_replicas, migrated and
seeded with ``--books`` books by bench/catalog.py's seed). Then gunicorn twice on 127.0.0.1:
``DATABASE_URL`` the primary alone, then the same with ``DATABASE_REPLICA_URLS`` naming the
replica. Each scenario is uncached (every request a new cache key: the SQL runs), and each
row gives requests per second, latencies, the ratio to the primary-only run, and how many
transactions each server ran meanwhile (``pg_stat_database.xact_commit``): the primary's
load is what a replica takes away. Both servers share this machine's cores, so the ratio
shows the router's cost, not a second machine's capacity. Bounded: ``--requests`` per
scenario and ``--seconds`` each; everything is stopped and removed at the end.
"""

import argparse
import json
import os
import sys
import time

from harness import (
    ROOT,
    Request,
    bench_env,
    fetch,
    flush_redis,
    gunicorn,
    prepare_database,
    run_child,
    run_scenario,
    scenario_arguments,
    table_header,
    table_row,
)

sys.path.insert(0, str(ROOT))

from tests.replication import available, replication

# Its own database (not bench/catalog.py's): the seed deletes and rewrites the bench books.
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_replicas"


def transactions(pair, port: int) -> int:
    rows = pair.execute(port, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    return int(rows[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    scenario_arguments(parser, requests=300)
    args = parser.parse_args()
    if not available():
        raise SystemExit(
            "needs PostgreSQL's server binaries (BOOKSTORE_PG_BINDIR, /usr/lib/postgresql/15/bin)"
        )

    source = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    env = bench_env(source)
    prepare_database(source, env)
    run_child([str(ROOT / "bench" / "catalog.py"), "--seed-only", str(args.books)], env)

    with replication(source) as pair:
        pair.wait_replayed()
        first: dict = {}
        scenarios = {
            "list": lambda i: f"/api/v1/books/?page={i % 50 + 1}",
            "search": lambda i: (
                f"/api/v1/books/?q={['tolstoy', 'dune', 'harry+potter', 'marquez', 'auster'][i % 5]}"
            ),
            "detail": lambda i: f"/api/v1/books/{first['isbns'][i % len(first['isbns'])]}/",
            "categories": lambda i: "/api/v1/categories/",
            "page: catalogue": lambda i: f"/books/?page={i % 50 + 1}",
        }
        runs = {
            "primary": bench_env(pair.primary_url),
            "replica": bench_env(pair.primary_url, DATABASE_REPLICA_URLS=pair.replica_url),
        }
        baseline: dict[str, float] = {}
        print(
            f"\n{args.books} bench books, gunicorn {args.workers} workers, {args.concurrency} connections, "
            f"{args.requests} uncached requests per scenario\n"
        )
        columns = (("scenario", 16), ("reads on", 9))
        print(table_header(*columns) + f" {'ratio':>6} {'primary tx':>10} {'replica tx':>10}")
        for label, run_env in runs.items():
            flush_redis()
            with gunicorn(run_env, args.workers, args=("-c", "python:bookstore.gunicorn_conf")) as port:
                if not first:
                    page = json.loads(
                        fetch(port, Request("GET", "/api/v1/books/?page_size=100&facets=false"))
                    )
                    first["isbns"] = [book["isbn13"] for book in page["results"]]
                for name, path_for in scenarios.items():
                    requests = [
                        Request("GET", f"{path_for(i)}{'&' if '?' in path_for(i) else '?'}bench={label}-{i}")
                        for i in range(args.requests)
                    ]
                    fetch(port, requests[0])  # connections opened, replica probed
                    before = transactions(pair, pair.primary_port), transactions(pair, pair.replica_port)
                    result = run_scenario(
                        port, requests[1:], expected=200, concurrency=args.concurrency, seconds=args.seconds
                    )
                    time.sleep(0.6)  # the statistics collector's flush (stats_fetch_consistency)
                    after = transactions(pair, pair.primary_port), transactions(pair, pair.replica_port)
                    ratio = result.rps / baseline[name] if name in baseline else 1.0
                    baseline.setdefault(name, result.rps)
                    print(
                        table_row(((name, 16), (label, 9)), result)
                        + f" {ratio:>6.2f} {after[0] - before[0]:>10} {after[1] - before[1]:>10}"
                    )


if __name__ == "__main__":
    main()
