from django.core.paginator import Paginator as DjangoPaginator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from bookstore.api.cached_reads import CachedReadsMixin
from bookstore.api.pagination import PageNumberPagination
from bookstore.api.permissions import IsStaffOrReadOnly
from bookstore.api.problems import PROBLEM_CONTENT_TYPE as PROBLEM
from bookstore.api.serializers import ProblemSerializer
from bookstore.cache import cached_read

from . import selectors, services
from .selectors import BookFilter
from .serializers import (
    AuthorInputSerializer,
    AuthorOutputSerializer,
    BookDetailOutputSerializer,
    BookInputSerializer,
    BookPageSerializer,
    CoverInputSerializer,
    PublisherInputSerializer,
    PublisherOutputSerializer,
    book_data,
    book_detail_data,
    facets_data,
)

BOOK_KEY = OpenApiParameter(
    "key",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="ISBN-13 (or ISBN-10), slug, or id of the book.",
)
PAGE = OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Page number, from 1.")
PAGE_SIZE = OpenApiParameter(
    "page_size",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="Books per page (20 by default, 100 at most).",
)
DUPLICATE_ISBN = {
    (409, PROBLEM): OpenApiResponse(
        ProblemSerializer, description="Another book has this ISBN (`duplicate_isbn`)."
    )
}
SLUG_TAKEN = {
    (409, PROBLEM): OpenApiResponse(ProblemSerializer, description="The slug is in use (`slug_taken`).")
}
IN_USE = {
    (409, PROBLEM): OpenApiResponse(ProblemSerializer, description="Books still refer to it (`in_use`).")
}
FACETS = OpenApiParameter(
    "facets",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="Set to false to leave the facets out (one query less: the next pages need none).",
)


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class BookContentNegotiation(DefaultContentNegotiation):
    """``?format=`` filters books by binding here; it does not pick a renderer."""

    settings = _NoFormatOverride()


class _BookPaginator(DjangoPaginator):
    """Django's paginator, slicing with ``selectors.book_page`` (the rows' inline columns read
    for the page's books only)."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(selectors.book_page(self.object_list, start=bottom, stop=top), number, self)


class BookPagination(PageNumberPagination):
    """Pages of books with the facets of the whole filtered list.

    When the facets are computed, their total is the page count: the paginator is told it
    instead of running its own COUNT.
    """

    known_count: int | None = None
    facets: dict | None = None
    searched = False
    suggestion: str | None = None

    def django_paginator_class(self, object_list, per_page):
        paginator = _BookPaginator(object_list, per_page)
        if self.known_count is not None:
            paginator.count = self.known_count
        return paginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.facets is not None:
            response.data["facets"] = self.facets
        if self.searched:
            response.data["suggestion"] = self.suggestion
        return response


def _wants_facets(request) -> bool:
    return request.query_params.get("facets", "true").lower() not in {"0", "false", "no", "off"}


@extend_schema_view(
    list=extend_schema(
        parameters=[PAGE, PAGE_SIZE, FACETS],
        responses=BookPageSerializer,
        description="Active books, filtered, searched and paginated, with the facets of the filtered list.",
    ),
    retrieve=extend_schema(parameters=[BOOK_KEY], responses=BookDetailOutputSerializer),
    create=extend_schema(
        request=BookInputSerializer, responses={201: BookDetailOutputSerializer, **DUPLICATE_ISBN}
    ),
    partial_update=extend_schema(
        parameters=[BOOK_KEY],
        request=BookInputSerializer(partial=True),
        responses={200: BookDetailOutputSerializer, **DUPLICATE_ISBN},
    ),
    destroy=extend_schema(
        parameters=[BOOK_KEY],
        responses={
            204: OpenApiResponse(description="Deleted."),
            200: OpenApiResponse(BookDetailOutputSerializer, description="Kept for its orders, deactivated."),
        },
    ),
)
class BookViewSet(CachedReadsMixin, viewsets.GenericViewSet):
    # A customer's token is enough for a read: the user is not loaded (bookstore/api/authentication.py).
    token_user_reads = True
    permission_classes = [IsStaffOrReadOnly]
    content_negotiation_class = BookContentNegotiation
    # Paginated by hand (BookPagination) so that the schema shows the page with its facets.
    pagination_class = None
    filterset_class = BookFilter
    lookup_field = "key"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.book_queryset(include_inactive=self.request.user.is_staff)

    def cached_read_options(self, action: str, kwargs: dict) -> dict:
        if action == "retrieve":
            return {"scope": selectors.book_cache_scope(key=kwargs["key"])}
        return {"availability": "in_stock" in self.request.GET}

    def _include_inactive(self) -> bool:
        return bool(self.request.user and self.request.user.is_staff)

    def list(self, request):
        def build():
            books, suggestion = selectors.book_list_searched(
                params=request.query_params, include_inactive=self._include_inactive(), inline=True
            )
            paginator = BookPagination()
            paginator.searched = bool(request.query_params.get("q", "").strip())
            paginator.suggestion = suggestion
            if _wants_facets(request):
                total, facets = selectors.book_facets_cached(
                    params=request.query_params, books=books, include_inactive=self._include_inactive()
                )
                paginator.known_count, paginator.facets = total, facets_data(facets)
            page = paginator.paginate_queryset(books, request, view=self)
            return paginator.get_paginated_response([book_data(book) for book in page])

        return cached_read(
            request,
            build,
            books=lambda data: [book["id"] for book in data["results"]],
            **self.cached_read_options("list", {}),
        )

    def retrieve(self, request, key: str):
        def build():
            book = selectors.book_get(key=key, include_inactive=self._include_inactive(), inline=True)
            return Response(book_detail_data(book))

        return cached_read(
            request,
            build,
            books=lambda data: [data["id"]],
            **self.cached_read_options("retrieve", {"key": key}),
        )

    def create(self, request):
        serializer = BookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        book = services.book_create(isbn=data.pop("isbn13"), **data)
        book = selectors.book_get(key=str(book.pk), include_inactive=True)
        return Response(book_detail_data(book), status=status.HTTP_201_CREATED)

    def partial_update(self, request, key: str):
        book = selectors.book_get(key=key, include_inactive=True)
        serializer = BookInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "isbn13" in data:
            data["isbn"] = data.pop("isbn13")
        services.book_update(book=book, data=data)
        book = selectors.book_get(key=str(book.pk), include_inactive=True)
        return Response(book_detail_data(book))

    def destroy(self, request, key: str):
        book = selectors.book_get(key=key, include_inactive=True)
        if services.book_delete(book=book):
            return Response(status=status.HTTP_204_NO_CONTENT)
        book = selectors.book_get(key=str(book.pk), include_inactive=True)
        return Response(book_detail_data(book))

    @extend_schema(
        parameters=[BOOK_KEY], request=CoverInputSerializer, responses={201: BookDetailOutputSerializer}
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def cover(self, request, key: str):
        book = selectors.book_get(key=key, include_inactive=True)
        serializer = CoverInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.book_cover_set(book=book, upload=serializer.validated_data["cover"])
        book = selectors.book_get(key=str(book.pk), include_inactive=True)
        return Response(book_detail_data(book), status=status.HTTP_201_CREATED)


class _SlugViewSet(
    CachedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # reads cached for anonymous users; staff write through the services
    # A customer's token is enough for a read: the user is not loaded (bookstore/api/authentication.py).
    token_user_reads = True
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "slug"

    def list(self, request, *args, **kwargs):
        return cached_read(request, lambda: super(_SlugViewSet, self).list(request, *args, **kwargs))

    def retrieve(self, request, *args, **kwargs):
        return cached_read(request, lambda: super(_SlugViewSet, self).retrieve(request, *args, **kwargs))


@extend_schema_view(
    create=extend_schema(
        request=AuthorInputSerializer, responses={201: AuthorOutputSerializer, **SLUG_TAKEN}
    ),
    partial_update=extend_schema(
        request=AuthorInputSerializer(partial=True), responses={200: AuthorOutputSerializer, **SLUG_TAKEN}
    ),
    destroy=extend_schema(responses={204: None, **IN_USE}),
)
class AuthorViewSet(_SlugViewSet):
    serializer_class = AuthorOutputSerializer

    def get_queryset(self):
        return selectors.author_list()

    def create(self, request):
        serializer = AuthorInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        author = services.author_create(**serializer.validated_data)
        return Response(AuthorOutputSerializer(selectors.author_get(slug=author.slug)).data, status=201)

    def partial_update(self, request, slug: str):
        author = selectors.author_get(slug=slug)
        serializer = AuthorInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        author = services.author_update(author=author, **serializer.validated_data)
        return Response(AuthorOutputSerializer(selectors.author_get(slug=author.slug)).data)

    def destroy(self, request, slug: str):
        services.author_delete(author=selectors.author_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(
        request=PublisherInputSerializer, responses={201: PublisherOutputSerializer, **SLUG_TAKEN}
    ),
    partial_update=extend_schema(
        request=PublisherInputSerializer(partial=True),
        responses={200: PublisherOutputSerializer, **SLUG_TAKEN},
    ),
    destroy=extend_schema(responses={204: None, **IN_USE}),
)
class PublisherViewSet(_SlugViewSet):
    serializer_class = PublisherOutputSerializer

    def get_queryset(self):
        return selectors.publisher_list()

    def create(self, request):
        serializer = PublisherInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        publisher = services.publisher_create(**serializer.validated_data)
        return Response(
            PublisherOutputSerializer(selectors.publisher_get(slug=publisher.slug)).data, status=201
        )

    def partial_update(self, request, slug: str):
        publisher = selectors.publisher_get(slug=slug)
        serializer = PublisherInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        publisher = services.publisher_update(publisher=publisher, **serializer.validated_data)
        return Response(PublisherOutputSerializer(selectors.publisher_get(slug=publisher.slug)).data)

    def destroy(self, request, slug: str):
        services.publisher_delete(publisher=selectors.publisher_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)
