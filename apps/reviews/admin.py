"""Moderating reviews in the admin: a queue filtered by state, and actions that go through the
reviews service (which keeps the books' ratings exact and emails the authors).

Customers' text is read-only here and shown escaped, as everywhere.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookstore.exceptions import ApplicationError

from . import services
from .models import REASON_MAX_LENGTH, Review, ReviewStatus
from .services import ModerationAction


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, for the author"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = (
        "book",
        "user",
        "rating",
        "title",
        "status",
        "verified_purchase",
        "helpful_count",
        "created_at",
    )
    list_filter = ("status", "rating", "verified_purchase")
    list_select_related = ("book", "user")
    search_fields = ("book__title", "user__email", "title")
    date_hierarchy = "created_at"
    fields = (
        ("book", "user"),
        ("rating", "verified_purchase", "helpful_count"),
        "title",
        "body",
        ("status", "moderation_reason"),
        ("moderated_by", "moderated_at"),
        ("created_at", "edited_at"),
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))
    actions = ["approve_reviews", "reject_reviews", "hide_reviews"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Review | None = None) -> bool:
        # Deleting here would bypass the service that keeps the book's rating: hide instead.
        return False

    def _moderate(
        self, request: HttpRequest, queryset: QuerySet[Review], action: str, reason: str = ""
    ) -> int:
        done = 0
        for review in queryset:
            try:
                services.review_moderate(review=review, action=action, moderator=request.user, reason=reason)
            except ApplicationError as error:
                self.message_user(request, f"{review}: {error.message}", messages.ERROR)
            else:
                done += 1
        return done

    def _with_reason(
        self, request: HttpRequest, queryset: QuerySet[Review], action: str, title: str
    ) -> HttpResponse | None:
        """Ask for the reason on a page of its own, then moderate the selected reviews."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = self._moderate(request, queryset, action, form.cleaned_data["reason"])
            self.message_user(
                request,
                ngettext("%d review moderated.", "%d reviews moderated.", done) % done,
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/reviews/moderate.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "reviews": queryset,
                "form": form,
                "action": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Approve (publish) the selected reviews"), permissions=["change"])
    def approve_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        done = self._moderate(
            request, queryset.exclude(status=ReviewStatus.PUBLISHED), ModerationAction.APPROVE
        )
        self.message_user(request, ngettext("%d review published.", "%d reviews published.", done) % done)

    @admin.action(description=_("Reject the selected reviews…"), permissions=["change"])
    def reject_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> HttpResponse | None:
        return self._with_reason(request, queryset, ModerationAction.REJECT, _("Reject reviews"))

    @admin.action(description=_("Hide the selected reviews…"), permissions=["change"])
    def hide_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> HttpResponse | None:
        return self._with_reason(request, queryset, ModerationAction.HIDE, _("Hide reviews"))
