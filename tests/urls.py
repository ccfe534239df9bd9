"""The routes the project serves, read from the URL resolver (for tests that must cover them all)."""

import re
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def readable(route: str) -> str:
    """``^orders/(?P<number>LB-…)/cancel/$`` → ``orders/{number}/cancel/``; ``<int:pk>`` → ``{pk}``."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


def routes(patterns: list | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``(route, view callback)`` below ``patterns`` (the root URLconf's by default), the
    route readable and its parameters in braces."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield readable(prefix + str(pattern.pattern)), pattern.callback
