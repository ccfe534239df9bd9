"""Payment providers: one small interface, chosen by name from ``settings.PAYMENT_PROVIDERS``.

``base`` defines the interface, the frozen dataclasses it returns, the enums and the exception
family; ``money`` converts amounts at a provider's edge; ``registry`` maps a provider name to its
implementation: ``dummy`` (development), ``stripe`` and ``paypal``.
"""

from .base import (
    EventKind,
    GatewayError,
    PaymentDeclined,
    PaymentError,
    PaymentProvider,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    ProviderStatus,
    RedirectRequired,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    WebhookEvent,
    WebhookInvalid,
)
from .registry import ProviderUnavailable, enabled_provider_names, get_provider

__all__ = [
    "EventKind",
    "GatewayError",
    "PaymentDeclined",
    "PaymentError",
    "PaymentProvider",
    "PaymentRequest",
    "PaymentStart",
    "PaymentState",
    "ProviderStatus",
    "ProviderUnavailable",
    "RedirectRequired",
    "RefundOutcome",
    "RefundRequest",
    "RefundResult",
    "WebhookEvent",
    "WebhookInvalid",
    "enabled_provider_names",
    "get_provider",
]
