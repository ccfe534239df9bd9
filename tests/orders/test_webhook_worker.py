"""A signed Stripe webhook is processed by a real worker, through the broker, which sends the email."""

import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from apps.orders.models import EventStatus, Order, OrderStatus, PaymentEvent
from bookstore.celery import app as celery_app
from tests.services import requires_broker, requires_postgres
from tests.standins.stripe_api import DEFAULT_SECRET_KEY

from .conftest import ORDERS, STRIPE_WEBHOOK_SECRET, fill_cart, stripe_webhook

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
def worker(queue, tmp_path, stripe_api):
    """A Celery worker on the test database, with the shop's and Stripe's settings.

    The worker is another process: the test's settings overrides do not reach it, so it is given
    them in its environment. Its email goes to files. Yields the folder of the emails and the log.
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
        # The tasks the worker enqueues itself (the confirmation email) go to the test's queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "STRIPE_SECRET_KEY": DEFAULT_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_standin",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_api.url,
        "PAYMENT_PROVIDER_TIMEOUT": "1.0",
        "PAYMENT_PROVIDERS": "dummy,stripe",
        "FRONTEND_URL": "http://shop.test",
        "SHOP_CURRENCY": "EUR",
        "SHOP_VAT_RATE": "5.5",
        "SHIPPING_POLICY": "book_law",
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


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> bool:
    """Poll ``condition`` every half second until it holds or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def test_a_signed_webhook_is_processed_by_a_worker_and_the_confirmation_sent(
    user, user_client, client, book, address, stripe_api, worker
):
    mail_dir, log_path = worker

    def worker_log() -> str:
        return f"the worker's log:\n{log_path.read_text()}"

    fill_cart(user, (book, 1))
    placed = user_client.post(ORDERS, {"shipping_address": address.pk, "payment_provider": "stripe"})
    assert placed.status_code == 201, placed.content
    number, intent_id = placed.json()["number"], placed.json()["payment"]["reference"]
    stripe_api.succeed(intent_id)
    event = stripe_api.intent_event("payment_intent.succeeded", intent_id)

    response = stripe_webhook(client, event)

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "duplicate": False}
    order = Order.objects.get(number=number)
    stored = PaymentEvent.objects.get(provider="stripe", event_id=event["id"])

    def done() -> bool:
        order.refresh_from_db()
        stored.refresh_from_db()
        return (
            order.status == OrderStatus.PAID
            and stored.status != EventStatus.RECEIVED
            and any(mail_dir.iterdir())
        )

    wait_for(done)
    assert order.status == OrderStatus.PAID, (
        f"order {number} is {order.status} and its event {stored.status} after 60 s; {worker_log()}"
    )
    assert stored.status == EventStatus.PROCESSED, f"the event is {stored.status}; {worker_log()}"
    sent_files = list(mail_dir.iterdir())
    assert len(sent_files) == 1, f"{len(sent_files)} emails sent within 60 s; {worker_log()}"
    [sent] = sent_files
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == order.email == user.email
    assert message["Subject"] == f"Votre commande {number} est confirmée"

    again = stripe_webhook(client, event)

    assert again.status_code == 200, again.content
    assert again.json() == {"received": True, "duplicate": True}
    time.sleep(2)
    assert len(list(mail_dir.iterdir())) == 1, f"a redelivery sent a second email; {worker_log()}"
    assert PaymentEvent.objects.filter(provider="stripe", event_id=event["id"]).count() == 1
