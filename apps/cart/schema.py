"""OpenAPI: the sign-in response of the token endpoint carries the cart merge report.

The token view belongs to accounts, which knows nothing of carts; the cart app, which adds
``cart_merge`` to that response through ``user_logged_in``, documents it here with a
drf-spectacular view extension (loaded by ``CartConfig.ready``).
"""

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from apps.accounts.serializers import TokenObtainInputSerializer, TokenPairSerializer

from .apps import CART_HEADER


class _MergedLineSerializer(serializers.Serializer):
    book = serializers.IntegerField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()


class _CappedLineSerializer(_MergedLineSerializer):
    requested = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=["stock", "line_maximum"])


class _DiscardedLineSerializer(_MergedLineSerializer):
    reason = serializers.ChoiceField(choices=["policy", "unavailable", "out_of_stock"])


class CartMergeSerializer(serializers.Serializer):
    policy = serializers.ChoiceField(choices=["merge", "keep_customer", "keep_newest"])
    kept = serializers.ChoiceField(choices=["both", "customer", "anonymous"])
    added = _MergedLineSerializer(many=True)
    increased = _MergedLineSerializer(many=True)
    capped = _CappedLineSerializer(many=True)
    discarded = _DiscardedLineSerializer(many=True)


class TokenPairWithCartMergeSerializer(TokenPairSerializer):
    cart_merge = CartMergeSerializer(
        required=False,
        help_text=f"Present when the request named an anonymous cart ({CART_HEADER} header): "
        "what its merge into the customer's cart did.",
    )


class TokenObtainViewSchema(OpenApiViewExtension):
    target_class = "apps.accounts.views.TokenObtainView"

    def view_replacement(self):
        class Documented(self.target_class):
            @extend_schema(
                tags=["auth"],
                request=TokenObtainInputSerializer,
                responses={200: TokenPairWithCartMergeSerializer},
                parameters=[
                    OpenApiParameter(
                        CART_HEADER,
                        OpenApiTypes.STR,
                        OpenApiParameter.HEADER,
                        required=False,
                        description="The visitor's anonymous cart, to merge into the customer's at sign-in.",
                    )
                ],
            )
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Documented
