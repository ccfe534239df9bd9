"""Reads of orders."""

from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User

from .exceptions import OrderNotFound
from .models import Order, OrderStatus, OrderStatusChange, Payment, Refund, RefundStatus


def _orders() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        "lines",
        Prefetch("payments", queryset=Payment.objects.order_by("pk").prefetch_related("refunds")),
        Prefetch("history", queryset=OrderStatusChange.objects.order_by("created_at", "pk")),
    )


def order_list_for_user(*, user: User) -> QuerySet[Order]:
    """The customer's own orders, newest first, with lines, payments and history prefetched."""
    return _orders().filter(user=user).order_by("-created_at", "-pk")


def order_get_for_user(*, user: User, number: str) -> Order:
    """The customer's order ``number``; another customer's order is a 404 like a missing one."""
    return _get(_orders().filter(user=user), number=number)


def order_get(*, number: str) -> Order:
    """Any order by number (for staff)."""
    return _get(_orders(), number=number)


def order_get_by_payment(*, payment_id: int) -> Payment:
    try:
        return Payment.objects.select_related("order").get(pk=payment_id)
    except Payment.DoesNotExist as error:
        raise OrderNotFound("Unknown payment.") from error


def _get(orders: QuerySet[Order], *, number: str) -> Order:
    try:
        return orders.get(number=number)
    except Order.DoesNotExist as error:
        raise OrderNotFound("No order has this number.") from error


def payment_latest(*, order: Order) -> Payment | None:
    """The order's latest payment attempt: the one a client acts on."""
    return order.payments.order_by("-pk").first()


def payment_for_return(*, order_number: str) -> Payment | None:
    """The latest attempt of order ``order_number``, for a customer back from a provider's page.

    The order number is the only thing in the address: the page does nothing an outsider could
    abuse (capturing a payment the customer approved is what the webhook does anyway).
    """
    return Payment.objects.select_related("order").filter(order__number=order_number).order_by("-pk").first()


def order_refunds(*, order: Order) -> list[Refund]:
    """Every refund of ``order``, oldest first, from its prefetched payments (no query)."""
    refunds = [refund for payment in order.payments.all() for refund in payment.refunds.all()]
    return sorted(refunds, key=lambda refund: (refund.created_at, refund.pk))


def order_amount_refunded(*, order: Order) -> Decimal:
    """What has gone back to the customer so far (succeeded refunds only)."""
    succeeded = (r.amount for r in order_refunds(order=order) if r.status == RefundStatus.SUCCEEDED)
    return sum(succeeded, Decimal("0.00"))


def book_received_by(*, user: User, book_id: int) -> bool:
    """Whether ``user`` has had the book delivered: an order of theirs holding it reached
    *delivered* and was not refunded in full (a partial refund keeps the purchase).

    The reviews service reads it for ``verified_purchase``; *shipped* is not enough, the
    customer may not have the book yet.
    """
    return (
        Order.objects.filter(user=user, lines__book_id=book_id, history__to_status=OrderStatus.DELIVERED)
        .exclude(status__in=[OrderStatus.REFUNDED, OrderStatus.CANCELLED])
        .exists()
    )
