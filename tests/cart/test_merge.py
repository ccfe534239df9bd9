"""At sign-in the visitor's anonymous cart joins the customer's, and the client is told how."""

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.cart.models import Cart, CartLine
from tests.factories import BookFactory

from .conftest import CART, ITEMS

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def visitor_adds(token: str, book, quantity: int) -> None:
    response = APIClient(headers={"X-Cart-Token": token}).post(ITEMS, {"book": book.pk, "quantity": quantity})
    assert response.status_code == 201, response.content


def customer_adds(user, book, quantity: int) -> None:
    client = APIClient()
    client.force_authenticate(user)
    assert client.post(ITEMS, {"book": book.pk, "quantity": quantity}).status_code == 201


def jwt_login(user, password, token: str | None):
    headers = {"X-Cart-Token": token} if token else {}
    response = APIClient(headers=headers).post(TOKEN_URL, {"email": user.email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def customer_lines(user) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart__user=user).values_list("book_id", "quantity"))


def test_jwt_login_with_the_token_merges_and_reports(user, password, anonymous_token, book, other_book):
    customer_adds(user, book, 2)
    visitor_adds(anonymous_token, book, 3)
    visitor_adds(anonymous_token, other_book, 1)

    body = jwt_login(user, password, anonymous_token)

    assert {"access", "refresh"} <= set(body)
    assert body["cart_merge"] == {
        "policy": "merge",
        "kept": "both",
        "added": [{"book": other_book.pk, "title": "Germinal", "quantity": 1}],
        "increased": [{"book": book.pk, "title": "Les Misérables", "quantity": 5}],
        "capped": [],
        "discarded": [],
    }
    assert customer_lines(user) == {book.pk: 5, other_book.pk: 1}
    # The anonymous cart is gone: its token now finds nothing.
    assert not Cart.objects.filter(token=anonymous_token).exists()
    assert APIClient(headers={"X-Cart-Token": anonymous_token}).get(CART).json()["lines"] == []


def test_merge_caps_quantities_at_stock_and_at_99_and_says_so(user, password, anonymous_token):
    scarce = BookFactory(title="Rare", stock=4)
    plenty = BookFactory(title="Courant", stock=500)
    customer_adds(user, scarce, 3)
    customer_adds(user, plenty, 60)
    visitor_adds(anonymous_token, scarce, 3)
    visitor_adds(anonymous_token, plenty, 50)

    report = jwt_login(user, password, anonymous_token)["cart_merge"]

    assert report["capped"] == [
        {"book": scarce.pk, "title": "Rare", "requested": 6, "quantity": 4, "reason": "stock"},
        {"book": plenty.pk, "title": "Courant", "requested": 110, "quantity": 99, "reason": "line_maximum"},
    ]
    assert customer_lines(user) == {scarce.pk: 4, plenty.pk: 99}


def test_merge_discards_books_withdrawn_or_sold_out_since(user, password, anonymous_token, book, other_book):
    visitor_adds(anonymous_token, book, 1)
    visitor_adds(anonymous_token, other_book, 2)
    book.is_active = False
    book.save()
    other_book.stock = 0
    other_book.save()

    report = jwt_login(user, password, anonymous_token)["cart_merge"]

    assert report["discarded"] == [
        {"book": book.pk, "title": book.title, "quantity": 1, "reason": "unavailable"},
        {"book": other_book.pk, "title": other_book.title, "quantity": 2, "reason": "out_of_stock"},
    ]
    assert customer_lines(user) == {}


def test_a_customer_without_a_cart_takes_the_anonymous_one(user, password, anonymous_token, book):
    visitor_adds(anonymous_token, book, 2)
    report = jwt_login(user, password, anonymous_token)["cart_merge"]
    assert report["kept"] == "anonymous"
    assert report["added"] == [{"book": book.pk, "title": book.title, "quantity": 2}]
    client = APIClient()
    client.force_authenticate(user)
    assert [line["quantity"] for line in client.get(CART).json()["lines"]] == [2]


def test_the_price_seen_before_signing_in_still_flags_a_change(user, password, anonymous_token, book):
    visitor_adds(anonymous_token, book, 1)
    book.price = Decimal("15.00")
    book.save()
    jwt_login(user, password, anonymous_token)
    assert CartLine.objects.get(cart__user=user).price_when_added == Decimal("12.50")


def test_jwt_login_without_a_token_reports_nothing_and_keeps_the_cart(user, password, book):
    customer_adds(user, book, 1)
    body = jwt_login(user, password, None)
    assert "cart_merge" not in body
    assert customer_lines(user) == {book.pk: 1}


def test_jwt_login_with_an_unknown_token_reports_nothing(user, password, book):
    customer_adds(user, book, 1)
    assert "cart_merge" not in jwt_login(user, password, "no-such-token")
    assert customer_lines(user) == {book.pk: 1}


def test_a_wrong_password_merges_nothing(user, anonymous_token, book):
    visitor_adds(anonymous_token, book, 1)
    response = APIClient(headers={"X-Cart-Token": anonymous_token}).post(
        TOKEN_URL, {"email": user.email, "password": "wrong"}
    )
    assert response.status_code == 401
    assert Cart.objects.get(token=anonymous_token).lines.count() == 1
    assert customer_lines(user) == {}


# --- policies ---------------------------------------------------------------------------------


def test_keep_customer_policy_keeps_the_customers_lines(
    settings, user, password, anonymous_token, book, other_book
):
    settings.CART_MERGE_POLICY = "keep_customer"
    customer_adds(user, book, 1)
    visitor_adds(anonymous_token, book, 2)
    visitor_adds(anonymous_token, other_book, 1)

    report = jwt_login(user, password, anonymous_token)["cart_merge"]

    assert report["policy"] == "keep_customer"
    assert report["kept"] == "customer"
    assert [(line["book"], line["quantity"], line["reason"]) for line in report["discarded"]] == [
        (book.pk, 2, "policy"),
        (other_book.pk, 1, "policy"),
    ]
    assert customer_lines(user) == {book.pk: 1}
    assert not Cart.objects.filter(token=anonymous_token).exists()


def test_keep_newest_policy_keeps_the_anonymous_cart_when_it_is_newer(
    settings, user, password, anonymous_token, book, other_book
):
    settings.CART_MERGE_POLICY = "keep_newest"
    customer_adds(user, book, 1)
    Cart.objects.filter(user=user).update(updated_at=timezone.now() - timedelta(days=2))
    visitor_adds(anonymous_token, other_book, 2)

    report = jwt_login(user, password, anonymous_token)["cart_merge"]

    assert report["kept"] == "anonymous"
    assert report["discarded"] == [{"book": book.pk, "title": book.title, "quantity": 1, "reason": "policy"}]
    assert report["added"] == [{"book": other_book.pk, "title": other_book.title, "quantity": 2}]
    assert customer_lines(user) == {other_book.pk: 2}


def test_keep_newest_policy_keeps_the_customers_cart_when_it_is_newer(
    settings, user, password, anonymous_token, book, other_book
):
    settings.CART_MERGE_POLICY = "keep_newest"
    visitor_adds(anonymous_token, other_book, 2)
    Cart.objects.filter(token=anonymous_token).update(updated_at=timezone.now() - timedelta(days=2))
    customer_adds(user, book, 1)

    report = jwt_login(user, password, anonymous_token)["cart_merge"]

    assert report["kept"] == "customer"
    assert customer_lines(user) == {book.pk: 1}


def test_an_unknown_policy_stops_the_settings_from_loading():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "bookstore.settings", "CART_MERGE_POLICY": "both", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "CART_MERGE_POLICY must be 'merge', 'keep_customer' or 'keep_newest'" in result.stderr


# --- session sign-in (storefront, admin) ------------------------------------------------------


def test_a_browser_keeps_its_anonymous_cart_in_the_session(book):
    browser = Client()
    response = browser.post(ITEMS, {"book": book.pk, "quantity": 1}, content_type="application/json")
    token = response.json()["token"]
    assert browser.session["cart_token"] == token
    # The next request finds the cart through the session alone, no header.
    assert browser.get(CART).json()["token"] == token


def test_session_login_through_the_admin_form_merges_the_session_cart(staff_user, password, book, other_book):
    customer_adds(staff_user, book, 1)
    browser = Client()
    browser.post(ITEMS, {"book": book.pk, "quantity": 2}, content_type="application/json")
    browser.post(ITEMS, {"book": other_book.pk, "quantity": 1}, content_type="application/json")
    anonymous_id = Cart.objects.get(token=browser.session["cart_token"]).pk

    response = browser.post(
        "/admin/login/", {"username": staff_user.email, "password": password, "next": "/admin/"}
    )

    assert response.status_code == 302
    assert customer_lines(staff_user) == {book.pk: 3, other_book.pk: 1}
    assert not Cart.objects.filter(pk=anonymous_id).exists()
    session = browser.session
    assert "cart_token" not in session
    assert session["cart_merge"]["increased"] == [{"book": book.pk, "title": book.title, "quantity": 3}]
    # Signed in, the same browser reads the merged cart through its session.
    lines = browser.get(CART).json()["lines"]
    assert {line["book"]["id"]: line["quantity"] for line in lines} == {book.pk: 3, other_book.pk: 1}


def test_any_session_login_merges_the_session_cart(user, book):
    scarce = BookFactory(stock=2)
    customer_adds(user, scarce, 2)
    browser = Client()
    browser.post(ITEMS, {"book": book.pk, "quantity": 1}, content_type="application/json")
    browser.post(ITEMS, {"book": scarce.pk, "quantity": 1}, content_type="application/json")

    # login() as any storefront sign-in view calls it: the session key cycles, its data stays.
    browser.force_login(user)

    assert customer_lines(user) == {book.pk: 1, scarce.pk: 2}
    assert browser.session["cart_merge"]["capped"] == [
        {"book": scarce.pk, "title": scarce.title, "requested": 3, "quantity": 2, "reason": "stock"}
    ]


def test_session_login_tells_the_customer_through_messages(staff_user, password, book):
    scarce = BookFactory(stock=2)
    customer_adds(staff_user, scarce, 2)
    # The messages are translated (French by default, tests/core/test_i18n.py): an English browser.
    browser = Client(headers={"Accept-Language": "en"})
    browser.post(ITEMS, {"book": book.pk, "quantity": 1}, content_type="application/json")
    browser.post(ITEMS, {"book": scarce.pk, "quantity": 1}, content_type="application/json")

    response = browser.post(
        "/admin/login/", {"username": staff_user.email, "password": password, "next": "/admin/"}, follow=True
    )

    texts = [str(message) for message in response.context["messages"]]
    assert any("in your cart" in text for text in texts)
    assert any("limited to the copies in stock" in text for text in texts)


def test_storefront_login_page_merges_the_session_cart_and_shows_what_happened(user, password, book):
    scarce = BookFactory(stock=2)
    customer_adds(user, scarce, 2)
    browser = Client(headers={"Accept-Language": "en"})  # the messages' English text
    browser.post(ITEMS, {"book": book.pk, "quantity": 1}, content_type="application/json")
    browser.post(ITEMS, {"book": scarce.pk, "quantity": 1}, content_type="application/json")

    response = browser.post("/accounts/login/", {"username": user.email, "password": password}, follow=True)

    assert response.status_code == 200
    assert response.wsgi_request.user == user
    assert customer_lines(user) == {book.pk: 1, scarce.pk: 2}
    texts = [str(message) for message in response.context["messages"]]
    assert any("in your cart" in text for text in texts)
    assert any("limited to the copies in stock" in text for text in texts)
