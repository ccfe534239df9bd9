"""Django's PostgreSQL backend, with a health check that costs no round trip when nothing is
wrong (``ENGINE = "bookstore.postgresql"``, set by the settings for a ``postgres://`` URL).

``CONN_HEALTH_CHECKS`` makes Django check a persistent connection at the first query of each
request, by sending ``SELECT 1`` and waiting for its answer: a round trip to PostgreSQL on every
request, a tenth of an uncached book detail's time here. Yet a connection the server has ended
(a restart, ``pg_terminate_backend``, ``idle_session_timeout``, a failover) tells the client
so: PostgreSQL writes a FATAL notice and closes the socket, and psycopg marks a connection it
saw fail as broken. So a connection between requests is checked where it stands:

- idle, not broken, and nothing waiting on its socket (the server sends nothing unasked to a
  connection that is not listening): usable, without a word to the server;
- anything else (bytes waiting: the server's farewell, or a notice; a transaction left open;
  psycopg's broken flag): Django's ``SELECT 1``, whose failure closes it, as before.

What this does not see, and ``SELECT 1`` did not either: a peer gone silent (a network cut with
no reset). There the check's ``SELECT 1`` hung as the request's first query now does, until the
statement timeout or TCP gives up, and the request is answered 503 either way.

``prepared_cursor()``: a cursor binding its parameters on the server (Django's cursors bind them
in the client, and PostgreSQL plans every statement they send afresh), so that psycopg prepares
a statement it has sent five times on a connection and PostgreSQL keeps its plan. For the hot
reads whose text is the same at every call, only their values changing (``catalog.statements``:
a book by its key, a search's page and its candidate terms): planning was 0.2 to 0.6 ms of each, as much as
running it. Through Django's cursor wrapper, so what counts and logs queries sees them.
Prepared statements belong to a server session: behind a pooler in transaction mode
(PgBouncer) they need its ``max_prepared_statements`` (1.21 and later), and a migration that
changes a column these statements read fails them on the connections opened before it, until
those are recycled (``CONN_MAX_AGE``) or the workers restart, as a deploy does.
"""

import select

from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status == pq.TransactionStatus.IDLE and not _readable(
            connection.pgconn.socket
        ):
            return True
        return super().is_usable()

    def prepared_cursor(self) -> CursorWrapper:
        """``cursor()``, its parameters bound on the server: psycopg prepares a statement run
        five times on this connection (its ``prepare_threshold``), PostgreSQL plans it no more.
        For statements whose text does not change from call to call, and whose plan suits every
        value (a key, an array of ids): a generic plan is kept once it costs no more than the
        custom ones."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = base.ServerBindingCursor(self.connection)
            # As ``create_cursor`` does for Django's own cursors.
            loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, pq.Format.TEXT)
            if self.timezone != loader.timezone:
                base.register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)


def _readable(socket: int) -> bool:
    """Whether ``socket`` has bytes (or its end) waiting to be read, without waiting."""
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
