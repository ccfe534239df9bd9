"""The relevance suite of catalogue search (issue #13), through the public API only.

Every query of ``data/search_relevance.csv`` is searched with ``GET /api/v1/books/?q=`` over
the demo catalogue (``apps/catalog/data/``). A query succeeds at k when its expected book is
among the first k results; a query with no expected book succeeds when nothing is found.
success@1 and success@3 are printed (``-s``), per kind too, with the queries that fail; the
suite fails under 95 % success@3.

The file is the source of truth. Each expected book is one a bookseller would put in the top
3: a query names a book that no more than three of the catalogue's books match word for word
once its typo is corrected (several editions of one title, or two books sharing the words,
are named in the note). Typos respect the budget per typed word: none under 5 letters, one
from 5 to 8, two from 9.

CI runs the suite once, on PostgreSQL: ``test_search_relevance_on_sqlite`` runs it again in a
child pytest on the embedded default (SQLite, local memory cache), as ``make run`` serves it.
"""

import csv
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse

from apps.catalog.demo import demo_catalog_load

CASES = Path(__file__).resolve().parent / "data" / "search_relevance.csv"
ROOT = Path(__file__).resolve().parents[2]
REQUIRED = 0.95
# The child: in this process (xdist's -n 0: the conftest needs its worker_id), no cache
# directory written, its report printed and nothing else (no traceback, no captured log).
CHILD_OPTIONS = (
    "-n",
    "0",
    "-p",
    "no:cacheprovider",
    "-q",
    "-s",
    "--no-header",
    "--tb=no",
    "--show-capture=no",
)
# Set in the child run on SQLite: it runs the suite and never starts a child of its own.
CHILD = "BOOKSTORE_RELEVANCE_CHILD"
# What points the settings at PostgreSQL, Redis, a broker or replicas: the child has none.
SERVICES = (
    "DATABASE_URL",
    "DATABASE_REPLICA_URLS",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_READ_DOT_ENV_FILE",
)


@dataclass(frozen=True)
class Case:
    query: str
    expected: str  # an ISBN-13, or "" when the query must find nothing
    kind: str
    note: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    found: list[str]  # the first results' ISBNs
    titles: list[str]
    count: int

    def success_at(self, k: int) -> bool:
        if not self.case.expected:
            return self.count == 0
        return self.case.expected in self.found[:k]


def relevance_cases() -> list[Case]:
    with CASES.open(encoding="utf-8", newline="") as handle:
        return [
            Case(row["query"], row["expected_isbn13"], row["kind"], row["note"])
            for row in csv.DictReader(handle)
        ]


def test_the_relevance_cases_are_well_formed():
    cases = relevance_cases()
    assert len(cases) >= 200
    assert len({case.query for case in cases}) == len(cases), "a query is listed twice"
    assert all(case.query.strip() and case.kind for case in cases)
    assert all(
        case.expected == "" or (len(case.expected) == 13 and case.expected.isdigit()) for case in cases
    )
    assert {"substitution", "insertion", "deletion", "swap", "nothing"} <= {case.kind for case in cases}


@pytest.fixture(scope="module")
def demo_catalogue(django_db_setup, django_db_blocker):
    """The demo catalogue, loaded once for the module, inside a transaction rolled back after it
    (the tests' own transactions are savepoints within it): the other modules never see it."""
    with django_db_blocker.unblock(), transaction.atomic():
        demo_catalog_load()
        yield
        transaction.set_rollback(True)


def search(client, case: Case) -> Outcome:
    # A cleared cache: every search is answered by the engine, never by a cached read, and the
    # anonymous throttle (kept in the cache) never counts the suite's few hundred requests.
    cache.clear()
    response = client.get(reverse("book-list"), {"q": case.query, "page_size": 3, "facets": "false"})
    assert response.status_code == 200, (case.query, response.content[:300])
    data = response.json()
    return Outcome(
        case=case,
        found=[book["isbn13"] for book in data["results"]],
        titles=[book["title"] for book in data["results"]],
        count=data["count"],
    )


def _percent(outcomes: list[Outcome], k: int) -> float:
    return 100 * sum(outcome.success_at(k) for outcome in outcomes) / len(outcomes)


def report(outcomes: list[Outcome], *, titles: dict[str, str]) -> str:
    """The figures, per kind, and the failing queries, as printed and as the failure message."""
    lines = [
        f"search relevance on {connection.vendor}: {len(outcomes)} queries, "
        f"success@1 {_percent(outcomes, 1):.1f} %, success@3 {_percent(outcomes, 3):.1f} % "
        f"(required: {100 * REQUIRED:.0f} % at 3)",
    ]
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.case.kind].append(outcome)
    for kind, group in by_kind.items():
        lines.append(
            f"  {kind:<13} {len(group):>4} queries  "
            f"@1 {_percent(group, 1):5.1f} %  @3 {_percent(group, 3):5.1f} %"
        )
    failing = [outcome for outcome in outcomes if not outcome.success_at(3)]
    if failing:
        lines.append(f"failing at 3 ({len(failing)}):")
    for outcome in failing:
        case = outcome.case
        wanted = f"{case.expected} {titles.get(case.expected, '?')!r}" if case.expected else "nothing"
        got = "; ".join(outcome.titles) or "nothing"
        lines.append(
            f"  [{case.kind}] {case.query!r}: wanted {wanted}, got {outcome.count} ({got})"
            + (f"  -- {case.note}" if case.note else "")
        )
    return "\n".join(lines)


@pytest.mark.django_db
def test_search_finds_the_expected_book_in_the_top_3_for_95_percent_of_the_queries(
    demo_catalogue, api_client
):
    from apps.catalog.models import Book

    cases = relevance_cases()
    titles = dict(Book.objects.values_list("isbn13", "title"))
    missing = sorted({case.expected for case in cases if case.expected} - titles.keys())
    assert not missing, f"expected books not in the demo catalogue: {missing}"

    outcomes = [search(api_client, case) for case in cases]

    summary = report(outcomes, titles=titles)
    print("\n" + summary)  # noqa: T201 - the figures are the suite's output (pytest -s)
    assert _percent(outcomes, 3) >= 100 * REQUIRED, summary


# The SQLite runs below are children of a run on PostgreSQL (CI's): a run already on SQLite is
# itself the SQLite run, and a child starts no child.
from_a_service_run = pytest.mark.skipif(
    bool(os.environ.get(CHILD)) or connection.vendor == "sqlite",
    reason="this run is on SQLite: its own tests are the SQLite run",
)


def child_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    """``pytest args`` in a child on the embedded default: the services' URLs removed, the
    child flagged so that it starts no child of its own."""
    env = {name: value for name, value in os.environ.items() if name not in SERVICES}
    env.update({CHILD: "1", "LOG_LEVEL": "WARNING"})
    return subprocess.run(  # noqa: S603 - this interpreter, the project's own tests
        [sys.executable, "-m", "pytest", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@from_a_service_run
def test_search_relevance_on_sqlite():
    """The same suite on the embedded default, in a child pytest without the services' URLs."""
    test = "test_search_finds_the_expected_book_in_the_top_3_for_95_percent_of_the_queries"
    done = child_pytest(f"{Path(__file__).relative_to(ROOT)}::{test}", *CHILD_OPTIONS)
    figures = [line for line in done.stdout.splitlines() if "search relevance on" in line]
    print("\n" + "\n".join(figures))  # noqa: T201 - the SQLite figures, in this run's output
    assert figures, done.stdout[-3000:] + done.stderr[-3000:]
    assert "on sqlite" in figures[0], figures
    assert done.returncode == 0, done.stdout[done.stdout.index(figures[0]) :]


@from_a_service_run
def test_search_behaviour_tests_pass_on_sqlite_too():
    """``test_search.py`` (typos by kind and budget, prefix, accents, elisions, stems, ISBN forms,
    ranking, suggestion, query counts, freshness) again on the embedded default: CI's run is on
    PostgreSQL, and the issue asks for the same behaviour on both, proved by the same tests."""
    done = child_pytest("tests/catalog/test_search.py", "-n", "0", "-p", "no:cacheprovider", "-q")
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-3000:]
    print("\nSQLite: " + summary)  # noqa: T201 - the child's result, in this run's output
    output = done.stdout[-5000:] + done.stderr[-2000:]
    assert done.returncode == 0, output
    assert " passed" in summary, output
    assert "skipped" not in summary, output
