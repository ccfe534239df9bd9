"""Writes of the reviews app: reviews, their moderation, helpful votes, and the books' ratings.

Concurrency: every write that can change a book's rating (a review written, edited, deleted,
moderated; its author deactivated or reactivated) first locks that book's row through
``catalog.services.book_rating_lock``, then recomputes the rating from the reviews that count
and stores it with ``catalog.services.book_rating_set``, all in one transaction. Writers of one
book's rating therefore run one after the other, and each one's count sees every review the one
before it committed: the stored rating is exact, however many customers review a book at once.

Helpful votes are a unique row per voter and review plus ``helpful_count`` moved by the same
transaction with an ``F()`` expression, so a vote sent twice counts once.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog import services as catalog_services
from apps.catalog.models import Book
from apps.orders.selectors import book_received_by
from bookstore.links import frontend_url
from bookstore.mail import email_send

from .exceptions import InvalidModeration, OwnReviewVote, ReviewExists
from .models import REASON_MAX_LENGTH, Review, ReviewStatus, ReviewVote
from .selectors import rating_mean, review_rating

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("rating", "title", "body")
MY_REVIEWS_PATH = "/accounts/reviews/"


class ModerationAction:
    APPROVE = "approve"
    REJECT = "reject"
    HIDE = "hide"
    CHOICES = (APPROVE, REJECT, HIDE)
    STATUS = {APPROVE: ReviewStatus.PUBLISHED, REJECT: ReviewStatus.REJECTED, HIDE: ReviewStatus.HIDDEN}


# --- Ratings ---------------------------------------------------------------------------------


def _rating_of(book_id: int) -> tuple[int, Decimal]:
    rating = review_rating(book_id=book_id)
    return rating.count, rating.average


def _rating_refresh(book: Book) -> None:
    """Recompute and store ``book``'s rating; the caller holds its lock."""
    count, average = _rating_of(book.pk)
    catalog_services.book_rating_set(book=book, count=count, average=average)


def _status_held(held: bool) -> str:
    return ReviewStatus.PENDING if held else ReviewStatus.PUBLISHED


# --- Reviews ---------------------------------------------------------------------------------


def review_create(
    *, user: User, book_id: int, rating: int, title: str = "", body: str = "", held: bool | None = None
) -> Review:
    """Write ``user``'s review of a book: one per customer and book (a second is
    ``ReviewExists``, a 409, enforced by the unique constraint under concurrent requests).

    It is published at once, or held for approval when ``REVIEWS_REQUIRE_APPROVAL`` is on
    (``held`` decides instead when given: the demo data publishes its own).
    ``verified_purchase`` is computed here from the orders (a delivered order holding the
    book), never taken from the client.
    """
    with transaction.atomic():
        book = catalog_services.book_rating_lock(book_id=book_id)
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    book_id=book.pk,
                    user=user,
                    rating=rating,
                    title=title,
                    body=body,
                    status=_status_held(settings.REVIEWS_REQUIRE_APPROVAL if held is None else held),
                    verified_purchase=book_received_by(user=user, book_id=book.pk),
                )
        except IntegrityError as error:
            raise ReviewExists("You have already reviewed this book; edit your review instead.") from error
        _rating_refresh(book)
    return review


def review_update(*, review: Review, data: Mapping[str, Any]) -> Review:
    """Change the author's rating, title or text; ``edited_at`` says when.

    A review that was rejected or hidden goes back to the moderators, as does any edited
    review while approval is required: an edit never publishes what a moderator has not seen.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown review fields: {sorted(unknown)}")
    with transaction.atomic():
        book = catalog_services.book_rating_lock(book_id=review.book_id)
        review = Review.objects.select_for_update().get(pk=review.pk)
        changed = [
            field for field in EDITABLE_FIELDS if field in data and data[field] != getattr(review, field)
        ]
        if not changed:
            return review
        for field in changed:
            setattr(review, field, data[field])
        review.edited_at = timezone.now()
        if review.status != ReviewStatus.PUBLISHED or settings.REVIEWS_REQUIRE_APPROVAL:
            review.status = ReviewStatus.PENDING
        review.verified_purchase = book_received_by(user=review.user, book_id=review.book_id)
        review.save(update_fields=[*changed, "edited_at", "status", "verified_purchase", "updated_at"])
        _rating_refresh(book)
    return review


def review_delete(*, review: Review) -> None:
    """The author (or staff) removes a review; its votes go with it."""
    with transaction.atomic():
        book = catalog_services.book_rating_lock(book_id=review.book_id)
        Review.objects.filter(pk=review.pk).delete()
        _rating_refresh(book)


def review_moderate(*, review: Review, action: str, moderator: User, reason: str = "") -> Review:
    """A staff member approves (publishes), rejects or hides a review. Rejecting or hiding
    needs a reason, which the author reads. The author is emailed when a review awaiting
    approval is published or rejected."""
    if action not in ModerationAction.CHOICES:
        raise InvalidModeration("action", f"Choose one of: {', '.join(ModerationAction.CHOICES)}.")
    reason = reason.strip()
    if action != ModerationAction.APPROVE and not reason:
        raise InvalidModeration("reason", "Give the author a reason.")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidModeration("reason", f"Keep the reason to {REASON_MAX_LENGTH} characters.")
    with transaction.atomic():
        book = catalog_services.book_rating_lock(book_id=review.book_id)
        review = Review.objects.select_for_update().get(pk=review.pk)
        previous = review.status
        review.status = ModerationAction.STATUS[action]
        review.moderation_reason = reason
        review.moderated_by = moderator
        review.moderated_at = timezone.now()
        review.save(
            update_fields=["status", "moderation_reason", "moderated_by", "moderated_at", "updated_at"]
        )
        _rating_refresh(book)
        if previous == ReviewStatus.PENDING and review.status in (
            ReviewStatus.PUBLISHED,
            ReviewStatus.REJECTED,
        ):
            from .tasks import review_moderated_email_send

            transaction.on_commit(
                partial(review_moderated_email_send.delay, review.pk, review.status), robust=True
            )
    return review


def review_moderated_email_send(*, review: Review, status: str) -> bool:
    """Tell the author that their review was published or rejected (with the reason).

    ``status`` is the decision the email was asked for: a review moderated again since (or an
    author deactivated since) is sent nothing, so the email never contradicts the page.
    """
    if review.status != status or not review.user.is_active:
        return False
    base = frontend_url()
    email_send(
        template=f"reviews/{'published' if status == ReviewStatus.PUBLISHED else 'rejected'}",
        context={
            "customer_name": review.user.get_short_name(),
            "review": review,
            "book": review.book,
            "book_url": f"{base}/books/{review.book.slug}/",
            "reviews_url": f"{base}{MY_REVIEWS_PATH}",
        },
        to=[review.user.email],
    )
    return True


# --- Helpful votes ---------------------------------------------------------------------------


def review_vote_add(*, review: Review, user: User) -> bool:
    """``user`` finds ``review`` helpful; once (a second vote changes nothing and returns
    False), and never on their own review (``OwnReviewVote``)."""
    if review.user_id == user.pk:
        raise OwnReviewVote()
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReviewVote.objects.create(review=review, user=user)
        except IntegrityError:
            return False
        Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
        # The book's reviews reorder by helpfulness: its cached reads are retired.
        catalog_services.book_reads_retire(book_id=review.book_id)
    return True


def review_vote_remove(*, review: Review, user: User) -> bool:
    """Take ``user``'s vote back; returns whether there was one."""
    with transaction.atomic():
        deleted, _ = ReviewVote.objects.filter(review=review, user=user).delete()
        if not deleted:
            return False
        Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") - 1)
        # The book's reviews reorder by helpfulness: its cached reads are retired.
        catalog_services.book_reads_retire(book_id=review.book_id)
    return True


# --- Authors' accounts -----------------------------------------------------------------------


def reviews_author_visibility_changed(*, user: User) -> None:
    """An account was deactivated or reactivated: its published reviews leave (or re-enter)
    their books' ratings. The reviews are kept either way, hidden while the account is off.

    Runs in the transaction of the account change; books are locked in id order.
    """
    book_ids = sorted(
        Review.objects.filter(user=user, status=ReviewStatus.PUBLISHED).values_list("book_id", flat=True)
    )
    with transaction.atomic():
        for book_id in book_ids:
            _rating_refresh(catalog_services.book_rating_lock(book_id=book_id))


# --- Recomputing every rating ----------------------------------------------------------------


@dataclass(frozen=True)
class RatingDrift:
    book_id: int
    title: str
    stored: tuple[int, Decimal]
    actual: tuple[int, Decimal]


def book_ratings_recompute(*, book_ids: Iterable[int] | None = None) -> list[RatingDrift]:
    """Recompute the stored rating of every book (or of ``book_ids``) from its reviews and
    correct those that drifted; return what was corrected. One short transaction per book
    corrected, so a long run never holds many locks."""
    books = Book.objects.order_by("pk").values_list("pk", "title", "rating_count", "rating_average")
    if book_ids is not None:
        books = books.filter(pk__in=list(book_ids))
    actual = {
        row["book_id"]: (row["count"], rating_mean(row["total"], row["count"]))
        for row in Review.objects.visible()
        .values("book_id")
        .annotate(count=Count("pk"), total=Sum("rating"))
        .order_by()
    }
    drifts = []
    for book_id, title, count, average in books.iterator():
        expected = actual.get(book_id, (0, Decimal("0.00")))
        if (count, average) == expected:
            continue
        with transaction.atomic():
            book = catalog_services.book_rating_lock(book_id=book_id)
            # Read again under the lock: a review written since the first pass counts.
            now = _rating_of(book_id)
            stored = tuple(
                Book.objects.filter(pk=book_id).values_list("rating_count", "rating_average").get()
            )
            if stored != now:
                catalog_services.book_rating_set(book=book, count=now[0], average=now[1])
                drifts.append(RatingDrift(book_id=book_id, title=title, stored=(count, average), actual=now))
    return drifts
