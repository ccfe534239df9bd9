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
"""

import select

from django.db.backends.postgresql import base
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


def _readable(socket: int) -> bool:
    """Whether ``socket`` has bytes (or its end) waiting to be read, without waiting."""
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
