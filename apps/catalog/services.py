"""Writes to the catalogue. Stock moves only through ``stock_reserve`` and ``stock_release``.

Every write here calls ``catalog_version_bump()`` (cached lists, details and carts stop being
read once it commits), except the stock moves of checkouts and cancellations, which retire
only what shows the books they moved (``books_changed``), and the ratings (their book's
scope); and, on PostgreSQL, refreshes the search document of the books whose
title, authors, publisher or description it changed.
"""

import io
import logging
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, ForeignObjectRel, ProtectedError, RestrictedError
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from apps.categories.models import Category
from bookstore.cache import books_changed, catalog_version_bump, scope_versions_bump
from bookstore.slugs import unique_slug

from .exceptions import BookNotFound, DuplicateIsbn, InUse, InvalidCover, OutOfStock, SlugTaken
from .isbn import isbn_normalize
from .models import Author, Book, BookAuthor, BookFormat, Publisher
from .search.index import search_index_rebuild, search_index_refresh, search_index_remove
from .selectors import book_cache_scopes

logger = logging.getLogger(__name__)

COVER_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

BOOK_FIELDS = (
    "title",
    "subtitle",
    "slug",
    "publisher",
    "publication_date",
    "language",
    "format",
    "pages",
    "description",
    "price",
    "currency",
    "stock",
    "is_active",
)
# Fields that feed the search document.
SEARCHED_FIELDS = {"title", "subtitle", "publisher", "description"}


# --- Stock -----------------------------------------------------------------------------------


def stock_reserve(*, quantities: Mapping[int, int]) -> None:
    """Take ``quantities`` (book id → copies) out of stock, all or nothing.

    Each book is decremented by a conditional ``UPDATE … WHERE stock >= n``, in primary-key
    order, so two checkouts holding the same books never deadlock and stock never goes below
    zero (the check constraint backs this up). When one book is short the whole reservation
    is rolled back and ``OutOfStock`` names every short book with what is available.
    """
    shortages: dict[int, int] = {}
    with transaction.atomic():
        for book_id in sorted(quantities):
            wanted = quantities[book_id]
            if wanted <= 0:
                raise ValueError(f"cannot reserve {wanted} copies of book {book_id}")
            updated = Book.objects.filter(pk=book_id, stock__gte=wanted).update(stock=F("stock") - wanted)
            if not updated:
                shortages[book_id] = 0
        if shortages:
            available = dict(Book.objects.filter(pk__in=shortages).values_list("pk", "stock"))
            shortages = {book_id: available.get(book_id, 0) for book_id in shortages}
            transaction.set_rollback(True)
        else:
            emptied = Book.objects.filter(pk__in=list(quantities), stock=0).exists()
    if shortages:
        raise OutOfStock(shortages)
    books_changed(book_ids=quantities, availability=emptied)


def stock_release(*, quantities: Mapping[int, int]) -> None:
    """Give ``quantities`` (book id → copies) back to stock, in primary-key order."""
    with transaction.atomic():
        for book_id in sorted(quantities):
            Book.objects.filter(pk=book_id).update(stock=F("stock") + quantities[book_id])
        # A book back from zero: its stock is now exactly what came back.
        restocked = any(
            stock == quantities[book_id]
            for book_id, stock in Book.objects.filter(pk__in=list(quantities)).values_list("pk", "stock")
        )
    books_changed(book_ids=quantities, availability=restocked)


# --- Search document ---------------------------------------------------------------------------


def book_search_refresh(*, book_ids: Iterable[int] | None = None) -> None:
    """Rewrite what ``book_ids`` (every book when ``None``) are searched by: their postings in
    the word index (``catalog.search.index``), in the caller's transaction."""
    if book_ids is None:
        search_index_rebuild()
    else:
        search_index_refresh(book_ids=list(book_ids))


# --- Authors and publishers -------------------------------------------------------------------


def _unique_slug(model: type[Author] | type[Publisher], name: str, *, exclude_pk: int | None = None) -> str:
    return unique_slug(model.objects.all(), name, max_length=200, fallback="x", exclude_pk=exclude_pk)


@contextmanager
def _slug_unique(slug: str) -> Iterator[None]:
    """The write inside may only fail on the unique slug: that is a 409 naming the field.

    A savepoint, so that the caller's transaction survives; catching the violation (rather
    than looking first) also covers two requests claiming the same slug at once.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise SlugTaken(
            f"The slug '{slug}' is already in use.", errors={"slug": ["This slug is already in use."]}
        ) from error


def author_create(*, name: str, slug: str = "", bio: str = "") -> Author:
    """Create an author; the slug is made from the name (and made unique) when not given.

    A slug another author has is refused (``SlugTaken``, 409).
    """
    slug = slug or _unique_slug(Author, name)
    with _slug_unique(slug):
        author = Author.objects.create(name=name, slug=slug, bio=bio)
    catalog_version_bump()
    return author


def author_update(
    *, author: Author, name: str | None = None, slug: str | None = None, bio: str | None = None
) -> Author:
    """Change an author; a new name is written into the search document of their books.

    A slug another author has is refused (``SlugTaken``, 409) and nothing is changed.
    """
    with transaction.atomic():
        changed = [f for f, v in (("name", name), ("slug", slug), ("bio", bio)) if v is not None]
        for field, value in (("name", name), ("slug", slug), ("bio", bio)):
            if value is not None:
                setattr(author, field, value)
        if changed:
            with _slug_unique(author.slug):
                author.save(update_fields=[*changed, "updated_at"])
        if name is not None:
            book_search_refresh(book_ids=author.book_authors.values_list("book_id", flat=True))
    catalog_version_bump()
    return author


def author_delete(*, author: Author) -> None:
    """Delete an author no book names; refuse otherwise."""
    with transaction.atomic():
        count = author.book_authors.count()
        if count:
            raise InUse(f"{count} books name '{author.name}': change them first.", books=count)
        author.delete()
    catalog_version_bump()


def publisher_create(*, name: str, slug: str = "") -> Publisher:
    """Create a publisher; the slug is made from the name (and made unique) when not given.

    A slug another publisher has is refused (``SlugTaken``, 409).
    """
    slug = slug or _unique_slug(Publisher, name)
    with _slug_unique(slug):
        publisher = Publisher.objects.create(name=name, slug=slug)
    catalog_version_bump()
    return publisher


def publisher_update(*, publisher: Publisher, name: str | None = None, slug: str | None = None) -> Publisher:
    """Change a publisher; a new name is written into the search document of its books.

    A slug another publisher has is refused (``SlugTaken``, 409) and nothing is changed.
    """
    with transaction.atomic():
        changed = [f for f, v in (("name", name), ("slug", slug)) if v is not None]
        if name is not None:
            publisher.name = name
        if slug is not None:
            publisher.slug = slug
        if changed:
            with _slug_unique(publisher.slug):
                publisher.save(update_fields=[*changed, "updated_at"])
        if name is not None:
            book_search_refresh(book_ids=publisher.books.values_list("pk", flat=True))
    catalog_version_bump()
    return publisher


def publisher_delete(*, publisher: Publisher) -> None:
    """Delete a publisher no book refers to; refuse otherwise."""
    with transaction.atomic():
        count = publisher.books.count()
        if count:
            raise InUse(f"{count} books are published by '{publisher.name}'.", books=count)
        publisher.delete()
    catalog_version_bump()


# --- Books -----------------------------------------------------------------------------------


def _book_slug(title: str, isbn13: str) -> str:
    # The ISBN makes the slug unique without a lookup, and stable across title edits.
    return f"{slugify(title)[:290].strip('-') or 'book'}-{isbn13}"


def _book_authors_set(book: Book, authors: Sequence[Author]) -> None:
    BookAuthor.objects.filter(book=book).delete()
    seen: set[int] = set()
    rows: list[BookAuthor] = []
    for author in authors:
        if author.pk in seen:
            continue
        seen.add(author.pk)
        rows.append(BookAuthor(book=book, author=author, position=len(rows)))
    BookAuthor.objects.bulk_create(rows)


def book_create(
    *,
    isbn: str,
    title: str,
    price: Decimal | None,
    subtitle: str = "",
    slug: str = "",
    authors: Sequence[Author] = (),
    publisher: Publisher | None = None,
    categories: Sequence[Category] = (),
    publication_date: date | None = None,
    language: str = "fr",
    format: str = BookFormat.PAPERBACK,
    pages: int | None = None,
    description: str = "",
    currency: str = "",
    stock: int = 0,
    is_active: bool = True,
) -> Book:
    """Create a book. The ISBN (13, or 10 converted to 13) must be valid and not taken yet;
    authors keep the order given."""
    isbn13 = isbn_normalize(isbn)
    with transaction.atomic():
        if Book.objects.filter(isbn13=isbn13).exists():
            raise DuplicateIsbn(
                f"The ISBN {isbn13} is already in the catalogue.",
                errors={"isbn13": ["A book with this ISBN already exists."]},
            )
        book = Book.objects.create(
            isbn13=isbn13,
            title=title,
            subtitle=subtitle,
            slug=slug or _book_slug(title, isbn13),
            publisher=publisher,
            publication_date=publication_date,
            language=language.lower(),
            format=format,
            pages=pages,
            description=description,
            price=price,
            currency=currency or settings.SHOP_CURRENCY,
            stock=stock,
            is_active=is_active,
        )
        _book_authors_set(book, authors)
        book.categories.set(categories)
        book_search_refresh(book_ids=[book.pk])
    catalog_version_bump()
    return book


def book_update(*, book: Book, data: Mapping[str, Any]) -> Book:
    """Change the fields in ``data`` (any of ``BOOK_FIELDS``, ``isbn``, ``authors``,
    ``categories``); authors and categories, when given, replace the current ones."""
    unknown = set(data) - {*BOOK_FIELDS, "isbn", "authors", "categories"}
    if unknown:
        raise ValueError(f"unknown book fields: {sorted(unknown)}")
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book.pk)
        changed = []
        if "isbn" in data:
            isbn13 = isbn_normalize(data["isbn"])
            if isbn13 != book.isbn13:
                if Book.objects.filter(isbn13=isbn13).exclude(pk=book.pk).exists():
                    raise DuplicateIsbn(errors={"isbn13": ["A book with this ISBN already exists."]})
                book.isbn13 = isbn13
                changed.append("isbn13")
        for field in BOOK_FIELDS:
            if field in data:
                value = data[field]
                if field == "language":
                    value = value.lower()
                setattr(book, field, value)
                changed.append("publisher_id" if field == "publisher" else field)
        if changed:
            book.save(update_fields=[*changed, "updated_at"])
        if "authors" in data:
            _book_authors_set(book, data["authors"])
        if "categories" in data:
            book.categories.set(data["categories"])
        if "authors" in data or SEARCHED_FIELDS & set(data):
            book_search_refresh(book_ids=[book.pk])
    catalog_version_bump()
    return book


def book_delete(*, book: Book) -> bool:
    """Delete a book, unless a row that outlives it refers to it (an order line keeps the
    book it sold): then the book is only deactivated. Returns whether it was deleted.

    Rows deleted with the book (cart lines, author links) do not count.
    """
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book.pk)
        # Hidden relations count too (an order line points here with related_name="+").
        keeps = [
            relation
            for relation in Book._meta.get_fields(include_hidden=True)
            if isinstance(relation, ForeignObjectRel)
            and (relation.one_to_many or relation.one_to_one)
            and getattr(relation.on_delete, "__name__", "") != "CASCADE"
        ]
        referenced = any(
            relation.related_model._default_manager.filter(**{relation.field.name: book}).exists()
            for relation in keeps
            if relation.related_model is not None and not isinstance(relation.related_model, str)
        )
        deleted = False
        if not referenced:
            try:
                with transaction.atomic():
                    search_index_remove(book_ids=[book.pk])
                    book.delete()
                deleted = True
            except (ProtectedError, RestrictedError):
                deleted = False
        if not deleted:
            Book.objects.filter(pk=book.pk).update(is_active=False)
    catalog_version_bump()
    return deleted


def book_set_active(*, book_ids: Iterable[int], active: bool) -> int:
    """Activate or deactivate many books at once (the admin's bulk actions)."""
    with transaction.atomic():
        count = Book.objects.filter(pk__in=list(book_ids)).exclude(is_active=active).update(is_active=active)
    catalog_version_bump()
    return count


def book_admin_saved(*, book_ids: Iterable[int]) -> None:
    """After the admin saved books through its forms (fields, inline categories): refresh
    their search documents and invalidate cached catalogue reads."""
    book_search_refresh(book_ids=list(book_ids))
    catalog_version_bump()


# --- Ratings ---------------------------------------------------------------------------------


def book_rating_lock(*, book_id: int) -> Book:
    """Lock the book's row until the caller's transaction ends: the writers of its rating (the
    reviews service) take it first, so that they compute the rating one at a time and each
    sees the reviews the one before it committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("book_rating_lock() must run inside the transaction that writes the rating")
    try:
        return Book.objects.select_for_update().only("pk", "isbn13", "slug").get(pk=book_id)
    except Book.DoesNotExist as error:
        raise BookNotFound("No book matches the given ISBN, slug or id.") from error


def book_rating_set(*, book: Book, count: int, average: Decimal) -> None:
    """Store a book's rating (its published reviews' count and mean, two places), in the
    caller's transaction; only the cached reads of that book are retired."""
    Book.objects.filter(pk=book.pk).update(rating_count=count, rating_average=average)
    scope_versions_bump(book_cache_scopes(book=book))


def book_reads_retire(*, book_id: int) -> None:
    """Retire the cached reads of one book (its detail, its page) once the caller commits:
    for a change of what they show that is not the catalogue's (a review's helpful votes)."""
    book = Book.objects.only("pk", "isbn13", "slug").get(pk=book_id)
    scope_versions_bump(book_cache_scopes(book=book))


# --- Covers ----------------------------------------------------------------------------------


def _cover_max_bytes() -> int:
    return int(settings.CATALOG_COVER_MAX_BYTES)


def _thumbnail_widths() -> tuple[int, ...]:
    return tuple(settings.CATALOG_COVER_THUMBNAIL_WIDTHS)


def _cover_format(upload: UploadedFile) -> str:
    if upload.size is None or upload.size > _cover_max_bytes():
        limit = _cover_max_bytes() // 1024
        raise InvalidCover(
            f"The file is larger than {limit} KiB.",
            errors={"cover": [f"The file is larger than {limit} KiB."]},
        )
    try:
        upload.seek(0)
        with _header_only(), Image.open(upload) as image:
            image_format = image.format or ""
            _check_pixels(image.size)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidCover(
            "The file is not an image.", errors={"cover": ["Upload a JPEG, PNG or WebP image."]}
        ) from error
    finally:
        upload.seek(0)
    if image_format not in COVER_FORMATS:
        raise InvalidCover(
            f"{image_format} images are not accepted.",
            errors={"cover": ["Upload a JPEG, PNG or WebP image."]},
        )
    return image_format


@contextmanager
def _header_only() -> Iterator[None]:
    """Open images without Pillow's own bomb warning: their size is checked from the header
    (``_check_pixels``) before anything is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    limit = int(settings.CATALOG_COVER_MAX_PIXELS)
    if width * height > limit:
        message = (
            f"The image is {width} x {height} pixels; at most {limit // 1_000_000} million are accepted."
        )
        raise InvalidCover(message, errors={"cover": [message]})


def _cover_files_delete(names: list[str]) -> None:
    storage = default_storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # a leftover file is harmless; a failed request must not undo the write
            logger.warning("Could not delete the old cover file %s", name, exc_info=True)


def book_cover_set(*, book: Book, upload: UploadedFile) -> Book:
    """Store a new cover for ``book`` and have its thumbnails made after commit.

    Only JPEG, PNG and WebP images that Pillow reads, and no larger than
    ``CATALOG_COVER_MAX_BYTES``, are accepted. The previous cover and thumbnails are removed
    once the new one is committed.
    """
    from .tasks import book_cover_thumbnails_make as thumbnails_task

    image_format = _cover_format(upload)
    name = f"{book.isbn13}-{uuid.uuid4().hex[:8]}.{COVER_FORMATS[image_format]}"
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book.pk)
        old_files = [book.cover.name, *book.cover_thumbnails.values()] if book.cover else []
        book.cover.save(name, upload, save=False)
        book.cover_thumbnails = {}
        book.save(update_fields=["cover", "cover_thumbnails", "updated_at"])
        book_id = book.pk
        transaction.on_commit(lambda: thumbnails_task.delay(book_id))
        if old_files:
            transaction.on_commit(lambda: _cover_files_delete(old_files))
    catalog_version_bump()
    return book


def book_cover_thumbnails_make(*, book_id: int) -> dict[str, str]:
    """Make the thumbnails (``CATALOG_COVER_THUMBNAIL_WIDTHS``) of the book's current cover,
    as JPEG files stored next to it. Safe to run twice: existing thumbnails are kept, and a
    cover replaced meanwhile is left to its own task."""
    book = Book.objects.filter(pk=book_id).only("pk", "cover", "cover_thumbnails").first()
    if book is None or not book.cover:
        return {}
    cover_name = book.cover.name or ""
    storage = book.cover.storage
    stem = str(PurePosixPath(cover_name).with_suffix(""))
    with storage.open(cover_name, "rb") as source, _header_only(), Image.open(source) as original:
        try:
            _check_pixels(original.size)
        except InvalidCover:
            # Stored some other way than the upload (which refuses it): never decoded here.
            logger.warning("Cover %s of book %s has too many pixels: no thumbnails", cover_name, book_id)
            return {}
        original.load()
        image = original.convert("RGB")
    thumbnails: dict[str, str] = {}
    for width in _thumbnail_widths():
        name = f"{stem}-w{width}.jpg"
        if not storage.exists(name):
            copy = image.copy()
            copy.thumbnail((width, width * 4))
            buffer = io.BytesIO()
            copy.save(buffer, format="JPEG", quality=85, optimize=True)
            name = storage.save(name, ContentFile(buffer.getvalue()))
        thumbnails[str(width)] = name
    with transaction.atomic():
        Book.objects.filter(pk=book_id, cover=cover_name).update(cover_thumbnails=thumbnails)
    catalog_version_bump()
    return thumbnails


def book_cover_fetch(*, book_id: int, url: str) -> Book | None:
    """Fetch the cover an import gave by URL and set it as an upload would be (the same checks
    and thumbnails). A book gone, or one that has a cover already, is left alone; a URL or an
    answer the shop refuses is logged and dropped (``imports.covers`` says which)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .imports.covers import CoverRefused, cover_download

    book = Book.objects.filter(pk=book_id).first()
    if book is None or book.cover:
        return None
    try:
        content, name = cover_download(url)
        return book_cover_set(book=book, upload=SimpleUploadedFile(name, content))
    except (CoverRefused, InvalidCover) as error:
        logger.warning("cover of book %s not fetched from %s: %s", book_id, url, error)
        return None
