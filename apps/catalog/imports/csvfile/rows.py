"""One data row into a ``BookRecord`` or a ``Reject``."""

from decimal import ROUND_HALF_UP, Decimal

from ...isbn import InvalidIsbn
from ...models import Author, Book, Publisher
from ..isbns import isbn_recover
from ..records import BookRecord, Reject
from .columns import _Columns
from .values import (
    _CENT,
    _INT_LIMIT,
    _PAGES_LIMIT,
    _PRICE_LIMIT,
    _amount,
    _author_names,
    _categories,
    _clean,
    _clean_paragraphs,
    _cover_url,
    _currency_code,
    _currency_written,
    _empty_guard,
    _format,
    _language,
    _publication_date,
    _quoted,
    _whole_number,
)


class _RowReader:
    def __init__(self, columns: _Columns, *, currency: str) -> None:
        self._columns = columns
        self._width = len(columns.header)
        self._currency = currency
        self._title_limit = Book._meta.get_field("title").max_length
        self._subtitle_limit = Book._meta.get_field("subtitle").max_length
        self._author_limit = Author._meta.get_field("name").max_length
        self._publisher_limit = Publisher._meta.get_field("name").max_length

    def _values(self, row: list[str], field: str) -> list[tuple[str, str]]:
        """(header name, value) of the field's columns that are not empty on this row."""
        found = []
        for index in self._columns.by_field.get(field, ()):
            if index < len(row) and row[index].strip():
                found.append((self._columns.header[index], row[index]))
        return found

    def _value(self, row: list[str], field: str) -> str:
        values = self._values(row, field)
        return values[0][1] if values else ""

    def read(self, row: list[str], line: int) -> BookRecord | Reject:
        source = f"line {line}"
        if len(row) > self._width and not _is_blank(row[self._width :]):
            return Reject(
                source=source,
                field="row",
                reason=(
                    f"{len(row)} values for {self._width} columns: a value holds the delimiter "
                    "without quotes, the values after it are shifted."
                ),
                value=_clean(" | ".join(row))[:200],
            )
        notes: list[str] = []
        isbn = self._isbn(row, source, notes)
        if isinstance(isbn, Reject):
            return isbn
        title = _clean(self._value(row, "title"))
        if not title:
            return Reject(source=source, field="title", reason="No title.")
        if self._title_limit and len(title) > self._title_limit:
            return Reject(
                source=source,
                field="title",
                reason=f"Longer than {self._title_limit} characters.",
                value=title,
            )
        return BookRecord(
            isbn13=isbn,
            source=source,
            title=title,
            subtitle=self._limited("subtitle", self._value(row, "subtitle"), self._subtitle_limit, notes),
            authors=self._authors(self._value(row, "authors"), notes),
            publisher=self._limited("publisher", self._value(row, "publisher"), self._publisher_limit, notes),
            publication_date=_publication_date(self._value(row, "publication_date"), notes),
            language=_language(self._value(row, "language"), notes),
            price=self._price(row, notes),
            stock=_whole_number("stock", self._value(row, "stock"), notes, limit=_INT_LIMIT),
            categories=_categories(self._value(row, "categories")),
            description=_clean_paragraphs(self._value(row, "description")),
            cover_url=_cover_url(self._value(row, "cover_url"), notes),
            pages=_whole_number("pages", self._value(row, "pages"), notes, limit=_PAGES_LIMIT, pages=True),
            format=_format(self._value(row, "format"), notes),
            notes=tuple(notes),
        )

    def _isbn(self, row: list[str], source: str, notes: list[str]) -> str | Reject:
        candidates = [(column, raw) for column, raw in self._values(row, "isbn") if not _empty_guard(raw)]
        if not candidates:
            return Reject(source=source, field="isbn", reason="No ISBN.", value=self._value(row, "isbn"))
        found: dict[str, str] = {}  # ISBN-13 → the column it was read from
        refused: list[tuple[str, str, str]] = []
        for column, raw in candidates:
            try:
                found.setdefault(isbn_recover(raw), column)
            except InvalidIsbn as error:
                refused.append((column, raw, str(error)))
        if not found:
            _, raw, reason = refused[0]
            return Reject(source=source, field="isbn", reason=reason, value=raw.strip())
        if len(found) > 1:
            return Reject(
                source=source,
                field="isbn",
                reason="The ISBN columns name different books: "
                + ", ".join(f"{column} {isbn}" for isbn, column in found.items())
                + ".",
                value=" / ".join(raw.strip() for _, raw in candidates),
            )
        isbn13, column = next(iter(found.items()))
        for other, raw, reason in refused:
            why = reason.rstrip(".")
            notes.append(f"isbn: {other} {_quoted(raw)} not used ({why}): the ISBN is read from {column}")
        return isbn13

    def _limited(self, field: str, raw: str, limit: int | None, notes: list[str]) -> str:
        text = _clean(raw)
        if limit and len(text) > limit:
            notes.append(f"{field}: longer than {limit} characters: not kept")
            return ""
        return text

    def _authors(self, raw: str, notes: list[str]) -> tuple[str, ...]:
        names: list[str] = []
        for name in _author_names(raw, notes):
            if self._author_limit and len(name) > self._author_limit:
                notes.append(f"authors: a name longer than {self._author_limit} characters: not kept")
            elif name.casefold() not in (known.casefold() for known in names):
                names.append(name)
        return tuple(names)

    def _price(self, row: list[str], notes: list[str]) -> Decimal | None:
        raw = self._value(row, "price")
        text = _clean(raw)
        if not text:
            return None
        written = _currency_written(text)
        column_value = _clean(self._value(row, "currency"))
        column = _currency_code(column_value) if column_value else None
        if column_value and column is None:
            notes.append(f"price: the currency {column_value!r} is not known: not kept")
            return None
        if written and column and written != column:
            notes.append(f"price: {_quoted(raw)} is in {written} but the currency is {column}: not kept")
            return None
        in_currency = written or column or self._currency
        if in_currency != self._currency:
            notes.append(f"price: {_quoted(raw)} is in {in_currency}, not {self._currency}: not kept")
            return None
        try:
            amount = _amount(text)
        except ValueError as error:
            notes.append(f"price: {_quoted(raw)} {error}: not kept")
            return None
        if amount < 0:
            notes.append(f"price: {_quoted(raw)} is negative: not kept")
            return None
        if amount == 0:
            notes.append(f"price: {_quoted(raw)} is zero: not kept")
            return None
        price = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
        if price >= _PRICE_LIMIT:
            notes.append(f"price: {_quoted(raw)} is too large: not kept")
            return None
        if price != amount:
            notes.append(f"price: {_quoted(raw)} rounded to {price}")
        return price


def _is_blank(row: list[str]) -> bool:
    return not any(value.strip() for value in row)
