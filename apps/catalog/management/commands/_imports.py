"""What ``import_books`` and ``import_onix`` share: the options every import takes, and how a
run ends (the summary, the exit status)."""

from collections.abc import Callable, Iterable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.catalog.imports.records import BookRecord, ImportFileError, Reject
from apps.catalog.imports.runner import ImportRefused, import_run


def add_import_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    parser.add_argument("--strict", action="store_true", help="refuse the whole file if any row is bad")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the refused rows to FILE (CSV)")
    parser.add_argument("--batch-size", type=int, default=1000, help="books written per transaction")


def covers_enqueue(covers: list[tuple[int, str]]) -> None:
    """Each cover given by URL is fetched later, by a Celery task, never during the import."""
    from apps.catalog.tasks import book_cover_fetch

    for book_id, url in covers:
        book_cover_fetch.delay(book_id, url)


def run_import(
    command: BaseCommand, *, read: Callable[[], Iterable[BookRecord | Reject]], options: dict, label: str
) -> None:
    path: Path = options["file"]
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    try:
        summary = import_run(
            read=read,
            out=command.stdout,
            label=label,
            dry_run=options["dry_run"],
            strict=options["strict"],
            report=options["report"],
            batch_size=options["batch_size"],
            on_batch=None if options["dry_run"] else covers_enqueue,
        )
    except ImportRefused as refused:
        raise CommandError(str(refused)) from None
    except ImportFileError as error:
        raise CommandError(f"{path}: {error}") from None
    for reject in summary.rejects[:200]:
        command.stdout.write(f"rejected {reject.source}: {reject.field}: {reject.reason}")
    if len(summary.rejects) > 200:
        command.stdout.write(f"… and {len(summary.rejects) - 200} more rejected rows (see --report).")
    prefix = "dry run (nothing written): " if options["dry_run"] else ""
    style = command.style.WARNING if summary.rejected or summary.interrupted else command.style.SUCCESS
    command.stdout.write(style(prefix + summary.line()))
    if summary.interrupted:
        raise CommandError(
            f"Interrupted: {summary.batches} whole batch(es) written, the one in progress rolled back."
        )
