"""Concurrent writes to one cart, on PostgreSQL where requests really run side by side."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.cart.models import CartLine
from tests.services import requires_postgres

from .conftest import ITEMS

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls) -> list:
    """Run each call in its own thread (its own database connection), all released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.parametrize("rounds", range(3))
def test_two_concurrent_adds_of_one_book_to_one_cart_sum_up(anonymous_token, book, rounds):
    def add(quantity):
        return lambda: APIClient(headers={"X-Cart-Token": anonymous_token}).post(
            ITEMS, {"book": book.pk, "quantity": quantity}
        )

    responses = run_together(add(2), add(3))

    assert [r.status_code for r in responses] == [201, 201]
    assert list(CartLine.objects.filter(cart__token=anonymous_token).values_list("quantity", flat=True)) == [
        5
    ]


def test_two_concurrent_adds_to_a_customers_cart_sum_up(user, book):
    def add(quantity):
        def call():
            client = APIClient()
            client.force_authenticate(user)
            return client.post(ITEMS, {"book": book.pk, "quantity": quantity})

        return call

    # The first add to a customer without a cart creates it: both requests race for that too.
    responses = run_together(add(1), add(4))

    assert [r.status_code for r in responses] == [201, 201]
    assert list(CartLine.objects.filter(cart__user=user).values_list("quantity", flat=True)) == [5]


def test_concurrent_adds_never_pass_the_stock(anonymous_token, book):
    # 10 in stock: 6 + 6 cannot both fit; one is refused, and the line holds the other's 6.
    def add():
        return APIClient(headers={"X-Cart-Token": anonymous_token}).post(
            ITEMS, {"book": book.pk, "quantity": 6}
        )

    responses = run_together(add, add)

    assert sorted(r.status_code for r in responses) == [201, 400]
    assert list(CartLine.objects.filter(cart__token=anonymous_token).values_list("quantity", flat=True)) == [
        6
    ]
