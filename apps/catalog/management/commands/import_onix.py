"""``manage.py import_onix FILE.xml`` — an ONIX for Books feed (3.0 or 2.1, reference or short
tags), streamed; a delete notice withdraws the book. See the runner for the rules every import
follows and ``apps/catalog/imports/onix/`` for what is read."""

import csv
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.catalog.imports.onix import read_onix

from ._imports import add_import_arguments, run_import


def subject_map_load(path: Path) -> dict[str, str]:
    """``SCHEME:CODE`` → ``Parent > Child``, from JSON (an object) or CSV (two columns)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if not isinstance(data, dict):
            raise CommandError(f'{path}: a JSON object of "SCHEME:CODE": "Parent > Child" is expected.')
        return {str(key).upper(): str(value) for key, value in data.items()}
    rows = list(csv.reader(text.splitlines()))
    return {row[0].strip().upper(): row[1].strip() for row in rows[1:] if len(row) >= 2 and row[0].strip()}


class Command(BaseCommand):
    help = "Import an ONIX for Books feed (3.0 or 2.1)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)
        parser.add_argument(
            "--subjects", type=Path, metavar="FILE", help="subject codes to categories (JSON or CSV)"
        )
        parser.add_argument(
            "--country", default="FR", help="the territory whose prices are read (default FR)"
        )

    def handle(self, *args, **options) -> None:
        subjects = subject_map_load(options["subjects"]) if options["subjects"] else {}
        run_import(
            self,
            read=lambda: read_onix(
                options["file"],
                currency=settings.SHOP_CURRENCY,
                country=options["country"],
                subject_map=subjects,
            ),
            options=options,
            label=options["file"].name,
        )
