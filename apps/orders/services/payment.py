"""Payment attempts: start one at the provider, record that it paid or failed.

Providers are outside services: they are called only after the transaction that prepared the
payment has committed, never inside it.
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User

from ..exceptions import InvalidTransition, PaymentMismatch
from ..models import Order, OrderStatus, Payment, PaymentStatus
from ..payments import (
    GatewayError,
    PaymentDeclined,
    PaymentRequest,
    ProviderUnavailable,
    RedirectRequired,
    get_provider,
)
from ..pricing import money
from .lifecycle import transition_locked

logger = logging.getLogger(__name__)


def payment_start(*, order: Order) -> Payment | None:
    """Ask the order's provider for what the client needs to pay, and record it.

    Called after the checkout committed: the provider is an outside service, never called
    inside a transaction. A declined or failed start is recorded on the payment (the order
    stays pending until it expires); the checkout itself has succeeded.
    """
    payment = order.payments.filter(status=PaymentStatus.PENDING, reference="").order_by("-pk").first()
    if payment is None:
        return None
    try:
        provider = get_provider(payment.provider)
        result = provider.start_payment(
            PaymentRequest(
                payment_id=payment.pk,
                order_number=order.number,
                amount=payment.amount,
                currency=payment.currency,
                customer_email=order.email,
            )
        )
    except RedirectRequired as exc:
        payment.approval_url = exc.url
        payment.save(update_fields=["approval_url", "updated_at"])
        return payment
    except PaymentDeclined as exc:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = exc.customer_message[:500]
        payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment
    except (GatewayError, ProviderUnavailable) as exc:
        logger.error("Payment start failed for order %s: %r", order.number, exc)
        payment.status = PaymentStatus.ERROR
        payment.failure_message = "The payment service could not be reached; try again later."
        payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment
    payment.reference = result.reference
    payment.client_secret = result.client_secret
    payment.approval_url = result.approval_url
    payment.pay_url = result.pay_url
    payment.save(update_fields=["reference", "client_secret", "approval_url", "pay_url", "updated_at"])
    return payment


def order_mark_paid(
    *, payment_id: int, amount: Decimal, currency: str, reference: str = "", actor: User | None = None
) -> Order:
    """Record that ``payment_id`` collected ``amount`` and move its order to ``paid``. Idempotent.

    The order is locked; if it is already paid (a redelivered webhook, a double click) it is
    returned unchanged. The amount and currency must be exactly the order's, or
    ``PaymentMismatch``; a cancelled order cannot be paid (``InvalidTransition``: the payments
    code refunds it).
    """
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.SUCCEEDED or order.paid_at is not None:
            return order
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise InvalidTransition(f"Order {order.number} is {order.status}: it cannot be paid.")
        if money(amount) != order.total or currency.upper() != order.currency:
            raise PaymentMismatch(
                f"Received {amount} {currency} for order {order.number}, "
                f"which is {order.total} {order.currency}."
            )
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = timezone.now()
        payment.failure_message = ""
        if reference:
            payment.reference = reference
        payment.save(update_fields=["status", "paid_at", "failure_message", "reference", "updated_at"])
        return transition_locked(
            order=order, to_status=OrderStatus.PAID, actor=actor, note=f"Paid by {payment.provider}."
        )


def payment_mark_failed(*, payment_id: int, message: str) -> Payment:
    """Record a refused payment; the order stays pending (the customer may pay again)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = message[:500]
            payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment
