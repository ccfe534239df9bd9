from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import FailedTask


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("open", "open (not run again, not resolved)"),
            ("rerun", "run again"),
            ("resolved", "resolved"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> QuerySet[FailedTask]:
        if self.value() == "open":
            return queryset.filter(resolved_at=None, rerun_at=None)
        if self.value() == "rerun":
            return queryset.exclude(rerun_at=None)
        if self.value() == "resolved":
            return queryset.exclude(resolved_at=None)
        return queryset


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    list_display = (
        "failed_at",
        "task_name",
        "queue",
        "exception",
        "occurrences",
        "retries",
        "rerun_at",
        "resolved_at",
    )
    list_filter = (OpenFilter, "queue", "task_name")
    search_fields = ("task_name", "task_id", "message")
    date_hierarchy = "failed_at"
    actions = ["rerun", "resolve"]
    readonly_fields = [field.name for field in FailedTask._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(
        description="Run the selected tasks again (same arguments, same queue)", permissions=["change"]
    )
    def rerun(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        sent = services.failed_tasks_rerun(failed_tasks=queryset)
        self.message_user(request, f"{len(sent)} task(s) sent again.", messages.SUCCESS)

    @admin.action(description="Mark the selected failures resolved", permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        count = services.failed_tasks_resolve(failed_tasks=queryset, by=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{count} failure(s) marked resolved.", messages.SUCCESS)
