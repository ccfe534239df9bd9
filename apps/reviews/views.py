"""The reviews API: a book's reviews, the customer's own, votes, and the staff's moderation."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import selectors as catalog_selectors
from bookstore.api.pagination import PageNumberPagination
from bookstore.api.problems import PROBLEM_CONTENT_TYPE as PROBLEM
from bookstore.api.schema import invalid_input
from bookstore.api.serializers import ProblemSerializer

from . import selectors, services
from .models import Review, ReviewStatus
from .serializers import (
    BookReviewPageSerializer,
    ModerationInputSerializer,
    OwnReviewOutputSerializer,
    ReviewInputSerializer,
    ReviewOutputSerializer,
    ReviewUpdateInputSerializer,
    VoteOutputSerializer,
)

BOOK = OpenApiParameter(
    "book",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="ISBN-13 (or ISBN-10), slug, or id of the book.",
)
ORDERING = OpenApiParameter(
    "ordering",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(selectors.ORDERINGS),
    description="`newest` (the default), `oldest`, `-rating` (best first), `rating`, "
    "`helpful` (most votes first).",
)
PAGE = OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Page number, from 1.")
PAGE_SIZE = OpenApiParameter(
    "page_size",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="Reviews per page (10 by default, 50 at most).",
)
NOT_FOUND = {(404, PROBLEM): OpenApiResponse(ProblemSerializer, description="No such review, or not yours.")}


class ReviewPagination(PageNumberPagination):
    page_size = 10
    max_page_size = 50


class BookReviewPagination(ReviewPagination):
    """A page of a book's reviews, with the book's rating and its distribution per star."""

    rating: dict | None = None

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data.update(self.rating or {})
        return response


class BookReviewsView(generics.GenericAPIView):
    """``books/{book}/reviews/``: read the published reviews of a book, or write yours."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = BookReviewPagination
    serializer_class = ReviewOutputSerializer
    queryset = Review.objects.none()

    @extend_schema(
        summary="A book's published reviews, with its rating distribution",
        parameters=[BOOK, ORDERING, PAGE, PAGE_SIZE],
        responses={
            200: BookReviewPageSerializer,
            **invalid_input(f"`errors.ordering`: not one of {', '.join(selectors.ORDERINGS)}."),
            (404, PROBLEM): OpenApiResponse(
                ProblemSerializer, description="No such book, or a page past the last."
            ),
        },
    )
    def get(self, request: Request, book: str) -> Response:
        book_id = catalog_selectors.book_id_get(key=book)
        ordering = request.query_params.get("ordering") or selectors.DEFAULT_ORDERING
        if ordering not in selectors.ORDERINGS:
            raise serializers.ValidationError(
                {"ordering": [f"Choose one of: {', '.join(selectors.ORDERINGS)}."]}
            )
        paginator = self.paginator
        rating = selectors.review_rating(book_id=book_id)
        paginator.rating = {
            "rating_average": f"{rating.average:.2f}",
            "rating_count": rating.count,
            "distribution": {str(stars): n for stars, n in rating.distribution.items()},
        }
        page = paginator.paginate_queryset(
            selectors.review_list_for_book(book_id=book_id, ordering=ordering), request, view=self
        )
        return paginator.get_paginated_response(ReviewOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Review a book (once)",
        parameters=[BOOK],
        request=ReviewInputSerializer,
        responses={
            201: OwnReviewOutputSerializer,
            (404, PROBLEM): OpenApiResponse(ProblemSerializer, description="No such book."),
            (409, PROBLEM): OpenApiResponse(
                ProblemSerializer,
                description="You have reviewed this book already (`review_exists`): edit it.",
            ),
        },
    )
    def post(self, request: Request, book: str) -> Response:
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        book_id = catalog_selectors.book_id_get(key=book)
        review = services.review_create(user=request.user, book_id=book_id, **data.validated_data)
        review = selectors.review_get_for_author(user=request.user, review_id=review.pk)
        return Response(OwnReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


class MyReviewsView(generics.ListAPIView):
    """``me/reviews/``: the customer's reviews, whatever their moderation state."""

    permission_classes = [IsAuthenticated]
    serializer_class = OwnReviewOutputSerializer
    pagination_class = ReviewPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.review_list_for_user(user=self.request.user)

    @extend_schema(summary="My reviews")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReviewViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """``reviews/``: the author edits or deletes theirs; customers vote; staff moderate."""

    serializer_class = OwnReviewOutputSerializer
    pagination_class = ReviewPagination
    queryset = Review.objects.none()
    lookup_value_regex = r"[0-9]{1,18}"

    def get_permissions(self):
        if self.action in ("list", "moderate"):
            return [IsAdminUser()]
        if self.action == "retrieve":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        reviews = Review.objects.select_related("user", "book").order_by("created_at", "pk")
        wanted = self.request.query_params.get("status")
        return reviews.filter(status=wanted) if wanted in ReviewStatus.values else reviews

    @extend_schema(
        summary="Every review, for moderation (staff); `?status=pending` is the queue",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ReviewStatus.values)],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A review", responses={200: ReviewOutputSerializer, **NOT_FOUND})
    def retrieve(self, request: Request, pk: str) -> Response:
        """Published reviews to anyone; the author and staff see theirs whatever its state."""
        review, whole = selectors.review_get_for_reader(user=request.user, review_id=int(pk))
        return Response((OwnReviewOutputSerializer if whole else ReviewOutputSerializer)(review).data)

    @extend_schema(
        summary="Edit my review",
        request=ReviewUpdateInputSerializer,
        responses={200: OwnReviewOutputSerializer, **NOT_FOUND},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        review = selectors.review_get_for_author(user=request.user, review_id=int(pk))
        data = ReviewUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        review = services.review_update(review=review, data=data.validated_data)
        review = selectors.review_get_for_author(user=request.user, review_id=review.pk)
        return Response(OwnReviewOutputSerializer(review).data)

    @extend_schema(summary="Delete my review", responses={204: None, **NOT_FOUND})
    def destroy(self, request: Request, pk: str) -> Response:
        review = selectors.review_get_for_author(user=request.user, review_id=int(pk))
        services.review_delete(review=review)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["POST"],
        summary="Find a review helpful",
        request=None,
        responses={
            201: VoteOutputSerializer,
            200: OpenApiResponse(VoteOutputSerializer, description="You had voted already: counted once."),
            (403, PROBLEM): OpenApiResponse(
                ProblemSerializer, description="Your own review (`own_review_vote`)."
            ),
            **NOT_FOUND,
        },
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Take my helpful vote back",
        request=None,
        responses={204: None, **NOT_FOUND},
    )
    @action(detail=True, methods=["post", "delete"])
    def helpful(self, request: Request, pk: str) -> Response:
        review = selectors.review_get_visible(review_id=int(pk))
        if request.method == "DELETE":
            services.review_vote_remove(review=review, user=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        created = services.review_vote_add(review=review, user=request.user)
        review.refresh_from_db(fields=["helpful_count"])
        return Response(
            VoteOutputSerializer({"helpful_count": review.helpful_count, "voted": True}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Approve, reject or hide a review (staff)",
        request=ModerationInputSerializer,
        responses={
            200: OwnReviewOutputSerializer,
            (400, PROBLEM): OpenApiResponse(
                ProblemSerializer,
                description="Unknown action, or no reason to reject or hide (`invalid_moderation`).",
            ),
            **NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"])
    def moderate(self, request: Request, pk: str) -> Response:
        review = selectors.review_get(review_id=int(pk))
        data = ModerationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_moderate(review=review, moderator=request.user, **data.validated_data)
        return Response(OwnReviewOutputSerializer(selectors.review_get(review_id=review.pk)).data)
