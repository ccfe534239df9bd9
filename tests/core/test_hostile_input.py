"""Anonymous input built to crash the shop gets a 400 (or the 404 of what does not exist), not a 500."""

import pytest

from apps.cart.models import CartLine
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

DEPTH = 20_000


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/cart/items/", "/api/v1/auth/register/"])
def test_deeply_nested_json_is_a_400(api_client, path):
    body = "[" * DEPTH + "]" * DEPTH
    response = api_client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/books/a%00b/",
        "/api/v1/authors/a%00b/",
        "/api/v1/categories/a%00b/",
        "/books/a%00b/",
    ],
)
def test_a_nul_byte_in_a_lookup_is_a_400(client, path):
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    "query",
    [{"q": "a\x00b"}, {"category": "a\x00b"}, {"author": "x\x00"}, {"ordering": "\x00"}],
)
def test_a_nul_byte_in_a_query_parameter_is_a_400(client, query):
    BookFactory()
    for path in ["/api/v1/books/", "/books/"]:
        assert client.get(path, query).status_code == 400


def test_a_nul_byte_in_a_form_field_is_a_field_error(client):
    """Django's form fields refuse NUL: the form comes back with its error, nothing is written."""
    response = client.post("/accounts/login/", {"username": "a\x00@example.com", "password": "x"})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert "_auth_user_id" not in client.session
    response = client.post("/cart/add/", {"book": "1\x00", "quantity": "1"})
    assert (response.status_code, response["Location"]) == (302, "/cart/")
    assert not CartLine.objects.exists()
