"""API shapes of reviews: what a customer writes, what others read, what the author and staff read."""

from rest_framework import serializers

from .models import BODY_MAX_LENGTH, RATING_MAX, RATING_MIN, REASON_MAX_LENGTH, TITLE_MAX_LENGTH, Review
from .selectors import author_display_name
from .services import ModerationAction


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, allow_blank=True, required=False, default="")
    body = serializers.CharField(
        max_length=BODY_MAX_LENGTH, allow_blank=True, required=False, default="", trim_whitespace=False
    )


class ReviewUpdateInputSerializer(ReviewInputSerializer):
    """The same fields, each optional (PATCH)."""

    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX, required=False)
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, allow_blank=True, required=False)
    body = serializers.CharField(
        max_length=BODY_MAX_LENGTH, allow_blank=True, required=False, trim_whitespace=False
    )


class ModerationInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ModerationAction.CHOICES)
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        allow_blank=True,
        required=False,
        default="",
        help_text="Required to reject or hide; the author reads it.",
    )


class ReviewOutputSerializer(serializers.ModelSerializer):
    """A review as anyone sees it: text as written (escape it when you render HTML)."""

    book = serializers.CharField(source="book.slug", read_only=True, help_text="The book's slug.")
    author_name = serializers.SerializerMethodField(help_text="First name and initial; empty if not given.")

    class Meta:
        model = Review
        fields = (
            "id",
            "book",
            "rating",
            "title",
            "body",
            "author_name",
            "verified_purchase",
            "helpful_count",
            "created_at",
            "edited_at",
        )
        read_only_fields = fields

    def get_author_name(self, review: Review) -> str:
        return author_display_name(review.user)


class OwnReviewOutputSerializer(ReviewOutputSerializer):
    """The author's (and staff's) view: its moderation state and the moderator's reason."""

    book_title = serializers.CharField(source="book.title", read_only=True)

    class Meta(ReviewOutputSerializer.Meta):
        fields = (*ReviewOutputSerializer.Meta.fields, "book_title", "status", "moderation_reason")
        read_only_fields = fields


class RatingDistributionSerializer(serializers.Serializer):
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='Count of visible reviews per star: {"5": 12, …, "1": 0}.'
    )


class VoteOutputSerializer(serializers.Serializer):
    helpful_count = serializers.IntegerField()
    voted = serializers.BooleanField()


class BookReviewPageSerializer(serializers.Serializer):
    """A page of a book's reviews, with the book's rating and its distribution per star."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReviewOutputSerializer(many=True)
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text='Visible reviews per star: {"5": 12, "4": 3, …, "1": 0}.'
    )
