"""Reading an ONIX for Books feed into ``BookRecord``s and ``Reject``s, one per ``<Product>``.

ONIX 3.0 and 2.1, reference names or short tags, in whatever namespace the sender used (or
none): every element is matched on its local name, short tags translated to reference names by
``_SHORT_TAGS``. A 3.0 product keeps its data in blocks (``DescriptiveDetail``,
``PublishingDetail``, ``CollateralDetail``, ``ProductSupply``); a 2.1 product keeps the same
elements directly under ``<Product>``: each lookup tries the block and falls back on the product.

The file is streamed with ``lxml.etree.iterparse``; each product is cleared with the siblings
before it once read, so memory stays flat whatever the size of the feed. Entities are never
resolved, no DTD is loaded and nothing is fetched from the network: a DOCTYPE naming a remote DTD
is ignored and an external entity (XXE) stays an unexpanded reference, which the reader drops.
"""

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from lxml import etree

from ..isbn import InvalidIsbn
from ..languages import ISO_639_1, ISO_639_2_TO_1
from ..models import BookFormat
from .isbns import isbn_recover
from .records import BookRecord, ImportFileError, Reject

# Short tag -> reference name, from the ONIX for Books 3.0 and 2.1 specifications. Composites
# have the reference name in lower case as their short tag.
_SHORT_TAGS: dict[str, str] = {
    "a001": "RecordReference",
    "a002": "NotificationType",
    "b221": "ProductIDType",
    "b244": "IDValue",
    "b004": "ISBN",  # 2.1
    "b005": "EAN13",  # 2.1
    "b012": "ProductForm",
    "b333": "ProductFormDetail",
    "b202": "TitleType",
    "x409": "TitleElementLevel",
    "b203": "TitleText",
    "b030": "TitlePrefix",
    "b031": "TitleWithoutPrefix",
    "b029": "Subtitle",
    "b028": "DistinctiveTitle",  # 2.1
    "b034": "SequenceNumber",
    "b035": "ContributorRole",
    "b036": "PersonName",
    "b037": "PersonNameInverted",
    "b039": "NamesBeforeKey",
    "b247": "PrefixToKey",
    "b040": "KeyNames",
    "b047": "CorporateName",
    "b249": "UnnamedPersons",
    "b291": "PublishingRole",
    "b081": "PublisherName",
    "b079": "ImprintName",
    "x448": "PublishingDateRole",
    "b306": "Date",
    "j260": "DateFormat",
    "b003": "PublicationDate",  # 2.1
    "b253": "LanguageRole",
    "b252": "LanguageCode",
    "b059": "LanguageOfText",  # 2.1
    "b218": "ExtentType",
    "b219": "ExtentValue",
    "b220": "ExtentUnit",
    "b061": "NumberOfPages",  # 2.1
    "b067": "SubjectSchemeIdentifier",
    "b069": "SubjectCode",
    "b191": "MainSubjectSchemeIdentifier",  # 2.1
    "b064": "BASICMainSubject",  # 2.1
    "b065": "BICMainSubject",  # 2.1
    "x426": "TextType",
    "d102": "TextTypeCode",  # 2.1
    "d104": "Text",
    "x462": "PriceType",
    "j148": "PriceTypeCode",  # 2.1
    "j151": "PriceAmount",
    "j152": "CurrencyCode",
    "x449": "CountriesIncluded",
    "x450": "RegionsIncluded",
    "x451": "CountriesExcluded",
    "b251": "CountryCode",  # 2.1
    "j303": "Territory",  # 2.1: a text element, not the 3.0 composite
    "x470": "TaxType",
    "x471": "TaxRateCode",
    "x472": "TaxRatePercent",
    "x474": "TaxAmount",
    "j153": "TaxRateCode1",  # 2.1
    "j154": "TaxRatePercent1",  # 2.1
    "j396": "ProductAvailability",
    "j141": "AvailabilityCode",  # 2.1
    "j350": "OnHand",
    "m186": "DefaultCurrencyCode",
}
_COMPOSITES = (
    "ONIXMessage Header Product ProductIdentifier DescriptiveDetail TitleDetail TitleElement Title "
    "Contributor PublishingDetail Publisher Imprint PublishingDate Language Extent Subject "
    "MainSubject CollateralDetail TextContent OtherText ProductSupply Market SupplyDetail Price "
    "Tax Territory Stock"
)
_SHORT_TAGS.update({name.lower(): name for name in _COMPOSITES.split()})
_SHORT_TAGS["ONIXmessage"] = "ONIXMessage"

_PRODUCT_TAGS = ("{*}Product", "{*}product", "{*}Header", "{*}header")

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

# Code list 58: preferred first. Prices including tax are taken as they are; excluding tax, they
# are converted with their own tax rate.
_PRICE_TYPE_RANK = {"04": 0, "02": 1, "03": 2, "01": 3}
_PRICE_INCLUDES_TAX = {"04", "02"}
_CURRENCY_SIGNS = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₣": "CHF"}

_AVAILABILITY = {  # code list 65
    "01": "Cancelled",
    "09": "Not yet available, postponed indefinitely",
    "10": "Not yet available",
    "11": "Awaiting stock",
    "12": "Not yet available, will be POD",
    "20": "Available",
    "21": "In stock",
    "22": "To order",
    "23": "POD",
    "30": "Temporarily unavailable",
    "31": "Out of stock",
    "32": "Reprinting",
    "33": "Awaiting reissue",
    "34": "Temporarily withdrawn from sale",
    "40": "Not available (reason unspecified)",
    "41": "Not available, replaced by new product",
    "42": "Not available, other format available",
    "43": "No longer supplied by us",
    "44": "Apply direct",
    "45": "Not sold separately",
    "46": "Withdrawn from sale",
    "47": "Remaindered",
    "48": "Not available, replaced by POD",
    "49": "Recalled",
    "50": "Not sold as set",
    "51": "Not available, publisher indicates OP",
    "52": "Not available, publisher no longer sells product in this market",
    "97": "No recent update received",
    "98": "No longer receiving updates",
    "99": "Contact supplier",
}

_ISO_639_2 = ISO_639_2_TO_1

_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_CENT = Decimal("0.01")


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


# Element access, by reference name whatever the namespace or the tag style.


_NAME_CACHE: dict[object, str] = {}


def _name(element: etree._Element) -> str:
    tag = element.tag
    try:
        return _NAME_CACHE[tag]
    except KeyError:
        pass
    name = _SHORT_TAGS.get(local := tag.rpartition("}")[2], local) if isinstance(tag, str) else ""
    if len(_NAME_CACHE) < 10_000:  # the tags of a feed are few; a hostile one gets no cache
        _NAME_CACHE[tag] = name
    return name


class _Node:
    """An element whose child elements are indexed by reference name the first time they are
    looked up (one pass over the children that are read, none over those that are not); a
    child becomes a node of its own only when it is read as a composite."""

    __slots__ = ("_index", "_nodes", "element", "name")

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self.name = _name(element)
        self._index: dict[str, list[etree._Element]] | None = None
        self._nodes: dict[str, list[_Node]] | None = None

    @property
    def children(self) -> dict[str, list[etree._Element]]:
        index = self._index
        return _indexed(self) if index is None else index


def _indexed(node: _Node) -> dict[str, list[etree._Element]]:
    index: dict[str, list[etree._Element]] = {}
    if node.name != "Text":  # a text's children are XHTML, read as such
        for child in node.element:
            tag = child.tag
            if isinstance(tag, str):
                name = _NAME_CACHE.get(tag) or _name(child)
                found = index.get(name)
                if found is None:
                    index[name] = [child]
                else:
                    found.append(child)
    node._index = index
    return index


_NONE: list[_Node] = []  # read only


def _children(node: _Node | None, name: str) -> list[_Node]:
    """The children called ``name`` (the list is the node's own: read it, never change it)."""
    if node is None:
        return _NONE
    nodes = node._nodes
    if nodes is None:
        nodes = node._nodes = {}
    else:
        found = nodes.get(name)
        if found is not None:
            return found
    index = node._index
    if index is None:
        index = _indexed(node)
    elements = index.get(name)
    wrapped = nodes[name] = [_Node(element) for element in elements] if elements else _NONE
    return wrapped


def _child(node: _Node | None, name: str) -> _Node | None:
    found = _children(node, name)
    return found[0] if found else None


def _text(element: etree._Element | None) -> str:
    """The text of ``element`` and its descendants, without entity references (never expanded)
    or comments."""
    if element is None:
        return ""
    if not len(element):
        return element.text or ""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _node_text(node: _Node | None) -> str:
    return "" if node is None else _text(node.element)


def _value(node: _Node | None, name: str) -> str:
    """The cleaned text of the first child called ``name`` ("" when there is none). The most
    called function of a feed's reading, hence written out rather than composed."""
    if node is None:
        return ""
    index = node._index
    if index is None:
        index = _indexed(node)
    found = index.get(name)
    if not found:
        return ""
    element = found[0]
    text = _text(element) if len(element) else element.text
    return " ".join(text.split()) if text else ""


def _values(node: _Node | None, name: str) -> list[str]:
    return [value for child in _children(node, name) if (value := _clean(_node_text(child)))]


def _clean(value: str) -> str:
    """Whitespace of every kind (tabs, newlines, non-breaking spaces) collapsed to one space."""
    return " ".join(value.split())


def _block(product: _Node, name: str) -> _Node:
    """A 3.0 block of the product, or the product itself (2.1 has no blocks)."""
    block = _child(product, name)
    return product if block is None else block


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


def _description(collateral: _Node) -> str:
    """The description (3.0 text type 03, else 02; 2.1 01 or 03, else 02) as plain text."""
    texts: dict[str, _Node] = {}
    for content in _children(collateral, "TextContent"):  # 3.0, code list 153
        kind = {"03": "long", "02": "short"}.get(_value(content, "TextType"))
        if kind and (text := _child(content, "Text")) is not None:
            texts.setdefault(kind, text)
    for content in _children(collateral, "OtherText"):  # 2.1, code list 33
        kind = {"01": "long", "03": "long", "02": "short"}.get(_value(content, "TextTypeCode"))
        if kind and (text := _child(content, "Text")) is not None:
            texts.setdefault(kind, text)
    for kind in ("long", "short"):
        if kind in texts and (plain := _plain_text(texts[kind].element)):
            return plain
    return ""


def _plain_text(text: etree._Element) -> str:
    """HTML reduced to safe text: tags stripped (script and style with their content),
    entities unescaped, paragraph and line breaks kept. Markup escaped twice by the sender is
    stripped too: the result never holds a tag."""
    if len(text):  # XHTML sent as elements (3.0 textformat 05)
        parts: list[str] = []
        _tree_parts(text, parts, top=True)
        value = _assemble(parts)
    else:
        value = _html_to_text(_text(text))
    for _attempt in range(3):
        if not _MARKUP.search(value):
            return value
        value = _html_to_text(value)
    return _MARKUP.sub("", value)


_PARAGRAPH, _LINE = "\x00P", "\x00L"
_BLOCK_TAGS = {
    "p", "div", "ul", "ol", "dl", "table", "blockquote", "pre", "section", "article", "header",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
_LINE_TAGS = {"br", "li", "tr", "dt", "dd"}
_DROPPED_TAGS = {"script", "style", "head", "title", "noscript", "template", "iframe", "object", "svg"}


def _marker(tag: str) -> str:
    if tag in _BLOCK_TAGS:
        return _PARAGRAPH
    if tag in _LINE_TAGS:
        return _LINE
    return ""


def _tree_parts(element: etree._Element, parts: list[str], *, top: bool = False) -> None:
    """Text and break markers of (X)HTML elements, walking the tree (entities and comments
    left out)."""
    tag = etree.QName(element).localname.lower()
    if not top:
        if tag in _DROPPED_TAGS:
            return
        parts.append(_marker(tag))
    parts.append(element.text or "")
    for child in element:
        if isinstance(child.tag, str):
            _tree_parts(child, parts)
        parts.append(child.tail or "")
    if not top and _marker(tag) == _PARAGRAPH:
        parts.append(_PARAGRAPH)


def _html_to_text(value: str) -> str:
    """Text with markup goes through libxml2's HTML parser (no network, nothing fetched); text
    without keeps its own line breaks."""
    if not _MARKUP.search(value):
        return _plain_paragraphs(html.unescape(value))
    parser = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    root = etree.fromstring(value, parser)
    if root is None:
        return ""
    parts: list[str] = []
    _tree_parts(root, parts, top=True)
    return _assemble(parts)


def _plain_paragraphs(value: str) -> str:
    value = re.sub(r"\n[ \t\xa0]*\n\s*", _PARAGRAPH, value.replace("\r\n", "\n"))
    return _assemble([value.replace("\n", _LINE)])


def _assemble(parts: list[str]) -> str:
    paragraphs = []
    for paragraph in "".join(parts).split(_PARAGRAPH):
        lines = [_clean(line) for line in paragraph.split(_LINE)]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


# Prices and stock.


@dataclass(frozen=True)
class _PriceOffer:
    kind: str
    amount: str
    territory_rank: int  # 0: the shop's country named, 1: no territory or the world
    taxes: tuple[tuple[str, str], ...]  # (rate percent, tax amount) of each tax block


def _price_and_stock(
    product: _Node, options: _Options, notes: list[str]
) -> tuple[Decimal | None, int | None]:
    offers: list[_PriceOffer] = []
    other_currencies: set[str] = set()
    stock: int | None = None
    availability: list[str] = []
    for supply_detail, market_territories in _supply_details(product):
        for price in _children(supply_detail, "Price"):
            offer_currency = (_value(price, "CurrencyCode") or options.default_currency).upper()
            kind = _value(price, "PriceType") or _value(price, "PriceTypeCode")
            if offer_currency != options.currency:
                if offer_currency:
                    other_currencies.add(offer_currency)
                continue
            if kind not in _PRICE_TYPE_RANK:
                continue
            if _has_territory(price):
                territory = _territory_rank(price, options.country)
            else:
                territory = _market_rank(market_territories, options.country)
            if territory is None:
                continue
            offers.append(
                _PriceOffer(kind, _value(price, "PriceAmount"), territory, _taxes(price)),
            )
        code = _value(supply_detail, "ProductAvailability")
        if code:
            availability.append(f"{code} ({_AVAILABILITY.get(code, 'unknown code')})")
        elif legacy := _value(supply_detail, "AvailabilityCode"):  # 2.1, code list 54
            availability.append(f"{legacy} (ONIX 2.1 availability code)")
        if stock is None:
            on_hand = [_int(_value(s, "OnHand")) for s in _children(supply_detail, "Stock")]
            counts = [count for count in on_hand if count is not None]
            if counts:
                stock = max(0, sum(counts))  # a negative count is copies owed, not stock
    for entry in dict.fromkeys(availability):
        notes.append(f"Supply availability {entry}.")
    return _choose_price(offers, options, other_currencies, notes), stock


def _supply_details(product: _Node) -> Iterator[tuple[_Node, list[_Node]]]:
    for supply in _children(product, "ProductSupply"):  # 3.0
        territories = [t for market in _children(supply, "Market") for t in _children(market, "Territory")]
        for detail in _children(supply, "SupplyDetail"):
            yield detail, territories
    for detail in _children(product, "SupplyDetail"):  # 2.1
        yield detail, []


def _has_territory(price: _Node) -> bool:
    return "Territory" in price.children or "CountryCode" in price.children


def _territory_rank(price: _Node, country: str) -> int | None:
    """0 when the price names the shop's country, 1 when it covers the world (without excluding
    the country), None when it is for somewhere else."""
    ranks: list[int | None] = []
    for territory in _children(price, "Territory"):
        if territory.children:  # 3.0 composite
            ranks.append(_composite_territory_rank(territory, country))
        else:  # 2.1 text: countries or regions separated by spaces
            ranks.append(_codes_rank(_node_text(territory).upper().split(), [], country))
    countries = [code.upper() for value in _values(price, "CountryCode") for code in value.split()]
    if countries:
        ranks.append(_codes_rank(countries, [], country))
    found = [rank for rank in ranks if rank is not None]
    return min(found) if found else None


def _market_rank(territories: list[_Node], country: str) -> int | None:
    if not territories:
        return 1
    ranks = [_composite_territory_rank(territory, country) for territory in territories]
    found = [rank for rank in ranks if rank is not None]
    return min(found) if found else None


def _composite_territory_rank(territory: _Node, country: str) -> int | None:
    included = [code for value in _values(territory, "CountriesIncluded") for code in value.upper().split()]
    regions = [code for value in _values(territory, "RegionsIncluded") for code in value.upper().split()]
    excluded = [code for value in _values(territory, "CountriesExcluded") for code in value.upper().split()]
    if not included and not regions:
        # Only exclusions: everywhere but the countries named.
        return None if country in excluded else 1
    return _codes_rank(included + regions, excluded, country)


def _codes_rank(codes: list[str], excluded: list[str], country: str) -> int | None:
    if country in excluded:
        return None
    if country in codes:
        return 0
    if "WORLD" in codes or "ROW" in codes:
        return 1
    return None


def _taxes(price: _Node) -> tuple[tuple[str, str], ...]:
    taxes = [(_value(tax, "TaxRatePercent"), _value(tax, "TaxAmount")) for tax in _children(price, "Tax")]
    if rate := _value(price, "TaxRatePercent1"):  # 2.1
        taxes.append((rate, ""))
    return tuple(taxes)


def _choose_price(
    offers: list[_PriceOffer], options: _Options, other_currencies: set[str], notes: list[str]
) -> Decimal | None:
    """Fixed price including tax (04), then recommended including tax (02), then those excluding
    tax (03, 01) converted with their own tax rate; the shop's country before no territory."""
    offers.sort(key=lambda offer: (_PRICE_TYPE_RANK[offer.kind], offer.territory_rank))
    for offer in offers:
        amount, problem = _amount(offer.amount, options.currency)
        if amount is not None and offer.kind not in _PRICE_INCLUDES_TAX:
            amount, problem = _add_tax(amount, offer.taxes)
            if amount is not None:
                notes.append(f"Price type {offer.kind} excludes tax: converted with its tax block.")
        if amount is not None:
            return amount
        notes.append(f"Price type {offer.kind} ({offer.amount!r} {options.currency}) refused: {problem}")
    where = f"{options.country} or no territory"
    if offers:
        notes.append(f"No usable price in {options.currency}: not for sale until staff set one.")
    elif other_currencies:
        found = ", ".join(sorted(other_currencies))
        notes.append(
            f"No price in {options.currency} for {where} (only {found}): not for sale until staff set one."
        )
    else:
        notes.append(f"No price in {options.currency} for {where}: not for sale until staff set one.")
    return None


def _amount(raw: str, currency: str) -> tuple[Decimal | None, str]:
    value = raw.replace(" ", "").replace("\xa0", "")
    for sign, sign_currency in _CURRENCY_SIGNS.items():
        if sign in value:
            if sign_currency != currency:
                return None, f"the amount carries the {sign} sign of another currency."
            value = value.replace(sign, "")
    if value.upper().endswith(currency) or value.upper().startswith(currency):
        value = value.upper().replace(currency, "")
    if "," in value and "." in value:  # "1.234,50" or "1,234.50": the last one is decimal
        thousands = "." if value.rfind(",") > value.rfind(".") else ","
        value = value.replace(thousands, "")
    value = value.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", value):
        return None, "not an amount."
    amount = Decimal(value)
    if amount <= 0:
        return None, "not a selling price (zero or less)."
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP), ""


def _add_tax(amount: Decimal, taxes: tuple[tuple[str, str], ...]) -> tuple[Decimal | None, str]:
    if not taxes:
        return None, "a price excluding tax with no tax block to convert it."
    total = amount
    for rate, tax_amount in taxes:
        if rate:
            try:
                percent = Decimal(rate.replace(",", "."))
            except InvalidOperation:
                return None, f"tax rate {rate!r} is not a number."
            if percent < 0 or percent >= 100:
                return None, f"tax rate {rate}% is not a rate."
            total += amount * percent / 100
        elif tax_amount:
            try:
                total += Decimal(tax_amount.replace(",", "."))
            except InvalidOperation:
                return None, f"tax amount {tax_amount!r} is not a number."
        else:
            return None, "its tax block gives neither a rate nor an amount."
    return total.quantize(_CENT, rounding=ROUND_HALF_UP), ""


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d{1,9}", value) else None
