from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CartViewSet

router = SimpleRouter()
urlpatterns = [
    path("cart/", CartViewSet.as_view({"get": "retrieve", "delete": "clear"}), name="cart"),
    path("cart/items/", CartViewSet.as_view({"post": "item_add"}), name="cart-items"),
    path(
        "cart/items/<int:pk>/",
        CartViewSet.as_view({"patch": "item_update", "delete": "item_remove"}),
        name="cart-item",
    ),
]
