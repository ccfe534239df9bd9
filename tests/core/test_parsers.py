"""JSON request bodies must be text: a lone UTF-16 surrogate escape is refused when parsed.

``"\\ud800"`` is valid JSON syntax but names no character. Left in, it reached error
messages that quote the input (a choice field's ``"…" is not a valid choice.``) and the
response could not be encoded: a 500 (found by hand-written cases beside schemathesis).
"""

import pytest

PROBLEM = "application/problem+json"
ADDRESS = '"name": "Jeanne", "line1": "1 rue des Écoles", "postal_code": "75005", "city": "Paris"'


def _post(client, url: str, raw: str):
    return client.generic("POST", url, raw.encode(), content_type="application/json")


def _assert_parse_error(response) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "parse_error"
    assert "surrogate" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "raw"),
    [
        # A choice field quotes what it refuses.
        ("/api/v1/me/addresses/", '{"kind": "a\\ud800b", ' + ADDRESS + ', "country": "FR"}'),
        ("/api/v1/orders/", '{"shipping_address": 1, "payment_provider": "\\udfff"}'),
        # The country validator quotes the code, and runs beside the field's own validators.
        (
            "/api/v1/orders/",
            '{"shipping_address": {' + ADDRESS + ', "country": "\\ud800A"}, "payment_provider": "dummy"}',
        ),
        # Keys and list items are strings too.
        ("/api/v1/cart/items/", '{"\\ud800": 1, "book": 1}'),
        ("/api/v1/cart/items/", '["\\udbff"]'),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_a_parse_error(user_client, url, raw):
    _assert_parse_error(_post(user_client, url, raw))


@pytest.mark.django_db
def test_a_lone_surrogate_is_refused_before_anything_is_written(user_client, user):
    raw = '{"kind": "shipping", "name": "\\ud800", ' + ADDRESS.split(", ", 1)[1] + ', "country": "FR"}'
    _assert_parse_error(_post(user_client, "/api/v1/me/addresses/", raw))
    assert not user.addresses.exists()


@pytest.mark.django_db
def test_an_escaped_surrogate_pair_is_one_character_and_accepted(user_client, user):
    raw = (
        '{"kind": "shipping", "name": "Jeanne \\ud83d\\udcda", '
        + ADDRESS.split(", ", 1)[1]
        + ', "country": "FR"}'
    )
    response = _post(user_client, "/api/v1/me/addresses/", raw)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Jeanne 📚"
