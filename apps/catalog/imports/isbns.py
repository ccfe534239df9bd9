"""Recovering ISBNs from what spreadsheets and exports make of them, and only what a check digit
proves: ``isbn_recover`` returns the ISBN-13 or raises ``InvalidIsbn`` with the reason."""

import re
from decimal import Decimal, InvalidOperation

from ..isbn import InvalidIsbn, isbn_normalize

_GUARDS = re.compile(r'^(?:="(.*)"|"(.*)"|\'(.*))$')
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")
_PLACEHOLDER_BODIES = {"0" * 9, "1" * 9, "9" * 9, "123456789"}


def isbn_recover(raw: str) -> str:
    """The ISBN-13 that ``raw`` stands for: hyphens and spaces, ``ISBN`` prefixes, an ISBN-10
    (with its ``X``), an ISBN-10 whose leading zero a spreadsheet dropped, ``9780747532699.0``,
    a text guard (``="…"``, a leading apostrophe) are recovered when the check digit agrees.
    Scientific notation is recovered only when every digit survived it; a placeholder number
    (all zeros, ``1234567890``…) is refused even when its check digit happens to agree."""
    value = str(raw).strip()
    if len(value) == 13 and value.isascii() and value.isdigit():  # the usual case, and the fast one
        if value[3:12] in _PLACEHOLDER_BODIES or len(set(value)) == 1:
            raise InvalidIsbn("A placeholder, not an ISBN.")
        return isbn_normalize(value)
    guard = _GUARDS.match(value)
    if guard:
        value = next(group for group in guard.groups() if group is not None).strip()
    if not value:
        raise InvalidIsbn("No ISBN.")
    if _SCIENTIFIC.match(value):
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise InvalidIsbn("Not a number an ISBN could be read from.") from None
        mantissa = re.split(r"[eE]", value)[0]
        if len(re.sub(r"\D", "", mantissa)) != 13 or number != number.to_integral_value():
            raise InvalidIsbn("Scientific notation lost digits of this ISBN: it cannot be recovered.")
        value = str(int(number))
    if re.fullmatch(r"\d+\.0+", value):
        value = value.split(".")[0]
    compact = re.sub(r"[\s\-\u2010\u2011\u2013.]", "", value).upper().removeprefix("ISBN").lstrip(":")
    if re.fullmatch(r"\d{8,9}[\dX]", compact) and len(compact) < 10:
        compact = compact.rjust(10, "0")  # the leading zeros a spreadsheet dropped
    digits = compact[3:12] if len(compact) == 13 else compact[:9]
    if digits in _PLACEHOLDER_BODIES or len(set(compact.rstrip("X"))) == 1:
        raise InvalidIsbn("A placeholder, not an ISBN.")
    return isbn_normalize(compact)
