"""Carts in the admin: read-only, for support (what a customer has in their cart)."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    can_delete = False
    fields = ("book", "quantity", "price_when_added", "created_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Cart | None = None) -> bool:
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "anonymous", "line_count", "updated_at")
    list_filter = (("user", admin.EmptyFieldListFilter),)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    date_hierarchy = "updated_at"
    fields = ("user", "created_at", "updated_at")
    readonly_fields = fields
    inlines = [CartLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cart]:
        return super().get_queryset(request).annotate(line_count=Count("lines"))

    @admin.display(boolean=True)
    def anonymous(self, cart: Cart) -> bool:
        return cart.user_id is None

    @admin.display(ordering="line_count")
    def line_count(self, cart: Cart) -> int:
        return cart.line_count  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Cart | None = None) -> bool:
        return False
