from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import OrderViewSet, PaymentWebhookView

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")
urlpatterns = [
    path(
        "payments/webhooks/<slug:provider>/",
        PaymentWebhookView.as_view(),
        name="payment-webhook",
    ),
]
