"""Cancelling orders: by the customer or staff (with a refund when paid), or when unpaid in time.

A cancel gives the stock back once and closes the order's open payment attempts (here, and at
their providers after commit). A paid order's money goes back whole, through a refund written in
the same transaction and asked of the provider after it commits: the cancel's answer shows that
refund's state.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User

from ..exceptions import InvalidTransition
from ..models import Order, OrderStatus, Payment, PaymentStatus, Refund
from .lifecycle import transition_locked
from .refunds import payment_refundable, refund_add


def order_cancel(*, order: Order, actor: User | None, note: str = "") -> tuple[Order, list[Refund]]:
    """Cancel an order that has not been shipped (pending payment or paid); return it and its refunds.

    What was paid and not refunded yet is refunded in full, from each paying attempt.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        was_paid = locked.status == OrderStatus.PAID
        transition_locked(order=locked, to_status=OrderStatus.CANCELLED, actor=actor, note=note)
        refunds = []
        if was_paid:
            paying = Payment.objects.select_for_update().filter(
                order=locked, status=PaymentStatus.SUCCEEDED, surplus=False
            )
            for payment in paying.order_by("pk"):
                amount = payment_refundable(payment=payment)
                if amount > 0:
                    refunds.append(
                        refund_add(payment=payment, amount=amount, actor=actor, reason="Order cancelled.")
                    )
        return locked, refunds


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancel the orders still unpaid ``ORDER_PAYMENT_TIMEOUT`` after checkout; return how many.

    Each order is cancelled in its own transaction under its row lock: an order paid meanwhile
    is left alone, and its stock is given back only once. Its open payments are cancelled at
    their providers after commit (a PaymentIntent that succeeded meanwhile is refunded).
    """
    cutoff = (now or timezone.now()) - settings.ORDER_PAYMENT_TIMEOUT
    expired = 0
    candidates = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff).order_by(
        "pk"
    )
    for order in candidates.only("pk"):
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            try:
                transition_locked(
                    order=locked,
                    to_status=OrderStatus.CANCELLED,
                    actor=None,
                    note="Not paid in time: cancelled automatically.",
                )
            except InvalidTransition:
                continue
        expired += 1
    return expired
