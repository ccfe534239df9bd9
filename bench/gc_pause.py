"""The garbage collector's share of uncached reads, in process, with and without ``gc.freeze()``:

    DATABASE_URL=postgres://…/bookstore_relevance_bench_10000 REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/gc_pause.py [--requests 300] [URL …]

The URLs (by default, searches, a list page and a detail) are asked in turn through Django's test
client (``bench.settings``), each time with a parameter of its own so that no cached read
answers, and ``CATALOG_CACHE_TIMEOUT=0``. Three warm-up rounds first. Then ``--requests``
requests with the heap as Django and the URLconf left it (the baseline, measured in the same
run), and then as many after ``gc.collect()`` and ``gc.freeze()``, which is what
``bookstore/wsgi.py`` does when a server loads the shop. Prints, for each phase, the
collections of each generation, the milliseconds the collector took per request on average,
its longest pause, and the CPU per request. The database is one ``bench/search.py`` or
``bench/run`` seeded (it is only read). Not part of the test suite.
"""

import argparse
import gc
import time
import uuid

from harness import setup_in_process

URLS = [
    "/api/v1/books/?q=elizabeth",
    "/api/v1/books/?q=stein",
    "/api/v1/books/?q=derniere+lecon",
    "/api/v1/books/?q=maixwell",
    "/api/v1/books/?q=hitchhiker+adams",
    "/api/v1/books/?ordering=title",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("urls", nargs="*", default=URLS)
    args = parser.parse_args()

    setup_in_process(CATALOG_CACHE_TIMEOUT="0")
    from django.test import Client
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imported, as bookstore/wsgi.py does)
    client = Client()
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    def ask(count: int) -> None:
        for i in range(count):
            url = args.urls[i % len(args.urls)]
            response = client.get(f"{url}{'&' if '?' in url else '?'}u={uuid.uuid4().hex[:12]}")
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")

    ask(3 * len(args.urls))
    gc.callbacks.append(watch)
    for phase in ("as loaded", "frozen"):
        if phase == "frozen":
            gc.collect()
            gc.freeze()
        pauses.clear()
        cpu = time.process_time()
        ask(args.requests)
        cpu = (time.process_time() - cpu) / args.requests
        counts = [sum(1 for generation, _ in pauses if generation == g) for g in range(3)]
        total = sum(seconds for _, seconds in pauses)
        longest = max((seconds for _, seconds in pauses), default=0.0)
        print(
            f"{phase:>9}: {gc.get_freeze_count():>7} frozen, collections by generation {counts}, "
            f"{total / args.requests * 1000:.3f} ms per request, longest {longest * 1000:.1f} ms, "
            f"CPU {cpu * 1000:.2f} ms per request"
        )


if __name__ == "__main__":
    main()
