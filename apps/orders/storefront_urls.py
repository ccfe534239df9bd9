"""Storefront pages of the orders app (mounted at ``/orders/``)."""

from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("pay/dummy/<str:token>/", views.dummy_pay, name="dummy-pay"),
    path("pay/return/", views.payment_return, name="payment-return"),
    path("pay/cancel/", views.payment_cancel, name="payment-cancel"),
]
