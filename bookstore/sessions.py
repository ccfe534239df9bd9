"""The session engine: Django's ``cached_db`` (Redis, written through to the database), without
the query that looked for a new session's key before creating it.

Django draws a new key and asks the database whether it exists (one SELECT) before it inserts
the row; the insert itself refuses a taken key (the primary key: ``CreateError``, and
``create()`` draws again), so that SELECT only made every new session (an anonymous visitor's
first cart line) one query longer. 32 characters of 36 make a collision a 2^-165 event anyway.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.utils.crypto import get_random_string


class SessionStore(CachedDbSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)
