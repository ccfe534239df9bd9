"""A book without a price (an import gave no usable one) is shown but not sold, until staff price it."""

import pytest

from apps.catalog.models import Book
from tests.factories import BookFactory, CartLineFactory
from tests.orders.conftest import INLINE_ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def unpriced(db):
    return BookFactory(title="Sans prix", price=None, stock=5)


def test_the_api_says_it_is_not_for_sale(api_client, unpriced):
    body = api_client.get(f"/api/v1/books/{unpriced.slug}/").json()

    assert (body["price"], body["for_sale"]) == (None, False)
    listed = {b["slug"]: b for b in api_client.get("/api/v1/books/").json()["results"]}
    assert listed[unpriced.slug]["for_sale"] is False


def test_it_cannot_be_added_to_a_cart(user_client, unpriced):
    response = user_client.post("/api/v1/cart/items/", {"book": unpriced.pk, "quantity": 1})

    assert response.status_code == 400
    assert response.json()["code"] == "book_unavailable"


def test_a_cart_line_whose_book_lost_its_price_is_unavailable_and_checkout_refuses_it(user, user_client):
    book = BookFactory(stock=5)
    CartLineFactory(cart__user=user, book=book, quantity=1, price_when_added=book.price)
    Book.objects.filter(pk=book.pk).update(price=None)

    (line,) = user_client.get("/api/v1/cart/").json()["lines"]
    checkout = user_client.post(
        "/api/v1/orders/",
        {
            "shipping_address": INLINE_ADDRESS,
            "payment_provider": "dummy",
        },
        format="json",
    )

    assert line["unavailable"] is True
    assert checkout.status_code == 409
    assert checkout.json()["code"] == "cart_changed"


def test_the_page_shows_it_without_a_price_or_an_add_to_cart(client, unpriced):
    page = client.get(f"/books/{unpriced.slug}/").content.decode()

    assert "Non disponible à la vente" in page
    assert "add-to-cart" not in page
    assert "Non disponible" in client.get("/books/").content.decode()
