from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from bookstore.api.authentication import user_tokens_stale

from .models import Address, User
from .services import user_activate, user_deactivate


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = (("kind", "is_default"), "name", "line1", "line2", ("postal_code", "city", "country"), "phone")


# Only superusers hand out privileges: staff who may change users (the Administrators group)
# would otherwise be able to make themselves superusers.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationForm
    inlines = [AddressInline]
    ordering = ("email",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_active",
        "email_verified",
        "deactivated_at",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = (
        "is_active",
        "email_verified",
        ("deactivated_at", admin.EmptyFieldListFilter),
        "is_staff",
        "is_superuser",
        "groups",
        "date_joined",
    )
    search_fields = ("email", "first_name", "last_name", "pending_email")
    readonly_fields = ("last_login", "date_joined", "deactivated_at")
    actions = ["deactivate_users", "activate_users"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Email", {"fields": ("email_verified", "pending_email")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "deactivated_at",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += PRIVILEGE_FIELDS
        return readonly

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        if change and "is_staff" in form.changed_data:
            # The user's tokens say whether it is staff: the catalogue reads load it again.
            user_tokens_stale(user_id=obj.pk, staff_changed=True)
        if not (change and "is_active" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        # Ticking or unticking "active" is a deactivation or a reactivation: the services
        # record it and end the sessions, as the actions do (the admin saves in one transaction).
        active = obj.is_active
        obj.is_active = not active
        super().save_model(request, obj, form, change)
        if active:
            user_activate(user=obj)
        else:
            user_deactivate(user=obj)

    @admin.action(description="Deactivate the selected users (they are signed out)", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # An administrator cannot lock themselves out by mistake.
        queryset = queryset.exclude(pk=request.user.pk)
        if not request.user.is_superuser:
            queryset = queryset.exclude(is_superuser=True)
        # Accounts that never verified their address are inactive already, but deactivating
        # them still matters: it stops their emailed link from activating them.
        users = list(queryset.filter(deactivated_at=None))
        for user in users:
            user_deactivate(user=user)
        self.message_user(request, f"{len(users)} user(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Activate the selected users", permissions=["change"])
    def activate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset.filter(is_active=False))
        for user in users:
            user_activate(user=user)
        self.message_user(request, f"{len(users)} user(s) activated.", messages.SUCCESS)
