"""Reading a CSV export (a library system's, Goodreads', a marketplace's, a spreadsheet's) into
``BookRecord``s and ``Reject``s, one per data row, for ``manage.py import_books``.

**Two streamed passes, so that nothing is imported from a file that is not whole.**
``read_books_csv`` reads the whole file once before returning: it decodes every byte in the
given encoding and parses every row with the csv module, keeping nothing but a row count. A
byte that is not valid in the encoding, at line 3 or at line 90,000, raises
``ImportFileError`` naming the line and the byte offset before the caller has seen a single
record; so does a quoted field left open to the end of the file. Only then does iterating over
the returned ``CsvBooks`` read the file a second time, row by row, and build the records. Memory
stays flat (one row at a time) at the cost of reading the file twice, which is disk-bound and
cheap beside the database writes; the first pass also gives the row count a progress bar needs.
The file must not change between the passes (a decode error in the second one still raises
``ImportFileError``, never a traceback).

**Columns** are matched by header name, ignoring case, accents, spaces and punctuation
(``ISBN-13``, ``isbn_13`` and ``Isbn 13`` are one name), through the English and French aliases
of ``ALIASES``. Where a file has several columns for one field the earlier alias is preferred and
the others are read when it is empty on a row (``isbn13`` before ``isbn``; ``publication_date``
or ``year`` before ``original_publication_year``). ``mapping`` (``--map column=field``) gives a
column a field, or ``ignore``; a field named by ``mapping`` is read from the mapped columns only.
A header that matches nothing is listed once in ``CsvBooks.unknown_columns`` and ignored.

**What is refused, what is kept without a value.** A row becomes a ``Reject`` when the book
cannot be identified or named: no ISBN, an ISBN that ``isbn_recover`` cannot prove (or two ISBN
columns that prove different books), no title, a title too long to store, or more values than the
header has columns (a value holding the delimiter unquoted: every value after it is shifted, so
none can be trusted). Everything else is optional: a bad price (not a number, negative, zero, in
another currency, ambiguous), stock, page count, year, language, format or cover address leaves
that one field empty and adds a note to ``BookRecord.notes``; the book is still imported (a book
without a usable price is imported and not for sale). Notes read ``"<field>: <what>"`` and quote
the value as written, e.g. ``"price: '$12.00' is in USD, not EUR: not kept"``.

**Authors** are separated by ``;``, ``/`` or ``|``, or else by commas. "Last, First" names are
rare in the exports this reads (Goodreads writes ``J.K. Rowling / Mary GrandPré``), so a comma
separates authors, except that a part made of initials (``Tolkien, J. R. R.``) or a suffix
(``King, Jr.``) belongs to the name before it, and a field that is exactly two single words
(``Rowling, Joanne``) is one name; where ``;``, ``/`` or ``|`` separate the names, a name with one
comma is "Last, First". A "Last, First" name is turned to "First Last", with a note.

Blank lines and rows whose every value is empty are skipped: they are not data rows.
"""

import codecs
import contextlib
import csv
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from ..isbn import InvalidIsbn
from ..languages import ISO_639_1, ISO_639_2_TO_1
from ..models import Author, Book, BookFormat, Publisher
from .isbns import isbn_recover
from .records import BookRecord, ImportFileError, Reject

if TYPE_CHECKING:
    from _csv import Reader

FIELDS = (
    "isbn",
    "title",
    "subtitle",
    "authors",
    "publisher",
    "publication_date",
    "language",
    "price",
    "currency",
    "stock",
    "categories",
    "description",
    "cover_url",
    "pages",
    "format",
)
IGNORE = "ignore"

# Header names, as ``_key`` writes them, in order of preference within a field.
ALIASES: dict[str, tuple[str, ...]] = {
    "isbn": ("isbn13", "ean13", "gtin13", "isbn", "ean", "gtin", "codeean", "isbn10"),
    "title": ("title", "titre", "booktitle", "titredulivre"),
    "subtitle": ("subtitle", "soustitre"),
    "authors": ("authors", "author", "auteurs", "auteur"),
    "publisher": ("publisher", "editeur", "editeurs", "maisondedition"),
    "publication_date": (
        "publicationdate",
        "datedepublication",
        "datedeparution",
        "dateparution",
        "parution",
        "published",
        "publicationyear",
        "yearpublished",
        "year",
        "annee",
        "anneedepublication",
        "anneedeparution",
        "date",
        "originalpublicationyear",
    ),
    "language": ("language", "languagecode", "langue", "lang", "codelangue"),
    "price": ("price", "prix", "prixttc", "prixpublic", "prixdevente", "retailprice", "listprice"),
    "currency": ("currency", "devise", "monnaie"),
    "stock": ("stock", "quantity", "quantite", "qty", "qte"),
    "categories": ("categories", "category", "categorie", "genres", "genre"),
    "description": ("description", "resume", "summary", "synopsis", "quatriemedecouverture"),
    "cover_url": ("coverurl", "imageurl", "cover", "couverture", "urlcouverture", "image", "urlimage"),
    "pages": ("pages", "numpages", "nombredepages", "numberofpages", "nbpages", "nbdepages", "pagecount"),
    "format": ("format", "binding", "reliure", "support"),
}
_ALIAS_RANK: dict[str, tuple[str, int]] = {
    alias: (field, rank) for field, aliases in ALIASES.items() for rank, alias in enumerate(aliases)
}

_FORMATS: dict[str, str] = {
    **dict.fromkeys(
        (
            *("paperback", "broche", "poche", "livredepoche", "softcover", "softback"),
            *("massmarketpaperback", "tradepaperback", "paper", "pb"),
        ),
        BookFormat.PAPERBACK.value,
    ),
    **dict.fromkeys(
        ("hardcover", "hardback", "hardbound", "relie", "cartonne", "hc", "librarybinding"),
        BookFormat.HARDCOVER.value,
    ),
    **dict.fromkeys(
        ("ebook", "numerique", "livrenumerique", "kindle", "kindleedition", "epub", "digital"),
        BookFormat.EBOOK.value,
    ),
    **dict.fromkeys(
        ("audiobook", "audio", "livreaudio", "audiocd", "audibleaudio", "mp3cd", "audiocassette"),
        BookFormat.AUDIOBOOK.value,
    ),
}

_ISO_639_2_TO_1 = ISO_639_2_TO_1
_RETIRED_639_1 = {"iw": "he", "in": "id", "ji": "yi"}
_LANGUAGE_NAMES: dict[str, str] = {
    "english": "en", "anglais": "en", "french": "fr", "francais": "fr", "german": "de",
    "allemand": "de", "deutsch": "de", "spanish": "es", "espagnol": "es", "espanol": "es",
    "italian": "it", "italien": "it", "italiano": "it", "portuguese": "pt", "portugais": "pt",
    "dutch": "nl", "neerlandais": "nl", "russian": "ru", "russe": "ru", "japanese": "ja",
    "japonais": "ja", "chinese": "zh", "chinois": "zh", "arabic": "ar", "arabe": "ar",
    "latin": "la", "breton": "br", "catalan": "ca", "basque": "eu", "occitan": "oc",
}  # fmt: skip

_CURRENCY_SIGNS = (  # longest first: "US$" before "$"
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("AU$", "AUD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("$", "USD"),
    ("¥", "JPY"),
    ("₹", "INR"),
)
_CURRENCY_CODES = frozenset(
    re.findall(
        r"[A-Z]{3}",
        "EUR USD GBP CHF CAD AUD NZD JPY CNY HKD SGD INR KRW SEK NOK DKK ISK PLN CZK HUF RON BGN "
        "TRY RUB UAH ILS ZAR BRL MXN ARS MAD TND DZD XOF XAF",
    )
)
_CURRENCY_WORDS = {"euro": "EUR", "euros": "EUR", "eur": "EUR", "dollar": "USD", "dollars": "USD"}
_CURRENCY_IN_TEXT = re.compile(r"(?i)(?<![a-z])([a-z]{3,7})(?![a-z])")
_PRICE_LIMIT = Decimal(10) ** (Book._meta.get_field("price").max_digits - 2)
_CENT = Decimal("0.01")
_INT_LIMIT = 2**31 - 1  # PostgreSQL integer
_PAGES_LIMIT = 100_000

_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "janvier", "janv"),
            ("february", "feb", "fevrier", "fevr", "fev"),
            ("march", "mar", "mars"),
            ("april", "apr", "avril", "avr"),
            ("may", "mai"),
            ("june", "jun", "juin"),
            ("july", "jul", "juillet", "juil"),
            ("august", "aug", "aout"),
            ("september", "sep", "sept", "septembre"),
            ("october", "oct", "octobre"),
            ("november", "nov", "novembre"),
            ("december", "dec", "decembre"),
        ),
        start=1,
    )
    for name in names
}

_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "fils", "pere"}
# Zero-width characters and soft hyphens vanish; control characters (those str.split does not
# already take for whitespace) become spaces.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f]")
_WHOLE_NUMBER = re.compile(r"([+-]?\d+)(?:[.,]0{1,2})?")
_PAGES_SUFFIX = re.compile(r"(?i)(?:p|pp|pages?)\.?$")
_YEAR = re.compile(r"(-?\d+)(?:[.,]0+)?")
_EMPTY_GUARD = re.compile(r"\s*(?:=?\"\s*\"|')?\s*")


def _key(text: str) -> str:
    """``text`` without case, accents, spaces or punctuation: how headers and words are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))


def _clean(text: str) -> str:
    """One line of text: every run of whitespace (tabs, line breaks, non-breaking and thin spaces)
    one space, invisible characters removed, composed accents."""
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def _clean_paragraphs(text: str) -> str:
    """Like ``_clean``, keeping line breaks, and at most one blank line between paragraphs."""
    lines = [_clean(line) for line in re.split(r"\r\n|\r|\n|\u2028|\u2029", text)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _quoted(value: str) -> str:
    return repr(value.strip())


# --- The header -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    header: list[str]
    by_field: dict[str, tuple[int, ...]]  # column indexes, preferred first
    unknown: list[str]


def _field_named(name: str) -> str | None:
    """The field ``name`` (a field or one of its aliases) stands for; ``IGNORE`` for ignore."""
    key = _key(name)
    if key in ("", IGNORE):
        return IGNORE
    for field in FIELDS:
        if key == _key(field):
            return field
    return _ALIAS_RANK[key][0] if key in _ALIAS_RANK else None


def _columns(header: list[str], mapping: Mapping[str, str]) -> _Columns:
    names = [_clean(name) for name in header]
    keys = [_key(name) for name in names]
    mapped: dict[int, str] = {}
    for column, target in mapping.items():
        field = _field_named(target)
        if field is None:
            raise ImportFileError(
                f"--map {column}={target}: {target!r} is not a field (the fields: {', '.join(FIELDS)}, "
                f"or {IGNORE})."
            )
        indexes = [index for index, key in enumerate(keys) if key == _key(column) and key]
        if not indexes:
            raise ImportFileError(
                f"--map {column}={target}: the header has no column {column!r} "
                f"(its columns: {', '.join(name for name in names if name)})."
            )
        for index in indexes:
            mapped[index] = field
    exclusive = set(mapped.values())
    ranked: dict[str, list[tuple[int, int]]] = {}
    unknown: list[str] = []
    for index, key in enumerate(keys):
        if index in mapped:
            if mapped[index] != IGNORE:
                ranked.setdefault(mapped[index], []).append((-1, index))
            continue
        field, rank = _ALIAS_RANK.get(key, ("", 0))
        if field and field not in exclusive:
            ranked.setdefault(field, []).append((rank, index))
        elif names[index]:
            unknown.append(names[index])
    by_field = {field: tuple(index for _, index in sorted(found)) for field, found in ranked.items()}
    for required in ("isbn", "title"):
        if required not in by_field:
            raise ImportFileError(
                f"The header has no {required} column (its columns: "
                f"{', '.join(name for name in names if name)}); name one with --map COLUMN={required}."
            )
    return _Columns(header=names, by_field=by_field, unknown=unknown)


def _sniff_delimiter(line: str) -> str:
    """The delimiter the header line uses most, quoted names aside; a comma when it has none."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _delimiter_option(value: str) -> str:
    named = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ImportFileError(f"{value!r} cannot be a delimiter: give one character (, ; tab).")
    return delimiter


# --- Encoding ---------------------------------------------------------------------------


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(f"{encoding!r} is not an encoding Python knows.") from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else name


def _decode_error(path: Path, codec: str, encoding: str) -> ImportFileError:
    """Where ``path`` stops being valid ``codec``: the line (counted from 1) and byte offset
    (counted from 0, the first byte of the file being byte 0)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    fed = 0
    lines = 1
    pending_cr = False

    def count(text: str) -> None:
        nonlocal lines, pending_cr
        if not text:
            return
        if pending_cr and text.startswith("\n"):
            text = text[1:]
        lines += len(re.findall(r"\r\n|\r|\n", text))
        pending_cr = text.endswith("\r")

    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        while chunk := handle.read(1 << 20):
            fed += len(chunk)
            try:
                count(decoder.decode(chunk))
            except UnicodeDecodeError as error:
                # error.object is what the decoder held plus this chunk (or its tail, past a
                # BOM): either way it ends where the chunk ends.
                in_chunk = error.start - (len(error.object) - len(chunk))
                offset = fed - len(chunk) + in_chunk
                with contextlib.suppress(UnicodeDecodeError):
                    count(decoder.decode(chunk[: max(in_chunk, 0)]))
                bad = error.object[error.start : error.end].hex(" ")
                hint = ""
                if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    hint = " The file starts with a UTF-16 byte order mark: try --encoding utf-16."
                elif codec == "utf-8-sig":
                    hint = " Give the file's encoding with --encoding (latin-1, cp1252…)."
                return ImportFileError(
                    f"{path.name}: line {lines}, byte offset {offset}: not valid {encoding} "
                    f"({error.reason}: 0x{bad}).{hint} Nothing was imported."
                )
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            return ImportFileError(
                f"{path.name}: line {lines}, byte offset {fed - len(error.object) + error.start}: "
                f"the file ends in the middle of a {encoding} character. Nothing was imported."
            )
    return ImportFileError(f"{path.name}: not valid {encoding}. Nothing was imported.")


# --- The rows ---------------------------------------------------------------------------


class _Lines:
    """The file's lines for the csv module, keeping those of the row being read (to look again at
    a row that ran to the end of the file)."""

    def __init__(self, lines: Iterable[str], *, keep: bool) -> None:
        self._lines = iter(lines)
        self._keep = keep
        self.current: list[str] = []  # the consumer empties it after each row

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if self._keep:
            self.current.append(line)
        return line


def _is_blank(row: list[str]) -> bool:
    return not any(value.strip() for value in row)


@dataclass(frozen=True)
class _Opened:
    handle: TextIO
    rows: "Reader"
    lines: _Lines
    skipped: int  # the blank lines before the header, which the csv module did not see

    @property
    def line(self) -> int:
        """The line of the file the last row read ends on."""
        return self.rows.line_num + self.skipped


def _open(path: Path, codec: str, delimiter: str | None, *, keep_lines: bool = False) -> tuple[_Opened, str]:
    """The file opened, before its header (blank lines skipped); and the delimiter."""
    handle = path.open(encoding=codec, errors="strict", newline="")
    skipped = 0
    try:
        first = handle.readline()
        while first and not first.strip():  # blank lines before the header
            skipped += 1
            first = handle.readline()
        if not first:
            raise ImportFileError(f"{path.name} is empty: no header, no rows.")
    except BaseException:
        handle.close()
        raise
    chosen = delimiter or _sniff_delimiter(first)
    lines = _Lines(itertools.chain([first], handle), keep=keep_lines)
    rows = csv.reader(lines, delimiter=chosen, skipinitialspace=True)
    return _Opened(handle=handle, rows=rows, lines=lines, skipped=skipped), chosen


def read_books_csv(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    mapping: Mapping[str, str] = {},
    currency: str,
) -> "CsvBooks":
    """The books of the CSV file at ``path``, read lazily; the whole file is checked first.

    Raises ``ImportFileError`` (nothing having been read) when the file cannot be opened, is empty,
    is not valid in ``encoding`` (the message names the line and the byte offset), ends inside a
    quoted field, has a field longer than the csv module takes, has no ISBN or title column, or
    when ``mapping``, ``delimiter`` or ``encoding`` name something that does not exist.
    ``currency`` is the shop's (``settings.SHOP_CURRENCY``): only a price in it becomes a price.
    """
    codec = _codec(encoding)
    chosen = _delimiter_option(delimiter) if delimiter else None
    try:
        with path.open("rb") as raw:
            if codec != "utf-8-sig" and raw.read(3) == codecs.BOM_UTF8 and not codec.startswith("utf"):
                raise ImportFileError(
                    f"{path.name} starts with a UTF-8 byte order mark: it is UTF-8, not {encoding} "
                    "(leave out --encoding)."
                )
        opened, chosen = _open(path, codec, chosen, keep_lines=True)
        with opened.handle:
            try:
                header = next(opened.rows)
                columns = _columns(header, mapping)
                count = 0
                last: list[str] = []
                for row in opened.rows:
                    if not _is_blank(row):
                        count += 1
                    last, opened.lines.current = opened.lines.current, []
                _check_last_row(last, chosen, opened.line, path)
            except csv.Error as error:
                raise ImportFileError(
                    f"{path.name}: line {opened.line}: {error} (a quote left open?). Nothing was imported."
                ) from None
    except UnicodeDecodeError:
        raise _decode_error(path, codec, encoding) from None
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror or error}.") from None
    return CsvBooks(
        path=path,
        codec=codec,
        encoding=encoding,
        delimiter=chosen,
        columns=columns,
        currency=currency,
        row_count=count,
    )


def _check_last_row(lines: list[str], delimiter: str, end: int, path: Path) -> None:
    """The csv module takes a quoted field left open to the end of the file as one long value:
    read the last row again, strictly, to tell."""
    if len(lines) < 2:
        return
    try:
        for _ in csv.reader(lines, delimiter=delimiter, skipinitialspace=True, strict=True):
            pass
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            start = end - len(lines) + 1
            raise ImportFileError(
                f"{path.name}: line {start}: a quoted field opened on this line is never closed "
                "(the file ends inside it). Nothing was imported."
            ) from None


class CsvBooks:
    """The rows of a checked CSV file: iterating reads the file (again) and yields one
    ``BookRecord`` or ``Reject`` per data row, in file order, with ``source="line N"`` where N is
    the line the row starts on.

    ``unknown_columns``: the header names matched to no field (to list once); ``columns``: for
    each field read, the header names it is read from, preferred first; ``row_count``: how many
    data rows there are (blank rows aside); ``delimiter``, ``encoding``, ``path``: as read."""

    def __init__(
        self,
        *,
        path: Path,
        codec: str,
        encoding: str,
        delimiter: str,
        columns: _Columns,
        currency: str,
        row_count: int,
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.row_count = row_count
        self.unknown_columns: list[str] = list(columns.unknown)
        self.columns: dict[str, list[str]] = {
            field: [columns.header[index] for index in indexes] for field, indexes in columns.by_field.items()
        }
        self._codec = codec
        self._row = _RowReader(columns, currency=currency.upper())

    def __len__(self) -> int:
        return self.row_count

    def __iter__(self) -> Iterator[BookRecord | Reject]:
        try:
            opened, _ = _open(self.path, self._codec, self.delimiter)
            with opened.handle:
                next(opened.rows)
                end = opened.line
                for row in opened.rows:
                    start, end = end + 1, opened.line
                    if not _is_blank(row):
                        yield self._row.read(row, start)
        except UnicodeDecodeError:
            raise _decode_error(self.path, self._codec, self.encoding) from None
        except csv.Error as error:
            raise ImportFileError(f"{self.path.name}: {error}.") from None


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


# --- Values -----------------------------------------------------------------------------


def _empty_guard(raw: str) -> bool:
    """An empty cell, or only a spreadsheet's text guard around nothing (``=""``, ``'``)."""
    return _EMPTY_GUARD.fullmatch(raw) is not None


def _is_initials(part: str) -> bool:
    tokens = [token for token in re.split(r"[\s.\-]+", part) if token]
    return bool(tokens) and all(len(token) == 1 and token.isupper() for token in tokens)


def _is_suffix(part: str) -> bool:
    return _key(part) in _SUFFIXES


def _last_first(name: str, notes: list[str]) -> str:
    """ "Tolkien, J. R. R." → "J. R. R. Tolkien"; other names as they are."""
    last, comma, first = name.partition(",")
    last, first = last.strip(), first.strip()
    if not comma or "," in first or not last or not first or _is_suffix(first):
        return name
    turned = f"{first} {last}"
    notes.append(f"authors: {name!r} read as {turned!r}")
    return turned


def _author_names(raw: str, notes: list[str]) -> list[str]:
    text = _clean(raw)
    if not text:
        return []
    if re.search(r"[;/|]", text):
        parts = [part.strip(" ,") for part in re.split(r"[;/|]", text)]
        return [_last_first(part, notes) for part in parts if part]
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) == 2 and all(" " not in part for part in parts) and not _is_suffix(parts[1]):
        return [_last_first(", ".join(parts), notes)]
    names: list[str] = []
    for part in parts:
        if names and _is_suffix(part):
            names[-1] = f"{names[-1]}, {part}"
        elif names and _is_initials(part) and "," not in names[-1] and " " not in names[-1]:
            names[-1] = _last_first(f"{names[-1]}, {part}", notes)
        else:
            names.append(part)
    return names


def _categories(raw: str) -> tuple[str, ...]:
    paths: list[str] = []
    for piece in re.split(r"[|;]", raw):
        segments = [segment for segment in (_clean(part) for part in piece.split(">")) if segment]
        path = " > ".join(segments)
        if path and path not in paths:
            paths.append(path)
    return tuple(paths)


def _language(raw: str, notes: list[str]) -> str:
    text = _clean(raw)
    if not text:
        return ""
    code = re.split(r"[-_\s]", text)[0].lower()
    if len(code) == 2 and code in ISO_639_1:
        return code
    if code in _RETIRED_639_1:
        return _RETIRED_639_1[code]
    if code in _ISO_639_2_TO_1:
        return _ISO_639_2_TO_1[code]
    if _key(text) in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[_key(text)]
    notes.append(f"language: {text!r} has no ISO 639-1 code: not kept")
    return ""


def _format(raw: str, notes: list[str]) -> str:
    text = _clean(raw)
    if not text:
        return ""
    found = _FORMATS.get(_key(text))
    if found is None:
        notes.append(f"format: {text!r} is not a format the shop knows: not kept")
        return ""
    return found


def _cover_url(raw: str, notes: list[str]) -> str:
    text = _clean(raw)
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        notes.append(f"cover_url: {text!r} is not an http(s) address: not kept")
        return ""
    return text


def _whole_number(field: str, raw: str, notes: list[str], *, limit: int, pages: bool = False) -> int | None:
    """A count (stock, pages); ``pages`` also reads ``352 p.`` and takes 0 as unknown."""
    text = "".join(_clean(raw).split())
    if not text:
        return None
    if pages:
        text = _PAGES_SUFFIX.sub("", text)
    match = _WHOLE_NUMBER.fullmatch(text)
    if match is None:
        notes.append(f"{field}: {_quoted(raw)} is not a whole number: not kept")
        return None
    number = int(match.group(1))
    if number < 0:
        notes.append(f"{field}: {_quoted(raw)} is negative: not kept")
        return None
    if number > limit:
        notes.append(f"{field}: {_quoted(raw)} is too large: not kept")
        return None
    if pages and number == 0:
        return None
    return number


def _currency_code(text: str) -> str | None:
    """The ISO 4217 code a currency column gives (``EUR``, ``€``, ``euros``)."""
    value = text.strip()
    for sign, code in _CURRENCY_SIGNS:
        if value == sign:
            return code
    if _key(value) in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[_key(value)]
    if re.fullmatch(r"[A-Za-z]{3}", value):
        return value.upper()
    return None


def _currency_written(text: str) -> str | None:
    """The currency a price says it is in, by its sign or code (``$12``, ``12 GBP``, ``12 €``)."""
    for sign, code in _CURRENCY_SIGNS:
        if sign in text:
            return code
    for word in _CURRENCY_IN_TEXT.findall(text):
        if found := _currency_in_word(word):
            return found
    return None


def _currency_in_word(word: str) -> str | None:
    if word.upper() in _CURRENCY_CODES:
        return word.upper()
    return _CURRENCY_WORDS.get(word.lower())


def _amount(text: str) -> Decimal:
    """The number in a price: ``12,90 €``, ``1 234,50``, ``1,234.50``, ``EUR 12.9``."""
    number = text
    for sign, _ in _CURRENCY_SIGNS:
        number = number.replace(sign, "")
    number = _CURRENCY_IN_TEXT.sub(
        lambda match: "" if _currency_in_word(match.group(1)) else "?",
        number,
    )
    number = re.sub(r"[\s']", "", number).replace("\u2212", "-")
    if not re.fullmatch(r"[+-]?(?:\d[\d.,]*)", number) or number.endswith((".", ",")):
        raise ValueError("is not a number")
    if "," in number and "." in number:
        decimal_mark = "," if number.rfind(",") > number.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        whole, _, fraction = number.partition(decimal_mark)
        if decimal_mark in fraction or not re.fullmatch(
            rf"[+-]?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})*", whole
        ):
            raise ValueError("is not a number")
        number = whole.replace(thousands, "") + "." + fraction
    elif number.count(",") > 1 or number.count(".") > 1:
        mark = "," if "," in number else "."
        if not re.fullmatch(rf"[+-]?\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+", number):
            raise ValueError("is not a number")
        number = number.replace(mark, "")
    elif "," in number:
        if re.fullmatch(r"[+-]?[1-9]\d{0,2},\d{3}", number):
            raise ValueError("is ambiguous (a decimal comma, or a thousands separator?)")
        number = number.replace(",", ".")
    try:
        return Decimal(number)
    except InvalidOperation:
        raise ValueError("is not a number") from None


def _year(value: int, raw: str, notes: list[str]) -> date | None:
    if value == 0:
        return None
    if value < 0:
        notes.append(f"publication_date: {raw!r} is before the common era: not kept")
        return None
    if value > 9999:
        notes.append(f"publication_date: {raw!r} is not a year: not kept")
        return None
    return date(value, 1, 1)


def _publication_date(raw: str, notes: list[str]) -> date | None:
    """A year (``2008``, ``2008.0``, ``c1998``, ``[1998]``; ``0`` is unknown, a negative year is
    before the common era and not kept) is its 1 January; a full date is ISO (``2008-03-01``),
    year first (``2008/03/01``) or day first (``01/03/2008``, ``1er mars 2008``, with a note when
    only month first makes sense: ``12/31/2008``)."""
    text = _clean(raw).replace("\u2212", "-")
    if not text:
        return None
    try:
        if match := _YEAR.fullmatch(text):
            return _year(int(match.group(1)), text, notes)
        if match := re.fullmatch(r"[\[(]?(?:c|ca|©|copyright|cop\.)?\s*(\d{3,4})\s*[.?\])]*", text, re.I):
            return _year(int(match.group(1)), text, notes)
        if re.fullmatch(r"(?i)\d+\s*(?:bc|bce|b\.c\.|av\.?\s*j\.?-?c\.?|avant\s+j\.?-?c\.?)", text):
            notes.append(f"publication_date: {text!r} is before the common era: not kept")
            return None
        if match := re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ][\d:.+\-Z ]*)?", text):
            year, month, day = match.groups()
            return date(int(year), int(month), int(day or 1))
        if match := re.fullmatch(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})", text):
            return date(*(int(part) for part in match.groups()))
        if match := re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:\s[\d:]+)?", text):
            day, month, year = (int(part) for part in match.groups())
            if month > 12 and day <= 12:
                notes.append(f"publication_date: {text!r} read month first")
                day, month = month, day
            return date(year, month, day)
        if match := re.fullmatch(r"(\d{1,2})[/.\-](\d{4})", text):
            return date(int(match.group(2)), int(match.group(1)), 1)
        if match := re.fullmatch(r"(\d{1,2})(?:er|st|nd|rd|th)?\s+([^\W\d]+)\.?,?\s+(\d{4})", text):
            day_text, month_name, year_text = match.groups()
            if _key(month_name) in _MONTHS:
                return date(int(year_text), _MONTHS[_key(month_name)], int(day_text))
        if match := re.fullmatch(r"([^\W\d]+)\.?\s+(\d{1,2})(?:er|st|nd|rd|th)?,?\s+(\d{4})", text):
            month_name, day_text, year_text = match.groups()
            if _key(month_name) in _MONTHS:
                return date(int(year_text), _MONTHS[_key(month_name)], int(day_text))
        if match := re.fullmatch(r"([^\W\d]+)\.?,?\s+(\d{4})", text):
            month_name, year_text = match.groups()
            if _key(month_name) in _MONTHS:
                return date(int(year_text), _MONTHS[_key(month_name)], 1)
    except ValueError:
        pass  # a month 13, a 30 February
    notes.append(f"publication_date: {text!r} is not a date: not kept")
    return None
