"""Payment providers: one small interface, chosen by name from ``settings.PAYMENT_PROVIDERS``.

``base`` defines the interface, the frozen dataclasses it returns and the exception family;
``registry`` maps a provider name to its implementation. The dummy provider ships here; Stripe
and PayPal implement the same interface.
"""

from .base import (
    GatewayError,
    PaymentDeclined,
    PaymentError,
    PaymentProvider,
    PaymentRequest,
    PaymentStart,
    RedirectRequired,
    RefundResult,
    WebhookEvent,
)
from .registry import ProviderUnavailable, enabled_provider_names, get_provider

__all__ = [
    "GatewayError",
    "PaymentDeclined",
    "PaymentError",
    "PaymentProvider",
    "PaymentRequest",
    "PaymentStart",
    "ProviderUnavailable",
    "RedirectRequired",
    "RefundResult",
    "WebhookEvent",
    "enabled_provider_names",
    "get_provider",
]
