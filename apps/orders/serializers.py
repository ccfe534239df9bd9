"""API shapes of orders. Input serializers list exactly what a client may send."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import phone_validator, validate_country_code

from .models import Order, OrderLine, OrderStatus, OrderStatusChange, Payment, Refund
from .payments import enabled_provider_names
from .selectors import order_amount_refunded, order_refunds


class OrderAddressSerializer(serializers.Serializer):
    """A postal address given in full (output: the snapshot kept with the order)."""

    name = serializers.CharField(max_length=150)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    country = serializers.CharField(
        min_length=2,
        max_length=2,
        validators=[validate_country_code],
        help_text="ISO 3166-1 alpha-2, e.g. FR",
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[phone_validator]
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].strip().upper()}
        return super().to_internal_value(data)


def _string(max_length: int, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if description:
        schema["description"] = description
    return schema


_ADDRESS_ONE_OF = {
    "oneOf": [
        {"type": "integer", "description": "The id of one of the customer's saved addresses."},
        {
            "type": "object",
            "description": "An address given in full.",
            "properties": {
                "name": _string(150),
                "line1": _string(200),
                "line2": _string(200),
                "postal_code": _string(20),
                "city": _string(100),
                "country": _string(2, "ISO 3166-1 alpha-2, e.g. FR"),
                "phone": _string(32),
            },
            "required": ["name", "line1", "postal_code", "city", "country"],
        },
    ]
}


@extend_schema_field(_ADDRESS_ONE_OF)
class AddressChoiceField(serializers.Field):
    """The id of one of the customer's addresses, or an address given inline."""

    default_error_messages = {"invalid": "Give the id of one of your addresses or a full address."}

    def to_internal_value(self, data: Any) -> int | dict[str, Any]:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            return data
        if isinstance(data, dict):
            inline = OrderAddressSerializer(data=data)
            inline.is_valid(raise_exception=True)
            return dict(inline.validated_data)
        self.fail("invalid")
        raise AssertionError  # fail() raises

    def to_representation(self, value: Any) -> Any:
        return value


class ProviderChoiceField(serializers.ChoiceField):
    """One of the providers this deployment offers; a refusal names them.

    Read from ``PAYMENT_PROVIDERS`` each time a serializer is made (DRF copies declared fields by
    calling ``__init__`` again), so validation and the schema's enum follow the configuration.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(choices=enabled_provider_names(), **kwargs)
        offered = ", ".join(enabled_provider_names()) or "none"
        self.error_messages["invalid_choice"] = (
            f"This payment method is not offered. Choose one of: {offered}."
        )


class CheckoutInputSerializer(serializers.Serializer):
    shipping_address = AddressChoiceField()
    billing_address = AddressChoiceField(
        required=False, allow_null=True, default=None, help_text="The shipping address when left out."
    )
    payment_provider = ProviderChoiceField()


class PayInputSerializer(serializers.Serializer):
    payment_provider = ProviderChoiceField(required=False, help_text="The order's provider when left out.")


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="What to give back; all that was paid and not refunded yet when left out.",
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


TRANSITION_STATUSES = [
    (OrderStatus.PROCESSING.value, OrderStatus.PROCESSING.label),
    (OrderStatus.SHIPPED.value, OrderStatus.SHIPPED.label),
    (OrderStatus.DELIVERED.value, OrderStatus.DELIVERED.label),
    (OrderStatus.CANCELLED.value, OrderStatus.CANCELLED.label),
]


class TransitionInputSerializer(serializers.Serializer):
    """The moves staff make by hand; payment and refunds are recorded by the payment code."""

    status = serializers.ChoiceField(choices=TRANSITION_STATUSES)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CancelInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OrderAddressOutputSerializer(serializers.Serializer):
    """The address as it was at checkout."""

    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["book", "title", "isbn13", "unit_price", "quantity", "line_total"]
        # Output only: read-only fields are required in the schema, as they are always sent.
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    """How to pay: Stripe's ``client_secret`` with ``publishable_key``, PayPal's ``approval_url``,
    or the dummy ``pay_url``; ``reference`` is the provider's id of the payment."""

    publishable_key = serializers.SerializerMethodField()
    # Empty for the providers that do not use them: URLs, or "".
    approval_url = serializers.CharField(
        read_only=True, help_text="PayPal: where the customer approves; else empty."
    )
    pay_url = serializers.CharField(read_only=True, help_text="The dummy provider's page; else empty.")

    class Meta:
        model = Payment
        fields = [
            "provider",
            "status",
            "amount",
            "currency",
            "reference",
            "client_secret",
            "publishable_key",
            "approval_url",
            "pay_url",
            "failure_message",
            "paid_at",
        ]
        read_only_fields = fields

    def get_publishable_key(self, payment: Payment) -> str:
        return settings.STRIPE_PUBLISHABLE_KEY if payment.provider == "stripe" else ""


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = [
            "id",
            "amount",
            "currency",
            "status",
            "reason",
            "failure_message",
            "created_at",
            "refunded_at",
        ]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.CharField(
        read_only=True, help_text="An order status; empty for the first step."
    )

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "note", "created_at"]
        read_only_fields = fields


class OrderOutputSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True)
    payment = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()
    amount_refunded = serializers.SerializerMethodField()
    history = StatusChangeSerializer(many=True)
    shipping_address = OrderAddressOutputSerializer()
    billing_address = OrderAddressOutputSerializer()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "lines",
            "subtotal",
            "shipping_total",
            "vat_rate",
            "vat_total",
            "total",
            "currency",
            "shipping_address",
            "billing_address",
            "tracking_number",
            "payment",
            "refunds",
            "amount_refunded",
            "history",
            "created_at",
            "paid_at",
            "shipped_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PaymentSerializer(allow_null=True))
    def get_payment(self, order: Order) -> dict[str, Any] | None:
        # The latest attempt is the one the client acts on; payments are prefetched in pk order.
        payments = list(order.payments.all())
        return PaymentSerializer(payments[-1]).data if payments else None

    @extend_schema_field(RefundSerializer(many=True))
    def get_refunds(self, order: Order) -> list[dict[str, Any]]:
        """Every refund of the order, oldest first (payments and their refunds are prefetched)."""
        return RefundSerializer(order_refunds(order=order), many=True).data

    @extend_schema_field(serializers.DecimalField(max_digits=10, decimal_places=2))
    def get_amount_refunded(self, order: Order) -> str:
        return f"{order_amount_refunded(order=order):.2f}"


class WebhookReceivedSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(
        help_text="The event had been received before; nothing was done again."
    )
