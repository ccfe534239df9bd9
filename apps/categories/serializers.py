from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category


class BreadcrumbSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class CategoryNodeSerializer(serializers.Serializer):
    """A node of the tree with its children, nested to any depth."""

    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    position = serializers.IntegerField()
    book_count = serializers.IntegerField(help_text="Active books in it or its descendants.")
    children = serializers.SerializerMethodField()

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}})
    def get_children(self, node: dict) -> list[dict]:
        return CategoryNodeSerializer(node["children"], many=True).data


class CategoryChildSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    book_count = serializers.IntegerField()


class CategoryDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    position = serializers.IntegerField()
    depth = serializers.IntegerField()
    parent = serializers.CharField(allow_null=True, help_text="Slug of the parent, null at the root.")
    book_count = serializers.IntegerField(help_text="Active books in it or its descendants.")
    ancestors = BreadcrumbSerializer(
        many=True, help_text="The breadcrumb, root first, without this category."
    )
    children = CategoryChildSerializer(many=True)

    @staticmethod
    def from_detail(detail: dict) -> dict:
        category: Category = detail["category"]
        ancestors = detail["ancestors"]
        return {
            "id": category.pk,
            "slug": category.slug,
            "name": category.name,
            "description": category.description,
            "position": category.position,
            "depth": category.depth,
            "parent": ancestors[-1].slug if ancestors else None,
            "book_count": detail["book_count"],
            "ancestors": ancestors,
            "children": [
                {"slug": c.slug, "name": c.name, "position": c.position, "book_count": n}
                for c, n in detail["children"]
            ],
        }


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False)
    parent = serializers.SlugField(
        required=False,
        allow_null=True,
        help_text="Slug of the new parent; null moves the category to the root.",
    )
    # The column is a PostgreSQL integer: a larger number would fail in the database.
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    description = serializers.CharField(required=False, allow_blank=True)

    def validate_parent(self, slug: str | None) -> Category | None:
        if slug is None:
            return None
        parent = Category.objects.filter(slug=slug).first()
        if parent is None:
            raise serializers.ValidationError(f"Unknown category: {slug}.")
        return parent

    def validate_slug(self, slug: str) -> str:
        taken = Category.objects.filter(slug=slug)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A category with this slug already exists.")
        return slug
