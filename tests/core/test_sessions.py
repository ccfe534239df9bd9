"""The session engine (bookstore/sessions.py): Django's cached_db, a new key drawn without
asking the database first, still never given twice."""

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookstore import sessions
from bookstore.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_new_session_takes_no_query_to_find_its_key():
    store = SessionStore()
    store["cart_token"] = "abc"
    with CaptureQueriesContext(connection) as context:
        store.save()
    # The INSERT alone (the test's transaction adds a savepoint around it).
    assert [q["sql"].split()[0] for q in context.captured_queries if "SAVEPOINT" not in q["sql"]] == [
        "INSERT"
    ]
    assert SessionStore(store.session_key)["cart_token"] == "abc"


def test_a_key_already_taken_is_drawn_again(monkeypatch):
    taken = SessionStore()
    taken["who"] = "first"
    taken.save()
    keys = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr(sessions, "new_session_key", lambda: next(keys))
    store = SessionStore()
    store["who"] = "second"
    store.save()
    assert store.session_key == "k" * 32
    assert SessionStore(taken.session_key)["who"] == "first"
    assert Session.objects.count() == 2


def test_a_new_session_is_written_to_the_cache_once(monkeypatch):
    store = SessionStore()
    store["cart_token"] = "abc"
    writes = []
    real_set = store._cache.set
    monkeypatch.setattr(
        store._cache, "set", lambda *args, **kwargs: writes.append(args[0]) or real_set(*args, **kwargs)
    )
    store.save()
    assert writes == [store.cache_key]
    assert store._cache.get(store.cache_key) == {"cart_token": "abc"}


@pytest.mark.django_db(transaction=True)
def test_a_new_session_outside_a_transaction_is_one_statement_without_begin_or_commit(monkeypatch):
    commits = []
    real_commit = connection.commit
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1) or real_commit())
    store = SessionStore()
    store["cart_token"] = "abc"
    with CaptureQueriesContext(connection) as context:
        store.save()
    assert [q["sql"].split()[0] for q in context.captured_queries] == ["INSERT"]
    assert commits == []
    assert not connection.in_atomic_block
    # Committed on its own: another connection's read finds it (the cache aside).
    store._cache.delete(store.cache_key)
    assert SessionStore(store.session_key)["cart_token"] == "abc"


def test_a_taken_key_inside_a_transaction_leaves_the_transaction_usable(monkeypatch):
    taken = SessionStore()
    taken.save()
    keys = iter([taken.session_key, "m" * 32])
    monkeypatch.setattr(sessions, "new_session_key", lambda: next(keys))
    with transaction.atomic():
        store = SessionStore()
        store["who"] = "second"
        store.save()
        assert Session.objects.filter(session_key="m" * 32).exists()


def test_an_existing_session_is_updated_in_place():
    store = SessionStore()
    store["who"] = "first"
    store.save()
    again = SessionStore(store.session_key)
    again["who"] = "changed"
    again.save()
    assert again.session_key == store.session_key
    assert Session.objects.count() == 1
    again._cache.delete(again.cache_key)
    assert SessionStore(store.session_key)["who"] == "changed"


def test_a_new_key_is_32_characters_of_djangos_alphabet_and_never_the_same():
    keys = {sessions.new_session_key() for _ in range(2000)}
    assert len(keys) == 2000
    assert all(len(key) == 32 and set(key) <= set(VALID_KEY_CHARS) for key in keys)
    # Every character of the alphabet turns up at the first and at the last place.
    assert {key[0] for key in keys} == {key[-1] for key in keys} == set(VALID_KEY_CHARS)
