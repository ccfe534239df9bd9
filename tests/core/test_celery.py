"""With a broker configured, tasks leave the web process and a real worker runs them."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from bookstore.celery import app as celery_app
from tests.services import requires_broker, requires_postgres

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [requires_postgres, requires_broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(monkeypatch) -> str:
    """A queue of this test's own, so no other worker or leftover message interferes."""
    name = f"test-{uuid.uuid4().hex}"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "task_default_queue", name)
    return name


@pytest.fixture
def worker(queue, tmp_path):
    """``celery -A bookstore worker`` on the test database, writing email to files.

    Yields the folder of the emails and the worker's log.
    """
    mail_dir, log_path = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    log = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed command
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bookstore",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield mail_dir, log_path
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_registration_email_is_sent_by_a_worker_through_the_broker(api_client, worker):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "worker@example.com", "password": "a-long-enough-password", "first_name": "Ada"},
    )
    assert response.status_code == 201, response.content

    mail_dir, log_path = worker
    deadline = time.monotonic() + 60
    files: list[Path] = []
    while time.monotonic() < deadline and not files:
        time.sleep(0.5)
        files = list(mail_dir.iterdir())
    assert len(files) == 1, f"the worker sent no email within 60 s; its log:\n{log_path.read_text()}"
    message = files[0].read_text()
    assert "To: worker@example.com" in message
    assert "/accounts/verify-email/?token=" in message
