from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from .payments.registry import check_configuration

        # Fails every command at startup: a production shop with the dummy provider would give
        # books away.
        check_configuration(production=settings.PRODUCTION)
