"""Reads of reviews: a book's published reviews with their distribution, a customer's own."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet

from apps.accounts.models import User

from .exceptions import ReviewNotFound
from .models import RATING_MAX, RATING_MIN, Review

# What ``?ordering=`` accepts, and the columns behind each (the book's indexes serve them).
ORDERINGS = {
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
    "-rating": ("-rating", "-created_at", "-pk"),
    "rating": ("rating", "-created_at", "-pk"),
    "helpful": ("-helpful_count", "-created_at", "-pk"),
}
DEFAULT_ORDERING = "newest"


def review_list_for_book(*, book_id: int, ordering: str = DEFAULT_ORDERING) -> QuerySet[Review]:
    """The reviews others see of a book (published, by an active account), in ``ordering``."""
    return (
        Review.objects.visible()
        .filter(book_id=book_id)
        .select_related("user", "book")
        .defer("book__description")
        .order_by(*ORDERINGS.get(ordering, ORDERINGS[DEFAULT_ORDERING]))
    )


@dataclass(frozen=True)
class Rating:
    """A book's rating as its visible reviews make it."""

    count: int
    average: Decimal  # two places; 0.00 without a review
    distribution: dict[int, int]  # stars → reviews, 5 to 1, zeros included


def rating_mean(total: Decimal | int | float | None, count: int) -> Decimal:
    """``total / count`` to two places, half up (0.00 for no review): the one rounding of a
    rating, stored or shown."""
    if not count or total is None:
        return Decimal("0.00")
    return (Decimal(str(total)) / count).quantize(Decimal("0.01"), ROUND_HALF_UP)


def review_rating(*, book_id: int) -> Rating:
    """The count, mean and distribution of a book's visible reviews, in one query."""
    counts = dict(
        Review.objects.visible()
        .filter(book_id=book_id)
        .values_list("rating")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("rating", "count")
    )
    distribution = {stars: counts.get(stars, 0) for stars in range(RATING_MAX, RATING_MIN - 1, -1)}
    count = sum(distribution.values())
    total = sum(stars * n for stars, n in distribution.items())
    return Rating(count=count, average=rating_mean(total, count), distribution=distribution)


def review_get_for_reader(*, user: User | AnonymousUser, review_id: int) -> tuple[Review, bool]:
    """A review as ``user`` may read it, and whether they read it whole (its state and the
    moderator's reason): staff any review, the author their own whatever its state, anyone
    else a visible one (else ``ReviewNotFound``)."""
    if user.is_authenticated and user.is_staff:
        return review_get(review_id=review_id), True
    if user.is_authenticated:
        own = Review.objects.filter(user=user, pk=review_id).select_related("user", "book").first()
        if own is not None:
            return own, True
    return review_get_visible(review_id=review_id), False


def review_list_for_user(*, user: User) -> QuerySet[Review]:
    """The customer's own reviews, whatever their state, newest first, with their books."""
    return Review.objects.filter(user=user).select_related("user", "book").order_by("-created_at", "-pk")


def review_of_user_for_book(*, user: User, book_id: int) -> Review | None:
    return Review.objects.filter(user=user, book_id=book_id).first()


def review_get_for_author(*, user: User, review_id: int) -> Review:
    """The author's own review; anyone else's is a 404, as a missing one is."""
    return _get(Review.objects.filter(user=user), review_id)


def review_get_visible(*, review_id: int) -> Review:
    """A review others may see (to vote on it)."""
    return _get(Review.objects.visible(), review_id)


def review_get(*, review_id: int) -> Review:
    """Any review (for staff)."""
    return _get(Review.objects.all(), review_id)


def _get(reviews: QuerySet[Review], review_id: int) -> Review:
    try:
        return reviews.select_related("user", "book").get(pk=review_id)
    except Review.DoesNotExist as error:
        raise ReviewNotFound("No such review.") from error


def author_display_name(user: User) -> str:
    """How a review names its author to others: first name and initial, never the email."""
    first, last = user.first_name.strip(), user.last_name.strip()
    if first:
        return f"{first} {last[0]}." if last else first
    return ""
