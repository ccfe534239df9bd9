"""The order lifecycle: every status change goes through ``order_transition``.

One table of allowed moves (``TRANSITIONS``); each move locks the order row, is recorded in the
history, and has the side effects of its new status (stock back on cancel, the customer's email
through the outbox).
"""

from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.services import stock_release

from ..exceptions import InvalidTransition, TrackingNumberRequired
from ..models import EmailKind, Order, OrderStatus, OrderStatusChange, PaymentStatus
from .outbox import outbox_add

S = OrderStatus
# Every move an order can make. Cancelling is possible only before the parcel leaves;
# refunds (whole or partial) are recorded by the payments code once money went back.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.CANCELLED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# Payment attempts that may still be paid: cancelling the order closes them.
OPEN_PAYMENT_STATUSES = (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.ERROR)

# The email each status sends to the customer.
STATUS_EMAILS: dict[str, str] = {
    S.PAID: EmailKind.CONFIRMATION,
    S.SHIPPED: EmailKind.SHIPPED,
    S.CANCELLED: EmailKind.CANCELLED,
}


def order_transition(
    *,
    order: Order,
    to_status: str,
    actor: User | None = None,
    note: str = "",
    tracking_number: str = "",
) -> Order:
    """Move ``order`` to ``to_status`` if ``TRANSITIONS`` allows it, else ``InvalidTransition``.

    The order row is locked for the change, so two moves cannot both start from the same
    status. Each move is recorded (who, when, from, to, note). Cancelling gives the stock back
    exactly once; shipping needs a tracking number; paid, shipped and cancelled orders get
    their email through the outbox.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        return transition_locked(
            order=locked, to_status=to_status, actor=actor, note=note, tracking_number=tracking_number
        )


def transition_locked(
    *, order: Order, to_status: str, actor: User | None, note: str = "", tracking_number: str = ""
) -> Order:
    from_status = order.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        allowed = sorted(TRANSITIONS.get(from_status, frozenset()))
        raise InvalidTransition(
            # The value, not the label: the label is translated, this message is not.
            f"A {from_status.replace('_', ' ')} order cannot become {to_status}.",
            current_status=from_status,
            allowed=allowed,
        )
    now = timezone.now()
    fields = ["status", "updated_at"]
    if to_status == S.SHIPPED:
        tracking_number = tracking_number.strip() or order.tracking_number
        if not tracking_number:
            raise TrackingNumberRequired(
                "A tracking number is needed to ship an order.",
                errors={"tracking_number": ["This field is required to ship an order."]},
            )
        order.tracking_number = tracking_number
        order.shipped_at = now
        fields += ["tracking_number", "shipped_at"]
    elif to_status == S.PAID:
        order.paid_at = now
        fields.append("paid_at")
        # The other attempts must not take the money a second time.
        _payments_close(order=order, now=now)
    elif to_status == S.CANCELLED:
        order.cancelled_at = now
        fields.append("cancelled_at")
        if not order.stock_released:
            quantities: dict[int, int] = {}
            for line in order.lines.all():
                if line.book_id is not None:
                    quantities[line.book_id] = quantities.get(line.book_id, 0) + line.quantity
            if quantities:
                stock_release(quantities=quantities)
            order.stock_released = True
            fields.append("stock_released")
        _payments_close(order=order, now=now)
    order.status = to_status
    order.save(update_fields=fields)
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=to_status, actor=actor, note=note
    )
    if to_status in STATUS_EMAILS:
        outbox_add(order=order, kind=STATUS_EMAILS[to_status])
    return order


def _payments_close(*, order: Order, now: datetime) -> None:
    """Cancel the order's open payment attempts, here and (after commit) at their providers."""
    open_payments = order.payments.filter(status__in=OPEN_PAYMENT_STATUSES)
    at_provider = list(open_payments.exclude(reference="").values_list("pk", flat=True))
    open_payments.update(status=PaymentStatus.CANCELLED, updated_at=now)
    for payment_id in at_provider:
        transaction.on_commit(partial(_provider_cancel_enqueue, payment_id), robust=True)


def _provider_cancel_enqueue(payment_id: int) -> None:
    # Imported here: tasks import the services. A broker that is down is logged
    # (robust on_commit); reconciliation asks the provider about the payment later anyway.
    from ..tasks import payment_cancel_at_provider

    payment_cancel_at_provider.delay(payment_id)
