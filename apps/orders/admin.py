from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bookstore.exceptions import ApplicationError

from . import services
from .models import Order, OrderLine, OrderStatus, OrderStatusChange, OutboxEmail, Payment


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
        "failure_message",
        "paid_at",
        "created_at",
    )
    readonly_fields = fields


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

    list_display = ("number", "email", "status", "total", "currency", "payment_provider", "created_at")
    list_filter = ("status", "payment_provider", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("number", "email")
    list_select_related = ("user",)
    inlines = (OrderLineInline, PaymentInline, StatusChangeInline, OutboxEmailInline)
    actions = ("mark_processing", "mark_shipped")
    fields = (
        "number",
        "user",
        "email",
        "status",
        "tracking_number",
        ("subtotal", "shipping_total", "total", "currency"),
        ("vat_rate", "vat_total"),
        "payment_provider",
        "shipping_address",
        "billing_address",
        ("created_at", "paid_at", "shipped_at", "cancelled_at"),
    )
    # Only the tracking number is typed in here (before "mark shipped"); everything else is
    # the checkout's snapshot or the lifecycle's doing.
    readonly_fields = tuple(
        name
        for group in fields
        for name in (group if isinstance(group, tuple) else (group,))
        if name != "tracking_number"
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

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
