"""A field's value from its text: names, categories, language, format, cover address, numbers,
prices and their currency, dates. A value that does not parse is left out with a note."""

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from ...languages import ISO_639_1, ISO_639_2_TO_1
from ...models import Book, BookFormat

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


def _key(text: str) -> str:
    """``text`` without case, accents, spaces or punctuation: how headers and words are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))
