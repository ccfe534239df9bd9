"""The file: its encoding checked whole, its delimiter sniffed, its rows read twice (a check,
then the records)."""

import codecs
import contextlib
import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..records import BookRecord, ImportFileError, Reject
from .columns import _Columns, _columns
from .rows import _is_blank, _RowReader

if TYPE_CHECKING:
    from _csv import Reader


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
