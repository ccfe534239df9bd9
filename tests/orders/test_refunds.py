"""Refunds through Stripe: full, partial, never more than paid, never twice, and on cancel.

Transactional tests: the provider is asked on commit, so a request's answer shows what Stripe
said only when the request really commits, as it does in production.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.orders.models import Order, Refund
from apps.orders.services import order_mark_paid, order_place, payment_start, refund_create
from apps.orders.services.refunds import refunds_retry_pending

from .conftest import INLINE_ADDRESS, fill_cart, order_url, stripe_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid(user, book, stripe_api, django_capture_on_commit_callbacks) -> Order:
    """An order of 2 copies (25.00 + 3.00 shipping = 28.00 EUR) paid with Stripe."""
    fill_cart(user, (book, 2))
    order, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="stripe")
    payment = payment_start(order=order)
    stripe_api.succeed(payment.reference)
    with django_capture_on_commit_callbacks(execute=True):
        return order_mark_paid(payment_id=payment.pk, amount=Decimal("28.00"), currency="EUR")


@pytest.fixture
def refund(staff_client, paid, django_capture_on_commit_callbacks):
    def post(body: dict | None = None, key: str | None = None):
        headers = {"Idempotency-Key": key} if key else {}
        with django_capture_on_commit_callbacks(execute=True):
            return staff_client.post(order_url(paid.number, "refund"), body or {}, headers=headers)

    return post


def refunded_at_stripe(stripe_api, order) -> int:
    return stripe_api.amount_refunded(order.payments.get().reference)


def test_a_full_refund(refund, paid, stripe_api, mailoutbox):
    response = refund({"reason": "Livre abîmé"})

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "refunded"
    assert body["amount_refunded"] == "28.00"
    [entry] = body["refunds"]
    assert (entry["amount"], entry["status"], entry["reason"]) == ("28.00", "succeeded", "Livre abîmé")
    assert refunded_at_stripe(stripe_api, paid) == 2800
    assert body["history"][-1]["to_status"] == "refunded"
    assert mailoutbox[-1].subject == f"Remboursement de 28,00 EUR — commande {paid.number}"


def test_partial_refunds_then_the_rest(refund, paid, stripe_api, mailoutbox):
    first = refund({"amount": "5.00"}).json()
    assert (first["status"], first["amount_refunded"]) == ("partially_refunded", "5.00")
    second = refund({"amount": "3.50"}).json()
    assert (second["status"], second["amount_refunded"]) == ("partially_refunded", "8.50")
    rest = refund().json()
    assert (rest["status"], rest["amount_refunded"]) == ("refunded", "28.00")
    assert [r["amount"] for r in rest["refunds"]] == ["5.00", "3.50", "19.50"]
    assert refunded_at_stripe(stripe_api, paid) == 2800
    # One notice per refund.
    assert sum("Remboursement" in m.subject for m in mailoutbox) == 3


def test_more_than_what_remains_is_refused(refund, paid, stripe_api):
    refund({"amount": "20.00"})
    response = refund({"amount": "8.01"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "refund_too_large"
    assert body["refundable"] == "8.00"
    assert refunded_at_stripe(stripe_api, paid) == 2000
    assert Refund.objects.count() == 1


def test_nothing_left_to_refund(refund):
    refund()
    response = refund()
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_refund"


def test_an_unpaid_order_has_nothing_to_refund(staff_client, user, book, stripe_api):
    fill_cart(user, (book, 1))
    order, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="stripe")
    response = staff_client.post(order_url(order.number, "refund"), {})
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_refund"


def test_a_retried_refund_is_not_doubled(refund, paid, stripe_api):
    first = refund({"amount": "5.00"}, key="refund-key-1")
    retry = refund({"amount": "5.00"}, key="refund-key-1")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["amount_refunded"] == "5.00"
    assert refunded_at_stripe(stripe_api, paid) == 500
    assert len(stripe_api.refunds) == 1


def test_the_same_key_for_another_amount_is_a_422(refund, paid, stripe_api):
    refund({"amount": "5.00"}, key="refund-key-1")
    response = refund({"amount": "6.00"}, key="refund-key-1")
    assert response.status_code == 422
    assert refunded_at_stripe(stripe_api, paid) == 500


def test_customers_cannot_refund(user_client, paid):
    response = user_client.post(order_url(paid.number, "refund"), {})
    assert response.status_code == 403
    assert not Refund.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001", "abc"])
def test_an_invalid_amount_is_a_400(refund, amount):
    response = refund({"amount": amount})
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]


# --- The provider fails -----------------------------------------------------------------------


def test_a_provider_outage_leaves_the_refund_pending_and_the_retry_refunds_once(
    refund, paid, stripe_api, django_capture_on_commit_callbacks
):
    # Stripe makes the refund, then the answer is lost.
    stripe_api.stall_next(2.5, after=True)
    body = refund({"amount": "5.00"}).json()
    assert body["refunds"][0]["status"] == "pending"
    assert body["status"] == "paid"

    # Reconciliation asks again, with the refund's own idempotency key.
    assert refunds_retry_pending(older_than=timezone.now() + timedelta(seconds=1)) == 1

    assert refunded_at_stripe(stripe_api, paid) == 500
    assert len(stripe_api.refunds) == 1
    assert Order.objects.get(pk=paid.pk).status == "partially_refunded"


def test_a_refund_stripe_refuses_fails_with_its_reason(refund, paid, stripe_api):
    stripe_api.fail_next(400, {"error": {"type": "invalid_request_error", "message": "Charge disputed."}})
    body = refund({"amount": "5.00"}).json()
    [entry] = body["refunds"]
    assert entry["status"] == "failed"
    assert entry["failure_message"]
    assert body["status"] == "paid"
    # A failed refund holds nothing back: the whole amount can still be refunded.
    assert refund().json()["amount_refunded"] == "28.00"


def test_the_refund_webhook_of_the_shops_own_refund_changes_nothing(
    refund, paid, stripe_api, client, django_capture_on_commit_callbacks
):
    refund({"amount": "5.00"})
    with django_capture_on_commit_callbacks(execute=True):
        stripe_webhook(client, stripe_api.charge_refunded_event(paid.payments.get().reference))
    assert Refund.objects.count() == 1
    assert Order.objects.get(pk=paid.pk).status == "partially_refunded"


def test_a_refund_made_in_stripes_dashboard_is_recorded(
    paid, stripe_api, client, user_client, django_capture_on_commit_callbacks
):
    reference = paid.payments.get().reference
    stripe_api.charges[stripe_api.intents[reference]["latest_charge"]]["amount_refunded"] = 1000
    event = stripe_api.charge_refunded_event(reference)
    with django_capture_on_commit_callbacks(execute=True):
        stripe_webhook(client, event)
        stripe_webhook(client, event)
    body = user_client.get(order_url(paid.number)).json()
    assert (body["status"], body["amount_refunded"]) == ("partially_refunded", "10.00")
    assert [r["reason"] for r in body["refunds"]] == ["Refunded at the payment provider."]


# --- Cancelling a paid order ---------------------------------------------------------------


def test_a_customer_cancelling_a_paid_order_is_refunded(
    user_client, paid, book, stripe_api, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(order_url(paid.number, "cancel"), {})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["amount_refunded"] == "28.00"
    assert [(r["amount"], r["status"]) for r in body["refunds"]] == [("28.00", "succeeded")]
    assert refunded_at_stripe(stripe_api, paid) == 2800
    book.refresh_from_db()
    assert book.stock == 10
    subjects = [m.subject for m in mailoutbox]
    assert f"Votre commande {paid.number} est annulée" in subjects
    assert f"Remboursement de 28,00 EUR — commande {paid.number}" in subjects
    cancelled = next(m for m in mailoutbox if "annulée" in m.subject)
    assert "remboursé" in cancelled.body


def test_refund_create_is_the_service_behind_the_endpoint(
    paid, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created, new = refund_create(order=paid, amount=Decimal("1.00"), actor=staff_user)
    assert new
    created.refresh_from_db()
    assert (created.status, created.actor) == ("succeeded", staff_user)
