"""Fixed statements of the hot write paths, parsed and planned once per connection.

Django binds parameters on the client (psycopg's ``ClientCursor``: the values are written into
the SQL text), so PostgreSQL parses and plans every statement it is sent. For a visitor's first
cart line (one statement reading the book and inserting the cart and its line) that was more
than half of the statement's server CPU (about 880 µs a statement sent as text, 380 prepared,
in one backend on this machine). ``prepared_cursor`` is Django's cursor (its wrappers: query
logging and counting, database errors mapped to Django's) over psycopg's server-side binding
cursor: psycopg prepares a statement once it has run the same text ``prepare_threshold`` times
on a connection (5, ``DB_PREPARE_THRESHOLD``), then sends only its name and parameters. Only
the statements run through it are prepared; every other query stays client-bound.

PgBouncer in transaction mode carries these prepared statements from version 1.21
(``max_prepared_statements``); behind an older one, set ``DB_PREPARE_THRESHOLD`` to an empty
value and nothing is prepared (the statements are still bound on the server).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper


@contextmanager
def prepared_cursor(alias: str = DEFAULT_DB_ALIAS) -> Iterator[CursorWrapper]:
    """A cursor whose statements PostgreSQL prepares (above); Django's own cursor elsewhere."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    # What connection.cursor() does, with psycopg's server-side binding cursor in place of the
    # client-side one (connection.create_cursor): Django's time zone for timestamps read, too.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # (django-stubs describe neither psycopg's cursor nor what make_cursor accepts.)
        raw: Any = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
        _time_zone_set(connection, raw)
    connection.validate_thread_sharing()
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


def _time_zone_set(connection: BaseDatabaseWrapper, raw: Any) -> None:
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    loader = raw.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, raw)
