"""Running an import: a reader's records, merged, batched, written, reported.

The rules every import follows (the catalogue imports issue): upsert by ISBN-13 (the same file
twice changes nothing the second time); a book listed twice in a file is merged (the later
row's values win where it gives one) and reported; every refused row is reported with where
and why, and with ``--report`` as a CSV; good rows are imported, unless ``--strict`` refuses the
whole file for one bad row (the file is read twice then: once to check, once to write);
``--dry-run`` reports what would change and writes nothing; a batch is written whole or not at
all, so Ctrl-C (or SIGTERM) leaves the batches written before it and nothing of the one it
interrupted. Progress: a bar on a terminal, a line every few seconds otherwise. The file is
read ahead, by a process or a thread, while batches are written (``ahead``), and a batch is
written by a thread of its own while the next is gathered (``behind``).
"""

import csv
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TextIO

from ..search.index import book_postings
from .ahead import read_ahead
from .behind import batch_writer
from .records import BookRecord, Reject
from .writer import BatchOutcome, books_import_batch, record_text

BATCH_SIZE = 1000
PROGRESS_EVERY = 5.0  # seconds between progress lines when not on a terminal
BAR_EVERY = 0.1  # seconds between redraws of the bar on a terminal


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    merged: int = 0
    batches: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    rejects: list[Reject] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.rows} rows in {self.elapsed:.1f} s: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.withdrawn} withdrawn, {self.rejected} rejected, "
            f"{self.merged} merged"
        )


class ImportRefused(Exception):
    """``--strict`` and at least one bad row: nothing was written."""


class _Stop(BaseException):
    """SIGTERM, handled like Ctrl-C: the batch being written is rolled back."""


def _merge(first: BookRecord, later: BookRecord) -> BookRecord:
    """One record of a book listed twice: the later row's values where it gives them."""
    given = {
        name: value
        for name, value in vars(later).items()
        if name not in {"isbn13", "source"} and value not in (None, "", ())
    }
    merged = replace(first, **given)
    return replace(
        merged,
        categories=tuple(dict.fromkeys([*first.categories, *later.categories])),
        notes=(*first.notes, *later.notes, f"merged with {later.source}"),
    )


def write_report(path: Path, rejects: Iterable[Reject]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["source", "field", "reason", "value"])
        for reject in rejects:
            writer.writerow([reject.source, reject.field, reject.reason, reject.value])


class _Progress:
    def __init__(self, out: TextIO, label: str, interactive: bool):
        self.out, self.label, self.started, self.last = out, label, time.monotonic(), 0.0
        self.bar = None
        if interactive:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=out, force_terminal=True),
            )
            self.bar.start()
            self.task = self.bar.add_task(label)

    def update(self, summary: ImportSummary, *, last: bool = False) -> None:
        """Called for every row: redraws the bar at most ten times a second, and once ``last``."""
        elapsed = time.monotonic() - self.started
        every = BAR_EVERY if self.bar is not None else PROGRESS_EVERY
        if elapsed - self.last < every and not (last and self.bar is not None):
            return
        self.last = elapsed
        rate = summary.rows / elapsed if elapsed else 0.0
        text = f"{self.label}: {summary.rows} rows ({rate:.0f}/s), {summary.rejected} rejected"
        if self.bar is not None:
            self.bar.update(self.task, description=text)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _records(items: Iterable[BookRecord | Reject], summary: ImportSummary) -> Iterator[BookRecord]:
    for item in items:
        summary.rows += 1
        if isinstance(item, Reject):
            summary.rejected += 1
            summary.rejects.append(item)
            continue
        yield item


def import_run(
    *,
    read: Callable[[], Iterable[BookRecord | Reject]],
    out: TextIO,
    label: str,
    dry_run: bool = False,
    strict: bool = False,
    report: Path | None = None,
    batch_size: int = BATCH_SIZE,
    interactive: bool | None = None,
    on_batch: Callable[[list[tuple[int, str]]], None] | None = None,
) -> ImportSummary:
    """Import what ``read()`` yields (it is called twice under ``strict``). ``on_batch`` gets the
    covers to fetch, ``(book id, URL)``, once each batch has committed."""
    started = time.monotonic()
    if strict:
        check = ImportSummary()
        for _ in _records(read(), check):
            pass
        if check.rejects:
            if report is not None:
                write_report(report, check.rejects)
            check.elapsed = time.monotonic() - started
            for reject in check.rejects[:50]:
                out.write(f"rejected {reject.source}: {reject.field}: {reject.reason}\n")
            raise ImportRefused(f"--strict: {len(check.rejects)} bad row(s), nothing imported.")

    summary = ImportSummary()
    items = read_ahead(read())  # a file refused at once leaves nothing below to undo
    progress = _Progress(out, label, sys.stdout.isatty() if interactive is None else interactive)
    previous_term = signal.getsignal(signal.SIGTERM)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop()

    signal.signal(signal.SIGTERM, stop)
    seen: set[str] = set()
    batch: dict[str, BookRecord] = {}
    writer = batch_writer(dry_run=dry_run)

    def written(outcome: BatchOutcome | None) -> None:
        if outcome is None:
            return
        summary.created += outcome.created
        summary.updated += outcome.updated
        summary.unchanged += outcome.unchanged
        summary.withdrawn += outcome.withdrawn
        summary.batches += 1
        if on_batch is not None and outcome.covers:
            on_batch(outcome.covers)

    def flush() -> None:
        if not batch:
            return
        records = list(batch.values())
        seen.update(batch)
        batch.clear()
        if writer is None:
            written(books_import_batch(records=records, dry_run=dry_run))
        else:  # this thread has time while the batch before is written: the words of this one
            postings = {r.isbn13: book_postings(record_text(r)) for r in records if not r.withdrawn}
            written(writer.submit(records, postings))

    def take(record: BookRecord) -> None:
        if record.isbn13 in batch:
            summary.merged += 1
            out.write(f"merged {record.source} into {batch[record.isbn13].source} ({record.isbn13})\n")
            batch[record.isbn13] = _merge(batch[record.isbn13], record)
            return
        if record.isbn13 in seen:
            summary.merged += 1
            out.write(f"merged {record.source} into an earlier row ({record.isbn13})\n")
        batch[record.isbn13] = record
        if len(batch) >= batch_size:
            flush()

    try:
        try:
            for record in _records(items, summary):
                take(record)
                progress.update(summary)
            flush()
        except (KeyboardInterrupt, _Stop):
            summary.interrupted = True
        if writer is not None:
            written(writer.wait())  # the batch being written is finished, even when stopped
    except (KeyboardInterrupt, _Stop):  # stopped again while it finished: it is abandoned
        summary.interrupted = True
        if writer is not None:
            writer.abandon()
    finally:
        items.close()  # the reader stops
        if writer is not None:
            writer.close()
        signal.signal(signal.SIGTERM, previous_term)
        progress.update(summary, last=True)
        progress.close()
        summary.elapsed = time.monotonic() - started
        if report is not None:
            write_report(report, summary.rejects)
    return summary
