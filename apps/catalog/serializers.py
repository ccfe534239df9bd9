from typing import Any

import orjson
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer, inline_serializer
from rest_framework import serializers

from apps.categories.models import Category
from bookstore.api.serializers import decimal_text

from .isbn import InvalidIsbn, isbn_normalize
from .languages import ISO_639_1
from .models import Author, Book, BookFormat, Publisher

# --- Output ------------------------------------------------------------------------------------


class AuthorRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class PublisherRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


CoverSerializer = inline_serializer(
    "Cover",
    fields={
        "original": serializers.CharField(help_text="URL of the uploaded image."),
        "thumbnails": serializers.DictField(
            child=serializers.CharField(), help_text="Width in pixels → URL of a JPEG thumbnail."
        ),
    },
    allow_null=True,
)


class BookOutputSerializer(serializers.Serializer):
    """A book as lists and details show it (the detail adds the description and timestamps)."""

    id = serializers.IntegerField()
    isbn13 = serializers.CharField()
    slug = serializers.CharField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    authors = serializers.SerializerMethodField()
    publisher = PublisherRefSerializer(allow_null=True)
    categories = CategoryRefSerializer(many=True)
    publication_date = serializers.DateField(allow_null=True)
    language = serializers.CharField()
    format = serializers.CharField()
    pages = serializers.IntegerField(allow_null=True)
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="Null: not for sale until staff price it."
    )
    currency = serializers.CharField()
    for_sale = serializers.BooleanField(help_text="Whether it can be added to a cart: on sale and priced.")
    stock = serializers.IntegerField()
    in_stock = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    cover = serializers.SerializerMethodField()
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()

    @extend_schema_field(AuthorRefSerializer(many=True))
    def get_authors(self, book: Book) -> list[dict]:
        # book_authors is prefetched in position order with the authors joined.
        return [{"slug": link.author.slug, "name": link.author.name} for link in book.book_authors.all()]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_in_stock(self, book: Book) -> bool:
        return book.stock > 0

    @extend_schema_field(CoverSerializer)
    def get_cover(self, book: Book) -> dict | None:
        return _cover_data(book)


class BookDetailOutputSerializer(BookOutputSerializer):
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# The serializers above are the schema and the reference; the reads build the same dicts by
# hand (``book_data``): DRF's serializer machinery (a field object per value, deep-copied fields
# per instance) was most of an uncached list's time in Python. The values that need a rule
# (decimals, datetimes) go through the very DRF fields the serializers declare, so the output
# is the same to the byte (tests/catalog/test_serializers.py compares them).


_PRICE = decimal_text(BookOutputSerializer._declared_fields["price"])
_RATING = decimal_text(BookOutputSerializer._declared_fields["rating_average"])
_DATETIME = BookDetailOutputSerializer._declared_fields["created_at"]


def _cover_data(book: Book) -> dict | None:
    if not book.cover:
        return None
    storage = book.cover.storage
    return {
        "original": book.cover.url,
        "thumbnails": {width: storage.url(name) for width, name in sorted(book.cover_thumbnails.items())},
    }


def _names(inline: str) -> list[dict]:
    """``[slug, name]`` pairs as JSON text (``selectors.book_queryset(inline=True)``)."""
    return [{"slug": slug, "name": name} for slug, name in orjson.loads(inline)]


def book_data(book: Book) -> dict:
    """``BookOutputSerializer(book).data``, built by hand: from a book of
    ``selectors.book_queryset``, publisher joined, authors and categories prefetched or inline."""
    inline_authors = getattr(book, "authors_inline", None)
    inline_categories = getattr(book, "categories_inline", None)
    if inline_authors is not None:
        authors = _names(inline_authors)
    else:
        authors = [{"slug": link.author.slug, "name": link.author.name} for link in book.book_authors.all()]
    if inline_categories is not None:
        categories = _names(inline_categories)
    else:
        categories = [{"slug": category.slug, "name": category.name} for category in book.categories.all()]
    if hasattr(book, "publisher_slug"):  # statements.book_read: two columns, no instance
        slug = book.publisher_slug
        publisher = None if slug is None else {"slug": slug, "name": book.publisher_name}
    else:
        joined = book.publisher
        publisher = None if joined is None else {"slug": joined.slug, "name": joined.name}
    date = book.publication_date
    price = book.price
    return {
        "id": book.pk,
        "isbn13": book.isbn13,
        "slug": book.slug,
        "title": book.title,
        "subtitle": book.subtitle,
        "authors": authors,
        "publisher": publisher,
        "categories": categories,
        "publication_date": None if date is None else date.isoformat(),
        "language": str(book.language),
        "format": str(book.format),
        "pages": book.pages,
        "price": None if price is None else _PRICE(price),
        "currency": book.currency,
        "for_sale": book.for_sale,
        "stock": book.stock,
        "in_stock": book.stock > 0,
        "is_active": book.is_active,
        "cover": _cover_data(book),
        "rating_average": _RATING(book.rating_average),
        "rating_count": book.rating_count,
    }


def book_detail_data(book: Book) -> dict:
    """``BookDetailOutputSerializer(book).data``, built by hand (``book_data`` and the rest)."""
    data = book_data(book)
    data["description"] = book.description
    data["created_at"] = _DATETIME.to_representation(book.created_at)
    data["updated_at"] = _DATETIME.to_representation(book.updated_at)
    return data


class FacetCategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    parent = serializers.CharField(allow_null=True, help_text="Slug of the parent category.")
    depth = serializers.IntegerField()
    count = serializers.IntegerField()


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField(required=False)
    count = serializers.IntegerField()


class FacetPriceBandSerializer(serializers.Serializer):
    key = serializers.CharField()
    min = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True, help_text="Included.")
    max = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True, help_text="Excluded.")
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    categories = FacetCategorySerializer(many=True, help_text="Descendants' books included.")
    formats = FacetValueSerializer(many=True)
    languages = FacetValueSerializer(many=True)
    price_bands = FacetPriceBandSerializer(many=True)


_BAND_BOUND = decimal_text(FacetPriceBandSerializer._declared_fields["min"])


def facets_data(facets: dict) -> dict:
    """``FacetsSerializer(facets).data``, built by hand (labels may be lazy translations)."""

    def bound(value: Any) -> str | None:
        return None if value is None else _BAND_BOUND(value)

    return {
        "categories": [
            {
                "slug": entry["slug"],
                "name": entry["name"],
                "parent": entry["parent"],
                "depth": entry["depth"],
                "count": entry["count"],
            }
            for entry in facets["categories"]
        ],
        "formats": [
            {"value": entry["value"], "label": str(entry["label"]), "count": entry["count"]}
            for entry in facets["formats"]
        ],
        "languages": [{"value": entry["value"], "count": entry["count"]} for entry in facets["languages"]],
        "price_bands": [
            {
                "key": entry["key"],
                "min": bound(entry["min"]),
                "max": bound(entry["max"]),
                "count": entry["count"],
            }
            for entry in facets["price_bands"]
        ],
    }


@extend_schema_serializer(many=False)
class BookPageSerializer(serializers.Serializer):
    """One page of the book list, with the facets of the whole filtered list."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    facets = FacetsSerializer(required=False, help_text="Left out with `facets=false`.")
    suggestion = serializers.CharField(
        required=False,
        allow_null=True,
        help_text='"Did you mean": with `q`, a corrected query made of the catalogue\'s own words when '
        "the words of `q` found no book (null otherwise, and when the words cannot be corrected); "
        "left out without `q`.",
    )
    results = BookOutputSerializer(many=True)


class AuthorOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    bio = serializers.CharField()
    books_count = serializers.IntegerField(help_text="Active books.")


class PublisherOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    books_count = serializers.IntegerField(help_text="Active books.")


# --- Input -------------------------------------------------------------------------------------


def _validate_slug_not_numeric(value: str) -> str:
    if value.isdigit():
        raise serializers.ValidationError("A slug cannot be only digits (it would read as an id).")
    return value


class BookInputSerializer(serializers.Serializer):
    isbn13 = serializers.CharField(
        max_length=20, help_text="ISBN-13, or an ISBN-10 that is converted; hyphens and spaces are ignored."
    )
    title = serializers.CharField(max_length=300)
    subtitle = serializers.CharField(max_length=300, required=False, allow_blank=True)
    slug = serializers.SlugField(
        max_length=320, required=False, help_text="Made from title and ISBN if omitted."
    )
    authors = serializers.ListField(
        child=serializers.SlugField(), required=False, help_text="Author slugs, in cover order."
    )
    publisher = serializers.SlugField(required=False, allow_null=True, help_text="Publisher slug.")
    categories = serializers.ListField(
        child=serializers.SlugField(), required=False, help_text="Category slugs."
    )
    publication_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(max_length=2, required=False, help_text="ISO 639-1 code.")
    format = serializers.ChoiceField(choices=BookFormat.choices, required=False)
    pages = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217 code.")
    stock = serializers.IntegerField(min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate_isbn13(self, value: str) -> str:
        try:
            return isbn_normalize(value)
        except InvalidIsbn as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_slug(self, value: str) -> str:
        return _validate_slug_not_numeric(value)

    def validate_language(self, value: str) -> str:
        value = value.lower()
        if value not in ISO_639_1:
            raise serializers.ValidationError(f"'{value}' is not an ISO 639-1 language code.")
        return value

    def validate_authors(self, slugs: list[str]) -> list[Author]:
        found = {author.slug: author for author in Author.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise serializers.ValidationError(f"Unknown authors: {', '.join(missing)}.")
        return [found[slug] for slug in slugs]

    def validate_publisher(self, slug: str | None) -> Publisher | None:
        if slug is None:
            return None
        publisher = Publisher.objects.filter(slug=slug).first()
        if publisher is None:
            raise serializers.ValidationError(f"Unknown publisher: {slug}.")
        return publisher

    def validate_categories(self, slugs: list[str]) -> list[Category]:
        found = {category.slug: category for category in Category.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise serializers.ValidationError(f"Unknown categories: {', '.join(missing)}.")
        return [found[slug] for slug in dict.fromkeys(slugs)]


class CoverInputSerializer(serializers.Serializer):
    cover = serializers.FileField(help_text="A JPEG, PNG or WebP image.")


class AuthorInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False)
    bio = serializers.CharField(required=False, allow_blank=True)


class PublisherInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False)
