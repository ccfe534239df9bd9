"""Provider webhooks: verified, stored once by event id, processed once by a task.

``payment_event_receive`` runs in the request: the provider verifies the signature first
(``WebhookInvalid`` for a forged or stale one: nothing is stored), the event is stored under the
unique (provider, event id), and a task is enqueued after commit only when it is new, however
many times and however concurrently the provider delivers it.

``payment_event_process`` runs in the task. It is safe to run twice: each step it takes is
idempotent under the payment's row lock, and a processed event is left alone. Events may come in
any order: a failure after a success un-pays nothing, and a refund seen before its payment's
success waits (``deferred``) and is applied when the success has been.
"""

import logging
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import EventStatus, Payment, PaymentEvent
from ..payments import EventKind, PaymentState, ProviderStatus, WebhookEvent, get_provider
from .outcome import Outcome
from .payment import payment_capture, payment_state_apply
from .refunds import payment_refunds_sync

logger = logging.getLogger(__name__)

# An event still unprocessed this long after it came is processed by the relay (beat).
RELAY_AFTER = timedelta(minutes=2)

STATES = {
    EventKind.PAYMENT_SUCCEEDED: ProviderStatus.SUCCEEDED,
    EventKind.PAYMENT_FAILED: ProviderStatus.FAILED,
    EventKind.PAYMENT_CANCELLED: ProviderStatus.CANCELLED,
}
EVENT_STATUSES = {
    Outcome.UNMATCHED: EventStatus.UNMATCHED,
    Outcome.IGNORED: EventStatus.IGNORED,
    Outcome.DEFERRED: EventStatus.DEFERRED,
    Outcome.FLAGGED: EventStatus.FLAGGED,
}


def payment_event_receive(
    *, provider_name: str, body: bytes, headers: Mapping[str, str]
) -> tuple[PaymentEvent, bool]:
    """Verify a webhook and store its event once; return it and whether it is new.

    Raises ``ProviderUnavailable`` for a provider that is not enabled, ``WebhookInvalid`` for a
    bad signature (nothing stored) and ``GatewayError`` when the provider's verification cannot
    be reached (the provider retries).
    """
    event = get_provider(provider_name).parse_webhook(body=body, headers=headers)
    with transaction.atomic():
        stored, created = PaymentEvent.objects.get_or_create(
            provider=provider_name, event_id=event.event_id, defaults=_event_fields(event)
        )
        if created:
            transaction.on_commit(partial(_process_enqueue, stored.pk), robust=True)
    if not created:
        logger.info("Webhook %s %s delivered again", provider_name, event.event_id)
    return stored, created


def _event_fields(event: WebhookEvent) -> dict[str, object]:
    return {
        "event_type": event.event_type[:100],
        "kind": event.kind,
        "reference": event.reference[:255],
        "capture_reference": event.capture_reference[:255],
        "amount": event.amount,
        "currency": event.currency[:3],
        "failure_message": event.failure_message[:500],
        "payload": dict(event.payload),
    }


def _process_enqueue(event_id: int) -> None:
    # Imported here: tasks import the services. A broker that is down is logged (robust
    # on_commit); the relay task finds events still received and processes them.
    from ..tasks import payment_event_process

    payment_event_process.delay(event_id)


def payment_event_process(*, event_id: int) -> str:
    """Apply one stored event to its payment; return the event's status. Idempotent."""
    event = PaymentEvent.objects.get(pk=event_id)
    if event.status not in {EventStatus.RECEIVED, EventStatus.DEFERRED}:
        return event.status
    PaymentEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1)
    payment = None if event.kind == EventKind.OTHER else _payment_for(event)
    if event.kind == EventKind.OTHER:
        outcome = Outcome.IGNORED
    elif payment is None:
        logger.warning(
            "Webhook %s %s (%s) names no payment of the shop: %s",
            event.provider,
            event.event_id,
            event.event_type,
            event.reference or event.capture_reference,
        )
        outcome = Outcome.UNMATCHED
    else:
        outcome = _apply(event, payment)
    status = EVENT_STATUSES.get(outcome, EventStatus.PROCESSED)
    PaymentEvent.objects.filter(pk=event.pk, status__in=[EventStatus.RECEIVED, EventStatus.DEFERRED]).update(
        status=status,
        payment=payment,
        note=outcome.value,
        processed_at=timezone.now() if status != EventStatus.DEFERRED else None,
    )
    if payment is not None and outcome in {Outcome.PAID, Outcome.SURPLUS_REFUNDED}:
        _deferred_release(payment_id=payment.pk)
    return status


def _payment_for(event: PaymentEvent) -> Payment | None:
    match = Q(pk__in=[])
    if event.reference:
        match |= Q(reference=event.reference)
    if event.capture_reference:
        match |= Q(capture_reference=event.capture_reference)
    return Payment.objects.filter(match, provider=event.provider).first()


def _apply(event: PaymentEvent, payment: Payment) -> Outcome:
    kind = EventKind(event.kind)
    if kind == EventKind.PAYMENT_APPROVED:
        return payment_capture(payment_id=payment.pk)
    if kind == EventKind.REFUNDED:
        if event.amount is None:
            return Outcome.IGNORED
        return payment_refunds_sync(payment_id=payment.pk, refunded_total=event.amount)
    if kind in STATES:
        state = PaymentState(
            reference=event.reference,
            status=STATES[kind],
            amount=event.amount,
            currency=event.currency,
            capture_reference=event.capture_reference,
            failure_message=event.failure_message,
        )
        return payment_state_apply(payment_id=payment.pk, state=state)
    return Outcome.IGNORED


def _deferred_release(*, payment_id: int) -> None:
    """Process again, after this commits, the events that waited for this payment's success."""
    waiting = PaymentEvent.objects.filter(payment_id=payment_id, status=EventStatus.DEFERRED)
    for event_id in waiting.values_list("pk", flat=True):
        transaction.on_commit(partial(_process_enqueue, event_id), robust=True)


def payment_events_relay() -> int:
    """Process the events still waiting (the broker was down when they came); return how many."""
    stale = timezone.now() - RELAY_AFTER
    waiting = PaymentEvent.objects.filter(status=EventStatus.RECEIVED, received_at__lt=stale).order_by("pk")
    done = 0
    for event_id in waiting.values_list("pk", flat=True)[:500]:
        try:
            payment_event_process(event_id=event_id)
        except Exception:
            logger.exception("Webhook event %s could not be processed", event_id)
        else:
            done += 1
    return done
