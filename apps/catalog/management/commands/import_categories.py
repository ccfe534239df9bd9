"""``manage.py import_categories FILE`` — a category tree from CSV or JSON, created where missing.

CSV: a ``path`` column (``Parent > Child``), or ``parent`` and ``name`` columns (a parent named
by its own path or name, listed before its children). JSON: a list of paths, or nested objects
``{"name": …, "children": […]}``. Names compare case-insensitively with the existing tree; a
category that exists is left as it is, so the same file twice creates nothing the second time.
"""

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.catalog.imports.writer import categories_by_path
from apps.categories.models import Category


def _json_paths(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [path for item in data for path in _json_paths(item, prefix)]
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        path = f"{prefix} > {data['name']}" if prefix else data["name"]
        return [path, *_json_paths(data.get("children", []), path)]
    raise CommandError(f"Not a category: {json.dumps(data)[:80]} (a path, or an object with a name).")


def _csv_paths(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        sample = stream.read(4096)
        stream.seek(0)
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
        except csv.Error:  # one column: nothing to sniff
            delimiter = ","
        rows = csv.DictReader(stream, delimiter=delimiter)
        header = {name.strip().lower(): name for name in rows.fieldnames or []}
        paths, by_name = [], {}
        for line, row in enumerate(rows, start=2):
            if "path" in header:
                value = (row[header["path"]] or "").strip()
            elif "name" in header:
                name = (row[header["name"]] or "").strip()
                parent = (row.get(header.get("parent", ""), "") or "").strip()
                value = f"{by_name.get(parent.lower(), parent)} > {name}" if parent else name
                by_name[name.lower()] = value
            else:
                raise CommandError(f"{path}: a 'path' column, or 'parent' and 'name' columns, is needed.")
            if not value or value.endswith(">"):
                raise CommandError(f"{path}, line {line}: no category name.")
            paths.append(value)
        return paths


class Command(BaseCommand):
    help = "Import a category tree (CSV with a path column or parent/name columns, or JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="say what would be created, write nothing")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            if path.suffix.lower() == ".json":
                paths = _json_paths(json.loads(path.read_text(encoding="utf-8-sig")))
            else:
                paths = _csv_paths(path)
        except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"{path}: {error}") from None
        before = Category.objects.count()
        with transaction.atomic():
            categories_by_path(set(paths))
            created = Category.objects.count() - before
            if options["dry_run"]:
                transaction.set_rollback(True)
        prefix = "dry run (nothing written): " if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{len(paths)} categories read, {created} created."))
