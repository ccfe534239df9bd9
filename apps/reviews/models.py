"""Reviews of books: one per customer and book, moderated, voted helpful.

A review counts (is shown to others and enters its book's rating) when it is published and its
author's account is active; ``Review.objects.visible()`` is that rule, in one place.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bookstore.models import TimeStampedModel

RATING_MIN, RATING_MAX = 1, 5
TITLE_MAX_LENGTH = 120
BODY_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 500


class ReviewStatus(models.TextChoices):
    # In context: French agrees the labels with « avis » (masculine), unlike an order's.
    PENDING = "pending", pgettext_lazy("review status", "Awaiting approval")
    PUBLISHED = "published", pgettext_lazy("review status", "Published")
    REJECTED = "rejected", pgettext_lazy("review status", "Rejected")
    HIDDEN = "hidden", pgettext_lazy("review status", "Hidden")


class ReviewQuerySet(models.QuerySet["Review"]):
    def visible(self) -> "ReviewQuerySet":
        """What others see and what the rating counts: published, by an active account."""
        return self.filter(status=ReviewStatus.PUBLISHED, user__is_active=True)


class Review(TimeStampedModel):
    book = models.ForeignKey(
        "catalog.Book", related_name="reviews", on_delete=models.CASCADE, verbose_name=_("book")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="reviews", on_delete=models.CASCADE, verbose_name=_("author")
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH, blank=True)
    body = models.TextField(_("text"), max_length=BODY_MAX_LENGTH, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    verified_purchase = models.BooleanField(_("verified purchase"), default=False)
    helpful_count = models.PositiveIntegerField(_("helpful votes"), default=0)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    moderation_reason = models.CharField(_("moderation reason"), max_length=REASON_MAX_LENGTH, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        verbose_name=_("moderated by"),
    )
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "book"], name="reviews_review_one_per_user_and_book"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="reviews_review_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["book", "status", "-created_at"], name="reviews_book_newest"),
            models.Index(fields=["book", "status", "-helpful_count"], name="reviews_book_helpful"),
            models.Index(fields=["book", "status", "-rating"], name="reviews_book_rating"),
            models.Index(fields=["status", "created_at"], name="reviews_moderation_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.title or self.body[:40]}"


class ReviewVote(models.Model):
    """A customer found a review helpful; once each, never on their own review (the service)."""

    review = models.ForeignKey(Review, related_name="votes", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("helpful vote")
        verbose_name_plural = _("helpful votes")
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="reviews_vote_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.review_id}"
