"""A product's description as safe plain text: XHTML or escaped HTML reduced to paragraphs."""

import html
import re

from lxml import etree

from .elements import _child, _children, _clean, _Node, _text, _value

_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


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
