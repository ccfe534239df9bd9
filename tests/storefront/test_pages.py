"""The storefront's pages: what they show, their query counts, and customer text escaped."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from apps.cart.models import Cart, CartLine
from apps.catalog import services as catalog_services
from apps.orders.models import Order
from tests.factories import (
    AddressFactory,
    BookFactory,
    CartFactory,
    CartLineFactory,
    UserFactory,
    review_make,
)
from tests.storefront.conftest import html

pytestmark = pytest.mark.django_db


# --- Catalogue --------------------------------------------------------------------------------


def test_home_shows_new_books_the_tree_and_a_search_box(client, catalogue):
    page = html(client.get("/"))
    assert "Dune Messiah" in page
    assert 'href="/categories/space-opera/"' in page
    assert 'name="q"' in page
    assert "Chapterhouse" not in page  # withdrawn


def test_the_catalogue_lists_filters_and_counts(client, catalogue):
    page = html(client.get("/books/"))
    assert page.count('class="book-card"') == 4
    assert "Science-fiction" in page  # facet count of the sf subtree
    assert "(2)" in page

    page = html(client.get("/books/", {"category": "sf"}))
    assert page.count('class="book-card"') == 2
    assert "Dune Messiah" in page
    assert "Crónica" not in page
    page = html(client.get("/books/", {"format": "ebook"}))
    assert "The Salmon of Doubt" in page
    assert page.count('class="book-card"') == 1
    page = html(client.get("/books/", {"in_stock": "true", "max_price": "20"}))
    assert page.count('class="book-card"') == 2


def test_pagination_keeps_the_filters(client, db):
    for n in range(30):
        BookFactory(title=f"Roman {n:02d}", language="fr", price=Decimal("10.00"))
    page = html(client.get("/books/", {"language": "fr", "ordering": "title"}))
    assert page.count('class="book-card"') == 24
    assert 'href="?language=fr&amp;ordering=title&amp;page=2"' in page
    second = html(client.get("/books/", {"language": "fr", "ordering": "title", "page": "2"}))
    assert second.count('class="book-card"') == 6


def test_a_search_that_finds_nothing_suggests_a_title(client, catalogue):
    page = html(client.get("/books/", {"q": "Salmon of Doubd"}))
    if 'data-testid="suggestion"' in page:  # SQLite: contains-match, then the suggestion
        assert "The Salmon of Doubt" in page
    else:  # PostgreSQL's typo-tolerant search finds the book itself
        assert page.count('class="book-card"') >= 1
        assert "The Salmon of Doubt" in page


def test_a_filter_the_catalogue_cannot_read_is_said_not_a_500(client, catalogue):
    page = html(client.get("/books/", {"format": "scroll"}))
    assert "format" in page
    assert page.count('class="book-card"') == 4


def test_the_book_page(client, catalogue):
    page = html(client.get(f"/books/{catalogue['dune'].slug}/"))
    assert "Dune Messiah" in page
    assert "Frank Herbert" in page
    assert 'href="/authors/frank-herbert/"' in page
    assert "9780441172696" in page
    assert "Ace Books" in page
    assert "9,99\u00a0€" in page  # French number format and symbol
    assert 'name="quantity"' in page
    assert "Plus que 3 exemplaires" in page


def test_an_out_of_stock_book_has_no_add_to_cart(client, catalogue):
    page = html(client.get(f"/books/{catalogue['hitchhiker'].slug}/"))
    assert 'name="quantity"' not in page


def test_a_withdrawn_or_unknown_book_is_a_404(client, catalogue):
    assert client.get(f"/books/{catalogue['hidden'].slug}/").status_code == 404
    assert client.get("/books/no-such-book/").status_code == 404


def test_category_and_author_pages(client, catalogue):
    page = html(client.get("/categories/sf/"))
    assert "Fiction" in page  # breadcrumb, subcategory
    assert "Space opera" in page
    assert "Dune Messiah" in page
    assert "Crónica" not in page
    page = html(client.get("/authors/douglas-adams/"))
    assert "The Salmon of Doubt" in page
    assert "Dune" not in page
    assert client.get("/categories/nope/").status_code == 404


def test_customer_text_is_escaped(client, db):
    catalog_services.book_create(
        isbn="9780000000002",
        title="<script>alert('x')</script>",
        authors=[catalog_services.author_create(name="<b>Mallory</b>")],
        description="<img src=x onerror=alert(1)>",
        price=Decimal("5.00"),
        stock=2,
    )
    for url in ["/", "/books/", "/books/scriptalertxscript/"]:
        page = client.get(url).content.decode()
        assert "<script>alert('x')</script>" not in page
        assert "<b>Mallory</b>" not in page
        assert "<img src=x" not in page


@pytest.mark.parametrize("count", [3, 30])
def test_the_catalogue_runs_a_fixed_number_of_queries(client, db, django_assert_num_queries, count):
    for _ in range(count):
        BookFactory()
    cache.clear()
    # Books with publishers, their authors, their categories, and the facets (with the total).
    with django_assert_num_queries(4):
        client.get("/books/")
    with django_assert_num_queries(0):  # the data is cached for the next visitor
        client.get("/books/")


@pytest.mark.parametrize("count", [3, 30])
def test_search_runs_a_fixed_number_of_queries(client, db, django_assert_num_queries, count):
    for n in range(count):
        BookFactory(title=f"Les Misérables tome {n}")
    cache.clear()
    # The search's two (its terms, their postings), then the list's four.
    with django_assert_num_queries(6):
        client.get("/books/", {"q": "Misérables"})


def test_the_book_page_runs_a_fixed_number_of_queries(client, catalogue, django_assert_num_queries):
    cache.clear()
    for _ in range(3):
        review_make(book=catalogue["salmon"])
    # The book (publisher), its authors, its categories, the same author's books (+ authors,
    # categories), its reviews' distribution, its first reviews (with their authors).
    with django_assert_num_queries(8):
        client.get(f"/books/{catalogue['salmon'].slug}/")
    with django_assert_num_queries(0):
        client.get(f"/books/{catalogue['salmon'].slug}/")
    for _ in range(12):
        review_make(book=catalogue["salmon"])
    cache.clear()
    with django_assert_num_queries(8):
        client.get(f"/books/{catalogue['salmon'].slug}/")


# --- Cart, checkout, orders --------------------------------------------------------------------


def test_an_anonymous_visitor_fills_a_cart(client, catalogue):
    book = catalogue["dune"]
    response = client.post("/cart/add/", {"book": book.pk, "quantity": 2})
    assert response.status_code == 302
    page = html(client.get("/cart/"))
    assert "Dune Messiah" in page
    assert "19,98\u00a0€" in page  # subtotal
    assert "3,00\u00a0€" in page  # shipping under the book-price law
    assert "Panier (2)" in page


def test_more_than_in_stock_is_refused_with_a_message(client, catalogue):
    client.post("/cart/add/", {"book": catalogue["dune"].pk, "quantity": 9})
    page = html(client.get("/cart/"))
    assert "pas assez d&#x27;exemplaires" in page
    assert "Panier (0)" in page


def test_cart_lines_change_and_go(signed_in, user, catalogue):
    signed_in.post("/cart/add/", {"book": catalogue["dune"].pk, "quantity": 1})
    line = CartLine.objects.get(cart__user=user)
    signed_in.post(f"/cart/lines/{line.pk}/", {"quantity": 3})
    assert CartLine.objects.get(pk=line.pk).quantity == 3
    signed_in.post(f"/cart/lines/{line.pk}/remove/")
    assert not CartLine.objects.filter(pk=line.pk).exists()


def test_another_customers_line_cannot_be_touched(signed_in, catalogue):
    other = UserFactory()
    line = CartLineFactory(
        cart__user=other, book=catalogue["dune"], quantity=1, price_when_added=Decimal("9.99")
    )
    signed_in.post(f"/cart/lines/{line.pk}/", {"quantity": 2})
    signed_in.post(f"/cart/lines/{line.pk}/remove/")
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_the_cart_flags_a_changed_price(signed_in, user, catalogue):
    signed_in.post("/cart/add/", {"book": catalogue["dune"].pk, "quantity": 1})
    catalog_services.book_update(book=catalogue["dune"], data={"price": Decimal("11.00")})
    page = html(signed_in.get("/cart/"))
    assert "Le prix est passé de 9,99\u00a0€ à 11,00\u00a0€" in page
    assert 'href="/checkout/"' not in page


def test_the_cart_page_runs_a_fixed_number_of_queries(signed_in, user, db, django_assert_num_queries):
    CartLineFactory.create_batch(10, cart=CartFactory(user=user), quantity=1)
    signed_in.get("/cart/")  # warms the session and the cached summary
    # The user (the session is in the cache, written through); the summary comes from the cache.
    with django_assert_num_queries(1):
        signed_in.get("/cart/")


def test_checkout_needs_a_signed_in_customer(client):
    response = client.get("/checkout/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_checkout_with_a_new_address_places_one_order_whatever_the_resubmits(signed_in, user, catalogue):
    # Transactional: the first submit really commits and empties the cart (and its cached
    # summary), as in production, before the second arrives.
    signed_in.post("/cart/add/", {"book": catalogue["dune"].pk, "quantity": 1})
    page = html(signed_in.get("/checkout/"))
    assert "TVA" in page
    assert "12,99\u00a0€" in page
    form = {
        "address": "new",
        "name": "Jeanne Valjean",
        "line1": "12 rue des Écoles",
        "postal_code": "75005",
        "city": "Paris",
        "country": "fr",
        "payment_provider": "dummy",
        "idempotency_key": "k" * 32,
    }
    first = signed_in.post("/checkout/", form)
    again = signed_in.post("/checkout/", form)  # a double submit

    assert Order.objects.filter(user=user).count() == 1
    order = Order.objects.get(user=user)
    # Both go to the order's one payment page.
    assert first["Location"] == again["Location"] == order.payments.get().pay_url
    assert "/orders/pay/dummy/" in first["Location"]
    assert order.shipping_address["country"] == "FR"


def test_checkout_errors_are_shown_next_to_their_fields(signed_in, catalogue):
    signed_in.post("/cart/add/", {"book": catalogue["dune"].pk, "quantity": 1})
    page = html(
        signed_in.post(
            "/checkout/",
            {
                "address": "new",
                "name": "",
                "country": "ZZ",
                "payment_provider": "dummy",
                "idempotency_key": "x",
            },
        )
    )
    assert "obligatoire pour une nouvelle adresse" in page
    assert "ZZ" in page
    assert "ISO 3166-1" in page
    assert not Order.objects.exists()


def test_the_order_page_shows_status_payment_and_history(signed_in, user, catalogue):
    address = AddressFactory(
        user=user,
        kind="shipping",
        name="Jean Valjean",
        line1="55 rue Plumet",
        postal_code="75007",
        city="Paris",
        country="FR",
    )
    signed_in.post("/cart/add/", {"book": catalogue["dune"].pk, "quantity": 1})
    signed_in.post(
        "/checkout/", {"address": str(address.pk), "payment_provider": "dummy", "idempotency_key": "key-1"}
    )
    order = Order.objects.get(user=user)
    page = html(signed_in.get(f"/orders/{order.number}/"))
    assert order.number in page
    assert "55 rue Plumet" in page
    assert 'data-testid="order-status"' in page
    page = html(signed_in.get("/accounts/orders/"))
    assert order.number in page


def test_another_customers_order_is_a_404(signed_in, catalogue):
    other = UserFactory()
    from apps.orders.services import order_place

    CartLineFactory(
        cart__user=other,
        book=catalogue["dune"],
        quantity=1,
        price_when_added=Decimal("9.99"),
    )
    order, _ = order_place(
        user=other,
        shipping_address={"name": "X", "line1": "1 rue", "postal_code": "1", "city": "C", "country": "FR"},
        payment_provider="dummy",
    )
    assert signed_in.get(f"/orders/{order.number}/").status_code == 404
    assert signed_in.post(f"/orders/{order.number}/cancel/").status_code == 404


def test_my_orders_runs_a_fixed_number_of_queries(signed_in, user, catalogue, django_assert_num_queries):
    from apps.orders.services import order_place

    for _ in range(3):
        CartLineFactory(
            cart=Cart.objects.get_or_create(user=user)[0],
            book=catalogue["cronica"],
            quantity=1,
            price_when_added=Decimal("12.00"),
        )
        order_place(
            user=user,
            shipping_address={
                "name": "X",
                "line1": "1 rue",
                "postal_code": "1",
                "city": "C",
                "country": "FR",
            },
            payment_provider="dummy",
        )
    signed_in.get("/accounts/orders/")
    # The user, the count, the orders with lines, payments, refunds and history prefetched.
    with django_assert_num_queries(7):
        signed_in.get("/accounts/orders/")


def test_a_paid_order_shows_paid_and_can_be_cancelled_with_a_refund(client, db):
    from tests.factories import order_make

    order = order_make(paid=True)
    client.force_login(order.user)
    page = html(client.get(f"/orders/{order.number}/"))
    assert "Annuler et être remboursé" in page
    client.post(f"/orders/{order.number}/cancel/")
    order.refresh_from_db()
    assert order.status == "cancelled"
    page = html(client.get(f"/orders/{order.number}/"))
    assert "Remboursements" in page


def test_a_catalogue_write_shows_at_once_on_the_cached_pages(
    client, catalogue, django_capture_on_commit_callbacks
):
    book = catalogue["dune"]
    for url in ["/", "/books/", f"/books/{catalogue['salmon'].slug}/"]:
        client.get(url)  # cached now, data and fragments
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.book_update(book=book, data={"title": "Dune Messiah, édition collector"})
    assert "Dune Messiah, édition collector" in html(client.get("/books/"))
    assert "Dune Messiah, édition collector" in html(client.get("/"))
