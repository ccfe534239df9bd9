"""ISBN parsing: the catalogue stores ISBN-13; an ISBN-10 given on input is converted."""

import re

_SEPARATORS = re.compile("[\\s\\-\u2010\u2011\u2013]")


class InvalidIsbn(ValueError):
    pass


def _isbn13_check_digit(first12: str) -> str:
    total = sum(map(int, first12[0::2])) + 3 * sum(map(int, first12[1::2]))
    return str((10 - total % 10) % 10)


def _isbn10_is_valid(value: str) -> bool:
    if not re.fullmatch(r"\d{9}[\dX]", value):
        return False
    total = sum((10 - index) * (10 if char == "X" else int(char)) for index, char in enumerate(value))
    return total % 11 == 0


def isbn_normalize(value: str) -> str:
    """The ISBN-13 of ``value`` (ISBN-13 or ISBN-10, hyphens and spaces allowed).

    Raises ``InvalidIsbn`` when the length, the characters or the check digit are wrong.
    """
    compact = _SEPARATORS.sub("", str(value)).upper()
    if compact.startswith("ISBN"):
        compact = compact[4:].lstrip(":")
    if not compact.isascii():
        # \d, isdigit() and int() also take Arabic-Indic or full-width digits, which would be
        # stored as an ISBN no one can look up.
        raise InvalidIsbn("An ISBN is written with the digits 0-9 (and X for an ISBN-10).")
    if len(compact) == 13 and compact.isdigit():
        if compact[:3] not in {"978", "979"}:
            raise InvalidIsbn("An ISBN-13 starts with 978 or 979.")
        if _isbn13_check_digit(compact[:12]) != compact[12]:
            raise InvalidIsbn("The check digit of this ISBN-13 is wrong.")
        return compact
    if len(compact) == 10:
        if not _isbn10_is_valid(compact):
            raise InvalidIsbn("The check digit of this ISBN-10 is wrong.")
        first12 = "978" + compact[:9]
        return first12 + _isbn13_check_digit(first12)
    raise InvalidIsbn("An ISBN has 13 digits (or 10 characters for an ISBN-10).")


def isbn_parse(value: str) -> str | None:
    """The ISBN-13 of ``value`` when it is a valid ISBN, else ``None`` (for search queries)."""
    try:
        return isbn_normalize(value)
    except InvalidIsbn:
        return None
