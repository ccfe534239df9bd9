"""The session engine (bookstore/sessions.py): Django's cached_db, a new key drawn without
asking the database first, still never given twice."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
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
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(keys))
    store = SessionStore()
    store["who"] = "second"
    store.save()
    assert store.session_key == "k" * 32
    assert SessionStore(taken.session_key)["who"] == "first"
    assert Session.objects.count() == 2
