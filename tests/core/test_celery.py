"""With a broker configured, tasks leave the web process and a real worker runs them."""

import time
from pathlib import Path

import pytest

from tests.services import requires_broker, requires_postgres
from tests.workers import celery_worker, queue_of_the_test

pytestmark = [requires_postgres, requires_broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch, tmp_path):
    with celery_worker(queue=queue_of_the_test(monkeypatch), folder=tmp_path) as worker:
        yield worker


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
