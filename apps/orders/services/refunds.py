"""Refunds: money given back from a payment, in part or whole, through its provider.

A refund is written first (``pending``) under the order's and the payment's row locks, so two
requests can never give back more than was paid; the provider is asked after that commits, with
an idempotency key derived from the refund, so a retry (the same ``Idempotency-Key``, or
reconciliation retrying a refund whose answer was lost) never refunds twice. When the provider
says it is done, the refund succeeds, the order becomes ``partially_refunded`` or ``refunded``
(a cancelled order stays cancelled) and the customer gets an email through the outbox.

Refunds made at the provider (its dashboard) arrive as webhooks giving the payment's refunded
total; ``payment_refunds_sync`` records the difference.
"""

import logging
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.accounts.models import User

from ..exceptions import IdempotencyKeyReused, NothingToRefund, RefundTooLarge
from ..models import Order, OrderStatus, Payment, PaymentStatus, Refund, RefundStatus
from ..payments import (
    GatewayError,
    PaymentDeclined,
    ProviderUnavailable,
    RefundOutcome,
    RefundRequest,
    get_provider,
)
from ..pricing import money
from .lifecycle import transition_locked
from .outbox import outbox_add_refund
from .outcome import Outcome

logger = logging.getLogger(__name__)

# Statuses an order moves from when money goes back (a cancelled order keeps its status).
REFUNDABLE_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PROCESSING,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.PARTIALLY_REFUNDED,
    }
)


def payment_refundable(*, payment: Payment) -> Decimal:
    """What may still go back from ``payment``: its amount less its pending and succeeded refunds."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return Decimal("0.00")
    committed = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))["total"]
    return payment.amount - (committed or Decimal("0.00"))


def refund_create(
    *,
    order: Order,
    amount: Decimal | None = None,
    actor: User | None = None,
    reason: str = "",
    idempotency_key: str = "",
) -> tuple[Refund, bool]:
    """Refund ``amount`` (all that remains when None) of ``order``; return it and whether it is new.

    Never more than was paid and not yet refunded (``RefundTooLarge``; ``NothingToRefund`` when
    nothing was paid). With ``idempotency_key``, a retry returns the first refund (and asks the
    provider again if it has not answered yet); the key with another amount is
    ``IdempotencyKeyReused``. The provider is asked once this has committed.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payments = list(
            Payment.objects.select_for_update()
            .filter(order=order, status=PaymentStatus.SUCCEEDED, surplus=False)
            .order_by("pk")
        )
        if idempotency_key:
            existing = Refund.objects.filter(payment__order=order, idempotency_key=idempotency_key).first()
            if existing is not None:
                if amount is not None and money(amount) != existing.amount:
                    raise IdempotencyKeyReused(
                        "This Idempotency-Key was already used for a refund of another amount; use a new key."
                    )
                if existing.status == RefundStatus.PENDING:
                    transaction.on_commit(partial(refund_execute, refund_id=existing.pk), robust=True)
                return existing, False
        balances = [(payment_refundable(payment=payment), payment) for payment in payments]
        refundable, payment = max(balances, key=lambda pair: pair[0], default=(Decimal("0.00"), None))
        if payment is None or refundable <= 0:
            raise NothingToRefund(f"Order {order.number} has nothing paid left to refund.")
        amount = refundable if amount is None else money(amount)
        if amount > refundable:
            raise RefundTooLarge(
                f"At most {refundable} {payment.currency} of order {order.number} can still be refunded.",
                errors={"amount": [f"Ensure this value is less than or equal to {refundable}."]},
                refundable=str(refundable),
            )
        refund = refund_add(payment=payment, amount=amount, actor=actor, reason=reason, key=idempotency_key)
        return refund, True


def refund_add(
    *, payment: Payment, amount: Decimal, actor: User | None = None, reason: str = "", key: str = ""
) -> Refund:
    """Write a pending refund of ``payment`` (the caller holds its lock) and ask the provider after commit."""
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        actor=actor,
        reason=reason[:500],
        idempotency_key=key,
    )
    transaction.on_commit(partial(refund_execute, refund_id=refund.pk), robust=True)
    return refund


def refund_execute(*, refund_id: int) -> Refund:
    """Ask the provider for a pending refund; record its answer. Outside any transaction.

    A refusal fails the refund (staff see why); an unreachable provider leaves it pending, and
    reconciliation asks again with the same idempotency key.
    """
    refund = Refund.objects.select_related("payment__order").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING or refund.reference:
        return refund
    payment = refund.payment
    try:
        result = get_provider(payment.provider).refund(
            RefundRequest(
                refund_id=refund.pk,
                payment_reference=payment.reference,
                capture_reference=payment.capture_reference,
                amount=refund.amount,
                currency=refund.currency,
                idempotency_key=refund.provider_key,
            )
        )
    except PaymentDeclined as exc:
        logger.warning("Refund %s of order %s refused: %s", refund.pk, payment.order.number, exc)
        return _refund_fail(refund_id=refund.pk, message=exc.customer_message)
    except (GatewayError, ProviderUnavailable) as exc:
        logger.error("Refund %s of order %s not made yet: %r", refund.pk, payment.order.number, exc)
        return refund
    if result.status == RefundOutcome.PENDING:
        Refund.objects.filter(pk=refund.pk, reference="").update(
            reference=result.reference, updated_at=timezone.now()
        )
        refund.refresh_from_db()
        return refund
    return refund_succeeded(refund_id=refund.pk, reference=result.reference)


def refund_succeeded(*, refund_id: int, reference: str = "") -> Refund:
    """Record that the provider gave a refund's money back. Idempotent."""
    order_id = Refund.objects.values_list("payment__order_id", flat=True).get(pk=refund_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.status != RefundStatus.SUCCEEDED:
            _refund_complete(order=order, refund=refund, reference=reference)
        return refund


def _refund_fail(*, refund_id: int, message: str) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status == RefundStatus.PENDING:
            refund.status = RefundStatus.FAILED
            refund.failure_message = message[:500]
            refund.save(update_fields=["status", "failure_message", "updated_at"])
        return refund


def _refund_complete(*, order: Order, refund: Refund, reference: str = "") -> None:
    """Mark ``refund`` succeeded and move its order; the caller holds the order's lock."""
    refund.status = RefundStatus.SUCCEEDED
    refund.refunded_at = timezone.now()
    refund.failure_message = ""
    if reference:
        refund.reference = reference
    refund.save(update_fields=["status", "refunded_at", "failure_message", "reference", "updated_at"])
    outbox_add_refund(order=order, refund=refund)
    if refund.payment.surplus or order.status not in REFUNDABLE_STATUSES:
        return
    refunded = Refund.objects.filter(
        payment__order=order, payment__surplus=False, status=RefundStatus.SUCCEEDED
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    transition_locked(
        order=order,
        to_status=OrderStatus.REFUNDED if refunded >= order.total else OrderStatus.PARTIALLY_REFUNDED,
        actor=refund.actor,
        note=f"Refunded {refund.amount} {refund.currency}." + (f" {refund.reason}" if refund.reason else ""),
    )


def payment_refunds_sync(*, payment_id: int, refunded_total: Decimal) -> Outcome:
    """Apply the provider's word that ``refunded_total`` of a payment has gone back, in all.

    Idempotent, and safe in any order: a total already recorded changes nothing; pending refunds
    of the shop that the total covers succeed; what remains was refunded at the provider (its
    dashboard) and is recorded as such. Before the payment's success is known, nothing is done
    (``DEFERRED``: the event is applied again when the success arrives).
    """
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != PaymentStatus.SUCCEEDED:
            return Outcome.DEFERRED
        refunds = list(payment.refunds.select_for_update().order_by("pk"))
        succeeded = sum((r.amount for r in refunds if r.status == RefundStatus.SUCCEEDED), Decimal("0.00"))
        pending = [r for r in refunds if r.status == RefundStatus.PENDING]
        in_flight = sum((r.amount for r in pending), Decimal("0.00"))
        if refunded_total <= succeeded:
            return Outcome.UNCHANGED
        if refunded_total < succeeded + in_flight:
            # Some of the shop's own pending refunds are done, but not which: their answers
            # (or reconciliation) will say.
            return Outcome.PENDING
        for refund in pending:
            refund.payment = payment
            _refund_complete(order=order, refund=refund)
        extra = money(refunded_total - succeeded - in_flight)
        if extra > 0:
            external = Refund.objects.create(
                payment=payment,
                amount=min(extra, payment.amount),
                currency=payment.currency,
                reason="Refunded at the payment provider.",
            )
            _refund_complete(order=order, refund=external)
        return Outcome.REFUNDED


def refunds_retry_pending(*, older_than: datetime) -> int:
    """Ask the providers again about refunds still pending (a lost answer, a provider that was down)."""
    waiting = Refund.objects.filter(status=RefundStatus.PENDING, updated_at__lt=older_than).order_by("pk")
    done = 0
    for refund_id in waiting.values_list("pk", flat=True):
        done += refund_execute(refund_id=refund_id).status == RefundStatus.SUCCEEDED
    return done
