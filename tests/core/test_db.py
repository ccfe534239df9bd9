"""``bookstore.db.prepared_cursor``: Django's cursor (query capture, errors mapped) over a
statement PostgreSQL prepares once a connection has run it a few times."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from bookstore.db import prepared_cursor
from tests.factories import BookFactory
from tests.services import requires_postgres

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"
)


def _prepared(text: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [text + "%"])
        return [row[0] for row in cursor.fetchall()]


def test_its_statements_are_captured_and_answered_like_any_other():
    with CaptureQueriesContext(connection) as context, prepared_cursor() as cursor:
        cursor.execute("SELECT %s + %s", [2, 3])
        assert cursor.fetchone() == (5,)
    assert len(context.captured_queries) == 1


def test_its_errors_are_djangos():
    with pytest.raises(IntegrityError), prepared_cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (NULL, '', %s)",
            [timezone.now()],
        )


@requires_postgres
def test_a_statement_run_a_few_times_is_prepared_on_postgresql():
    for number in range(connection.connection.prepare_threshold + 1):
        with prepared_cursor() as cursor:
            cursor.execute("SELECT 'prepared_cursor test', %s::int", [number])
            assert cursor.fetchone() == ("prepared_cursor test", number)
    assert _prepared("SELECT 'prepared_cursor test'")


@requires_postgres
def test_a_visitors_first_adds_run_prepared_statements():
    book = BookFactory(stock=50)
    for _ in range(connection.connection.prepare_threshold + 1):
        assert APIClient().post("/api/v1/cart/items/", {"book": book.pk, "quantity": 1}).status_code == 201
    assert _prepared("WITH b AS (SELECT")
    assert _prepared('INSERT INTO "django_session"')
