"""Order emails go through an outbox: written with the change, sent after it, once."""

import logging
import socket
import time
from datetime import timedelta

import pytest
from celery.result import allow_join_result
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.orders.models import Order, OutboxEmail
from apps.orders.services import order_mark_paid, order_place, order_transition, outbox_email_send
from apps.orders.tasks import outbox_emails_relay
from bookstore.celery import app as celery_app
from tests.services import requires_broker, requires_postgres
from tests.workers import celery_worker, queues_of_the_test

from .conftest import INLINE_ADDRESS, ORDERS, fill_cart


@pytest.fixture
def order(user, book):
    fill_cart(user, (book, 1))
    placed, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")
    return placed


def pay(order):
    return order_mark_paid(payment_id=order.payments.get().pk, amount=order.total, currency="EUR")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_paid_order_gets_its_confirmation_once(order, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [order.email]
    assert message.subject == f"Votre commande {order.number} est confirmée"
    assert "Les Misérables" in message.body
    assert "12 rue des Écoles" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert order.number in html
    email = OutboxEmail.objects.get(order=order)
    assert (email.status, email.attempts) == ("sent", 1)
    assert email.sent_at is not None

    assert outbox_emails_relay.delay().get() == 0
    assert outbox_email_send(email_id=email.pk) is False
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_cancellation_notice(order, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to_status="cancelled")
    assert [m.subject for m in mailoutbox] == [f"Votre commande {order.number} est annulée"]
    assert "Aucun montant" in mailoutbox[0].body


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_email(order, mailoutbox, django_capture_on_commit_callbacks):
    def pay_then_fail():
        with transaction.atomic():
            pay(order)
            raise RuntimeError("the request failed after the payment was recorded")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        pay_then_fail()
    assert not OutboxEmail.objects.exists()
    assert mailoutbox == []
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
def test_a_failed_send_is_kept_and_the_relay_sends_it(order, mailoutbox, django_capture_on_commit_callbacks):
    unreachable_smtp = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }
    with override_settings(MAILERS=unreachable_smtp), django_capture_on_commit_callbacks(execute=True):
        # The task retries on connection errors; eagerly, the retry surfaces as the error.
        pay(order)
    email = OutboxEmail.objects.get(order=order)
    assert email.status == "pending"
    assert "Connection" in email.last_error or "refused" in email.last_error.lower()
    assert mailoutbox == []

    assert outbox_emails_relay.delay().get() == 1
    assert outbox_emails_relay.delay().get() == 0
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")


@pytest.mark.django_db
def test_relay_takes_over_a_claim_abandoned_by_a_crashed_worker(order, mailoutbox):
    pay(order)  # on_commit callbacks are not run here: the email waits in the outbox
    email = OutboxEmail.objects.get(order=order)
    OutboxEmail.objects.filter(pk=email.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=2)
    )
    assert outbox_emails_relay.delay().get() == 0  # someone is sending it right now

    OutboxEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))
    assert outbox_emails_relay.delay().get() == 1
    assert len(mailoutbox) == 1


@pytest.fixture
def unreachable_broker(monkeypatch):
    """Celery as in production (not eager) with its broker on a port where nothing listens."""
    # Celery reads the CELERY_BROKER_URL environment variable before its configuration (CI
    # sets it): without it, the configured URL below is the one used.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    celery_app._pool = None  # connections are made lazily from the settings above
    celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_broker_down_the_order_is_placed_and_paid_and_the_email_goes_later_once(
    user, user_client, client, book, mailoutbox, caplog, unreachable_broker
):
    fill_cart(user, (book, 1))
    with caplog.at_level(logging.ERROR):
        placed = user_client.post(ORDERS, {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"})
        assert placed.status_code == 201
        paid = client.post(
            placed.json()["payment"]["pay_url"].removeprefix("http://shop.test"), {"action": "pay"}
        )
    assert paid.status_code == 302
    body = user_client.get(f"{ORDERS}{placed.json()['number']}/").json()
    assert body["status"] == "paid"
    email = OutboxEmail.objects.get(order__number=body["number"])
    assert email.status == "pending"
    assert mailoutbox == []
    # The enqueue failure was caught and logged, not raised to the customer.
    assert any("on_commit" in record.getMessage() for record in caplog.records)

    # The broker is back: beat runs the relay. (Joining an eager result is allowed here: this
    # process is no worker, whatever state an earlier test in it left Celery in.)
    celery_app.conf.task_always_eager = True
    with allow_join_result():
        assert outbox_emails_relay.delay().get() == 1
        assert outbox_emails_relay.delay().get() == 0
    assert [m.subject for m in mailoutbox] == [f"Votre commande {body['number']} est confirmée"]


@requires_postgres
@requires_broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_starts_sends_the_emails_that_waited_without_beat(user, book, monkeypatch, tmp_path):
    fill_cart(user, (book, 1))
    placed, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")
    broker = celery_app.conf.broker_url
    # Paid while no broker was reachable: the email waits in the outbox, unsent.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)  # restored after the test
    celery_app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        pay(placed)
    finally:
        celery_app.conf.broker_url = broker
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
    assert OutboxEmail.objects.get(order=placed).status == "pending"

    # No beat runs; a worker starts, on a queue of this test's own.
    with celery_worker(queue=queues_of_the_test(monkeypatch), folder=tmp_path) as (mail_dir, log_path):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and OutboxEmail.objects.get(order=placed).status != "sent":
            time.sleep(0.5)
        assert OutboxEmail.objects.get(order=placed).status == "sent", log_path.read_text()
    assert len(list(mail_dir.iterdir())) == 1
