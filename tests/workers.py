"""A real Celery worker for a test: its own queue, the test's database, email written to files."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bookstore.celery import app as celery_app
from tests.servers import stop, the_test_database_url

ROOT = Path(__file__).resolve().parents[1]


def queue_of_the_test(monkeypatch) -> str:
    """A queue of the test's own (no other worker or leftover message interferes); tasks leave
    the test process for it instead of running eagerly."""
    name = f"test-{uuid.uuid4().hex}"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", name)
    return name


@contextmanager
def celery_worker(
    *, queue: str, folder: Path, env: Mapping[str, str] | None = None
) -> Iterator[tuple[Path, Path]]:
    """``celery -A bookstore worker`` on ``queue`` and the test database; yields the folder of the
    emails it sends and its log. ``env`` adds settings (the worker is another process: the test's
    overrides do not reach it). The tasks it enqueues itself go to ``queue`` too."""
    mail_dir, log_path = folder / "mail", folder / "worker.log"
    mail_dir.mkdir()
    worker_env = {
        **os.environ,
        "DATABASE_URL": the_test_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "bookstore", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield mail_dir, log_path
        finally:
            stop(process, timeout=20)
