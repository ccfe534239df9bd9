import re

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bookstore.api.problems import PROBLEM_CONTENT_TYPE as PROBLEM
from bookstore.api.schema import invalid_input
from bookstore.api.serializers import ProblemSerializer
from bookstore.exceptions import ApplicationError

from . import selectors, services
from .exceptions import PaymentServiceUnavailable, WebhookRejected
from .models import Order, OrderStatus, PaymentStatus
from .payments import GatewayError, ProviderUnavailable, WebhookInvalid
from .payments.dummy import pay_token_read
from .serializers import (
    CancelInputSerializer,
    CheckoutInputSerializer,
    OrderOutputSerializer,
    PayInputSerializer,
    RefundInputSerializer,
    TransitionInputSerializer,
    WebhookReceivedSerializer,
)

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

_idempotency_header = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A unique key per checkout (a UUID): a retry with the same key and body returns the "
    "same order; the same key with another body is a 422.",
)
_replayed_header = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    enum=["true"],
    description="On a retry with the same key: the answer is the first request's.",
)


_refund_idempotency_header = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A unique key per refund (a UUID): a retry with the same key gets the same refund, "
    "never a second one; the same key with another amount is a 422.",
)


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key") or ""
    if key and not IDEMPOTENCY_KEY.match(key):
        raise ValidationError({"Idempotency-Key": ["Up to 255 visible ASCII characters."]})
    return key


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
        parameters=[_idempotency_header, _replayed_header],
        request=CheckoutInputSerializer,
        responses={
            201: OrderOutputSerializer,
            200: OpenApiResponse(OrderOutputSerializer, description="A retry with the same Idempotency-Key."),
            **invalid_input(
                "`errors.shipping_address` (or `billing_address`): no saved address of yours has "
                "this id, or an inline address misses a field; `errors.shipping_address.country`: "
                "not an ISO 3166-1 alpha-2 code; `payment_provider_unavailable`: not offered."
            ),
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
        key = _idempotency_key(request) or None
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
        summary="Cancel one of my orders (before it is shipped); a paid order is refunded",
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
        summary="Pay an unpaid order again (after a decline or an error, or with another provider)",
        request=PayInputSerializer,
        responses={
            200: OrderOutputSerializer,
            (409, PROBLEM): OpenApiResponse(
                ProblemSerializer, description="The order is not waiting for payment."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, number: str) -> Response:
        data = PayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.payment_retry(
            order=self.get_object(), provider=data.validated_data.get("payment_provider", "")
        )
        return Response(OrderOutputSerializer(self.get_object()).data)

    @extend_schema(
        summary="Capture the order's approved PayPal payment (on the customer's return from PayPal)",
        request=None,
        responses={
            200: OrderOutputSerializer,
            (503, PROBLEM): OpenApiResponse(
                ProblemSerializer,
                description="PayPal cannot be reached: try again (the webhook captures too).",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def capture(self, request: Request, number: str) -> Response:
        order = self.get_object()
        payment = selectors.payment_latest(order=order)
        if payment is not None:
            try:
                services.payment_capture(payment_id=payment.pk)
            except GatewayError:
                raise PaymentServiceUnavailable(
                    "PayPal could not be reached to confirm the payment; try again in a moment."
                ) from None
        return Response(OrderOutputSerializer(self.get_object()).data)

    @extend_schema(
        summary="Refund an order in part or whole (staff)",
        parameters=[_refund_idempotency_header, _replayed_header],
        request=RefundInputSerializer,
        responses={
            201: OrderOutputSerializer,
            200: OpenApiResponse(OrderOutputSerializer, description="A retry with the same Idempotency-Key."),
            (409, PROBLEM): OpenApiResponse(
                ProblemSerializer,
                description="Nothing paid is left to refund, or the amount is more than that.",
            ),
            (422, PROBLEM): OpenApiResponse(
                ProblemSerializer, description="The Idempotency-Key was used for another amount."
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def refund(self, request: Request, number: str) -> Response:
        data = RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _refund, created = services.refund_create(
            order=selectors.order_get(number=number),
            amount=data.validated_data.get("amount"),
            reason=data.validated_data["reason"],
            actor=request.user,
            idempotency_key=_idempotency_key(request),
        )
        return Response(
            OrderOutputSerializer(selectors.order_get(number=number)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={} if created else {"Idempotent-Replayed": "true"},
        )

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
                messages.success(request, _("Payment accepted: thank you!"))
            elif request.POST.get("action") == "fail":
                services.payment_mark_failed(payment_id=payment.pk, message="The (dummy) card was declined.")
                messages.error(request, _("The payment was declined."))
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


# --- Provider webhooks ------------------------------------------------------------------------


class PaymentWebhookView(APIView):
    """``POST payments/webhooks/<provider>/``: the provider's notifications.

    No session, token or throttle: the signature is the authentication. A bad or stale one is a
    400 and nothing is stored; a good event is stored once and answered 200 at once, a task
    processing it; a provider whose verification cannot be reached is a 503, so it retries.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    problem_statuses = ("400", "404", "503")

    @extend_schema(
        summary="A payment provider's webhook (Stripe, PayPal)",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: WebhookReceivedSerializer},
        auth=[],
    )
    def post(self, request: Request, provider: str) -> Response:
        try:
            _event, created = services.payment_event_receive(
                provider_name=provider, body=request.body, headers=request.headers
            )
        except ProviderUnavailable:
            raise NotFound("No such payment provider here.") from None
        except WebhookInvalid as exc:
            raise WebhookRejected(str(exc)) from None
        except GatewayError:
            raise PaymentServiceUnavailable("The webhook could not be verified now; send it again.") from None
        return Response({"received": True, "duplicate": not created})


# --- Storefront: the pages a provider sends the customer back to --------------------------------


@require_http_methods(["GET"])
def payment_return(request: HttpRequest) -> HttpResponse:
    """Back from the provider's page (PayPal appends ``token``, its order id; Stripe
    ``payment_intent``): capture or ask where the payment stands, and say so.

    The capture is the one the webhook makes too (same ``PayPal-Request-Id``): whichever comes
    first takes the money, once. Only the provider's reference of the order's latest attempt
    is accepted, so the address cannot be used on another order.
    """
    payment = selectors.payment_for_return(order_number=request.GET.get("order", ""))
    # PayPal names its order ``token``, Stripe its PaymentIntent ``payment_intent``.
    named = request.GET.get("token") or request.GET.get("payment_intent")
    if payment is None or not payment.reference or (named or payment.reference) != payment.reference:
        raise Http404("Unknown payment.")
    unreachable = False
    if payment.provider != "dummy":
        try:
            services.payment_capture(payment_id=payment.pk)
        except GatewayError:
            unreachable = True
    order = selectors.order_get(number=payment.order.number)
    payment.refresh_from_db()
    return render(
        request,
        "orders/payment_return.html",
        {"order": order, "payment": payment, "unreachable": unreachable},
    )


@require_http_methods(["GET"])
def payment_cancel(request: HttpRequest) -> HttpResponse:
    """The customer left the provider's page without paying: the order waits, payable again."""
    payment = selectors.payment_for_return(order_number=request.GET.get("order", ""))
    if payment is None:
        raise Http404("Unknown payment.")
    return render(request, "orders/payment_cancel.html", {"order": payment.order, "payment": payment})
