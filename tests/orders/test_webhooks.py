"""Stripe webhooks: verified first, stored once, processed once, in any order, strictly."""

import json
import threading
import time

import pytest
from django.db import connection

from apps.orders.models import Order, OutboxEmail, Payment, PaymentEvent
from apps.orders.services import order_place, payment_start
from tests.services import requires_postgres
from tests.standins.stripe_api import sign

from .conftest import INLINE_ADDRESS, STRIPE_WEBHOOK_SECRET, fill_cart, stripe_webhook

WEBHOOK = "/api/v1/payments/webhooks/stripe/"


@pytest.fixture
def payment(user, book, stripe_api) -> Payment:
    """A Stripe payment of 15.50 EUR, started: its intent exists at the stand-in."""
    fill_cart(user, (book, 1))
    order, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="stripe")
    return payment_start(order=order)


def succeeded_event(stripe_api, payment, **changes) -> dict:
    stripe_api.succeed(payment.reference)
    event = stripe_api.intent_event("payment_intent.succeeded", payment.reference)
    event["data"]["object"].update(changes)
    return event


def deliver(client, event, callbacks):
    with callbacks(execute=True):
        return stripe_webhook(client, event)


def status_of(payment) -> tuple[str, str]:
    payment.refresh_from_db()
    return payment.order.status, payment.status


# --- Signatures -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tampered_body_is_refused_and_nothing_stored(client, stripe_api, payment):
    event = succeeded_event(stripe_api, payment)
    body = json.dumps(event).encode()
    header = sign(body, STRIPE_WEBHOOK_SECRET)
    tampered = body.replace(b'"amount_received": 1550', b'"amount_received": 1')
    assert tampered != body

    response = client.post(
        WEBHOOK, tampered, content_type="application/json", headers={"Stripe-Signature": header}
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "webhook_invalid"
    assert not PaymentEvent.objects.exists()
    assert status_of(payment) == ("pending_payment", "pending")


@pytest.mark.django_db
def test_a_wrong_secret_is_refused(client, stripe_api, payment):
    response = stripe_webhook(client, succeeded_event(stripe_api, payment), secret="whsec_someone_else")
    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()


@pytest.mark.django_db
def test_a_stale_signature_is_refused(client, stripe_api, payment):
    # Signed correctly, but 10 minutes ago: a replay by someone who captured it.
    response = stripe_webhook(client, succeeded_event(stripe_api, payment), timestamp=int(time.time()) - 600)
    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()


@pytest.mark.django_db
def test_a_webhook_without_a_signature_is_refused(client, stripe_api, payment):
    event = succeeded_event(stripe_api, payment)
    response = client.post(WEBHOOK, json.dumps(event), content_type="application/json")
    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()


@pytest.mark.django_db
def test_a_provider_not_enabled_has_no_webhook(client):
    assert client.post(WEBHOOK, b"{}", content_type="application/json").status_code == 404


# --- Once ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_replayed_event_is_stored_and_processed_once(
    client, stripe_api, payment, mailoutbox, django_capture_on_commit_callbacks
):
    event = succeeded_event(stripe_api, payment)
    answers = [deliver(client, event, django_capture_on_commit_callbacks) for _ in range(3)]

    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    stored = PaymentEvent.objects.get()
    assert (stored.status, stored.payment_id, stored.attempts) == ("processed", payment.pk, 1)
    assert status_of(payment) == ("paid", "succeeded")
    assert payment.order.history.filter(to_status="paid").count() == 1
    assert len(mailoutbox) == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_ten_times_at_once_pays_once(stripe_api, payment, mailoutbox):
    from django.test import Client

    event = succeeded_event(stripe_api, payment)
    barrier = threading.Barrier(10)
    answers: list[int] = []

    def deliver_once():
        try:
            barrier.wait()
            answers.append(stripe_webhook(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200] * 10
    assert PaymentEvent.objects.count() == 1
    assert status_of(payment) == ("paid", "succeeded")
    assert payment.order.history.filter(to_status="paid").count() == 1
    assert OutboxEmail.objects.filter(order=payment.order).count() == 1
    assert len(mailoutbox) == 1


# --- Any order -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failure_after_the_success_does_not_unpay(
    client, stripe_api, payment, django_capture_on_commit_callbacks
):
    success = succeeded_event(stripe_api, payment)
    failure = stripe_api.intent_event("payment_intent.payment_failed", payment.reference)
    failure["data"]["object"].update(
        status="requires_payment_method", last_payment_error={"message": "Declined"}
    )

    deliver(client, success, django_capture_on_commit_callbacks)
    deliver(client, failure, django_capture_on_commit_callbacks)

    assert status_of(payment) == ("paid", "succeeded")


@pytest.mark.django_db
def test_a_failure_then_a_success_pays(client, stripe_api, payment, django_capture_on_commit_callbacks):
    stripe_api.fail(payment.reference)
    deliver(
        client,
        stripe_api.intent_event("payment_intent.payment_failed", payment.reference),
        django_capture_on_commit_callbacks,
    )
    assert status_of(payment) == ("pending_payment", "failed")
    assert payment.failure_message == "Your card was declined."

    # The customer tries another card on the same intent.
    deliver(client, succeeded_event(stripe_api, payment), django_capture_on_commit_callbacks)
    assert status_of(payment) == ("paid", "succeeded")


@pytest.mark.django_db
def test_a_refund_seen_before_the_success_is_applied_when_the_success_arrives(
    client, stripe_api, payment, django_capture_on_commit_callbacks
):
    success = succeeded_event(stripe_api, payment)
    # Refunded from Stripe's dashboard: 5.00 of the 15.50.
    stripe_api.charges[stripe_api.intents[payment.reference]["latest_charge"]]["amount_refunded"] = 500
    refunded = stripe_api.charge_refunded_event(payment.reference)

    deliver(client, refunded, django_capture_on_commit_callbacks)
    assert PaymentEvent.objects.get(event_type="charge.refunded").status == "deferred"
    assert status_of(payment) == ("pending_payment", "pending")

    deliver(client, success, django_capture_on_commit_callbacks)

    assert PaymentEvent.objects.get(event_type="charge.refunded").status == "processed"
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == "partially_refunded"
    [refund] = payment.refunds.all()
    assert (str(refund.amount), refund.status) == ("5.00", "succeeded")


# --- Strict ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("amount_received", 1549), ("currency", "usd")])
def test_a_success_of_another_amount_or_currency_is_flagged_and_never_pays(
    client, stripe_api, payment, django_capture_on_commit_callbacks, field, value
):
    response = deliver(
        client, succeeded_event(stripe_api, payment, **{field: value}), django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert status_of(payment) == ("pending_payment", "pending")
    assert "15.50 EUR" in payment.flag
    assert PaymentEvent.objects.get().status == "flagged"


@pytest.mark.django_db
def test_an_event_for_an_unknown_payment_is_stored_and_answered_200(
    client, stripe_api, django_capture_on_commit_callbacks, caplog
):
    event = stripe_api.event(
        "payment_intent.succeeded",
        {"id": "pi_not_ours", "object": "payment_intent", "amount_received": 100, "currency": "eur"},
    )
    response = deliver(client, event, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert PaymentEvent.objects.get().status == "unmatched"
    assert "pi_not_ours" in caplog.text


@pytest.mark.django_db
def test_other_events_are_stored_and_ignored(client, stripe_api, payment, django_capture_on_commit_callbacks):
    event = stripe_api.event("customer.created", {"id": "cus_1", "object": "customer"})
    response = deliver(client, event, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert PaymentEvent.objects.get().status == "ignored"
