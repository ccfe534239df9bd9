"""The forms of a page, read as a browser would submit them (for HTTP clients without a browser)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)

    def data(self, **values: str) -> dict[str, str]:
        """What submitting the form sends: its fields as the page fills them, then ``values``."""
        return {**self.fields, **values}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        if self._form is None or "name" not in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"radio", "checkbox"}:
                self._form.radios.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    self._form.fields[name] = a.get("value", "on")
            elif kind == "submit":
                self._form.buttons.setdefault(name, []).append(a.get("value", ""))
            else:
                self._form.fields[name] = a.get("value", "")
        elif tag == "button":
            self._form.buttons.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self._form.fields[name] = ""
        elif tag == "select":
            self._form.fields.setdefault(name, "")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_of(html: str, action: str | None = None) -> Form:
    """The page's one POST form to ``action`` (``""``: the one with no action, posting to the page)."""
    matches = [f for f in forms_of(html) if f.method == "post" and (action is None or f.action == action)]
    assert len(matches) == 1, f"{len(matches)} POST forms to {action!r} on the page"
    return matches[0]
