"""Reading a feed: one ``BookRecord`` or ``Reject`` per ``<Product>``, in file order.

A 3.0 product keeps its data in blocks (``DescriptiveDetail``, ``PublishingDetail``,
``CollateralDetail``, ``ProductSupply``); a 2.1 product keeps the same elements directly under
``<Product>``: each lookup tries the block and falls back on the product.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from lxml import etree

from ...isbn import InvalidIsbn
from ...languages import ISO_639_1, ISO_639_2_TO_1
from ...models import BookFormat
from ..isbns import isbn_recover
from ..records import BookRecord, ImportFileError, Reject
from .elements import (
    _PRODUCT_TAGS,
    _block,
    _child,
    _children,
    _clean,
    _int,
    _name,
    _Node,
    _node_text,
    _value,
    _values,
)
from .prices import _price_and_stock
from .texts import _description

_GTIN_ISBN_PREFIXES = ("978", "979")
_ISMN_PREFIX = "9790"  # a GTIN-13 of printed music, not a book
_ID_LABELS = {"15": "ISBN-13", "03": "GTIN-13", "02": "ISBN-10"}

_SUBJECT_SCHEMES = {"10": "BISAC", "12": "BIC", "29": "CLIL", **{str(n): "THEMA" for n in range(93, 100)}}

_HARDCOVER_FORMS = {"BB"}
_PAPERBACK_FORMS = {"BC"}
_EBOOK_FORMS = {"EA", "EB", "EC", "ED", "DG"}  # DG: 2.1 "electronic book text"
# Main content, content, total numbered, absolute pages, pages of the print counterpart.
_PAGE_EXTENT_TYPES = ("00", "11", "05", "07", "08")
_EXTENT_UNIT_PAGES = "03"

_ISO_639_2 = ISO_639_2_TO_1


def read_onix(
    path: Path, *, currency: str, country: str = "FR", subject_map: Mapping[str, str] = {}
) -> Iterator[BookRecord | Reject]:
    """One ``BookRecord`` or ``Reject`` per product of the ONIX file at ``path``, in file order.

    Only a price in ``currency`` for ``country`` (or for no territory) becomes the book's price;
    a book without one is read with ``price=None`` (not for sale) and a note, never with a price
    made up from another currency. ``subject_map`` turns ``"SCHEME:CODE"`` keys (``THEMA:FBA``,
    ``BISAC:FIC000000``, ``CLIL:3435``, ``BIC:FA``) into category paths.

    XML that is not well-formed raises ``ImportFileError`` naming the line and column, after the
    products before the fault have been yielded.
    """
    shop_currency = currency.strip().upper()
    options = _Options(
        currency=shop_currency,
        country=country.strip().upper(),
        subject_map={_subject_key(key): value for key, value in subject_map.items()},
    )
    try:
        stream: IO[bytes] = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    with stream:
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=_PRODUCT_TAGS,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
        index = 0
        checked_root = False
        try:
            for _event, element in context:
                if not checked_root:
                    _check_root(element.getroottree().getroot(), path)
                    checked_root = True
                if _name(element) == "Header":
                    default = _value(_Node(element), "DefaultCurrencyCode").upper()
                    options = _Options(options.currency, options.country, options.subject_map, default)
                else:
                    index += 1
                    yield _read_product(_Node(element), index=index, options=options)
                # The product is read: free it and whatever came before it.
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            raise ImportFileError(
                f"{path.name}: not well-formed XML at line {line}, column {column}: {exc.msg}"
            ) from exc
        if not checked_root:
            _check_root(context.root, path)


@dataclass(frozen=True)
class _Options:
    currency: str
    country: str
    subject_map: Mapping[str, str]
    default_currency: str = ""


def _check_root(root: etree._Element | None, path: Path) -> None:
    if root is None or _name(root) != "ONIXMessage":
        found = _name(root) if root is not None else "none"
        raise ImportFileError(f"{path.name}: not an ONIX for Books message (root element <{found}>).")


# One product.


def _read_product(product: _Node, *, index: int, options: _Options) -> BookRecord | Reject:
    reference = _value(product, "RecordReference")
    source = f"record {reference}" if reference else f"product {index} (line {product.element.sourceline})"
    notes: list[str] = []
    if any(True for _ in product.element.iter(etree.Entity)):
        notes.append("Entity references were not expanded (no DTD, no external entities): left out.")

    isbn13 = _isbn(product, source, notes)
    if isinstance(isbn13, Reject):
        return isbn13

    if _value(product, "NotificationType") == "05":
        notes.append("Delete notice (notification type 05): the book is withdrawn.")
        return BookRecord(isbn13=isbn13, source=source, withdrawn=True, notes=tuple(notes))

    descriptive = _block(product, "DescriptiveDetail")
    publishing = _block(product, "PublishingDetail")
    title, subtitle = _title(product, descriptive)
    authors, contributors = _contributors(descriptive)
    categories, subjects = _subjects(descriptive, options.subject_map)
    price, stock = _price_and_stock(product, options, notes)
    return BookRecord(
        isbn13=isbn13,
        source=source,
        title=title,
        subtitle=subtitle,
        authors=authors,
        contributors=contributors,
        publisher=_publisher(product, publishing, notes),
        publication_date=_publication_date(product, publishing, notes),
        language=_language(descriptive, notes),
        price=price,
        stock=stock,
        categories=categories,
        subjects=subjects,
        description=_description(_block(product, "CollateralDetail")),
        pages=_pages(descriptive),
        format=_format(descriptive, notes),
        notes=tuple(notes),
    )


def _isbn(product: _Node, source: str, notes: list[str]) -> str | Reject:
    """The ISBN-13 from the identifiers in order of trust: ISBN-13, a GTIN-13 that is an ISBN,
    then ISBN-10. A product with none that a check digit proves is refused."""
    identifiers: list[tuple[str, str]] = []
    for identifier in _children(product, "ProductIdentifier"):
        kind, value = _value(identifier, "ProductIDType"), _value(identifier, "IDValue")
        if kind in _ID_LABELS and value:
            identifiers.append((kind, value))
    for value in _values(product, "ISBN"):  # 2.1's direct elements
        identifiers.append(("02" if len(value.replace("-", "")) == 10 else "15", value))
    for value in _values(product, "EAN13"):
        identifiers.append(("03", value))
    identifiers.sort(key=lambda pair: ("15", "03", "02").index(pair[0]))

    problems: list[str] = []
    for kind, value in identifiers:
        label = _ID_LABELS[kind]
        if kind == "03":
            digits = re.sub(r"\D", "", value)
            if not digits.startswith(_GTIN_ISBN_PREFIXES) or digits.startswith(_ISMN_PREFIX):
                problems.append(f"the GTIN-13 {value} is not an ISBN (an ISBN starts with 978 or 979)")
                continue
        try:
            isbn13 = isbn_recover(value)
        except InvalidIsbn as exc:
            problems.append(f"{label} {value}: {str(exc).rstrip('.')}")
            continue
        if problems:
            notes.append("Identifier skipped: " + "; ".join(problems) + ".")
        return isbn13
    if not identifiers:
        reason = "No ISBN: the product has no ISBN-13, GTIN-13 or ISBN-10 identifier."
    else:
        reason = "No usable ISBN: " + "; ".join(problems) + "."
    return Reject(
        source=source,
        field="ProductIdentifier",
        reason=reason,
        value=" ".join(value for _kind, value in identifiers),
    )


def _title(product: _Node, descriptive: _Node) -> tuple[str, str]:
    """Title with its prefix and subtitle: the distinctive title (type 01) at product level."""
    elements: list[_Node] = []
    details = sorted(_children(descriptive, "TitleDetail"), key=lambda d: _value(d, "TitleType") != "01")
    for detail in details:  # 3.0
        elements.extend(
            sorted(
                _children(detail, "TitleElement"),
                key=lambda e: _value(e, "TitleElementLevel") not in ("", "01"),
            )
        )
    # 2.1: <Title> composites, then the product's own title elements.
    elements.extend(sorted(_children(product, "Title"), key=lambda t: _value(t, "TitleType") != "01"))
    elements.append(product)
    for element in elements:
        title = _title_text(element)
        if title:
            return title, _value(element, "Subtitle")
    return "", ""


def _title_text(element: _Node) -> str:
    prefix, rest = _value(element, "TitlePrefix"), _value(element, "TitleWithoutPrefix")
    if rest:
        if not prefix:
            return rest
        # "L'" + "Étranger" is "L'Étranger"; "The" + "Hobbit" is "The Hobbit".
        return f"{prefix}{rest}" if prefix.endswith(("'", "\u2019")) else f"{prefix} {rest}"
    return _value(element, "TitleText") or _value(element, "DistinctiveTitle")


def _contributors(
    descriptive: _Node,
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Authors (role A01) in sequence order; everyone else kept with the first role code."""
    entries: list[tuple[bool, int, int, str, list[str]]] = []
    for position, contributor in enumerate(_children(descriptive, "Contributor")):
        name = _person_name(contributor)
        if not name:
            continue
        sequence = _int(_value(contributor, "SequenceNumber"))
        roles = [role.upper() for role in _values(contributor, "ContributorRole")]
        entries.append((sequence is None, sequence or 0, position, name, roles))
    entries.sort(key=lambda entry: entry[:3])
    authors: list[str] = []
    others: list[tuple[str, str]] = []
    for *_order, name, roles in entries:
        if "A01" in roles:
            if name not in authors:
                authors.append(name)
        else:
            other = (name, roles[0] if roles else "")
            if other not in others:
                others.append(other)
    return tuple(authors), tuple(others)


def _person_name(contributor: _Node) -> str:
    if name := _value(contributor, "PersonName"):
        return name
    parts = [_value(contributor, tag) for tag in ("NamesBeforeKey", "PrefixToKey", "KeyNames")]
    if parts[-1]:
        return " ".join(part for part in parts if part)
    if inverted := _value(contributor, "PersonNameInverted"):
        key, _comma, given = inverted.partition(",")
        return f"{given.strip()} {key.strip()}".strip()
    return _value(contributor, "CorporateName")


def _publisher(product: _Node, publishing: _Node, notes: list[str]) -> str:
    """The publisher (role 01 first); the imprint goes into a note, or stands in for a missing
    publisher."""
    publishers = sorted(_children(publishing, "Publisher"), key=lambda p: _value(p, "PublishingRole") != "01")
    names = [name for publisher in publishers if (name := _value(publisher, "PublisherName"))]
    name = names[0] if names else _value(product, "PublisherName")
    imprint = next(
        (value for imprint in _children(publishing, "Imprint") if (value := _value(imprint, "ImprintName"))),
        "",
    )
    if not name and imprint:
        notes.append(f"No publisher given: the imprint {imprint} stands for it.")
        return imprint
    if imprint and imprint != name:
        notes.append(f"Imprint: {imprint}.")
    return name


def _publication_date(product: _Node, publishing: _Node, notes: list[str]) -> date | None:
    for publishing_date in _children(publishing, "PublishingDate"):  # 3.0
        if _value(publishing_date, "PublishingDateRole") == "01":
            date_element = _child(publishing_date, "Date")
            attribute = date_element.element.get("dateformat", "") if date_element is not None else ""
            date_format = attribute or _value(publishing_date, "DateFormat")
            return _date(_node_text(date_element), date_format, notes)
    if raw := _value(product, "PublicationDate"):  # 2.1
        return _date(raw, "", notes)
    return None


def _date(raw: str, date_format: str, notes: list[str]) -> date | None:
    """A date in ONIX format 00 (YYYYMMDD), 01 (YYYYMM) or 05 (YYYY); a month or a year alone
    is read as its first day, with a note."""
    digits = re.sub(r"[\s\-/.]", "", raw)
    lengths = {"00": 8, "01": 6, "05": 4}
    length = lengths.get(date_format.strip(), len(digits))
    if not digits.isdigit() or len(digits) != length or length not in (4, 6, 8):
        notes.append(f"Publication date {raw.strip()!r} not read (formats YYYYMMDD, YYYYMM, YYYY).")
        return None
    year, month, day = int(digits[:4]), int(digits[4:6] or 1), int(digits[6:8] or 1)
    if year == 0:
        return None
    try:
        value = date(year, month, day)
    except ValueError:
        notes.append(f"Publication date {raw.strip()!r} is not a date.")
        return None
    if length < 8:
        notes.append(f"Publication date given as {digits} only: read as {value.isoformat()}.")
    return value


def _language(descriptive: _Node, notes: list[str]) -> str:
    codes = [
        _value(language, "LanguageCode")
        for language in _children(descriptive, "Language")
        if _value(language, "LanguageRole") in ("01", "")
    ]
    codes += _values(descriptive, "LanguageOfText")  # 2.1
    for code in codes:
        lowered = code.lower()
        if lowered in ISO_639_1:
            return lowered
        if lowered in _ISO_639_2:
            return _ISO_639_2[lowered]
        notes.append(f"Language {code} has no ISO 639-1 code: left out.")
    return ""


def _pages(descriptive: _Node) -> int | None:
    by_type: dict[str, int] = {}
    for extent in _children(descriptive, "Extent"):
        kind, unit = _value(extent, "ExtentType"), _value(extent, "ExtentUnit")
        value = _int(_value(extent, "ExtentValue"))
        if unit in ("", _EXTENT_UNIT_PAGES) and value and value > 0:
            by_type.setdefault(kind, value)
    for kind in _PAGE_EXTENT_TYPES:
        if kind in by_type:
            return by_type[kind]
    pages = _int(_value(descriptive, "NumberOfPages"))  # 2.1
    return pages if pages and pages > 0 else None


def _format(descriptive: _Node, notes: list[str]) -> str:
    form = _value(descriptive, "ProductForm").upper()
    details = [detail.upper() for detail in _values(descriptive, "ProductFormDetail")]
    if form in _HARDCOVER_FORMS:
        return BookFormat.HARDCOVER.value
    if form in _PAPERBACK_FORMS:
        return BookFormat.PAPERBACK.value
    if form.startswith("A"):  # audio, on a carrier or downloadable (AJ, AN, AO, AC…)
        return BookFormat.AUDIOBOOK.value
    if form in _EBOOK_FORMS:
        # A digital product whose file format is audio (ProductFormDetail A1xx) is an audiobook.
        if any(detail.startswith("A1") for detail in details):
            return BookFormat.AUDIOBOOK.value
        return BookFormat.EBOOK.value
    if form:
        notes.append(f"Product form {form} is none of the shop's formats: format left empty.")
    return ""


def _subject_key(key: str) -> str:
    scheme, _colon, code = key.partition(":")
    return f"{scheme.strip().upper()}:{code.strip().upper()}"


def _subjects(descriptive: _Node, subject_map: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """BISAC, BIC, CLIL and Thema codes: the categories the map gives, or the codes kept."""
    codes: list[tuple[str, str]] = []
    for subject in _children(descriptive, "Subject"):
        codes.append((_value(subject, "SubjectSchemeIdentifier"), _value(subject, "SubjectCode")))
    for subject in _children(descriptive, "MainSubject"):  # 2.1
        codes.append((_value(subject, "MainSubjectSchemeIdentifier"), _value(subject, "SubjectCode")))
    codes += [("10", code) for code in _values(descriptive, "BASICMainSubject")]
    codes += [("12", code) for code in _values(descriptive, "BICMainSubject")]
    categories: list[str] = []
    subjects: list[str] = []
    for scheme_id, code in codes:
        scheme = _SUBJECT_SCHEMES.get(scheme_id)
        if scheme is None or not code:
            continue
        key = f"{scheme}:{code.upper()}"
        path = subject_map.get(key)
        if path:
            category = " > ".join(part for part in (_clean(p) for p in path.split(">")) if part)
            if category and category not in categories:
                categories.append(category)
        elif key not in subjects:
            subjects.append(key)
    return tuple(categories), tuple(subjects)
