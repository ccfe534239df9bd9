"""Payment attempts: start one at its provider, capture it, record what the provider says.

Providers are outside services: they are called only after the transaction that prepared the
payment has committed, never inside one, with an idempotency key derived from the attempt
(``Payment.idempotency_key``), so a retry after a timeout never makes a second payment.

What a provider says (a webhook, the customer's return, reconciliation) is applied by
``payment_state_apply``: idempotent (a payment already succeeded stays so; a failure after a
success un-pays nothing), and strict: the order is paid only by exactly its amount and currency
(otherwise the payment is flagged for staff and nothing is paid), and a payment that succeeds
after its order was cancelled or paid by another attempt is refunded automatically and flagged.
"""

import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from bookstore.links import frontend_url

from ..exceptions import InvalidTransition, PaymentMismatch, PaymentNotNeeded, PaymentProviderUnavailable
from ..models import Order, OrderStatus, Payment, PaymentStatus
from ..payments import (
    GatewayError,
    PaymentDeclined,
    PaymentRequest,
    PaymentState,
    ProviderStatus,
    ProviderUnavailable,
    RedirectRequired,
    get_provider,
)
from ..pricing import money
from .lifecycle import OPEN_PAYMENT_STATUSES, transition_locked
from .outcome import Outcome
from .refunds import refund_add

logger = logging.getLogger(__name__)

UNREACHABLE = "The payment service could not be reached; try again in a moment."


def _return_urls(order: Order) -> tuple[str, str]:
    """Where a redirect provider sends the customer back: the storefront's pages by default."""
    base = frontend_url()
    query = urlencode({"order": order.number})
    back = settings.PAYMENT_RETURN_URL or f"{base}{reverse('orders:payment-return')}"
    cancel = settings.PAYMENT_CANCEL_URL or f"{base}{reverse('orders:payment-cancel')}"
    return f"{back}?{query}", f"{cancel}?{query}"


def payment_start(*, order: Order) -> Payment | None:
    """Ask the provider for what the client needs to pay the order's open attempt, and record it.

    Called after the checkout (or a retry) committed. A declined start fails the attempt with a
    message for the customer; an unreachable provider marks it ``error``. Either way the order
    stays ``pending_payment`` and can be paid again (``payment_retry``): a retry of an ``error``
    attempt sends the same idempotency key, so a provider that did answer the first time gives
    the same payment back instead of a second one.
    """
    payment = (
        order.payments.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.ERROR], reference="")
        .order_by("-pk")
        .first()
    )
    if payment is None:
        return None
    return_url, cancel_url = _return_urls(order)
    try:
        result = get_provider(payment.provider).start_payment(
            PaymentRequest(
                payment_id=payment.pk,
                order_number=order.number,
                amount=payment.amount,
                currency=payment.currency,
                customer_email=order.email,
                idempotency_key=payment.idempotency_key,
                return_url=return_url,
                cancel_url=cancel_url,
            )
        )
    except RedirectRequired as exc:
        return _payment_started(payment, reference=exc.reference, approval_url=exc.url)
    except PaymentDeclined as exc:
        return _payment_update(payment, status=PaymentStatus.FAILED, failure_message=exc.customer_message)
    except (GatewayError, ProviderUnavailable) as exc:
        logger.error("Payment start failed for order %s: %r", order.number, exc)
        return _payment_update(payment, status=PaymentStatus.ERROR, failure_message=UNREACHABLE)
    return _payment_started(
        payment,
        reference=result.reference,
        client_secret=result.client_secret,
        approval_url=result.approval_url,
        pay_url=result.pay_url,
    )


def _payment_started(payment: Payment, **fields: str) -> Payment:
    return _payment_update(payment, status=PaymentStatus.PENDING, failure_message="", **fields)


def _payment_update(payment: Payment, **fields: str) -> Payment:
    """Record what the start said, unless the attempt moved meanwhile (cancelled, paid)."""
    if "failure_message" in fields:
        fields["failure_message"] = fields["failure_message"][:500]
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status in {PaymentStatus.PENDING, PaymentStatus.ERROR}:
            for name, value in fields.items():
                setattr(locked, name, value)
            locked.save(update_fields=[*fields, "updated_at"])
        return locked


def payment_retry(*, order: Order, provider: str = "") -> Payment | None:
    """Pay a ``pending_payment`` order again (after a decline, a provider error, or to switch provider).

    An attempt whose start failed on the way (``error``) is started again with its own key; a
    declined or cancelled one, or another provider, gets a new attempt and the old one is
    closed. An order not waiting for payment is ``PaymentNotNeeded``.
    """
    provider = provider or order.payment_provider
    if provider not in settings.PAYMENT_PROVIDERS:
        raise PaymentProviderUnavailable(
            f"Payment by {provider!r} is not available.",
            errors={
                "payment_provider": [f"Choose one of: {', '.join(settings.PAYMENT_PROVIDERS) or 'none'}."]
            },
        )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise PaymentNotNeeded(
                f"Order {order.number} is {order.status}: it is not waiting for a payment."
            )
        latest = order.payments.select_for_update().order_by("-pk").first()
        reusable = latest is not None and latest.provider == provider and latest.status == PaymentStatus.ERROR
        if latest is not None and latest.provider == provider and latest.status == PaymentStatus.PENDING:
            return latest
        if not reusable:
            if latest is not None and latest.status in OPEN_PAYMENT_STATUSES:
                latest.status = PaymentStatus.CANCELLED
                latest.save(update_fields=["status", "updated_at"])
                if latest.reference:
                    transaction.on_commit(
                        lambda: payment_cancel_at_provider(payment_id=latest.pk), robust=True
                    )
            Payment.objects.create(
                order=order, provider=provider, amount=order.total, currency=order.currency
            )
            if order.payment_provider != provider:
                order.payment_provider = provider
                order.save(update_fields=["payment_provider", "updated_at"])
    return payment_start(order=order)


def order_mark_paid(
    *,
    payment_id: int,
    amount: Decimal,
    currency: str,
    reference: str = "",
    capture_reference: str = "",
    actor: User | None = None,
) -> Order:
    """Record that ``payment_id`` collected ``amount`` and move its order to ``paid``. Idempotent.

    The order is locked; a payment already recorded as succeeded (a redelivered webhook, a
    double click) returns the order unchanged. The amount and currency must be exactly the
    payment's, or ``PaymentMismatch``; an order that is no longer waiting for payment (cancelled,
    or paid by another attempt) is ``InvalidTransition``: ``payment_state_apply`` refunds it.
    """
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.SUCCEEDED:
            return order
        _check_amount(payment, amount=amount, currency=currency)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise InvalidTransition(f"Order {order.number} is {order.status}: it cannot be paid.")
        _payment_succeed(payment, reference=reference, capture_reference=capture_reference)
        return transition_locked(
            order=order, to_status=OrderStatus.PAID, actor=actor, note=f"Paid by {payment.provider}."
        )


def _check_amount(payment: Payment, *, amount: Decimal | None, currency: str) -> None:
    if amount is None or money(amount) != payment.amount or currency.upper() != payment.currency:
        raise PaymentMismatch(
            f"Received {amount} {currency.upper()} for order {payment.order.number}, "
            f"which is {payment.amount} {payment.currency}."
        )


def _payment_succeed(
    payment: Payment, *, reference: str = "", capture_reference: str = "", **extra: object
) -> None:
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = timezone.now()
    payment.failure_message = ""
    payment.reference = reference or payment.reference
    payment.capture_reference = capture_reference or payment.capture_reference
    for name, value in extra.items():
        setattr(payment, name, value)
    payment.save(
        update_fields=[
            "status",
            "paid_at",
            "failure_message",
            "reference",
            "capture_reference",
            *extra,
            "updated_at",
        ]
    )


def payment_state_apply(*, payment_id: int, state: PaymentState) -> Outcome:
    """Apply what the provider says of a payment (webhook, capture, reconciliation). Idempotent."""
    if state.status == ProviderStatus.SUCCEEDED:
        return _success_apply(payment_id=payment_id, state=state)
    if state.status == ProviderStatus.APPROVED:
        return payment_capture(payment_id=payment_id)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if state.capture_reference and not payment.capture_reference:
            # A capture still pending (or declined): refund notifications name it, not the order.
            payment.capture_reference = state.capture_reference
            payment.save(update_fields=["capture_reference", "updated_at"])
        if state.status == ProviderStatus.FAILED and payment.status in {
            PaymentStatus.PENDING,
            PaymentStatus.ERROR,
        }:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = (state.failure_message or "The payment was declined.")[:500]
            payment.save(update_fields=["status", "failure_message", "updated_at"])
            return Outcome.FAILED
        if state.status == ProviderStatus.CANCELLED and payment.status in OPEN_PAYMENT_STATUSES:
            payment.status = PaymentStatus.CANCELLED
            payment.save(update_fields=["status", "updated_at"])
            return Outcome.CANCELLED
    return Outcome.UNCHANGED


def _success_apply(*, payment_id: int, state: PaymentState) -> Outcome:
    try:
        order_mark_paid(
            payment_id=payment_id,
            amount=state.amount if state.amount is not None else Decimal("-1"),
            currency=state.currency,
            capture_reference=state.capture_reference,
        )
    except PaymentMismatch as exc:
        logger.error("Payment %s flagged: %s", payment_id, exc.message)
        payment_flag(payment_id=payment_id, reason=exc.message)
        return Outcome.FLAGGED
    except InvalidTransition:
        return _surplus_refund(payment_id=payment_id, state=state)
    return Outcome.PAID


def payment_mark_failed(*, payment_id: int, message: str) -> Outcome:
    """Record a refused payment; the order stays pending (the customer may pay again)."""
    payment = Payment.objects.get(pk=payment_id)
    state = PaymentState(reference=payment.reference, status=ProviderStatus.FAILED, failure_message=message)
    return payment_state_apply(payment_id=payment_id, state=state)


def payment_flag(*, payment_id: int, reason: str) -> None:
    """Mark a payment for staff attention (the admin lists flagged payments)."""
    Payment.objects.filter(pk=payment_id).update(flag=reason[:500], updated_at=timezone.now())


def _surplus_refund(*, payment_id: int, state: PaymentState) -> Outcome:
    """A payment that succeeded when its order no longer wanted it: record it, give it all back."""
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.SUCCEEDED:
            return Outcome.UNCHANGED
        reason = (
            f"Paid after order {order.number} was cancelled: refunded automatically."
            if order.status == OrderStatus.CANCELLED
            else f"Order {order.number} was already paid by another attempt: refunded automatically."
        )
        logger.warning("Payment %s: %s", payment.pk, reason)
        _payment_succeed(payment, capture_reference=state.capture_reference, surplus=True, flag=reason)
        refund_add(payment=payment, amount=payment.amount, reason=reason)
    return Outcome.SURPLUS_REFUNDED


def payment_capture(*, payment_id: int) -> Outcome:
    """Collect an approved payment (PayPal), from the customer's return or the webhook.

    Both use the attempt's capture key, so the provider makes one capture and gives both the
    same answer. An order no longer waiting for payment is not captured. A provider that cannot
    be reached raises ``GatewayError`` (the webhook task retries; the return page says so).
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status == PaymentStatus.SUCCEEDED:
        return Outcome.UNCHANGED
    if payment.order.status != OrderStatus.PENDING_PAYMENT or payment.status == PaymentStatus.CANCELLED:
        return Outcome.UNCHANGED
    try:
        state = get_provider(payment.provider).capture(
            reference=payment.reference, idempotency_key=f"{payment.idempotency_key}-capture"
        )
    except PaymentDeclined as exc:
        # The provider refuses to capture (it no longer knows the order): this attempt is over.
        state = PaymentState(
            reference=payment.reference, status=ProviderStatus.FAILED, failure_message=exc.customer_message
        )
    if state.status == ProviderStatus.APPROVED:
        return Outcome.PENDING
    return payment_state_apply(payment_id=payment.pk, state=state)


def payment_cancel_at_provider(*, payment_id: int) -> Outcome:
    """Close a cancelled attempt at its provider; one that had succeeded there is refunded."""
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if not payment.reference or payment.status != PaymentStatus.CANCELLED:
        return Outcome.UNCHANGED
    state = get_provider(payment.provider).cancel(
        reference=payment.reference, idempotency_key=f"{payment.idempotency_key}-cancel"
    )
    if state.status == ProviderStatus.SUCCEEDED:
        # Paid at the provider before the cancel reached it: refunded (or flagged) as a late payment.
        return _success_apply(payment_id=payment.pk, state=state)
    return Outcome.CANCELLED
