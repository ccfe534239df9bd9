from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bookstore.models import TimeStampedModel

from .payments.base import EventKind


class OrderStatus(models.TextChoices):
    # In context: French agrees the labels with "commande" (feminine), unlike a payment's.
    PENDING_PAYMENT = "pending_payment", pgettext_lazy("order status", "Pending payment")
    PAID = "paid", pgettext_lazy("order status", "Paid")
    PROCESSING = "processing", pgettext_lazy("order status", "Processing")
    SHIPPED = "shipped", pgettext_lazy("order status", "Shipped")
    DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")
    REFUNDED = "refunded", pgettext_lazy("order status", "Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", pgettext_lazy("order status", "Partially refunded")


def _money(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=10, decimal_places=2, **kwargs)


class Order(TimeStampedModel):
    """A placed order: a snapshot of the cart, the addresses and the amounts at checkout.

    Amounts are computed by the checkout service, never taken from a client; ``total`` is
    ``subtotal + shipping_total`` and ``vat_total`` is the VAT included in ``total``.
    """

    number = models.CharField(max_length=16, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="orders", on_delete=models.PROTECT)
    # The customer's address when ordering: emails go there, staff search by it.
    email = models.EmailField(max_length=254, db_index=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    subtotal = _money()
    shipping_total = _money()
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="percent, included in prices")
    vat_total = _money()
    total = _money()
    shipping_address = models.JSONField()
    billing_address = models.JSONField()
    payment_provider = models.CharField(max_length=20)
    tracking_number = models.CharField(max_length=100, blank=True)
    # Set when a cancellation gives the copies back, so that it can happen only once.
    stock_released = models.BooleanField(default=False, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, shipping_total__gte=0, vat_total__gte=0, total__gte=0),
                name="orders_order_amounts_not_negative",
            ),
            models.CheckConstraint(
                # Rounded: SQLite computes with binary floats (143.70 + 0.01 ≠ 143.71 there);
                # on PostgreSQL's numeric the rounding changes nothing.
                condition=models.Q(total=Round(models.F("subtotal") + models.F("shipping_total"), 2)),
                name="orders_order_total_is_subtotal_plus_shipping",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # The expiry task looks for old unpaid orders.
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """A book as it was sold: title, ISBN and price are copied, so later edits change nothing."""

    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    book = models.ForeignKey("catalog.Book", null=True, related_name="+", on_delete=models.SET_NULL)
    title = models.CharField(max_length=300)
    isbn13 = models.CharField(_("ISBN-13"), max_length=13)
    unit_price = _money()
    quantity = models.PositiveSmallIntegerField()
    line_total = _money()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orders_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="orders_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class OrderStatusChange(models.Model):
    """One step of an order's life: who moved it, when, from which status to which, and why."""

    order = models.ForeignKey(Order, related_name="history", on_delete=models.CASCADE)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order}: {self.from_status or '∅'} → {self.to_status}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    ERROR = "error", _("Gateway error")
    CANCELLED = "cancelled", _("Cancelled")


class Payment(TimeStampedModel):
    """An attempt to collect an order's total through a provider.

    An order has one attempt per try (a retry after a decline or with another provider makes a
    new one). Exactly one attempt pays an order; one that succeeds after its order was already
    paid or cancelled is ``surplus``: it is refunded automatically and flagged for staff.
    """

    order = models.ForeignKey(Order, related_name="payments", on_delete=models.CASCADE)
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount = _money()
    currency = models.CharField(max_length=3)
    # The provider's id for the payment (a PaymentIntent, a PayPal order …).
    reference = models.CharField(max_length=255, blank=True)
    # PayPal's capture id: refunds and refund notifications name the capture, not the order.
    capture_reference = models.CharField(max_length=255, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    approval_url = models.URLField(max_length=1000, blank=True)
    pay_url = models.URLField(max_length=1000, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    surplus = models.BooleanField(
        default=False, help_text="Paid after its order was already paid or cancelled: refunded automatically."
    )
    # Why staff must look at this payment (an amount that does not match, a late payment …).
    flag = models.CharField(max_length=500, blank=True)
    # When reconciliation last asked the provider about it.
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"],
                condition=~models.Q(reference=""),
                name="orders_payment_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["provider", "capture_reference"],
                condition=~models.Q(capture_reference=""),
                name="orders_payment_capture_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "provider", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """The key of this attempt at its provider: a retry never makes a second payment."""
        return f"{self.order.number}-payment-{self.pk}"


class RefundStatus(models.TextChoices):
    # Asked of the provider, or to ask again: the provider could not be reached.
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    # The provider refused it; staff must look.
    FAILED = "failed", _("Failed")


class Refund(TimeStampedModel):
    """Money given back from a payment, in part or whole, by staff, a cancellation or the provider."""

    payment = models.ForeignKey(Payment, related_name="refunds", on_delete=models.PROTECT)
    amount = _money()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    # The provider's id of the refund, once it answered.
    reference = models.CharField(max_length=255, blank=True)
    # The client's Idempotency-Key: a retried request gets this refund instead of a second one.
    idempotency_key = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    failure_message = models.CharField(max_length=500, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="orders_refund_amount_positive"),
            models.UniqueConstraint(
                fields=["payment", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="orders_refund_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["payment", "reference"],
                condition=~models.Q(reference=""),
                name="orders_refund_reference_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} ({self.status})"

    @property
    def provider_key(self) -> str:
        """The idempotency key of this refund at the provider."""
        return f"{self.payment.order.number}-refund-{self.pk}"


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received, to process")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (a kind the shop does not act on)")
    UNMATCHED = "unmatched", _("No payment of the shop")
    # A refund seen before its payment's success: processed again when the success arrives.
    DEFERRED = "deferred", _("Waiting for the payment's success")
    FLAGGED = "flagged", _("Flagged for staff")


class PaymentEvent(models.Model):
    """A provider's webhook as received, once its signature was verified; stored once per event id."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=[(k.value, k.name.lower()) for k in EventKind])
    reference = models.CharField(max_length=255, blank=True)
    capture_reference = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, related_name="events", on_delete=models.SET_NULL
    )
    # What processing did, for staff reading the admin.
    note = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="orders_payment_event_unique")
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


class IdempotencyKey(models.Model):
    """A checkout's ``Idempotency-Key``: a retry with the same key and body gets the same order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # Null only inside the checkout's transaction: the key row is written first, so that a
    # concurrent duplicate waits on it, and gets its order before the commit.
    order = models.OneToOneField(Order, null=True, related_name="idempotency_key", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="orders_idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Order confirmation")
    SHIPPED = "shipped", _("Shipping notice")
    CANCELLED = "cancelled", _("Cancellation notice")
    REFUNDED = "refunded", _("Refund notice")


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")


class OutboxEmail(TimeStampedModel):
    """An email an order change must send, written in the same transaction as the change.

    A task sends it after commit; a periodic task sends again whatever is still pending (the
    broker was down, the mail server failed). One row per order and kind, or per refund for
    refund notices: each goes out once.
    """

    order = models.ForeignKey(Order, related_name="emails", on_delete=models.CASCADE)
    refund = models.OneToOneField(
        Refund, null=True, blank=True, related_name="email", on_delete=models.CASCADE
    )
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    to = models.EmailField(max_length=254)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox email")
        verbose_name_plural = _("outbox emails")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=models.Q(refund__isnull=True),
                name="orders_outbox_one_per_kind",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.order} ({self.status})"
