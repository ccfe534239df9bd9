"""A feed's elements by reference name, whatever tags and namespace the sender used.

Every element is matched on its local name, a short tag translated to its reference name by
``_SHORT_TAGS`` (ONIX for Books 3.0 and 2.1). ``_Node`` indexes an element's children by that
name the first time one is looked up; ``_value`` is the cleaned text of the first child of a
name, ``_children`` the children of a name as nodes.
"""

import re

from lxml import etree

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


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if re.fullmatch(r"-?\d{1,9}", value) else None
