"""Search benchmark (issue #13): uncached catalogue search at 10,000 and 100,000 books, on PostgreSQL.

    .venv/bin/python bench/search.py [--books 10000,100000] [--quick] [--requests 200]
                                     [--rounds 3] [--seconds 3] [--workers 4] [--reseed]

For each catalogue size:

1. A PostgreSQL database of its own (``BENCH_DATABASE_URL`` with the size appended, default
   postgres://postgres@127.0.0.1:5432/bookstore_relevance_bench_<size>), created and migrated if
   missing, seeded with the demo categories and ``--books`` bench books (``bench_books_write``:
   the demo titles and authors repeated with a running number). A database that already holds
   that many bench books is kept (``--reseed`` writes them again).
2. Two query sets, both from the words the seeded titles and author names are made of:
   **typo-free** (a title word, an author's surname, two words of one title, a title word and
   its author's surname) and **typo'd**, the same queries with typos a customer makes
   (substitution, insertion, deletion, adjacent swap, never on the first letter) within the
   budget per typed word: none under 5 letters, one from 5 to 8, two from 9. A typo'd word is
   neither a word of the catalogue nor the start of one, so the engine must take its typo path.
3. **In-process latency**: ``--requests`` searches per set through Django's test client
   (``bench.settings``: the shop's middleware, Redis cache), each with a parameter of its own so
   no cached read answers, and ``CATALOG_CACHE_TIMEOUT=0`` so no facet counts are kept either: what
   the first reader after a catalogue write pays. Median and p99, SQL statements per request
   (``X-Bench-Queries``), the share of searches that found something. Any cache hit is reported.
4. **Throughput under gunicorn** (``--workers`` sync workers, cache as above): for each set,
   in each of ``--rounds`` rounds, wrk ``-t2 -c16`` for ``--seconds`` on a plain Django view
   answering a static body of the search answer's size (``/bench/baseline/<size>/``), then on
   the searches (``bench/wrk/scenario.lua`` cycles the URLs, each request a new one). Requests
   per second, p50/p99, and the ratio to that baseline, median of the rounds.

Prints one table and writes it as JSON under bench/results/ (not in git). Targets 127.0.0.1
only; the database's name must contain ``bench``; gunicorn is stopped whatever happens. Not part
of the test suite: a benchmark prints numbers, it asserts nothing.
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
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from harness import (
    ROOT,
    Request,
    bench_books_write,
    bench_env,
    fetch,
    gunicorn,
    percentile,
    prepare_database,
    run_child,
    setup_django,
)
from perf import Run, write_requests, wrk

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_relevance_bench"
RESULTS = ROOT / "bench" / "results"
QUERIES_PER_SET = 60
WARMUP = 10


# --- Query sets (in the seeding child: the words are the demo rows') -------------------------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if not unicodedata.combining(char)).lower()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"\b[ldjn]'", " ", _fold(text).replace("\u2019", "'")))


def typo_budget(word: str) -> int:
    """Typos allowed in a typed word: none under 5 letters, one from 5 to 8, two from 9."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _one_typo(word: str, rng: random.Random) -> str:
    position = rng.randrange(1, len(word) - 1)  # never the first letter, nor past the last
    kind = rng.choice(["substitution", "insertion", "deletion", "swap"])
    letter = rng.choice([c for c in "aeioulnrst" if c != word[position]])
    if kind == "substitution":
        return word[:position] + letter + word[position + 1 :]
    if kind == "insertion":
        return word[:position] + letter + word[position:]
    if kind == "deletion":
        return word[:position] + word[position + 1 :]
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


def typo_word(word: str, vocabulary: set[str], prefixes: set[str], rng: random.Random) -> str | None:
    """``word`` with as many typos as its typed form's budget allows (at least one), such that it
    is neither a word of the catalogue nor the start of one; None if no try gives one."""
    for _ in range(50):
        typed = word
        for _ in range(typo_budget(word)):
            typed = _one_typo(typed, rng)
        # Deletions may leave a word too short for the typos made: the budget is the typed word's.
        if typed not in vocabulary and typed not in prefixes and typo_budget(typed) >= typo_budget(word):
            return typed
    return None


def query_sets(seed: int = 13) -> dict[str, list[str]]:
    """The typo-free queries and their typo'd twins, from the demo rows the bench books copy."""
    from apps.catalog.demo import demo_rows

    rows, _ = demo_rows()
    vocabulary: set[str] = set()
    for row in rows:
        vocabulary.update(_words(f"{row.title} {row.subtitle} {' '.join(row.authors)} {row.publisher}"))
    prefixes = {word[:n] for word in vocabulary for n in range(1, len(word))}
    rng = random.Random(seed)
    clean: list[str] = []
    typoed: list[str] = []
    seen: set[tuple[str, ...]] = set()
    while len(clean) < QUERIES_PER_SET:
        row = rng.choice(rows)
        title = [w for w in _words(row.title) if len(w) >= 5]
        surname = [w for w in _words(row.authors[0])[-1:] if len(w) >= 5]
        shape = len(clean) % 4
        if shape == 0 and title:
            words = [rng.choice(title)]
        elif shape == 1 and surname:
            words = surname
        elif shape == 2 and len(title) >= 2:
            start = rng.randrange(len(title) - 1)
            words = title[start : start + 2]
        elif shape == 3 and title and surname:
            words = [rng.choice(title), surname[0]]
        else:
            continue
        typed = [typo_word(word, vocabulary, prefixes, rng) for word in words]
        if tuple(words) in seen or None in typed:
            continue
        seen.add(tuple(words))
        clean.append(" ".join(words))
        typoed.append(" ".join(word for word in typed if word is not None))
    return {"typo-free": clean, "typo'd": typoed}


# --- Children (Django set up) ------------------------------------------------------------------


def seed(count: int, reseed: bool) -> None:
    setup_django()
    from django.db import connection, transaction

    from apps.catalog.demo import demo_catalog_load
    from apps.catalog.models import Book
    from apps.categories.models import Category

    started = time.monotonic()
    if not Category.objects.exists():
        demo_catalog_load()
    bench = Book.objects.filter(isbn13__startswith="979")
    if reseed or bench.count() != count:
        rng = random.Random(42)
        with transaction.atomic():
            bench.delete()
            bench_books_write(count, stock=lambda n: rng.randint(0, 20), batch=2000)
    # As autovacuum would after a bulk write (this machine's server runs without it):
    # statistics, and visibility maps for index-only scans. Also for a database kept from an
    # earlier run (next to nothing to do when it was vacuumed then).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        json.dumps(
            {
                "seconds": round(time.monotonic() - started, 1),
                "active_books": Book.objects.filter(is_active=True).count(),
                "sets": query_sets(),
            }
        )
    )


def in_process(spec_file: str) -> None:
    """Searches through Django's test client, one at a time: latency, SQL, matches."""
    setup_django()
    from django.test import Client

    spec = json.loads(Path(spec_file).read_text())
    client = Client()
    nonce = uuid.uuid4().hex[:8]
    out: dict[str, Any] = {}
    for name, queries in spec["sets"].items():
        latencies: list[float] = []
        sql: list[int] = []
        found = hits = 0
        for i in range(WARMUP + spec["requests"]):
            url = f"/api/v1/books/?q={quote_plus(queries[i % len(queries)])}&u={nonce}{i}"
            began = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
            if i < WARMUP:
                continue
            latencies.append(elapsed * 1000)
            sql.append(int(response["X-Bench-Queries"]))
            hits += response.get("X-Cache") == "HIT"
            found += response.json()["count"] > 0
        latencies.sort()
        out[name] = {
            "requests": len(latencies),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "queries_per_request": round(statistics.mean(sql), 2),
            "queries_min_max": [min(sql), max(sql)],
            "found_share": round(found / len(latencies), 3),
            "cache_hits": hits,
        }
    print(json.dumps(out))


# --- The run -----------------------------------------------------------------------------------


def database_for(count: int) -> str:
    return f"{os.environ.get('BENCH_DATABASE_URL', DEFAULT_DB)}_{count}"


def measure_size(count: int, args: argparse.Namespace, directory: Path) -> list[dict[str, Any]]:
    database_url = database_for(count)
    env = bench_env(
        database_url,
        CONN_MAX_AGE="600",
        # Nothing of the catalogue's is kept in the cache: every search is a first reader's.
        CATALOG_CACHE_TIMEOUT="0",
        BENCH_CACHE_PREFIX=f"search-{uuid.uuid4().hex[:8]}",
    )
    prepare_database(database_url, env)
    print(f"{count} books: seeding …", flush=True)
    seed_env = {**env, "DB_STATEMENT_TIMEOUT": "1800"}  # 100,000 books take statements over 20 s
    argv = [__file__, "--seed-only", str(count)] + (["--reseed"] if args.reseed else [])
    seeded = json.loads(run_child(argv, seed_env, capture=True).strip().splitlines()[-1])
    print(f"  seeded in {seeded['seconds']} s: {seeded['active_books']} active books", flush=True)
    spec = directory / f"spec-{count}.json"
    spec.write_text(json.dumps({"sets": seeded["sets"], "requests": args.requests}))
    print("  in-process …", flush=True)
    local = json.loads(run_child([__file__, "--in-process", str(spec)], env, capture=True).strip())
    rows = []
    with gunicorn(env, args.workers, log=directory / f"gunicorn-{count}.log", ready_timeout=120) as port:
        for name, queries in seeded["sets"].items():
            print(f"  wrk: {name} …", flush=True)
            requests = [Request("GET", f"/api/v1/books/?q={quote_plus(q)}&u={{n}}") for q in queries]
            size = len(fetch(port, Request("GET", requests[0].path.replace("{n}", uuid.uuid4().hex))))
            searches = write_requests(requests, directory)
            # Each worker's first searches pay for what it loads once (not what is measured).
            for request in requests[: 4 * args.workers]:
                fetch(port, Request("GET", request.path.replace("{n}", uuid.uuid4().hex)))
            baseline = write_requests([Request("GET", f"/bench/baseline/{size}/")], directory)
            runs: list[Run] = []
            bases: list[Run] = []
            for _ in range(args.rounds):
                bases.append(wrk(port, baseline, seconds=args.seconds, connections=args.connections))
                runs.append(wrk(port, searches, seconds=args.seconds, connections=args.connections))
            rows.append(_row(count, seeded, name, local[name], runs, bases, size))
            print("   ", _line(rows[-1]), flush=True)
    return rows


def _row(
    count: int,
    seeded: dict[str, Any],
    name: str,
    local: dict[str, Any],
    runs: list[Run],
    bases: list[Run],
    size: int,
) -> dict[str, Any]:
    ratios = [run.rps / base.rps for run, base in zip(runs, bases, strict=True) if base.rps]
    answered = sum(run.requests for run in runs)
    return {
        "books": seeded["active_books"],
        "set": name,
        "queries": len(seeded["sets"][name]),
        "examples": seeded["sets"][name][:6],
        "in_process": local,
        "wrk": {
            "requests_per_s": round(statistics.median(run.rps for run in runs), 1),
            "p50_ms": round(statistics.median(run.p50 for run in runs), 2),
            "p99_ms": round(statistics.median(run.p99 for run in runs), 2),
            "errors": sum(run.errors for run in runs),
            "requests": answered,
            "cache_hits": sum(run.hits for run in runs),
            "queries_per_request": round(sum((run.queries or 0) * run.requests for run in runs) / answered, 2)
            if answered
            else None,
            "baseline_rps": round(statistics.median(base.rps for base in bases), 1),
            "ratio": round(statistics.median(ratios), 4) if ratios else None,
            "answer_bytes": size,
        },
    }


COLUMNS = [
    "books",
    "set",
    "p50 ms",
    "p99 ms",
    "SQL/req",
    "found",
    "req/s",
    "wrk p50",
    "wrk p99",
    "baseline",
    "ratio",
    "errors",
    "hits",
]


def _cells(row: dict[str, Any]) -> list[str]:
    local, served = row["in_process"], row["wrk"]
    return [
        f"{row['books']:,}",
        row["set"],
        f"{local['p50_ms']:.1f}",
        f"{local['p99_ms']:.1f}",
        _sql(local),
        f"{100 * local['found_share']:.0f} %",
        f"{served['requests_per_s']:.0f}",
        f"{served['p50_ms']:.1f}",
        f"{served['p99_ms']:.1f}",
        f"{served['baseline_rps']:.0f}",
        "-" if served["ratio"] is None else f"{served['ratio']:.3f}",
        str(served["errors"]),
        str(local["cache_hits"] + served["cache_hits"]),
    ]


def _sql(local: dict[str, Any]) -> str:
    low, high = local["queries_min_max"]
    return f"{low}" if low == high else f"{local['queries_per_request']:g} ({low} to {high})"


def _line(row: dict[str, Any]) -> str:
    return " | ".join(_cells(row))


def table(rows: list[dict[str, Any]]) -> str:
    lines = [COLUMNS] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--books", default="10000,100000", help="comma-separated catalogue sizes")
    parser.add_argument("--requests", type=int, default=200, help="in-process searches per query set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per wrk run")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn sync workers"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--quick", action="store_true", help="one round of 2 s, 100 in-process searches per set"
    )
    parser.add_argument("--reseed", action="store_true", help="write the bench books again")
    parser.add_argument("--seed-only", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--in-process", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        seed(args.seed_only, args.reseed)
        return
    if args.in_process is not None:
        in_process(args.in_process)
        return
    if args.quick:
        args.rounds, args.seconds, args.requests = 1, 2.0, 100
    directory = Path(tempfile.mkdtemp(prefix="bench-search-"))
    rows: list[dict[str, Any]] = []
    for count in [int(part) for part in args.books.split(",") if part.strip()]:
        rows += measure_size(count, args, directory)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    result = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.stdout.strip() + ("+changes" if dirty.stdout.strip() else ""),
        "workers": args.workers,
        "connections": args.connections,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "in_process_requests": args.requests,
        "load_average": os.getloadavg()[0],
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"search-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print()
    print(
        f"{result['when']}, commit {result['commit']}: in process {args.requests} uncached searches per set "
        f"(median, p99, SQL per request, share that found something); gunicorn {args.workers} workers, "
        f"wrk -t2 -c{args.connections}, {args.rounds} x {args.seconds:g} s (req/s, p50, p99, the baseline's "
        f"req/s and the ratio to it); load average {result['load_average']:.1f}"
    )
    print(table(rows))
    for row in rows:
        print(f"  {row['books']:,} {row['set']}: {', '.join(row['examples'])} …")
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
