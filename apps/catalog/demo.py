"""The demo catalogue: real books from ``data/goodreads_books.csv`` and
``data/goodreads_books_fr.csv`` (see ``data/README.md`` for the source and for the rules that
set prices, stock, formats and categories)."""

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from apps.categories.models import Category
from apps.categories.services import category_create, category_update
from bookstore.cache import catalog_version_bump

from . import services
from .isbn import InvalidIsbn, isbn_normalize
from .models import Author, Book, BookFormat, Publisher

DATA_DIR = Path(__file__).resolve().parent / "data"
# Read in this order; a row whose ISBN an earlier row (of any file) already has is skipped.
BOOKS_FILES = (DATA_DIR / "goodreads_books.csv", DATA_DIR / "goodreads_books_fr.csv")
CATEGORIES_FILE = DATA_DIR / "demo_categories.json"

LANGUAGES = {"eng": "en", "en-US": "en", "en-GB": "en", "en-CA": "en", "spa": "es", "fre": "fr"}
MAX_PRICE = Decimal("79.90")


@dataclass
class DemoRow:
    isbn13: str
    title: str
    subtitle: str
    authors: list[str]
    publisher: str
    publication_date: date | None
    language: str
    pages: int | None
    format: str
    price: Decimal
    stock: int
    categories: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def demo_price(isbn13: str, pages: int | None) -> Decimal:
    euros = 5 + (pages or 200) // 40 + int(isbn13[10])
    return min(Decimal(f"{euros}.90"), MAX_PRICE)


def demo_stock(isbn13: str) -> int:
    return int(isbn13[8:10]) % 25


def demo_format(isbn13: str, publisher: str) -> str:
    if "audio" in publisher.lower():
        return BookFormat.AUDIOBOOK
    return BookFormat.HARDCOVER if isbn13[-1] in "012" else BookFormat.PAPERBACK


def _categories_for(row: dict[str, Any], config: dict[str, Any]) -> list[str]:
    title, authors = row["title"], row["authors"]
    genre: list[str] = []
    for kind, pattern, slugs in config["rules"]:
        if (
            (kind == "title" and pattern.lower() in title.lower())
            or (kind == "title_is" and pattern.lower() == title.lower())
            or (kind == "author" and pattern in authors)
        ):
            genre = list(slugs)
            break
    extra = [config["languages"][row["language"]]]
    if row["format"] == BookFormat.AUDIOBOOK:
        extra.append(config["audiobook"])
    return genre + extra


def _raw_rows() -> Iterator[dict[str, str]]:
    for path in BOOKS_FILES:
        with path.open(encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle)


def demo_rows() -> tuple[list[DemoRow], list[str]]:
    """The rows that load, and a reason for each row skipped."""
    config = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    rows: list[DemoRow] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for raw in _raw_rows():
        try:
            isbn13 = isbn_normalize(raw["isbn13"])
        except InvalidIsbn as error:
            skipped.append(f"book {raw['book_id']}: ISBN {raw['isbn13']}: {error}")
            continue
        if isbn13 in seen:
            skipped.append(f"book {raw['book_id']}: ISBN {isbn13} is already in the catalogue")
            continue
        language = LANGUAGES.get(raw["language_code"])
        if language is None:
            skipped.append(f"book {raw['book_id']}: language {raw['language_code']!r} has no ISO 639-1 code")
            continue
        seen.add(isbn13)
        title, _, subtitle = _clean(raw["title"]).partition(": ")
        publisher = _clean(raw["publisher"])
        pages = int(raw["num_pages"].strip() or 0) or None  # an empty count or 0: unknown
        published = date.fromisoformat(raw["publication_date"]) if raw["publication_date"] else None
        row: dict[str, Any] = {
            "title": _clean(raw["title"]),
            "authors": [_clean(name) for name in raw["authors"].split(" / ") if name.strip()],
            "language": language,
            "format": demo_format(isbn13, publisher),
        }
        rows.append(
            DemoRow(
                isbn13=isbn13,
                title=title,
                subtitle=subtitle,
                authors=row["authors"],
                publisher=publisher,
                publication_date=published,
                language=language,
                pages=pages,
                format=row["format"],
                price=demo_price(isbn13, pages),
                stock=demo_stock(isbn13),
                categories=_categories_for(row, config),
            )
        )
    return rows, skipped


def _categories_load(tree: list[list[Any]]) -> dict[str, Category]:
    by_slug = {category.slug: category for category in Category.objects.all()}
    for position, (slug, name, parent_slug) in enumerate(tree):
        parent = by_slug[parent_slug] if parent_slug else None
        category = by_slug.get(slug)
        if category is None:
            by_slug[slug] = category_create(name=name, slug=slug, parent=parent, position=position)
        elif (
            category.name != name
            or category.parent_id != (parent.pk if parent else None)
            or category.position != position
        ):
            by_slug[slug] = category_update(category=category, name=name, parent=parent, position=position)
    return by_slug


def demo_catalog_load() -> dict[str, Any]:
    """Load (or bring up to date) the demo categories and books, through the services.

    Idempotent: categories are found by slug, authors and publishers by name, books by ISBN.
    """
    config = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    rows, skipped = demo_rows()
    created = updated = 0
    with transaction.atomic():
        categories = _categories_load(config["tree"])
        authors = {author.name: author for author in Author.objects.all()}
        publishers = {publisher.name: publisher for publisher in Publisher.objects.all()}
        existing = {book.isbn13: book for book in Book.objects.filter(isbn13__in=[r.isbn13 for r in rows])}
        for row in rows:
            for name in row.authors:
                if name not in authors:
                    authors[name] = services.author_create(name=name)
            if row.publisher not in publishers:
                publishers[row.publisher] = services.publisher_create(name=row.publisher)
            data: dict[str, Any] = {
                "title": row.title,
                "subtitle": row.subtitle,
                "authors": [authors[name] for name in row.authors],
                "publisher": publishers[row.publisher],
                "categories": [categories[slug] for slug in row.categories],
                "publication_date": row.publication_date,
                "language": row.language,
                "format": row.format,
                "pages": row.pages,
                "price": row.price,
                "stock": row.stock,
            }
            book = existing.get(row.isbn13)
            if book is None:
                services.book_create(isbn=row.isbn13, **data)
                created += 1
            else:
                services.book_update(book=book, data=data)
                updated += 1
    catalog_version_bump()
    return {
        "created": created,
        "updated": updated,
        "skipped": skipped,
        "categories": len(config["tree"]),
    }
