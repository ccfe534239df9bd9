"""Checkouts racing each other on PostgreSQL, each in its own thread and connection."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.catalog.models import Book
from apps.orders.models import Order
from tests.factories import BookFactory, UserFactory
from tests.services import requires_postgres

from .conftest import INLINE_ADDRESS, ORDERS, fill_cart

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BODY = {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"}


def race(calls: list) -> list:
    """Run each ``(user, headers)`` checkout in its own thread, all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, user, headers: dict) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=30)
            response = client.post(ORDERS, BODY, **headers)
            results[index] = (response.status_code, response.json())
        except Exception as exc:  # reported by the assertions, not lost in the thread
            results[index] = ("exception", repr(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, user, headers)) for i, (user, headers) in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_buyers_three_copies_exactly_three_orders():
    book = BookFactory(price=Decimal("10.00"), stock=3)
    buyers = [UserFactory() for _ in range(20)]
    for buyer in buyers:
        fill_cart(buyer, (book, 1))

    results = race([(buyer, {}) for buyer in buyers])

    assert Counter(status for status, _ in results) == {201: 3, 409: 17}, results
    assert {body["code"] for status, body in results if status == 409} == {"cart_changed"}
    assert Book.objects.get(pk=book.pk).stock == 0
    assert Order.objects.count() == 3
    winners = {body["number"] for status, body in results if status == 201}
    assert set(Order.objects.values_list("number", flat=True)) == winners


def test_two_carts_with_the_same_books_in_opposite_orders_never_deadlock():
    first, second = BookFactory(stock=1000), BookFactory(stock=1000)
    alice, bob = UserFactory(), UserFactory()
    statuses: Counter = Counter()
    for _round in range(50):
        fill_cart(alice, (first, 1), (second, 1))
        fill_cart(bob, (second, 1), (first, 1))
        results = race([(alice, {}), (bob, {})])
        statuses.update(status for status, _ in results)
        assert all(status == 201 for status, _ in results), results

    assert statuses == {201: 100}
    assert Book.objects.get(pk=first.pk).stock == 900
    assert Book.objects.get(pk=second.pk).stock == 900


def test_concurrent_retries_with_one_idempotency_key_make_one_order():
    book = BookFactory(stock=10)
    buyer = UserFactory()
    fill_cart(buyer, (book, 2))

    results = race([(buyer, {"HTTP_IDEMPOTENCY_KEY": "checkout-7f3a"})] * 5)

    assert sorted(status for status, _ in results) == [200, 200, 200, 200, 201], results
    assert len({body["number"] for _, body in results}) == 1
    assert Order.objects.count() == 1
    assert Book.objects.get(pk=book.pk).stock == 8


def test_a_double_click_without_a_key_orders_the_cart_once():
    book = BookFactory(stock=10)
    buyer = UserFactory()
    fill_cart(buyer, (book, 2))

    results = race([(buyer, {}), (buyer, {})])

    assert sorted(status for status, _ in results) == [201, 409], results
    assert Order.objects.count() == 1
    assert Book.objects.get(pk=book.pk).stock == 8


def test_a_book_added_while_the_checkout_runs_is_kept_for_the_next_order():
    """The checkout locks the cart: a concurrent add waits, and is not wiped by the clear."""
    from django.db import transaction

    from apps.cart.selectors import cart_get_for_user
    from apps.cart.services import cart_clear, cart_item_add

    ordered, added_later = BookFactory(stock=5), BookFactory(stock=5)
    buyer = UserFactory()
    cart = fill_cart(buyer, (ordered, 1))
    locked, add_started = threading.Event(), threading.Event()
    errors: list = []

    def checkout() -> None:
        try:
            with transaction.atomic():
                locked_cart = cart_get_for_user(user=buyer, for_update=True)
                locked.set()
                add_started.wait(timeout=10)
                # Give the add every chance to run if it were not blocked by the lock.
                threading.Event().wait(0.5)
                cart_clear(cart=locked_cart)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def add() -> None:
        try:
            locked.wait(timeout=10)
            add_started.set()
            cart_item_add(cart=cart, book_id=added_later.pk, quantity=1)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout), threading.Thread(target=add)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert list(cart.lines.values_list("book_id", flat=True)) == [added_later.pk]
