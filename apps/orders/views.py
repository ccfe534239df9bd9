import re

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from bookstore.api.problems import PROBLEM_CONTENT_TYPE as PROBLEM
from bookstore.api.serializers import ProblemSerializer
from bookstore.exceptions import ApplicationError

from . import selectors, services
from .models import Order, OrderStatus, PaymentStatus
from .payments.dummy import pay_token_read
from .serializers import (
    CancelInputSerializer,
    CheckoutInputSerializer,
    OrderOutputSerializer,
    TransitionInputSerializer,
)

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

_idempotency_header = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A unique key per checkout (a UUID): a retry with the same key and body returns the "
    "same order; the same key with another body is a 422.",
)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The customer's orders: checkout, list, detail, cancel; staff move orders along."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderOutputSerializer
    lookup_field = "number"
    lookup_value_regex = r"LB-[A-Z0-9]{4}-[A-Z0-9]{4}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.order_list_for_user(user=self.request.user)

    def get_object(self):
        return selectors.order_get_for_user(user=self.request.user, number=self.kwargs["number"])

    @extend_schema(
        summary="Place an order from the cart",
        parameters=[_idempotency_header],
        request=CheckoutInputSerializer,
        responses={
            201: OrderOutputSerializer,
            200: OpenApiResponse(OrderOutputSerializer, description="A retry with the same Idempotency-Key."),
            (409, PROBLEM): OpenApiResponse(
                ProblemSerializer,
                description="The cart is empty or changed (stock, price, book withdrawn), "
                "or its total is more than an order can hold.",
            ),
            (422, PROBLEM): OpenApiResponse(
                ProblemSerializer, description="The Idempotency-Key was used with another body."
            ),
        },
    )
    def create(self, request: Request) -> Response:
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise ValidationError({"Idempotency-Key": ["Up to 255 visible ASCII characters."]})
        order, created = services.order_place(user=request.user, idempotency_key=key, **data.validated_data)
        if created:
            services.payment_start(order=order)
        order = selectors.order_get_for_user(user=request.user, number=order.number)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(
            OrderOutputSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers=headers,
        )

    @extend_schema(
        summary="Cancel one of my orders (before it is shipped)",
        request=CancelInputSerializer,
        responses={
            200: OrderOutputSerializer,
            (409, PROBLEM): OpenApiResponse(ProblemSerializer, description="Too late to cancel."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str) -> Response:
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = self.get_object()
        services.order_cancel(order=order, actor=request.user, note=data.validated_data["note"])
        return Response(OrderOutputSerializer(self.get_object()).data)

    @extend_schema(
        summary="Move an order to its next status (staff)",
        request=TransitionInputSerializer,
        responses={
            200: OrderOutputSerializer,
            (409, PROBLEM): OpenApiResponse(ProblemSerializer, description="Not allowed from here."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def transition(self, request: Request, number: str) -> Response:
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.order_get(number=number)
        services.order_transition(
            order=order,
            to_status=data.validated_data["status"],
            actor=request.user,
            note=data.validated_data["note"],
            tracking_number=data.validated_data["tracking_number"],
        )
        return Response(OrderOutputSerializer(selectors.order_get(number=number)).data)


# --- Storefront: the dummy provider's payment page ----------------------------------------------


@require_http_methods(["GET", "POST"])
def dummy_pay(request: HttpRequest, token: str) -> HttpResponse:
    """Pay or fail an order without money (development and demo only; refused in production).

    The signed token in the address names the payment, so the page needs no sign-in and
    cannot be used on another order.
    """
    if "dummy" not in settings.PAYMENT_PROVIDERS:
        raise Http404("Unknown payment.")
    try:
        payment_id = pay_token_read(token)
    except signing.BadSignature:
        raise Http404("Unknown payment.") from None
    payment = selectors.order_get_by_payment(payment_id=payment_id)
    if payment.provider != "dummy":
        raise Http404("Unknown payment.")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "pay":
                services.order_mark_paid(
                    payment_id=payment.pk, amount=payment.amount, currency=payment.currency
                )
                messages.success(request, "Payment accepted: thank you!")
            elif request.POST.get("action") == "fail":
                services.payment_mark_failed(payment_id=payment.pk, message="The (dummy) card was declined.")
                messages.error(request, "The payment was declined.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(request.path)
    order = selectors.order_get(number=payment.order.number)
    payment.refresh_from_db()
    can_pay = order.status == OrderStatus.PENDING_PAYMENT and payment.status in {
        PaymentStatus.PENDING,
        PaymentStatus.FAILED,
    }
    return render(request, "orders/dummy_pay.html", {"order": order, "payment": payment, "can_pay": can_pay})
