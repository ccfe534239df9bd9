"""The email outbox: an email an order change must send is written with the change, sent after it.

``outbox_add`` runs inside the change's transaction and enqueues the send on commit; the send
claims the row first, so two senders never both send; the relay (beat) sends again whatever is
still waiting.
"""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookstore.mail import email_send

from ..models import EmailKind, EmailStatus, Order, OutboxEmail, Refund

logger = logging.getLogger(__name__)

# An email claimed by a sender that has not reported back after this long is sent again.
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=10)


def outbox_add(*, order: Order, kind: str) -> None:
    email, created = OutboxEmail.objects.get_or_create(order=order, kind=kind, defaults={"to": order.email})
    if created:
        transaction.on_commit(lambda: _outbox_enqueue(email.pk), robust=True)


def outbox_add_refund(*, order: Order, refund: Refund) -> None:
    """The refund notice of ``refund`` (one per refund: an order may be refunded in parts)."""
    email, created = OutboxEmail.objects.get_or_create(
        refund=refund, defaults={"order": order, "kind": EmailKind.REFUNDED, "to": order.email}
    )
    if created:
        transaction.on_commit(lambda: _outbox_enqueue(email.pk), robust=True)


def _outbox_enqueue(email_id: int) -> None:
    # Imported here: tasks import this module. An unreachable broker raises out of delay();
    # on_commit(robust=True) logs it and the relay task sends the email later.
    from ..tasks import outbox_email_send as task

    task.delay(email_id)


def outbox_email_send(*, email_id: int) -> bool:
    """Send one outbox email if nobody has; return whether this call sent it.

    The row is claimed under its lock (``sending``) and the claim committed before the mail
    server is called, so two senders never both send it, and no transaction stays open during
    the call. A claim that never reports back (a crashed worker) is taken over after
    ``OUTBOX_CLAIM_TIMEOUT``. A failure puts the row back to ``pending`` and is raised.
    """
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order", "refund")
            .filter(pk=email_id)
            .first()
        )
        if email is None or email.status == EmailStatus.SENT:
            return False
        if (
            email.status == EmailStatus.SENDING
            and email.claimed_at is not None
            and email.claimed_at > now - OUTBOX_CLAIM_TIMEOUT
        ):
            return False
        email.status = EmailStatus.SENDING
        email.claimed_at = now
        email.attempts += 1
        email.save(update_fields=["status", "claimed_at", "attempts", "updated_at"])
    try:
        email_send(template=f"orders/{email.kind}", context=_email_context(email), to=[email.to])
    except Exception as exc:
        OutboxEmail.objects.filter(pk=email.pk, claimed_at=now).update(
            status=EmailStatus.PENDING, last_error=repr(exc)[:2000], updated_at=timezone.now()
        )
        raise
    OutboxEmail.objects.filter(pk=email.pk, claimed_at=now).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error="", updated_at=timezone.now()
    )
    return True


def outbox_emails_relay() -> int:
    """Send every outbox email still waiting (the broker was down, a send failed); return how many."""
    stale = timezone.now() - OUTBOX_CLAIM_TIMEOUT
    waiting = OutboxEmail.objects.filter(status=EmailStatus.PENDING) | OutboxEmail.objects.filter(
        status=EmailStatus.SENDING, claimed_at__lt=stale
    )
    sent = 0
    for email_id in waiting.order_by("pk").values_list("pk", flat=True):
        try:
            sent += outbox_email_send(email_id=email_id)
        except Exception:
            # One bad address or a flaky server must not hold back the rest.
            logger.exception("Outbox email %s could not be sent", email_id)
    return sent


def _email_context(email: OutboxEmail) -> dict[str, Any]:
    order = email.order
    return {
        "order": order,
        "refund": email.refund,
        "lines": list(order.lines.all()),
        "customer_name": order.shipping_address.get("name", ""),
    }
