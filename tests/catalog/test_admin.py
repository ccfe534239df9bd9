import pytest

from apps.catalog.models import Book
from apps.categories.services import category_create
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


def test_admin_author_rename_goes_through_the_service(admin_site_client, catalogue, api_client):
    from apps.catalog.models import Author

    author = Author.objects.get(slug="frank-herbert")
    response = admin_site_client.post(
        f"/admin/catalog/author/{author.pk}/change/",
        {"name": "Franck Herbertson", "slug": "frank-herbert", "bio": ""},
    )
    assert response.status_code == 302
    assert Author.objects.get(pk=author.pk).name == "Franck Herbertson"
    detail = api_client.get(f"/api/v1/books/{catalogue['dune'].isbn13}/").json()
    assert detail["authors"] == [{"slug": "frank-herbert", "name": "Franck Herbertson"}]


def test_admin_category_add_and_move_keep_paths(admin_site_client, tree):
    from apps.categories.models import Category

    response = admin_site_client.post(
        "/admin/categories/category/add/",
        {"name": "Cyberpunk", "slug": "cyberpunk", "parent": tree["sf"].pk, "position": 0, "description": ""},
    )
    assert response.status_code == 302
    cyberpunk = Category.objects.get(slug="cyberpunk")
    assert cyberpunk.path == f"{tree['fiction'].pk}/{tree['sf'].pk}/{cyberpunk.pk}/"
    response = admin_site_client.post(
        f"/admin/categories/category/{tree['sf'].pk}/change/",
        {
            "name": "Science-fiction",
            "slug": "sf",
            "parent": tree["non-fiction"].pk,
            "position": 0,
            "description": "",
        },
    )
    assert response.status_code == 302
    assert Category.objects.get(slug="cyberpunk").path == (
        f"{tree['non-fiction'].pk}/{tree['sf'].pk}/{cyberpunk.pk}/"
    )


def _inline_management(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_admin_adds_a_book_with_an_isbn10_and_invalidates_cached_reads(
    admin_site_client, api_client, catalogue, tree, django_capture_on_commit_callbacks
):
    from apps.catalog.models import Author

    herbert = Author.objects.get(slug="frank-herbert")
    list_before = api_client.get("/api/v1/books/", {"category": "sf"}).json()
    form = {
        "isbn13": "0-441-29467-7",
        "title": "God Emperor of Dune",
        "subtitle": "",
        "slug": "god-emperor-of-dune",
        "language": "en",
        "format": "paperback",
        "description": "",
        "price": "8.99",
        "currency": "EUR",
        "stock": "2",
        "is_active": "on",
        **_inline_management("book_authors", [{"author": herbert.pk, "position": 0}]),
        **_inline_management("Book_categories", [{"category": tree["sf"].pk}]),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_site_client.post("/admin/catalog/book/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    book = Book.objects.get(isbn13="9780441294671")
    assert list(book.categories.values_list("slug", flat=True)) == ["sf"]
    list_after = api_client.get("/api/v1/books/", {"category": "sf"}).json()
    assert list_after["count"] == list_before["count"] + 1
    assert "God Emperor of Dune" in [b["title"] for b in list_after["results"]]


def test_admin_refuses_an_invalid_isbn(admin_site_client, catalogue):
    response = admin_site_client.post(
        "/admin/catalog/book/add/",
        {
            "isbn13": "9780441294672",
            "title": "X",
            "slug": "x",
            "language": "en",
            "format": "paperback",
            "price": "1.00",
            "currency": "EUR",
            "stock": "0",
            **_inline_management("book_authors", []),
            **_inline_management("Book_categories", []),
        },
    )
    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    assert not Book.objects.filter(slug="x").exists()


def test_admin_does_not_offer_to_delete_a_category_with_books(admin_site_client, catalogue, tree):
    from apps.categories.models import Category

    response = admin_site_client.post(
        f"/admin/categories/category/{tree['crime'].pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Category.objects.filter(slug="crime").exists()
    empty = category_create(name="Empty", slug="empty")
    response = admin_site_client.post(f"/admin/categories/category/{empty.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Category.objects.filter(slug="empty").exists()
