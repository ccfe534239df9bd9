"""Writes to orders, one module per part of the domain, each importing only those above it.

- ``outbox``: the emails an order change sends, written with the change and sent after it;
- ``lifecycle``: ``order_transition``, every status change (the table of allowed moves);
- ``checkout``: ``order_place``, the cart becoming an order;
- ``refunds``: money given back through the provider (staff, cancellations, late payments);
- ``payment``: a payment attempt started, captured, retried; what its provider says, applied;
- ``webhooks``: provider notifications verified, stored once, processed by a task;
- ``reconciliation``: providers asked about payments the shop has not heard the end of;
- ``cancellation``: cancelling an order (refunded when paid), expiring unpaid ones.

Callers import from here (``from apps.orders import services``).
"""

from .cancellation import order_cancel, orders_expire_unpaid
from .checkout import ORDER_AMOUNT_MAX, order_number_generate, order_place
from .lifecycle import TRANSITIONS, order_transition
from .outbox import outbox_email_send, outbox_emails_relay
from .outcome import Outcome
from .payment import (
    order_mark_paid,
    payment_cancel_at_provider,
    payment_capture,
    payment_flag,
    payment_mark_failed,
    payment_retry,
    payment_start,
    payment_state_apply,
)
from .reconciliation import (
    Reconciled,
    payment_reconcile,
    payments_reconcile_due,
    payments_reconcile_selected,
)
from .refunds import payment_refundable, payment_refunds_sync, refund_create, refund_execute, refund_succeeded
from .webhooks import payment_event_process, payment_event_receive, payment_events_relay

__all__ = [
    "ORDER_AMOUNT_MAX",
    "TRANSITIONS",
    "Outcome",
    "Reconciled",
    "order_cancel",
    "order_mark_paid",
    "order_number_generate",
    "order_place",
    "order_transition",
    "orders_expire_unpaid",
    "outbox_email_send",
    "outbox_emails_relay",
    "payment_cancel_at_provider",
    "payment_capture",
    "payment_event_process",
    "payment_event_receive",
    "payment_events_relay",
    "payment_flag",
    "payment_mark_failed",
    "payment_reconcile",
    "payment_refundable",
    "payment_refunds_sync",
    "payment_retry",
    "payment_start",
    "payment_state_apply",
    "payments_reconcile_due",
    "payments_reconcile_selected",
    "refund_create",
    "refund_execute",
    "refund_succeeded",
]
