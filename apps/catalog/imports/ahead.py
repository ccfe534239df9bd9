"""Reading a file ahead of its writer: the reader parses the next rows while the batch before
is written.

In a process of its own when the import runs alone (a management command: the process is
forked, so the reader needs nothing pickled but what it yields), which gives the parsing a core
of its own; in a thread otherwise (a process that already runs threads, such as a test
worker, is not forked), which still overlaps the parsing with the writer's waits on the
database. Either way at most ``DEPTH`` chunks of ``CHUNK`` items wait, so memory stays flat;
an error of the reader (a file that is not well-formed, Ctrl-C in a test's reader) is raised
to the caller after the items before it, where it would have been raised without the
read-ahead; and the reader stops when the caller does (a finished import, Ctrl-C, SIGTERM).
"""

import multiprocessing
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

CHUNK = 250
DEPTH = 8

# Messages from the reader: ("items", [...]), ("error", exception) and ("done", None).
type _Message = tuple[str, Any]


def read_ahead[T](items: Iterable[T]) -> Iterator[T]:
    """``items``, in their order, read ahead by a process or a thread (close the iterator to
    stop the reader early)."""
    forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    return _in_process(items) if forkable else _in_thread(items)


def _produce(items: Iterable[Any], put: Callable[[_Message], bool], *, portable: bool) -> None:
    pending: list[Any] = []
    try:
        for item in items:
            pending.append(item)
            if len(pending) >= CHUNK:
                if not put(("items", pending)):
                    return
                pending = []
        if pending and not put(("items", pending)):
            return
        put(("done", None))
    except BaseException as error:  # handed to the caller, raised there after the items before it
        if portable:
            try:
                pickle.dumps(error)
            except Exception:  # any exception that cannot cross to the writer
                error = RuntimeError(f"{type(error).__name__}: {error}")
        if not pending or put(("items", pending)):
            put(("error", error))


def _consume[T](get: Callable[[], _Message]) -> Iterator[T]:
    while True:
        kind, value = get()
        if kind == "done":
            return
        if kind == "error":
            raise value
        yield from value


def _in_thread[T](items: Iterable[T]) -> Iterator[T]:
    messages: queue.Queue[_Message] = queue.Queue(maxsize=DEPTH)
    stop = threading.Event()

    def put(message: _Message) -> bool:
        while not stop.is_set():
            try:
                messages.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    thread = threading.Thread(target=_produce, args=(items, put), kwargs={"portable": False}, daemon=True)
    thread.start()
    try:
        yield from _consume(messages.get)
    finally:
        stop.set()
        thread.join(timeout=5)


def _child(items: Iterable[Any], messages: Any) -> None:
    # Ctrl-C on a terminal reaches the whole process group: the writer handles it and stops
    # us, with SIGTERM, whose handler here is the default again (not the writer's, inherited).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def put(message: _Message) -> bool:
        messages.put(message)
        return True

    _produce(items, put, portable=True)
    messages.close()
    messages.join_thread()  # everything sent before the process ends


def _in_process[T](items: Iterable[T]) -> Iterator[T]:
    context = multiprocessing.get_context("fork")
    messages = context.Queue(maxsize=DEPTH)
    process = context.Process(target=_child, args=(items, messages), name="import-reader", daemon=True)
    process.start()

    def get() -> _Message:
        while True:
            try:
                return messages.get(timeout=1.0)
            except queue.Empty:
                if not process.is_alive():
                    raise RuntimeError(f"The file's reader stopped (exit code {process.exitcode}).") from None

    try:
        yield from _consume(get)
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        messages.close()
        messages.cancel_join_thread()
