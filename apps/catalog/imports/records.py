"""What a reader makes of a row or an ONIX product, before anything is written."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class BookRecord:
    """A book as a file describes it. ``None`` (or empty) means "the file does not say": an
    update leaves that field as it is, a creation takes the default. ``price`` is ``None`` when
    the file gives no usable price in the shop's currency: the book is then not for sale."""

    isbn13: str
    source: str  # "line 12", "record 9780000000002": where the reports point
    title: str = ""
    subtitle: str = ""
    authors: tuple[str, ...] = ()  # the book's authors, in their order
    contributors: tuple[tuple[str, str], ...] = ()  # others, (name, role code), kept for display
    publisher: str = ""
    publication_date: date | None = None
    language: str = ""  # ISO 639-1
    price: Decimal | None = None
    stock: int | None = None
    categories: tuple[str, ...] = ()  # "Parent > Child" paths
    subjects: tuple[str, ...] = ()  # scheme:code of subjects no mapping turned into a category
    description: str = ""
    cover_url: str = ""
    pages: int | None = None
    format: str = ""  # a BookFormat value
    withdrawn: bool = False  # an ONIX delete notice, or a file that says so
    notes: tuple[str, ...] = field(default=())  # what the reader noticed but did not refuse


@dataclass(frozen=True)
class Reject:
    """A row or product refused, with where and why (the output and ``--report``)."""

    source: str
    field: str
    reason: str
    value: str = ""


class ImportFileError(Exception):
    """The file cannot be read at all (an encoding error, XML that is not well-formed): the
    message names the line (and byte or column) at fault."""
