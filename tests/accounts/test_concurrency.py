"""Concurrent writes on PostgreSQL: one user's address book (row locks), one address registered twice."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from rest_framework.test import APIClient

from apps.accounts.models import Address
from apps.accounts.services import address_create
from tests.factories import UserFactory
from tests.services import requires_postgres

User = get_user_model()

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


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_address_make_one_account_and_answer_alike(outbox):
    barrier = threading.Barrier(4)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def register(n: int) -> None:
        try:
            client = APIClient(REMOTE_ADDR=f"198.51.100.{n}")
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/auth/register/",
                {
                    "email": "Race@Example.com" if n % 2 else "race@example.com",
                    "password": "Lecture-du-soir-2026",
                },
            )
            statuses.append(response.status_code)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert statuses == [201] * 4
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
    # The winner is sent its verification link; the owner hears once about the other attempts.
    subjects = sorted(message.subject for message in outbox)
    assert subjects == [
        "Confirmez votre adresse email — Librairie",
        "Vous avez déjà un compte à la Librairie",
    ]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_accounts_verifying_the_same_new_address_at_once_one_wins_cleanly():
    from apps.accounts.exceptions import InvalidToken
    from apps.accounts.services import user_email_verify
    from apps.accounts.tokens import email_verification_tokens, token_make

    wanted = "shared@example.com"
    users = [UserFactory(pending_email=wanted), UserFactory(pending_email=wanted)]
    tokens = [token_make(email_verification_tokens, user) for user in users]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def verify(token: str) -> None:
        try:
            barrier.wait(timeout=10)
            user_email_verify(token=token)
            outcomes.append("verified")
        except InvalidToken:
            outcomes.append("refused")
        except BaseException as error:  # an IntegrityError here would be the 500
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    for _round in range(5):
        outcomes.clear()
        User.objects.filter(pk__in=[u.pk for u in users]).update(pending_email=wanted)
        User.objects.filter(email=wanted).update(email=f"old-{_round}@example.com")
        for user in users:
            user.refresh_from_db()
        tokens = [token_make(email_verification_tokens, user) for user in users]
        barrier.reset()
        threads = [threading.Thread(target=verify, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["refused", "verified"]
        assert User.objects.filter(email=wanted).count() == 1
