"""A signed Stripe webhook is processed by a real worker, through the broker, which sends the email;
the payments queue's worker is not held up by a burst of emails."""

import email
import email.policy
import time
from collections import Counter
from collections.abc import Callable

import pytest

from apps.accounts.tasks import verification_email_send
from apps.orders.models import EventStatus, Order, OrderStatus, PaymentEvent
from tests.services import requires_broker, requires_postgres
from tests.standins.stripe_api import DEFAULT_SECRET_KEY
from tests.workers import broker_queues, celery_worker, queues_of_the_test

from .conftest import ORDERS, STRIPE_WEBHOOK_SECRET, fill_cart, stripe_webhook

pytestmark = [requires_postgres, requires_broker, pytest.mark.django_db(transaction=True)]


def _worker_env(stripe_api) -> dict[str, str]:
    """The shop's and Stripe's settings for a worker (Stripe pointed at the stand-in)."""
    return {
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


@pytest.fixture
def queues(monkeypatch):
    return queues_of_the_test(monkeypatch)


@pytest.fixture
def worker(queues, tmp_path, stripe_api):
    """One worker on every queue; yields its mail folder and log."""
    with celery_worker(queue=queues, folder=tmp_path, env=_worker_env(stripe_api)) as worker:
        yield worker


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


def test_a_burst_of_emails_does_not_delay_a_payment_webhook(
    user, user_client, client, book, address, stripe_api, queues, tmp_path
):
    """200 emails wait on their queue, no email worker running; the payments worker, started with
    ``-Q payments`` as in production, processes the webhook at once, and the confirmation email
    it enqueues joins the others on the emails queue."""
    fill_cart(user, (book, 1))
    placed = user_client.post(ORDERS, {"shipping_address": address.pk, "payment_provider": "stripe"})
    assert placed.status_code == 201, placed.content
    number, intent_id = placed.json()["number"], placed.json()["payment"]["reference"]
    stripe_api.succeed(intent_id)
    event = stripe_api.intent_event("payment_intent.succeeded", intent_id)
    burst = 200

    with (
        broker_queues(queues) as connection,
        celery_worker(queue=queues, folder=tmp_path, kinds=("payments",), env=_worker_env(stripe_api)) as (
            _,
            log_path,
        ),
    ):
        for _ in range(burst):
            verification_email_send.delay(user.pk, user.email)
        response = stripe_webhook(client, event)
        assert response.status_code == 200, response.content
        order = Order.objects.get(number=number)

        def paid() -> bool:
            order.refresh_from_db()
            return order.status == OrderStatus.PAID

        assert wait_for(paid), (
            f"order {number} is {order.status} after 60 s; the worker's log:\n{log_path.read_text()}"
        )

        waiting = queues.kombu_queue("emails").bind(connection.default_channel)
        names: Counter[str] = Counter()
        deadline = time.monotonic() + 10
        while sum(names.values()) < burst + 2 and time.monotonic() < deadline:
            message = waiting.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            names[message.headers["task"]] += 1

    assert names == {
        "apps.accounts.tasks.verification_email_send": burst,
        # Sent by the worker: the confirmation of the order it has just paid, and the relay of the
        # outbox every worker enqueues when it starts.
        "apps.orders.tasks.outbox_email_send": 1,
        "apps.orders.tasks.outbox_emails_relay": 1,
    }
