from rest_framework import serializers

from .models import MAX_LINE_QUANTITY


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
