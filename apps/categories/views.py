from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from bookstore.api.cached_reads import CachedReadsMixin
from bookstore.api.permissions import IsStaffOrReadOnly
from bookstore.api.problems import PROBLEM_CONTENT_TYPE as PROBLEM
from bookstore.api.serializers import ProblemSerializer
from bookstore.cache import cached_read

from . import selectors, services
from .serializers import CategoryDetailSerializer, CategoryInputSerializer, CategoryNodeSerializer


@extend_schema_view(
    list=extend_schema(
        responses=CategoryNodeSerializer(many=True), description="The whole tree, nested, with book counts."
    ),
    retrieve=extend_schema(responses=CategoryDetailSerializer),
    create=extend_schema(request=CategoryInputSerializer, responses={201: CategoryDetailSerializer}),
    partial_update=extend_schema(
        request=CategoryInputSerializer(partial=True),
        responses=CategoryDetailSerializer,
        description="Giving `parent` moves the category with its whole subtree; a cycle is refused.",
    ),
    destroy=extend_schema(
        responses={
            204: None,
            (409, PROBLEM): OpenApiResponse(
                ProblemSerializer, description="It still has books or children (`category_not_empty`)."
            ),
        },
        description="Refused (409) while it has books or children.",
    ),
)
class CategoryViewSet(CachedReadsMixin, viewsets.GenericViewSet):
    # A customer's token is enough for a read: the user is not loaded (bookstore/api/authentication.py).
    token_user_reads = True
    permission_classes = [IsStaffOrReadOnly]
    pagination_class = None
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.Category.objects.all()

    def _detail(self, slug: str) -> dict:
        return CategoryDetailSerializer(
            CategoryDetailSerializer.from_detail(selectors.category_detail(slug=slug))
        ).data

    def list(self, request):
        # category_tree's nodes are already the answer's shape (CategoryNodeSerializer is the
        # schema; tests/categories/test_api.py checks the bytes are its): no serializer per node.
        return cached_read(request, lambda: Response(selectors.category_tree()))

    def retrieve(self, request, slug: str):
        return cached_read(request, lambda: Response(self._detail(slug)))

    def create(self, request):
        serializer = CategoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(**serializer.validated_data)
        return Response(self._detail(category.slug), status=status.HTTP_201_CREATED)

    def partial_update(self, request, slug: str):
        category = selectors.category_get(slug=slug)
        serializer = CategoryInputSerializer(instance=category, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        category = services.category_update(category=category, **serializer.validated_data)
        return Response(self._detail(category.slug))

    def destroy(self, request, slug: str):
        services.category_delete(category=selectors.category_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)
