"""A signed Stripe webhook is processed by a real worker, through the broker, which sends the email."""

import email
import email.policy
import time
from collections.abc import Callable

import pytest

from apps.orders.models import EventStatus, Order, OrderStatus, PaymentEvent
from tests.services import requires_broker, requires_postgres
from tests.standins.stripe_api import DEFAULT_SECRET_KEY
from tests.workers import celery_worker, queue_of_the_test

from .conftest import ORDERS, STRIPE_WEBHOOK_SECRET, fill_cart, stripe_webhook

pytestmark = [requires_postgres, requires_broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(monkeypatch, tmp_path, stripe_api):
    """A worker with the shop's and Stripe's settings (pointed at the stand-in); yields mail and log."""
    env = {
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
    with celery_worker(queue=queue_of_the_test(monkeypatch), folder=tmp_path, env=env) as worker:
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
