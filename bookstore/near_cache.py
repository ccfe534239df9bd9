"""Each process's own copy of the keys its cached reads depend on, kept current by Redis.

A cached catalogue read that hits is one ``MGET`` (``bookstore.cache.entry_fetch``): the entry
and the generations and books' numbers it recorded. On this machine that round trip is most of
what a hit costs above a plain Django view: the web process writes, sleeps, is woken and reads,
and Redis reads, answers and writes, on cores shared with every other worker
(docs/benchmarks.md). A ``NearCache`` answers the same ``MGET`` from the process's memory when
it read those keys before and none of them has changed since.

"Changed since" is Redis's to say: this is Redis's client-side caching (``CLIENT TRACKING``,
Redis 6 and later, in its default mode). The keys are read on a connection of their own whose
tracking is redirected to a second connection subscribed to ``__redis__:invalidate``; Redis
remembers each key that connection read, existing or not, and when one is written, deleted,
expires or is evicted, it sends that key's name to the subscriber (a flush sends no names:
everything goes). Before answering from memory, the process reads whatever the subscriber has
received (a poll of its socket, no round trip) and forgets the keys named. Redis queues the
invalidation in the same turn of its event loop as the reply to the write that caused it, so a
read that starts after a write's new generation was acknowledged to its writer sees the
invalidation, as it would have seen the new value in Redis: a price change is not served
stale, and a stock figure is not older than the last committed change of its book, as before.

What makes the copy be forgotten, all of it: the subscriber's connection closing or failing
(a Redis restart, a network cut: Redis no longer tells this process what changed), any error
on either connection, a flush, a fork (a child starts with nothing), and ``NEAR_CACHE_KEYS``
reached (the oldest go first; Redis may go on sending their names, which are then ignored).
After an error the near cache is not asked for ``NEAR_CACHE_RETRY_SECONDS``: the reads go to
Redis as they did without it, with the cache's own error handling.

Only what is read through ``mget`` is copied; every write goes to Redis as before.
"""

import logging
import os
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger("bookstore.cache")

INVALIDATE_CHANNEL = b"__redis__:invalidate"
_ABSENT = object()


class NearCache:
    """The values of the keys read through ``mget``, kept while Redis has not invalidated
    them (module docstring). Safe to share between the threads of a process. ``connect`` makes
    a connection speaking RESP2 (the invalidations are read as a channel's messages)."""

    def __init__(
        self,
        connect: Callable[[], AbstractConnection],
        *,
        max_keys: int,
        retry_seconds: float,
    ) -> None:
        self._connect = connect
        self._max_keys = max_keys
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._values: OrderedDict[bytes, Any] = OrderedDict()
        self._reader: AbstractConnection | None = None
        self._listener: AbstractConnection | None = None
        self._poll: select.poll | None = None
        self._pid = 0
        self._down_until = 0.0
        # Round trips made by ``mget`` (reads of keys not held), for tests and benchmarks.
        self.round_trips = 0

    def mget(self, keys: Sequence[bytes], decode: Callable[[bytes], Any] = bytes) -> list[Any] | None:
        """The values at ``keys`` (None for a missing key), as an ``MGET`` would answer them
        now: from memory for the keys held, from Redis in one round trip for the others, and
        kept as ``decode`` makes them from the bytes read (once per value read: callers of one
        near cache decode alike). None when Redis cannot be asked this way (an error, or one a
        moment ago): the caller reads as it would without a near cache."""
        with self._lock:
            if self._pid != os.getpid():  # a new process: nothing held, no connection of its own
                self._forget(close=False)
                self._pid = os.getpid()
            if self._down_until and time.monotonic() < self._down_until:
                return None
            try:
                if self._listener is None:
                    self._open()
                self._invalidate()
                values = self._values
                try:
                    return [values[key] for key in keys]  # all held: the usual case
                except KeyError:
                    pass
                found = [values.get(key, _ABSENT) for key in keys]
                missing = [key for key, value in zip(keys, found, strict=True) if value is _ABSENT]
                if missing:
                    read = {
                        key: None if value is None else decode(value)
                        for key, value in zip(missing, self._read(missing), strict=True)
                    }
                    self._keep(read)
                    found = [
                        read[key] if value is _ABSENT else value
                        for key, value in zip(keys, found, strict=True)
                    ]
                return found
            except (RedisError, OSError, ValueError):
                logger.warning(
                    "Near cache off for %ss: Redis did not answer its reads",
                    self._retry_seconds,
                    exc_info=True,
                )
                self._forget(close=True)
                self._down_until = time.monotonic() + self._retry_seconds
                return None

    def forget(self, keys: Iterable[bytes]) -> None:
        """Forget these keys now: this process has just written them. Redis's invalidation is
        on its way, but may not have reached the subscriber's socket when this process reads
        them next; another process reads them at least a request later."""
        with self._lock:
            for key in keys:
                self._values.pop(key, None)

    def clear(self) -> None:
        """Forget every value held (the connections stay)."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)

    # --- Under the lock ----------------------------------------------------------------------

    def _open(self) -> None:
        listener = self._connect()
        listener.send_command("CLIENT", "ID")
        listener_id = int(listener.read_response())
        listener.send_command("SUBSCRIBE", INVALIDATE_CHANNEL)
        # hiredis gives a subscriber's messages as push notifications, RESP2 or not.
        listener.read_response(push_request=True)
        reader = self._connect()
        reader.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", listener_id)
        reader.read_response()
        self._listener, self._reader = listener, reader
        # Polled before each answer from memory: one system call, nothing sent.
        sock = listener._sock
        if sock is None:
            raise RedisConnectionError("The near cache's subscriber is not connected")
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN | select.POLLPRI)
        self._down_until = 0.0

    def _invalidate(self) -> None:
        """Forget the keys Redis has said changed since the last call (no round trip)."""
        listener = self._listener
        if listener is None or self._poll is None:
            raise RedisConnectionError("The near cache's subscriber is not connected")
        # Nothing on the socket: nothing changed (the parser holds nothing either, as the loop
        # below leaves only once the parser and the socket have nothing more).
        if not self._poll.poll(0):
            return
        while listener.can_read(timeout=0):
            message = listener.read_response(push_request=True)
            # [b"message", the channel, keys] (RESP2): the keys are None when Redis was flushed.
            if (
                not isinstance(message, list)
                or len(message) != 3
                or message[0] != b"message"
                or message[1] != INVALIDATE_CHANNEL
            ):
                continue
            names = message[2]
            if names is None:
                self._values.clear()
            else:
                for name in names:
                    self._values.pop(name, None)

    def _read(self, keys: list[bytes]) -> list[Any]:
        reader = self._reader
        if reader is None:
            raise RedisConnectionError("The near cache's reader is not connected")
        self.round_trips += 1
        reader.send_command("MGET", *keys)
        values = reader.read_response()
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(f"MGET answered {values!r}")
        return values

    def _keep(self, read: dict[bytes, Any]) -> None:
        values = self._values
        for _ in range(min(len(values), len(values) + len(read) - self._max_keys)):
            values.popitem(last=False)  # the oldest first
        values.update(read)

    def _forget(self, *, close: bool) -> None:
        self._values.clear()
        for connection in (self._reader, self._listener):
            if connection is not None and close:
                try:
                    connection.disconnect()
                except Exception:
                    logger.debug("Near cache connection not closed cleanly", exc_info=True)
        self._reader = self._listener = None
        self._poll = None
