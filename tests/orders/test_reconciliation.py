"""Reconciliation: a lost webhook never leaves a paid order unpaid, nor a late payment unrefunded."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.orders.models import Order, Payment
from apps.orders.services import (
    order_mark_paid,
    order_place,
    orders_expire_unpaid,
    payment_retry,
    payment_start,
    payments_reconcile_due,
)

from .conftest import INLINE_ADDRESS, fill_cart, stripe_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def payment(user, book, stripe_api) -> Payment:
    fill_cart(user, (book, 1))
    order, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="stripe")
    return payment_start(order=order)


def later(minutes: int = 6):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_success_whose_webhook_was_lost_is_found_and_the_order_paid(payment, stripe_api, mailoutbox):
    stripe_api.succeed(payment.reference)  # the customer paid; Stripe's webhook never arrives

    assert payments_reconcile_due(now=timezone.now()) == []  # too recent to ask about
    [result] = payments_reconcile_due(now=later())

    assert result.outcome == "paid"
    payment.refresh_from_db()
    assert (payment.order.status, payment.status) == ("paid", "succeeded")
    assert payment.checked_at is not None
    assert [m.subject for m in mailoutbox] == [f"Votre commande {payment.order.number} est confirmée"]
    # Paid: not asked about again.
    assert payments_reconcile_due(now=later(20)) == []


def test_a_payment_still_open_is_left_as_it_is(payment, stripe_api):
    [result] = payments_reconcile_due(now=later())
    assert result.outcome == "unchanged"
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    # Asked again only once PAYMENT_RECONCILE_AFTER has passed since the last check.
    assert payments_reconcile_due(now=later(7)) == []


def test_a_late_success_on_an_expired_order_is_refunded_and_flagged(payment, stripe_api, settings, book):
    stripe_api.succeed(payment.reference)  # paid at Stripe just as the order expires; webhook lost
    settings.ORDER_PAYMENT_TIMEOUT = timedelta(minutes=30)

    # Expiry cancels the order and (after commit) its intent: Stripe refuses, it has succeeded.
    assert orders_expire_unpaid(now=later(31)) == 1

    payment.refresh_from_db()
    assert payment.order.status == "cancelled"
    assert (payment.status, payment.surplus) == ("succeeded", True)
    assert "cancelled" in payment.flag
    [refund] = payment.refunds.all()
    assert (refund.amount, refund.status) == (Decimal("15.50"), "succeeded")
    assert stripe_api.amount_refunded(payment.reference) == 1550
    book.refresh_from_db()
    assert book.stock == 10  # the copy went back once; nothing oversold


def test_an_expired_order_cancels_its_open_intent(payment, stripe_api, settings):
    settings.ORDER_PAYMENT_TIMEOUT = timedelta(minutes=30)
    orders_expire_unpaid(now=later(31))
    assert stripe_api.intents[payment.reference]["status"] == "canceled"
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    assert not Payment.objects.get(pk=payment.pk).refunds.exists()


def test_a_late_success_found_by_reconciliation_after_expiry_is_refunded(payment, stripe_api, settings):
    settings.ORDER_PAYMENT_TIMEOUT = timedelta(minutes=30)
    stripe_api.fail_next(500)  # the cancel at expiry does not reach Stripe
    orders_expire_unpaid(now=later(31))
    stripe_api.succeed(payment.reference)  # and the customer pays meanwhile

    [result] = payments_reconcile_due(now=later(40))

    assert result.outcome == "surplus_refunded"
    assert stripe_api.amount_refunded(payment.reference) == 1550
    assert Order.objects.get(pk=payment.order_id).status == "cancelled"


def test_a_late_webhook_on_a_cancelled_order_is_refunded_and_flagged(payment, stripe_api, client, user):
    from apps.orders.services import order_cancel

    stripe_api.succeed(payment.reference)
    stripe_api.fail_next(500)  # the customer cancels; Stripe cannot be told in time
    order_cancel(order=payment.order, actor=user)
    stripe_webhook(client, stripe_api.intent_event("payment_intent.succeeded", payment.reference))

    payment.refresh_from_db()
    assert (payment.status, payment.surplus) == ("succeeded", True)
    assert payment.flag
    assert stripe_api.amount_refunded(payment.reference) == 1550


def test_a_second_attempt_paying_a_paid_order_is_refunded(payment, stripe_api, client):
    # The customer switched to the dummy page and paid there, but also paid the Stripe intent.
    stripe_api.succeed(payment.reference)
    stripe_api.fail_next(500)
    dummy = payment_retry(order=payment.order, provider="dummy")
    order_mark_paid(payment_id=dummy.pk, amount=dummy.amount, currency="EUR")

    [result] = payments_reconcile_due(now=later())

    assert result.outcome == "surplus_refunded"
    assert stripe_api.amount_refunded(payment.reference) == 1550
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == "paid"  # paid once, by the dummy attempt


def test_pending_refunds_are_asked_again(payment, stripe_api, staff_user):
    from apps.orders.services import refund_create

    stripe_api.succeed(payment.reference)
    order_mark_paid(payment_id=payment.pk, amount=Decimal("15.50"), currency="EUR")
    stripe_api.fail_next(503)
    refund, _ = refund_create(order=payment.order, actor=staff_user)
    refund.refresh_from_db()
    assert refund.status == "pending"

    payments_reconcile_due(now=later())

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert stripe_api.amount_refunded(payment.reference) == 1550


# --- The command ------------------------------------------------------------------------------


def test_the_command_reconciles_one_order_and_says_what_changed(payment, stripe_api, capsys):
    stripe_api.succeed(payment.reference)
    call_command("reconcile_payments", "--order", payment.order.number)
    out = capsys.readouterr().out
    assert f"{payment.order.number} payment {payment.pk} (stripe {payment.reference}): pending -> paid" in out
    assert "1 payment(s) checked, 1 changed." in out
    assert Order.objects.get(pk=payment.order_id).status == "paid"


def test_the_command_reconciles_a_day(payment, stripe_api, capsys):
    call_command("reconcile_payments", "--date", timezone.localdate().isoformat())
    assert "pending -> unchanged" in capsys.readouterr().out
    call_command("reconcile_payments", "--date", "2001-01-01")
    assert "No Stripe or PayPal payment to reconcile." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--order", "LB-NONE-NONE"], "No order 'LB-NONE-NONE'."),
        (["--date", "yesterday"], "--date 'yesterday' is not a date like 2026-12-01."),
    ],
)
def test_the_command_names_what_is_wrong(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("reconcile_payments", *args)
