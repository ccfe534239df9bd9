"""``/api/v1/``: one DRF router assembled from the apps' routers, plus their extra paths.

Each app's ``urls.py`` exposes ``router`` (viewsets) and ``urlpatterns`` (plain API views
such as the token endpoints).
"""

from importlib import import_module

from django.urls import include, path
from rest_framework import routers
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

API_APPS = ("accounts", "categories", "catalog", "cart", "orders", "reviews")


class APIRootView(routers.APIRootView):
    """``/api/v1/``: the list of the API's collections, open to anyone."""

    permission_classes = [AllowAny]


router = DefaultRouter()
router.APIRootView = APIRootView
urlpatterns = []
for _app in API_APPS:
    _module = import_module(f"apps.{_app}.urls")
    router.registry.extend(_module.router.registry)
    urlpatterns += _module.urlpatterns

urlpatterns.append(path("", include(router.urls)))
