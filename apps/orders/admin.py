import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from bookstore.exceptions import ApplicationError

from . import services
from .models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    OutboxEmail,
    Payment,
    PaymentEvent,
    Refund,
    RefundStatus,
)


def _address_lines(address: dict[str, str]) -> str:
    """An order's address snapshot as the lines of an envelope (escaped), not as JSON."""
    city = " ".join(part for part in (address.get("postal_code", ""), address.get("city", "")) if part)
    lines = [address.get("name", ""), address.get("line1", ""), address.get("line2", ""), city]
    lines += [address.get("country", ""), address.get("phone", "")]
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines if line))


def _flat(fields: tuple[str | tuple[str, ...], ...]) -> tuple[str, ...]:
    """The field names of a ``fields`` layout whose rows may group several fields."""
    return tuple(name for group in fields for name in (group if isinstance(group, tuple) else (group,)))


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderLineInline(_ReadOnlyInline):
    model = OrderLine
    fields = ("title", "isbn13", "book", "unit_price", "quantity", "line_total")
    readonly_fields = fields


class PaymentInline(_ReadOnlyInline):
    model = Payment
    fields = (
        "provider",
        "status",
        "amount",
        "currency",
        "reference",
        "capture_reference",
        "failure_message",
        "surplus",
        "flag",
        "paid_at",
        "created_at",
    )
    readonly_fields = fields
    show_change_link = True


class StatusChangeInline(_ReadOnlyInline):
    model = OrderStatusChange
    verbose_name_plural = "status history"
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields


class OutboxEmailInline(_ReadOnlyInline):
    model = OutboxEmail
    verbose_name_plural = "emails"
    fields = ("kind", "to", "status", "attempts", "sent_at", "last_error")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are read here; their status moves only through the actions (the lifecycle service)."""

    # Fits 1280 px beside the navigation and the filters (the provider is a filter).
    list_display = ("number", "email", "status", "total", "created_at")
    list_filter = ("status", "payment_provider", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("number", "email")
    list_select_related = ("user",)
    inlines = (OrderLineInline, PaymentInline, StatusChangeInline, OutboxEmailInline)
    actions = ("mark_processing", "mark_shipped", "refund_in_full")
    fields = (
        "number",
        "user",
        "email",
        "status",
        "tracking_number",
        ("subtotal", "shipping_total", "total", "currency"),
        ("vat_rate", "vat_total"),
        "payment_provider",
        ("shipping", "billing"),
        ("created_at", "paid_at", "shipped_at", "cancelled_at"),
    )
    # Only the tracking number is typed in here (before "mark shipped"); everything else is
    # the checkout's snapshot or the lifecycle's doing.
    readonly_fields = tuple(name for name in _flat(fields) if name != "tracking_number")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    @admin.display(description=_("Shipping address"))
    def shipping(self, order: Order) -> str:
        return _address_lines(order.shipping_address)

    @admin.display(description=_("Billing address"))
    def billing(self, order: Order) -> str:
        return _address_lines(order.billing_address) if order.billing_address else "—"

    def _move(self, request: HttpRequest, queryset: QuerySet[Order], to_status: str) -> None:
        moved, refused = 0, []
        for order in queryset:
            try:
                services.order_transition(
                    order=order,
                    to_status=to_status,
                    actor=request.user,  # type: ignore[arg-type]
                    note="From the admin.",
                    tracking_number=order.tracking_number,
                )
            except ApplicationError as exc:
                refused.append(f"{order.number}: {exc.message}")
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} order(s) marked {to_status}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Mark selected orders as processing", permissions=["change"])
    def mark_processing(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move(request, queryset, OrderStatus.PROCESSING)

    @admin.action(
        description="Mark selected orders as shipped (with their tracking number)", permissions=["change"]
    )
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move(request, queryset, OrderStatus.SHIPPED)

    @admin.action(
        description="Refund selected orders in full (through their payment provider)", permissions=["change"]
    )
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """What was paid and not refunded yet goes back; the provider is asked once this commits."""
        for order in queryset:
            try:
                refund, _created = services.refund_create(
                    order=order,
                    actor=request.user,  # type: ignore[arg-type]
                    reason="From the admin.",
                )
            except ApplicationError as exc:
                self.message_user(request, f"{order.number}: {exc.message}", messages.ERROR)
                continue
            refund.refresh_from_db()
            level = messages.SUCCESS if refund.status == RefundStatus.SUCCEEDED else messages.WARNING
            self.message_user(
                request,
                f"{order.number}: refund of {refund.amount} {refund.currency} {refund.status}.",
                level,
            )


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the services write: staff read them here, and act through the order's actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RefundInline(_ReadOnlyInline):
    model = Refund
    fields = (
        "amount",
        "currency",
        "status",
        "reference",
        "reason",
        "actor",
        "failure_message",
        "refunded_at",
    )
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(_ReadOnlyAdmin):
    # Fits 1280 px; surplus and flagged payments are filters.
    list_display = ("order", "provider", "status", "amount", "reference", "created_at")
    list_filter = ("provider", "status", "surplus", ("flag", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("order__number", "reference", "capture_reference", "order__email")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    inlines = (RefundInline,)
    fields = (
        "order",
        ("provider", "status"),
        ("amount", "currency"),
        ("reference", "capture_reference"),
        "failure_message",
        ("surplus", "flag"),
        ("created_at", "updated_at", "paid_at", "checked_at"),
    )
    readonly_fields = _flat(fields)


@admin.register(Refund)
class RefundAdmin(_ReadOnlyAdmin):
    list_display = ("payment", "amount", "currency", "status", "reason", "actor", "created_at", "refunded_at")
    list_filter = ("status", "payment__provider", "created_at")
    search_fields = ("payment__order__number", "reference", "idempotency_key")
    list_select_related = ("payment__order", "actor")
    readonly_fields = (
        "payment",
        "amount",
        "currency",
        "status",
        "reference",
        "idempotency_key",
        "reason",
        "actor",
        "failure_message",
        "created_at",
        "refunded_at",
    )
    fields = readonly_fields


@admin.register(PaymentEvent)
class PaymentEventAdmin(_ReadOnlyAdmin):
    """The provider's webhooks as received (after their signature was verified), with their raw body."""

    list_display = ("received_at", "provider", "event_type", "status", "note", "reference", "payment")
    list_filter = ("provider", "status", "kind", "received_at")
    search_fields = ("event_id", "reference", "capture_reference", "payment__order__number")
    list_select_related = ("payment__order",)
    date_hierarchy = "received_at"
    readonly_fields = (
        "provider",
        "event_id",
        "event_type",
        "kind",
        "status",
        "note",
        "reference",
        "capture_reference",
        "amount",
        "currency",
        "failure_message",
        "payment",
        "attempts",
        "received_at",
        "processed_at",
        "payload_pretty",
    )
    fields = readonly_fields

    @admin.display(description="payload")
    def payload_pretty(self, event: PaymentEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, ensure_ascii=False))
