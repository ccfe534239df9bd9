"""The API's JSON is made by orjson, byte for byte what DRF's own renderer makes."""

import datetime as dt
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy, override
from rest_framework.renderers import JSONRenderer

from bookstore.api.renderers import OrjsonRenderer

DATA = {
    "title": "Crónica de una muerte anunciada",
    "separators": "a\u2028b\u2029c",  # escaped, as DRF does, for JavaScript
    "numbers": [1, 2.5, None, True, Decimal("12.50")],
    "thumbnails": {120: "/media/a.jpg", 300: "/media/b.jpg"},
    "created_at": dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC),
    "published": dt.date(1981, 4, 1),
    "label": gettext_lazy("Paperback"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "nested": [{"empty": {}, "list": []}],
}


def test_the_bytes_are_drfs():
    with override("fr"):
        assert OrjsonRenderer().render(DATA, "application/json") == JSONRenderer().render(
            DATA, "application/json"
        )


def test_an_indent_asked_is_honoured():
    indented = OrjsonRenderer().render({"a": [1]}, "application/json; indent=2")
    assert indented == JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert b"\n" in indented


def test_no_data_is_no_body():
    assert OrjsonRenderer().render(None) == b""


def test_the_api_answers_with_it(client, db):
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is OrjsonRenderer
    response = client.get("/api/v1/categories/")
    assert response.status_code == 200
    assert response.content == JSONRenderer().render(response.json(), "application/json")
