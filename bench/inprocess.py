"""Uncached reads in process: wall and CPU time per request, and each statement's time.

    DATABASE_URL=postgres://…/bookstore_bench_wtunc_10000 REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/inprocess.py [--requests 60] URL …

Every URL is asked ``--requests`` times (after 3 unmeasured) through Django's test client with
``bench.settings`` (the shop's middleware, the Redis cache), each time with a parameter of its
own (``u=``) so that no cached read answers; with ``CATALOG_CACHE_TIMEOUT=0`` the facet counts
are not kept either. Prints, per URL, the median and p90 of the wall time, the median of the
process's CPU time (``time.process_time``: what the web process spends, the least noisy figure on
a busy machine), and each SQL statement with how many times a request ran it and its median.
The database is one ``bench/search.py`` or ``bench/run`` seeded (it is only read). Not part of
the test suite.
"""

import argparse
import statistics
import time
import uuid

from harness import setup_in_process


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()

    setup_in_process()
    from django.db import connection
    from django.test import Client

    client = Client()
    statements: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.setdefault(sql[:90], []).append(time.perf_counter() - started)

    for url in args.urls:
        walls: list[float] = []
        cpus: list[float] = []
        statements.clear()
        for i in range(args.requests + 3):
            unique = f"{url}{'&' if '?' in url else '?'}u={uuid.uuid4().hex[:12]}"
            wall, cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(timed):
                response = client.get(unique)
            if i >= 3:
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
        walls.sort()
        print(
            f"{url}: median {statistics.median(walls) * 1000:.1f} ms, p90 "
            f"{walls[int(len(walls) * 0.9)] * 1000:.1f} ms, CPU {statistics.median(cpus) * 1000:.1f} ms, "
            f"{response.headers.get('X-Cache')}, {len(response.content)} bytes"
        )
        runs = args.requests + 3
        for sql, times in sorted(statements.items(), key=lambda item: -sum(item[1])):
            print(f"   {len(times) / runs:4.1f}x {statistics.median(times) * 1000:7.2f} ms  {sql}")


if __name__ == "__main__":
    main()
