"""Writes to orders, one module per part of the domain.

- ``checkout``: ``order_place``, the cart becoming an order;
- ``lifecycle``: ``order_transition``, every status change, and cancelling;
- ``payment``: a payment attempt started at its provider, paid or failed;
- ``outbox``: the emails an order change sends, written with the change and sent after it.

Callers import from here (``from apps.orders import services``); the modules import each other
in that order, never backwards.
"""

from .checkout import ORDER_AMOUNT_MAX, order_number_generate, order_place
from .lifecycle import TRANSITIONS, order_cancel, order_transition, orders_expire_unpaid
from .outbox import outbox_email_send, outbox_emails_relay
from .payment import order_mark_paid, payment_mark_failed, payment_start

__all__ = [
    "ORDER_AMOUNT_MAX",
    "TRANSITIONS",
    "order_cancel",
    "order_mark_paid",
    "order_number_generate",
    "order_place",
    "order_transition",
    "orders_expire_unpaid",
    "outbox_email_send",
    "outbox_emails_relay",
    "payment_mark_failed",
    "payment_start",
]
