from typing import Any

from rest_framework import serializers

from bookstore.api.serializers import decimal_text

from .models import MAX_LINE_QUANTITY
from .selectors import CartSummary


class CartItemAddInputSerializer(serializers.Serializer):
    book = serializers.IntegerField(min_value=1, help_text="Id of the book to add.")
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        default=1,
        help_text="Copies to add; adds to the line when the book is already in the cart.",
    )


class CartItemUpdateInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, help_text="The line's new quantity."
    )


class CartBookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    isbn13 = serializers.CharField()


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    book = CartBookSerializer()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="Today's price.")
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    price_when_added = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="The price when the book was added."
    )
    price_changed = serializers.BooleanField(help_text="The price differs from `price_when_added`.")
    available = serializers.IntegerField(help_text="Copies in stock (0 when the book is unavailable).")
    insufficient_stock = serializers.BooleanField(help_text="`quantity` is more than `available`.")
    unavailable = serializers.BooleanField(help_text="The book is no longer sold.")


class CartSerializer(serializers.Serializer):
    token = serializers.CharField(
        allow_null=True,
        help_text="The anonymous cart's token: send it back in the `X-Cart-Token` header. "
        "Null for a signed-in customer's cart.",
    )
    lines = CartLineSerializer(many=True)
    item_count = serializers.IntegerField(help_text="Copies in the cart, unavailable lines excluded.")
    # No max_digits: a cart may hold any number of lines, so its sum has no column to fit.
    subtotal = serializers.DecimalField(
        max_digits=None, decimal_places=2, help_text="Sum of the line totals, unavailable lines excluded."
    )
    currency = serializers.CharField()


# --- Hand-built shapes -------------------------------------------------------------------------
# DRF's per-field machinery (the fields deep-copied for every serializer, a method call per
# value) was about a tenth of a first add to cart's CPU: the shapes below are built by hand,
# and the declared serializers stay the schema and the reference (tests/cart/test_serializers.py).

_LINE_FIELDS = CartLineSerializer._declared_fields
_UNIT_PRICE = decimal_text(_LINE_FIELDS["unit_price"])
_LINE_TOTAL = decimal_text(_LINE_FIELDS["line_total"])
_PRICE_WHEN_ADDED = decimal_text(_LINE_FIELDS["price_when_added"])
_SUBTOTAL = decimal_text(CartSerializer._declared_fields["subtotal"])
_BOOK = CartItemAddInputSerializer._declared_fields["book"]
_QUANTITY = CartItemAddInputSerializer._declared_fields["quantity"]


def cart_data(summary: CartSummary) -> dict[str, Any]:
    """``CartSerializer(summary).data``, built by hand."""
    return {
        "token": summary.token,
        "lines": [
            {
                "id": line.id,
                "book": {
                    "id": line.book.id,
                    "title": line.book.title,
                    "slug": line.book.slug,
                    "isbn13": line.book.isbn13,
                },
                "quantity": line.quantity,
                "unit_price": _UNIT_PRICE(line.unit_price),
                "line_total": _LINE_TOTAL(line.line_total),
                "price_when_added": _PRICE_WHEN_ADDED(line.price_when_added),
                "price_changed": line.price_changed,
                "available": line.available,
                "insufficient_stock": line.insufficient_stock,
                "unavailable": line.unavailable,
            }
            for line in summary.lines
        ],
        "item_count": summary.item_count,
        "subtotal": _SUBTOTAL(summary.subtotal),
        "currency": summary.currency,
    }


def item_add_input(data: Any) -> dict[str, Any]:
    """``CartItemAddInputSerializer``'s validated data. A body of whole numbers within the
    fields' bounds (what clients send) is read as the serializer would read it; anything else
    goes through the serializer, whose errors are the API's (400 problem details)."""
    if isinstance(data, dict):
        book, quantity = data.get("book"), data.get("quantity", _QUANTITY.default)
        # type() rather than isinstance(): True is an int, and the serializer refuses it.
        if (
            type(book) is int
            and type(quantity) is int
            and book >= _BOOK.min_value
            and _QUANTITY.min_value <= quantity <= _QUANTITY.max_value
        ):
            return {"book": book, "quantity": quantity}
    serializer = CartItemAddInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
