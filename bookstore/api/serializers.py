from rest_framework import serializers


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
