"""Inputs that schemathesis found answered with a 500, each now a clear problem details answer."""

import pytest

from apps.catalog import services
from apps.catalog.models import Author, Book, Publisher
from tests.catalog.test_api import new_book_payload

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("key", ["³", "¹²", "٣x"])
def test_book_key_of_non_ascii_digits_is_a_404_not_a_crash(api_client, staff_client, key):
    # "³".isdigit() is true but int("³") fails: such a key must be read as a slug.
    for client in (api_client, staff_client):
        response = client.get(f"/api/v1/books/{key}/")
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/authors/", lambda: services.author_create(name="Frank Herbert", slug="frank-herbert")),
        ("/api/v1/publishers/", lambda: services.publisher_create(name="Ace Books", slug="ace-books")),
    ],
)
def test_creating_with_a_slug_in_use_is_a_409_naming_the_field(staff_client, url, make):
    existing = make()
    response = staff_client.post(url, {"name": "Someone else", "slug": existing.slug}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "slug_taken"
    assert list(body["errors"]) == ["slug"]
    assert existing.slug in body["detail"]
    model = Author if "authors" in url else Publisher
    assert model.objects.count() == 1


def test_renaming_an_author_to_a_slug_in_use_is_a_409_and_changes_nothing(staff_client):
    services.author_create(name="Frank Herbert", slug="frank-herbert")
    adams = services.author_create(name="Douglas Adams", slug="douglas-adams")
    response = staff_client.patch(
        "/api/v1/authors/douglas-adams/", {"name": "D. Adams", "slug": "frank-herbert"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"] == {"slug": [response.json()["errors"]["slug"][0]]}
    adams.refresh_from_db()
    assert (adams.name, adams.slug) == ("Douglas Adams", "douglas-adams")


def test_renaming_a_publisher_to_a_slug_in_use_is_a_409(staff_client):
    services.publisher_create(name="Ace Books", slug="ace-books")
    services.publisher_create(name="Del Rey", slug="del-rey")
    response = staff_client.patch("/api/v1/publishers/del-rey/", {"slug": "ace-books"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slug_taken"
    assert Publisher.objects.filter(slug="del-rey").exists()


def test_an_author_keeps_its_own_slug_on_update(staff_client):
    services.author_create(name="Frank Herbert", slug="frank-herbert")
    response = staff_client.patch(
        "/api/v1/authors/frank-herbert/", {"slug": "frank-herbert", "bio": "Dune."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["slug"] == "frank-herbert"


ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH])
def test_an_isbn_in_other_digits_is_a_field_error_not_a_mixed_script_isbn(staff_client, catalogue, digits):
    # \d and int() take these digits too: the ISBN-10 below was stored as "978" + the Arabic
    # digits + an ASCII check digit, an ISBN-13 no one could look up.
    isbn = "0441294677".translate(digits)
    response = staff_client.post("/api/v1/books/", new_book_payload(isbn13=isbn), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["isbn13"]
    assert not Book.objects.exclude(isbn13__regex=r"^[0-9]{13}$").exists()
