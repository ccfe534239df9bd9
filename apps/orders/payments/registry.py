"""Providers by name. Only those listed in ``settings.PAYMENT_PROVIDERS`` can be used."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import PaymentProvider

# Every provider the code knows. The next payments issue adds "stripe" and "paypal".
PROVIDER_CLASSES: dict[str, str] = {
    "dummy": "apps.orders.payments.dummy.DummyProvider",
}
# Names a client may ask for, whether or not this deployment enables them.
KNOWN_PROVIDER_NAMES = ("dummy", "stripe", "paypal")


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
    """Refuse to start with an unknown provider, or with the dummy one in production."""
    unknown = [name for name in settings.PAYMENT_PROVIDERS if name not in PROVIDER_CLASSES]
    if unknown:
        raise ImproperlyConfigured(
            f"PAYMENT_PROVIDERS names providers this version does not have: {', '.join(unknown)} "
            f"(available: {', '.join(PROVIDER_CLASSES)})."
        )
    if production and "dummy" in settings.PAYMENT_PROVIDERS:
        raise ImproperlyConfigured(
            "The dummy payment provider pays orders without taking any money: it is refused when "
            "DJANGO_ENV=production. Remove 'dummy' from PAYMENT_PROVIDERS."
        )
