"""Reconciliation: ask the providers about payments the shop has not heard the end of.

A lost webhook must never leave a paid order unpaid, nor a late payment on an expired order
unrefunded. Beat runs ``payments_reconcile_due`` every two minutes: every attempt at a real
provider still open (pending, declined, in error) or cancelled here, whose last change or check
is older than ``PAYMENT_RECONCILE_AFTER`` and whose order is younger than
``PAYMENT_RECONCILE_WINDOW``, is looked up, and what the provider says is applied as a webhook
would be; refunds still pending are asked again (same idempotency key). The
``reconcile_payments`` command does the same for one order or one day, and says what changed.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import Payment, PaymentStatus
from ..payments import GatewayError, PaymentDeclined, ProviderStatus, ProviderUnavailable, get_provider
from .lifecycle import OPEN_PAYMENT_STATUSES
from .outcome import Outcome
from .payment import payment_cancel_at_provider, payment_state_apply
from .refunds import refunds_retry_pending

logger = logging.getLogger(__name__)

# Providers that can be asked; the dummy one has nothing to say.
ASKABLE = ("stripe", "paypal")
RECONCILABLE_STATUSES = (*OPEN_PAYMENT_STATUSES, PaymentStatus.CANCELLED)
OPEN_AT_PROVIDER = (ProviderStatus.PENDING, ProviderStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Reconciled:
    payment_id: int
    order_number: str
    provider: str
    reference: str
    before: str
    outcome: Outcome | str


def payment_reconcile(*, payment_id: int, now: datetime | None = None) -> Reconciled:
    """Ask the provider where one payment stands and apply it; a provider failure is reported, not raised."""
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    before = payment.status
    outcome: Outcome | str
    try:
        state = get_provider(payment.provider).retrieve(reference=payment.reference)
        if payment.status == PaymentStatus.CANCELLED and state.status == ProviderStatus.APPROVED:
            # Approved at PayPal after the order was given up: never captured, nothing to do.
            outcome = Outcome.UNCHANGED
        elif payment.status == PaymentStatus.CANCELLED and state.status in OPEN_AT_PROVIDER:
            # The provider never heard of the cancel: tell it again.
            outcome = payment_cancel_at_provider(payment_id=payment.pk)
        else:
            outcome = payment_state_apply(payment_id=payment.pk, state=state)
    except (GatewayError, PaymentDeclined, ProviderUnavailable) as exc:
        logger.error("Reconciliation of payment %s failed: %r", payment.pk, exc)
        outcome = f"error: {exc}"
    Payment.objects.filter(pk=payment.pk).update(checked_at=now or timezone.now())
    return Reconciled(payment.pk, payment.order.number, payment.provider, payment.reference, before, outcome)


def payments_to_reconcile(*, now: datetime | None = None) -> QuerySet[Payment]:
    now = now or timezone.now()
    quiet_since = now - settings.PAYMENT_RECONCILE_AFTER
    return (
        Payment.objects.filter(
            provider__in=ASKABLE,
            status__in=RECONCILABLE_STATUSES,
            order__created_at__gte=now - settings.PAYMENT_RECONCILE_WINDOW,
            updated_at__lt=quiet_since,
        )
        .exclude(reference="")
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lt=quiet_since))
        # A cancelled attempt is asked once: its provider has been told to close it.
        .exclude(status=PaymentStatus.CANCELLED, checked_at__isnull=False)
        .order_by("pk")
    )


def payments_reconcile_due(*, now: datetime | None = None) -> list[Reconciled]:
    """Reconcile every payment due (see the module's docstring); retry the refunds still pending."""
    now = now or timezone.now()
    done = [
        payment_reconcile(payment_id=pk, now=now)
        for pk in payments_to_reconcile(now=now).values_list("pk", flat=True)
    ]
    refunds_retry_pending(older_than=now - settings.PAYMENT_RECONCILE_AFTER)
    return done


def payments_reconcile_selected(*, order_number: str = "", day: date | None = None) -> list[Reconciled]:
    """Reconcile the payments of one order, or of the orders placed on ``day`` (the shop's time zone)."""
    payments = Payment.objects.filter(provider__in=ASKABLE).exclude(reference="")
    if order_number:
        payments = payments.filter(order__number=order_number)
    if day is not None:
        start = timezone.make_aware(datetime.combine(day, time.min))
        payments = payments.filter(
            order__created_at__gte=start, order__created_at__lt=start + timedelta(days=1)
        )
    return [payment_reconcile(payment_id=pk) for pk in payments.order_by("pk").values_list("pk", flat=True)]
