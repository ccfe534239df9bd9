"""The API's JSON parser: DRF's, refusing strings that are not text and bodies nested too deep.

JSON may escape a lone UTF-16 surrogate (``"\\ud800"``): valid syntax, but no character, so
it cannot be encoded as UTF-8. Accepted, it travels into the data and into error messages
that quote the input, and the response (or the database) fails to encode it: a 500. Refused
here, it is a 400 ``parse_error`` like any other unreadable body, before a view runs.
"""

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _holds_lone_surrogate(data: Any) -> bool:
    # Iterative: a body nested as deep as the JSON decoder allows must not exhaust the stack.
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # "[[[[…" nested deeper than the decoder's recursion: unreadable, not a server error.
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if _holds_lone_surrogate(data):
            raise ParseError(
                "JSON parse error - a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), "
                "which is not a character."
            )
        return data
