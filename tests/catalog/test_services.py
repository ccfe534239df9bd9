from decimal import Decimal

import pytest

from apps.catalog import services
from apps.catalog.demo import demo_catalog_load, demo_rows
from apps.catalog.isbn import InvalidIsbn, isbn_normalize
from apps.catalog.models import Author, Book
from apps.categories.models import Category
from apps.orders.models import Order, OrderLine
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9780441172696", "9780441172696"),
        ("978-0-441-17269-6", "9780441172696"),
        ("0441172695", "9780441172696"),
        ("0-441-17269-5", "9780441172696"),
        ("043965548X", "9780439655484"),
        ("043965548x", "9780439655484"),
        ("ISBN 978 0 441 17269 6", "9780441172696"),
    ],
)
def test_isbn_normalize(value, expected):
    assert isbn_normalize(value) == expected


@pytest.mark.parametrize(
    "value", ["9780441172697", "0441172694", "97804411726", "abcdefghij", "9770441172693"]
)
def test_isbn_normalize_refuses_bad_check_digits_and_lengths(value):
    with pytest.raises(InvalidIsbn):
        isbn_normalize(value)


@pytest.mark.django_db
def test_deleting_a_book_an_order_holds_only_deactivates_it(staff_client, catalogue):
    book = catalogue["dune"]
    order = Order.objects.create(
        number="T-0001",
        user=UserFactory(),
        email="reader@example.com",
        currency="EUR",
        subtotal=Decimal("9.99"),
        shipping_total=Decimal("0.00"),
        vat_rate=Decimal("5.50"),
        vat_total=Decimal("0.52"),
        total=Decimal("9.99"),
        shipping_address={},
        billing_address={},
        payment_provider="dummy",
    )
    OrderLine.objects.create(
        order=order,
        book=book,
        title=book.title,
        isbn13=book.isbn13,
        unit_price=book.price,
        quantity=1,
        line_total=book.price,
    )
    response = staff_client.delete(f"/api/v1/books/{book.pk}/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert Book.objects.get(pk=book.pk).is_active is False
    assert OrderLine.objects.get(order=order).book_id == book.pk


@pytest.mark.django_db
def test_author_in_use_cannot_be_deleted(staff_client, catalogue):
    response = staff_client.delete("/api/v1/authors/frank-herbert/")
    assert response.status_code == 409
    assert Author.objects.filter(slug="frank-herbert").exists()


@pytest.mark.django_db
def test_authors_and_publishers_list_their_active_books_count(api_client, catalogue):
    authors = {a["slug"]: a["books_count"] for a in api_client.get("/api/v1/authors/").json()["results"]}
    # Chapterhouse (inactive) is not counted for Frank Herbert.
    assert authors == {"douglas-adams": 2, "frank-herbert": 1, "gabriel-garcia-marquez": 1, "stephen-fry": 1}
    detail = api_client.get("/api/v1/authors/douglas-adams/").json()
    assert detail == {"slug": "douglas-adams", "name": "Douglas Adams", "bio": "", "books_count": 2}
    publishers = {
        p["slug"]: p["books_count"] for p in api_client.get("/api/v1/publishers/").json()["results"]
    }
    assert publishers == {"ace-books": 1, "del-rey": 2, "vintage-espanol": 1}


def test_demo_rows_are_real_and_valid():
    rows, skipped = demo_rows()
    # 258 of the first file's 260 rows, and the 78 French rows of the second file.
    assert len(rows) == 336
    assert sum(row.language == "fr" for row in rows) == 80
    assert len({row.isbn13 for row in rows}) == len(rows)
    assert len(skipped) == 2
    assert all(isbn_normalize(row.isbn13) == row.isbn13 for row in rows)
    assert all(row.authors and row.publisher and row.publication_date for row in rows)
    assert all(row.price > 0 and row.stock >= 0 for row in rows)
    # Every book is filed under a genre, not only under its language.
    assert all(len(row.categories) >= 2 for row in rows)
    dune = next(row for row in rows if row.isbn13 == "9780441172696")
    assert (dune.title, dune.authors, dune.publisher, dune.publication_date.year) == (
        "Dune Messiah (Dune Chronicles #2)",
        ["Frank Herbert"],
        "Ace Books",
        1987,
    )


@pytest.mark.django_db
def test_load_demo_catalog_is_idempotent():
    first = demo_catalog_load()
    counts = (Book.objects.count(), Author.objects.count(), Category.objects.count())
    assert first["created"] == counts[0] == 336
    assert counts[2] == first["categories"] == 36
    second = demo_catalog_load()
    assert second["created"] == 0
    assert second["updated"] == counts[0]
    assert (Book.objects.count(), Author.objects.count(), Category.objects.count()) == counts
    prices = set(Book.objects.values_list("price", flat=True))
    assert all(Decimal("5.90") <= price <= Decimal("79.90") for price in prices)
    assert Book.objects.filter(stock=0).exists()
    assert Book.objects.filter(categories__slug="vo-francais").count() == 80
    petit_prince = Book.objects.get(isbn13="9782070513284")
    assert set(petit_prince.categories.values_list("slug", flat=True)) == {
        "classiques",
        "romans-jeunesse",
        "vo-francais",
    }


@pytest.mark.django_db
def test_book_update_refuses_unknown_fields(catalogue):
    with pytest.raises(ValueError, match="unknown book fields"):
        services.book_update(book=catalogue["dune"], data={"rating_average": Decimal("5")})
