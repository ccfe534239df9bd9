"""Providers by name. Only those listed in ``settings.PAYMENT_PROVIDERS`` can be used.

By default ``PAYMENT_PROVIDERS`` lists the providers whose credentials are set (and ``dummy``
outside production); startup refuses a listed provider that misses a setting it needs.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import PaymentProvider

# Every provider the code knows.
PROVIDER_CLASSES: dict[str, str] = {
    "dummy": "apps.orders.payments.dummy.DummyProvider",
    "stripe": "apps.orders.payments.stripe.StripeProvider",
    "paypal": "apps.orders.payments.paypal.PayPalProvider",
}
# What each provider cannot work without (the webhook secret too: an unverifiable webhook is refused).
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"),
    "paypal": ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"),
}


class ProviderUnavailable(Exception):
    """The provider asked for is not enabled in this deployment."""


def enabled_provider_names() -> list[str]:
    return list(settings.PAYMENT_PROVIDERS)


def get_provider(name: str) -> PaymentProvider:
    if name not in settings.PAYMENT_PROVIDERS or name not in PROVIDER_CLASSES:
        raise ProviderUnavailable(name)
    provider_class = import_string(PROVIDER_CLASSES[name])
    return provider_class()


def check_configuration(*, production: bool) -> None:
    """Refuse to start with an unknown or half-configured provider, or the dummy one in production."""
    unknown = [name for name in settings.PAYMENT_PROVIDERS if name not in PROVIDER_CLASSES]
    if unknown:
        raise ImproperlyConfigured(
            f"PAYMENT_PROVIDERS names providers this version does not have: {', '.join(unknown)} "
            f"(available: {', '.join(PROVIDER_CLASSES)})."
        )
    for name in settings.PAYMENT_PROVIDERS:
        missing = [
            setting for setting in REQUIRED_SETTINGS.get(name, ()) if not getattr(settings, setting, "")
        ]
        if missing:
            raise ImproperlyConfigured(
                f"The {name} payment provider is enabled but these settings are empty: {', '.join(missing)}."
            )
    if production and "dummy" in settings.PAYMENT_PROVIDERS:
        raise ImproperlyConfigured(
            "The dummy payment provider pays orders without taking any money: it is refused when "
            "DJANGO_ENV=production. Remove 'dummy' from PAYMENT_PROVIDERS."
        )
