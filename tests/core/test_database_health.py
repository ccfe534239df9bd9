"""The health check of a persistent PostgreSQL connection (``bookstore.postgresql``): a
connection in good order is reused without a word to the server; one the server has ended is
found out and replaced before the request's first query, as Django's ``SELECT 1`` did."""

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from tests.services import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]


@pytest.fixture
def persistent():
    """A connection of the shop's own, as a web worker holds it between requests."""
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def last_statement(pid: int) -> str:
    """What the backend ``pid`` last ran, as PostgreSQL itself reports it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def between_requests(wrapper) -> None:
    """What Django does at a request's end and at the next one's first query."""
    wrapper.close_if_unusable_or_obsolete()
    wrapper.close_if_health_check_failed()


def test_a_connection_in_good_order_is_checked_without_a_round_trip(persistent):
    assert persistent.settings_dict["ENGINE"] == "bookstore.postgresql"
    pid = backend_pid(persistent)
    with persistent.cursor() as cursor:
        cursor.execute("SELECT 'the last query of a request'")
    between_requests(persistent)
    assert persistent.health_check_done
    assert persistent.connection is not None
    # Django's own check would have sent SELECT 1 here.
    assert last_statement(pid) == "SELECT 'the last query of a request'"
    assert backend_pid(persistent) == pid


def test_a_connection_the_server_ended_is_replaced_before_the_first_query(persistent):
    pid = backend_pid(persistent)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.01)
    between_requests(persistent)
    # The next request's first query runs on a new connection, not into the dead one.
    assert backend_pid(persistent) != pid
