"""Batches written behind the runner (``imports.behind``): by a thread and a connection of their
own, one at a time and in order, when nothing is open on the caller's connection. The rules of
every import hold there as they do in the caller's thread (``test_import_runner``)."""

import io
import signal
import sys
import threading
import time
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction
from psycopg import DataError
from psycopg.errors import QueryCanceled

from apps.catalog.imports import behind
from apps.catalog.imports.records import ImportFileError
from apps.catalog.imports.runner import import_run
from apps.catalog.models import Author, Book
from tests.catalog.test_import_runner import record
from tests.factories import _isbn13
from tests.services import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def writers(monkeypatch):
    """The names of the threads that wrote each batch."""
    names: list[str] = []
    write = behind.books_import_batch

    def spied(**arguments):
        names.append(threading.current_thread().name)
        return write(**arguments)

    monkeypatch.setattr(behind, "books_import_batch", spied)
    return names


def run(read, **options):
    out = io.StringIO()
    summary = import_run(read=read, out=out, label="test", interactive=False, **options)
    return summary, out.getvalue()


def test_batches_are_written_by_a_thread_of_their_own_and_it_ends_with_the_import(writers):
    summary, _ = run(lambda: [record(n) for n in range(23)], batch_size=5)

    assert (summary.created, summary.batches) == (23, 5)
    assert len(writers) == 5
    assert all(name.startswith("import-writer") for name in writers)
    assert Book.objects.count() == 23
    assert Author.objects.filter(name="Victor Hugo").count() == 1  # created by the first batch only
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]


def test_inside_a_transaction_batches_are_written_by_the_callers_thread(writers):
    assert behind.writes_behind()
    with transaction.atomic():
        assert not behind.writes_behind()
        summary, _ = run(lambda: [record(n) for n in range(7)], batch_size=5)
        assert Book.objects.count() == 7  # seen inside: written on this connection

    assert summary.created == 7
    assert writers == []  # the caller's thread wrote them: a thread's connection would miss them


def test_a_book_listed_again_in_a_later_batch_takes_the_later_rows_values(writers):
    items = [record(n) for n in range(10)] + [record(2, title="Les Misérables, édition revue")]

    summary, out = run(lambda: items, batch_size=5)

    assert (summary.created, summary.updated, summary.merged) == (10, 1, 1)
    assert Book.objects.get(isbn13=_isbn13(2)).title == "Les Misérables, édition revue"
    assert "merged line 3 into an earlier row" in out


def test_names_new_to_the_catalogue_are_created_once_across_batches(writers):
    items = [record(n, authors=("Annie Ernaux", f"Auteur {n % 2}"), publisher="P.O.L") for n in range(12)]

    run(lambda: items, batch_size=4)

    assert Author.objects.filter(name="Annie Ernaux").count() == 1
    assert Author.objects.filter(name__startswith="Auteur").count() == 2
    assert Book.objects.filter(publisher__name="P.O.L").count() == 12


def test_an_interruption_finishes_the_batch_being_written_and_nothing_after_it(writers):
    def read():
        for n in range(25):
            if n == 17:
                raise KeyboardInterrupt
            yield record(n)

    summary, _ = run(read, batch_size=5)

    assert summary.interrupted
    assert Book.objects.count() == 15  # three whole batches of five; the fourth never written
    assert (summary.batches, summary.created) == (3, 15)


def test_a_batch_that_fails_raises_to_the_caller_and_leaves_the_batches_before_it(writers):
    items = [record(n) for n in range(10)] + [record(10, title="x" * 5000)] + [record(11)]

    interval = sys.getswitchinterval()

    with pytest.raises(DataError):
        run(lambda: items, batch_size=5)

    assert sys.getswitchinterval() == interval  # the writer's setting undone
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]

    assert sorted(Book.objects.values_list("isbn13", flat=True)) == sorted(_isbn13(n) for n in range(10))


def test_a_dry_run_written_behind_writes_nothing(writers):
    summary, _ = run(lambda: [record(n, price=Decimal("5.00")) for n in range(8)], batch_size=3, dry_run=True)

    assert summary.created == 8
    assert len(writers) == 3
    assert not Book.objects.exists()
    assert not Author.objects.exists()


def test_a_batch_abandoned_while_it_waits_on_the_database_is_rolled_back():
    """Stopped twice: the statement the writer waits on is cancelled and its batch rolled back."""
    writer = behind.BatchWriter(dry_run=False)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # New authors cannot be written while this transaction holds the table.
            cursor.execute("LOCK TABLE catalog_author IN SHARE ROW EXCLUSIVE MODE")
            writer.submit([record(n) for n in range(3)])
            deadline = time.monotonic() + 20
            waiting = 0
            while not waiting and time.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once a transaction
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                (waiting,) = cursor.fetchone()
                time.sleep(0.02)
            assert waiting, "the writer never waited on the lock"
            writer.abandon()
            with pytest.raises(OperationalError) as raised:
                writer.wait()
            assert isinstance(raised.value.__cause__, QueryCanceled)
    finally:
        writer.close()

    assert not Book.objects.exists()
    assert not Author.objects.exists()


def test_a_file_refused_before_its_first_row_leaves_no_writer_and_the_signals_as_they_were(writers):
    handler = signal.getsignal(signal.SIGTERM)
    interval = sys.getswitchinterval()

    def refused():
        raise ImportFileError("books.csv: cannot be read.")

    with pytest.raises(ImportFileError):
        run(refused)

    assert signal.getsignal(signal.SIGTERM) is handler
    assert sys.getswitchinterval() == interval
    assert writers == []
