"""Schemathesis against the live shop: every operation, read or write, answers as its schema says.

gunicorn serves the test database on a spare port, run as in the container
(``-c python:bookstore.gunicorn_conf``), and the schema is the one it serves at ``/api/schema/``.

- Every operation (but the webhooks, see tests/fuzzing.py) gets a few generated requests, valid
  and invalid (bodies, query strings, path parameters), each sent over HTTP as an anonymous
  visitor, a customer and a member of staff (JWT from ``POST /api/v1/auth/token/``).
- Schemathesis's stateful testing chains operations over the links it infers from the schema
  (``POST /me/addresses/`` → ``GET``/``PATCH``/``DELETE /me/addresses/{id}/``, ``GET /orders/``
  → ``POST /orders/{number}/cancel/``, …), once per user.

The checks are those of tests/core/test_api_fuzz.py: no 5xx, a documented status and content
type, a body matching its schema, an error as problem details. Writes are real; each test starts
from the same data (``tests.fuzzing.seed_shop``), committed so that gunicorn sees it and flushed
after. Bounded (25 generated requests per operation, 30 scenarios per user: about a minute and
a half) and derandomized, so a failure is found again on the next run; it is reported with the
curl of its shortest request. The longer run is ``bench/fuzz.py``.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import HealthCheck, settings

from bookstore import settings as project_settings
from tests.fuzzing import (
    PASSWORD,
    UNTHROTTLED,
    USERS,
    Run,
    fuzz_operation,
    live_schema,
    log_in,
    operations,
    run_scenarios,
    seed_shop,
)
from tests.servers import gunicorn, the_test_database_url
from tests.services import requires_postgres, requires_redis

pytestmark = [
    requires_postgres,
    requires_redis,
    # gunicorn is another process: the data must be committed to be seen there.
    pytest.mark.django_db(transaction=True),
]

BOOT_SECONDS = 30
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
STATEFUL = settings(FUZZ, max_examples=30, stateful_step_count=8)


class Server(NamedTuple):
    url: str
    log: Path


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[Server]:
    """gunicorn serving the test database and the test's Redis database."""
    env = {
        "DATABASE_URL": the_test_database_url(),
        # The cache this process clears before each test (tests/conftest.py).
        "REDIS_URL": django_settings.CACHES["default"]["LOCATION"],
        "CELERY_BROKER_URL": "memory://",
        "WEB_CONCURRENCY": "2",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        **UNTHROTTLED,
    }
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(env, log_path, boot_seconds=BOOT_SECONDS) as base:
        yield Server(base, log_path)


@pytest.fixture(scope="module")
def schema(server):
    return live_schema(server.url)


@pytest.fixture
def callers(server, db) -> dict[str, dict[str, str]]:
    """The known data, and the request headers of an anonymous visitor, its customer and its
    member of staff, logged in at the live server."""
    # The tests hash passwords with MD5 (tests/conftest.py), which the server does not accept.
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        emails = seed_shop()
    headers = {"anonymous": {}}
    for who in ("customer", "staff"):
        headers[who] = log_in(server.url, emails[who], PASSWORD)
    return headers


def failed(run: Run, server: Server) -> None:
    pytest.fail(
        f"{len(run.groups())} failures (gunicorn's log: {server.log}):\n\n{run.report()}", pytrace=False
    )


def test_every_operation_answers_as_its_schema_says(server, schema, callers):
    run = Run()
    fuzzed = operations(schema)
    for operation in fuzzed:
        fuzz_operation(operation, callers, FUZZ, run)

    if run.failures:
        failed(run, server)
    everything = operations(live_schema(server.url, all_operations=True))
    assert {op.label for op in everything} - {op.label for op in fuzzed} == {
        "POST /api/v1/payments/webhooks/{provider}/"
    }
    unsent = [(op.label, who) for op in fuzzed for who in USERS if not run.calls[(op.label, who)]]
    assert not unsent


@pytest.mark.parametrize("who", USERS)
def test_linked_operations_answer_as_their_schema_says(server, schema, callers, who):
    run = Run()

    run_scenarios(schema, who, callers[who], STATEFUL, run)

    if run.failures:
        failed(run, server)
    assert run.scenarios[who] >= STATEFUL.max_examples
    # The scenarios went past their first step: links were followed.
    assert sum(run.steps.values()) > 2 * run.scenarios[who]
