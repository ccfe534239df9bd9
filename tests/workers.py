"""Real Celery workers for a test: queues of its own, the test's database, email written to files."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from kombu import Connection, Exchange, Queue

from bookstore.celery import app as celery_app
from tests.servers import stop, the_test_database_url

ROOT = Path(__file__).resolve().parents[1]
KINDS = tuple(settings.TASK_QUEUES)


@dataclass(frozen=True)
class TestQueues:
    """The shop's queues under a prefix of the test's own (``TASK_QUEUE_PREFIX``): no other
    worker or leftover message interferes."""

    prefix: str

    def __getitem__(self, kind: str) -> str:
        return self.prefix + kind

    def routes(self) -> dict[str, dict[str, str]]:
        """The settings' routes, to this prefix's queues."""
        plain = {name: kind for kind, name in settings.TASK_QUEUES.items()}
        return {
            pattern: {"queue": self[plain[route["queue"]]]}
            for pattern, route in settings.CELERY_TASK_ROUTES.items()
        }

    def kombu_queue(self, kind: str) -> Queue:
        return Queue(self[kind], Exchange(self[kind]), routing_key=self[kind])


def queues_of_the_test(monkeypatch) -> TestQueues:
    """Route this process's tasks to queues of the test's own, as a worker started with the
    same prefix routes its own; tasks leave the test process instead of running eagerly."""
    queues = TestQueues(f"test-{uuid.uuid4().hex[:12]}-")
    saved = {key: celery_app.conf[key] for key in ("task_default_queue", "task_routes")}
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    # update() (not a plain assignment) makes Celery rebuild its router from the new routes.
    celery_app.conf.update(task_default_queue=queues["default"], task_routes=queues.routes())
    _on_undo(monkeypatch, lambda: celery_app.conf.update(**saved))
    return queues


def _on_undo(monkeypatch, callback) -> None:
    """Run ``callback`` when ``monkeypatch`` undoes its changes (at the end of the test)."""
    original = monkeypatch.undo

    def undo() -> None:
        original()
        callback()

    monkeypatch.undo = undo


@contextmanager
def broker_queues(
    queues: TestQueues, *, kinds: Iterable[str] = KINDS, url: str | None = None
) -> Iterator[Connection]:
    """A connection to the broker (``url``, or the settings' one) with the test's queues declared;
    they are deleted afterwards."""
    with Connection(url or settings.CELERY_BROKER_URL, connect_timeout=5) as connection:
        channel = connection.default_channel
        declared = [queues.kombu_queue(kind).bind(channel) for kind in kinds]
        for queue in declared:
            queue.declare()
        try:
            yield connection
        finally:
            for queue in declared:
                queue.delete()
                if queue.exchange is not None:
                    queue.exchange.delete()


def messages_waiting(connection: Connection, queues: TestQueues, kind: str) -> int:
    """Messages waiting (not yet delivered to a consumer) on the test's queue of ``kind``."""
    return queues.kombu_queue(kind).bind(connection.default_channel).queue_declare(passive=True).message_count


@contextmanager
def celery_worker(
    *,
    queue: TestQueues,
    folder: Path,
    kinds: Iterable[str] = KINDS,
    env: Mapping[str, str] | None = None,
    name: str = "worker",
) -> Iterator[tuple[Path, Path]]:
    """``celery -A bookstore worker -Q <the test's queues of these kinds>`` on the test database,
    as production runs one worker per queue group; yields the folder of the emails it sends and
    its log. ``env`` adds settings (the worker is another process: the test's overrides do not
    reach it). The tasks it enqueues itself go to the test's queues too."""
    mail_dir, log_path = folder / f"{name}-mail", folder / f"{name}.log"
    mail_dir.mkdir()
    worker_env = {
        **os.environ,
        "DATABASE_URL": the_test_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TASK_QUEUE_PREFIX": queue.prefix,
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "bookstore", "worker", "--pool=solo", "--hostname"]
    command += [f"{name}-{queue.prefix}@%h", "-Q", ",".join(queue[kind] for kind in kinds)]
    command += ["--prefetch-multiplier", "1", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    command += ["--loglevel=WARNING"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield mail_dir, log_path
        finally:
            stop(process, timeout=20)
