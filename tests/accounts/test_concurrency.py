"""Concurrent writes to one user's address book, on PostgreSQL (row locks)."""

import threading

import pytest
from django.db import connections

from apps.accounts.models import Address
from apps.accounts.services import address_create
from tests.factories import UserFactory
from tests.services import requires_postgres

ADDRESS = {
    "kind": "shipping",
    "name": "Zoé",
    "line1": "1 rue A",
    "postal_code": "75005",
    "city": "Paris",
    "country": "FR",
}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_addresses_make_exactly_one_default():
    user = UserFactory()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def create(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            address_create(user=user, data={**ADDRESS, "line1": f"{n} rue A", "is_default": n % 2 == 0})
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Address.objects.filter(user=user).count() == 4
    assert Address.objects.filter(user=user, is_default=True).count() == 1


@pytest.mark.django_db
def test_address_list_query_count_does_not_grow(user_client, user, django_assert_max_num_queries):
    for n in range(5):
        address_create(user=user, data={**ADDRESS, "line1": f"{n} rue A"})
    with django_assert_max_num_queries(3):
        response = user_client.get("/api/v1/me/addresses/")
    assert response.json()["count"] == 5
