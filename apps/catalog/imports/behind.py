"""Writing batches behind the runner: a thread of its own writes one batch, in its own
transaction on its own connection, while the runner gathers and merges the next.

An import's time is the writer's Python and the database's work on each batch; done one after
the other, the database waits for Python and Python for the database. Here the runner's share
(taking the reader's records, merging the duplicates, the progress, and the words each new
book is found by) is done while the database writes the batch before; the batches are still
written one at a time, in the file's order, each whole or not at all, so everything the
runner promises holds as it did.

Used on PostgreSQL when nothing is open on the caller's connection (a management command): the
writer's connection then sees all the caller would. Inside a transaction (a caller's atomic
block, a test) the batches are written in the caller's thread, as they are on SQLite, which
takes one writer at a time whatever the connections.

Stopping (Ctrl-C, SIGTERM): the batch being written is finished (it takes a fraction of a
second) and counted; stopping again while it finishes abandons it, rolled back.
"""

import contextlib
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

from ..search.index import Posting
from .records import BookRecord
from .writer import BatchOutcome, books_import_batch

# The runner's thread and the writer's share the interpreter: when the database answers, the
# writer takes its turn within this many seconds (Python's default, 5 ms, would cost a few
# milliseconds on every statement).
SWITCH_INTERVAL = 0.0005


def writes_behind() -> bool:
    """Whether batches may be written by a thread of their own: on PostgreSQL, with nothing
    open on the caller's connection for the writer's connection to miss."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class BatchWriter:
    """Writes the batches submitted, one at a time and in order, in a thread of its own."""

    def __init__(self, *, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.interrupted = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self._pending: Future[BatchOutcome] | None = None
        self._writer_connection: Any = None
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)

    def submit(
        self, records: Sequence[BookRecord], postings: Mapping[str, set[Posting]] | None = None
    ) -> BatchOutcome | None:
        """Start writing ``records`` (``books_import_batch``); the outcome of the batch before,
        once it is written (its error raised here, if it failed)."""
        previous = self.wait()
        self._pending = self._executor.submit(self._write, list(records), postings)
        return previous

    def wait(self) -> BatchOutcome | None:
        """The outcome of the batch being written, once it is (None when there is none)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return None
        try:
            return pending.result()
        except BaseException:
            if not pending.done():  # stopped while waiting: the batch is abandoned
                self._pending = pending
            raise

    def abandon(self) -> None:
        """Roll back the batch being written: its transaction ends without a commit, and a
        statement waiting on the database is cancelled."""
        self.interrupted.set()
        writer = self._writer_connection
        if writer is not None and writer.vendor == "postgresql" and writer.connection is not None:
            writer.connection.cancel_safe(timeout=5.0)

    def close(self) -> None:
        """Wait for the writer (after ``abandon``, for its rollback) and close its connection."""
        pending, self._pending = self._pending, None
        if pending is not None:
            with contextlib.suppress(Exception):  # abandoned, or already raised to the runner
                pending.result()
        self._executor.submit(connections.close_all).result()
        self._executor.shutdown()
        sys.setswitchinterval(self._interval)

    def _write(self, records: list[BookRecord], postings: Mapping[str, set[Posting]] | None) -> BatchOutcome:
        self._writer_connection = connections[DEFAULT_DB_ALIAS]  # this thread's own
        return books_import_batch(
            records=records, dry_run=self.dry_run, postings=postings, interrupted=self.interrupted
        )


def batch_writer(*, dry_run: bool) -> BatchWriter | None:
    """A writer thread when batches may be written behind (``writes_behind``), else None."""
    return BatchWriter(dry_run=dry_run) if writes_behind() else None
