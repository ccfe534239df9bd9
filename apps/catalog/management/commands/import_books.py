"""``manage.py import_books FILE.csv`` — books from a spreadsheet export (see the runner for the
rules every import follows, and ``apps/catalog/imports/csvfile/`` for the columns read)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.catalog.imports.csvfile import read_books_csv

from ._imports import add_import_arguments, run_import


class Command(BaseCommand):
    help = "Import books from a CSV file (comma, semicolon or tab; English or French headers)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)
        parser.add_argument("--delimiter", help="the field separator (sniffed when not given)")
        parser.add_argument(
            "--encoding", default="utf-8", help="the file's encoding (default UTF-8, BOM or not)"
        )
        parser.add_argument(
            "--map", action="append", default=[], metavar="COLUMN=FIELD", help="read COLUMN as FIELD"
        )

    def handle(self, *args, **options) -> None:
        mapping = {}
        for item in options["map"]:
            column, sep, target = item.partition("=")
            if not sep or not column.strip() or not target.strip():
                raise CommandError(f"--map {item!r}: write it COLUMN=FIELD.")
            mapping[column.strip()] = target.strip()
        unknown_listed = False

        def read():
            nonlocal unknown_listed
            books = read_books_csv(
                options["file"],
                delimiter=options["delimiter"],
                encoding=options["encoding"],
                mapping=mapping,
                currency=settings.SHOP_CURRENCY,
            )
            if books.unknown_columns and not unknown_listed:
                unknown_listed = True
                self.stdout.write(f"ignored columns: {', '.join(books.unknown_columns)}")
            return books

        run_import(self, read=read, options=options, label=options["file"].name)
