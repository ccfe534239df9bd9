import pytest

from apps.catalog.models import Book
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/book/",
        "/admin/catalog/book/?q=9780441172696",
        "/admin/catalog/book/?q=herbert",
        "/admin/catalog/book/?stock=out&format=hardcover",
        "/admin/catalog/author/",
        "/admin/catalog/publisher/",
        "/admin/categories/category/",
    ],
)
def test_admin_lists_render(admin_site_client, catalogue, url):
    assert admin_site_client.get(url).status_code == 200


def test_admin_search_by_isbn_and_author(admin_site_client, catalogue):
    assert b"Dune Messiah" in admin_site_client.get("/admin/catalog/book/?q=9780441172696").content
    assert b"Dune Messiah" in admin_site_client.get("/admin/catalog/book/?q=herbert").content
    assert b"Dune Messiah" not in admin_site_client.get("/admin/catalog/book/?q=adams").content


def test_admin_change_form_renders_with_inlines(admin_site_client, catalogue):
    response = admin_site_client.get(f"/admin/catalog/book/{catalogue['dune'].pk}/change/")
    assert response.status_code == 200
    assert b"book_authors" in response.content
    assert b"Book_categories" in response.content


def test_admin_bulk_activate(admin_site_client, catalogue):
    hidden = catalogue["hidden"]
    response = admin_site_client.post(
        "/admin/catalog/book/", {"action": "activate_books", "_selected_action": [hidden.pk]}
    )
    assert response.status_code == 302
    assert Book.objects.get(pk=hidden.pk).is_active is True
