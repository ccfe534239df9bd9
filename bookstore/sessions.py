"""The session engine: Django's ``cached_db`` (Redis, written through to the database), less
what a new session paid for nothing.

- Django draws a new key and asks the database whether it exists (one SELECT) before it
  inserts the row; the insert itself refuses a taken key (the primary key: ``CreateError``,
  and ``create()`` draws again), so that SELECT only made every new session (an anonymous
  visitor's first cart line) one query longer. 32 characters of 36 make a collision a 2^-165
  event anyway. The key is drawn from one number of the operating system's randomness
  (``new_session_key``): ``get_random_string`` draws each character on its own, about 57
  system calls for 32 characters.
- Django's ``save()`` of a new session goes through ``create()``, which saves (row, then
  cache) and returns to the first ``save()``, which wrote the same value to the cache again:
  a new session is one cache write here.
- The new row is one INSERT, in no transaction of its own when none is open: a single
  statement commits alone, and Django's ``atomic`` around it cost a BEGIN and a COMMIT of their
  own (two round trips). Inside a transaction it still takes a savepoint, so a taken key
  leaves the caller's transaction usable. PostgreSQL prepares it once per connection
  (``bookstore.db.prepared_cursor``).
"""

import logging
import secrets

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.db import IntegrityError, connections, router, transaction

from bookstore.db import prepared_cursor

logger = logging.getLogger("django.contrib.sessions")

KEY_LENGTH = 32
_KEYS = len(VALID_KEY_CHARS) ** KEY_LENGTH


def new_session_key() -> str:
    """``get_random_string(32, VALID_KEY_CHARS)``'s keys, each as likely: the base-36 digits
    of one uniform number below 36^32, from the operating system's randomness."""
    number = secrets.randbelow(_KEYS)
    characters = []
    for _ in range(KEY_LENGTH):
        number, digit = divmod(number, len(VALID_KEY_CHARS))
        characters.append(VALID_KEY_CHARS[digit])
    return "".join(characters)


class SessionStore(CachedDbSessionStore):
    def _get_new_session_key(self) -> str:
        return new_session_key()

    async def _aget_new_session_key(self) -> str:
        return new_session_key()

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            # create() draws a key and comes back here with must_create: one row, one cache write.
            return self.create()
        if must_create:
            self._row_insert()
        else:
            # An update: Django's (an UPDATE in a transaction, UpdateError when the row is gone).
            super(CachedDbSessionStore, self).save(must_create=False)
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)

    def _row_insert(self) -> None:
        """The new session's row, as Django's ``save(must_create=True)`` writes it; a key already
        taken is ``CreateError``."""
        model = self.model
        using = router.db_for_write(model)
        connection = connections[using]
        meta = model._meta
        fields = [meta.get_field(name) for name in ("session_key", "session_data", "expire_date")]
        values = [
            self._get_or_create_session_key(),
            self.encode(self._get_session(no_load=True)),
            self.get_expiry_date(),
        ]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 (names only)
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        params = [f.get_db_prep_save(value, connection) for f, value in zip(fields, values, strict=True)]
        try:
            if connection.in_atomic_block or not connection.get_autocommit():
                with transaction.atomic(using=using), prepared_cursor(using) as cursor:
                    cursor.execute(sql, params)
            else:
                with prepared_cursor(using) as cursor:
                    cursor.execute(sql, params)
        except IntegrityError as error:
            raise CreateError from error
