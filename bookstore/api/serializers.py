import decimal
from collections.abc import Callable
from decimal import Decimal

from rest_framework import serializers
from rest_framework.settings import api_settings


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every API error."""

    type = serializers.CharField(help_text="URI naming the kind of problem; ends with `code`.")
    title = serializers.CharField(help_text="Short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request, for a person.")
    code = serializers.CharField(help_text="Machine-readable error code.")
    instance = serializers.CharField(required=False, help_text="The path of the request.")
    available = serializers.IntegerField(
        required=False, help_text="`insufficient_stock`: the copies in stock, to offer instead."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors: field (dotted for nested input) → messages.",
    )


def decimal_text(field: serializers.DecimalField) -> Callable[[Decimal], str]:
    """``field.to_representation`` for a decimal, its quantum and context made once (DRF makes
    them at every value: 48 values in a page of books), for the API's hand-built shapes (the
    catalogue's, the cart's). The same text, for a field with DRF's defaults (a string, not
    normalized nor localized); any other field keeps its own method."""
    if (
        field.decimal_places is None
        or field.normalize_output
        or field.localize
        or not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    ):
        return field.to_representation
    quantum = Decimal(".1") ** field.decimal_places
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    rounding = field.rounding

    def text(value: Decimal) -> str:
        if not isinstance(value, Decimal):  # as DRF reads a number given otherwise
            value = Decimal(str(value).strip())
        return f"{value.quantize(quantum, rounding=rounding, context=context):f}"

    return text
