"""What the checkout does with each answer a provider can give when a payment starts."""

from collections.abc import Mapping
from decimal import Decimal

import pytest

from apps.orders.models import Payment
from apps.orders.payments import (
    GatewayError,
    PaymentDeclined,
    PaymentProvider,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    RedirectRequired,
    RefundRequest,
    RefundResult,
    WebhookEvent,
    registry,
)
from apps.orders.services import order_place, payment_start

from .conftest import INLINE_ADDRESS, fill_cart

pytestmark = pytest.mark.django_db


class ScriptedProvider(PaymentProvider):
    """A provider whose answer the test chooses: a result, or one of the payment errors."""

    name = "scripted"
    answer: PaymentStart | Exception = PaymentStart(reference="pi_1", client_secret="pi_1_secret_x")
    requests: list[PaymentRequest] = []

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        type(self).requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def retrieve(self, *, reference: str) -> PaymentState:
        raise GatewayError("not used")

    capture = cancel = retrieve

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        raise GatewayError("not used")

    def refund(self, request: RefundRequest) -> RefundResult:
        raise GatewayError("not used")


@pytest.fixture
def scripted(monkeypatch, settings):
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "scripted", f"{__name__}.ScriptedProvider")
    settings.PAYMENT_PROVIDERS = ["dummy", "scripted"]
    ScriptedProvider.requests = []
    ScriptedProvider.answer = PaymentStart(reference="pi_1", client_secret="pi_1_secret_x")
    return ScriptedProvider


@pytest.fixture
def order(user, book, scripted):
    fill_cart(user, (book, 2))
    placed, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="scripted")
    return placed


def test_the_provider_gets_the_order_amount_as_decimal(order, scripted):
    payment = payment_start(order=order)
    assert scripted.requests == [
        PaymentRequest(
            payment_id=payment.pk,
            order_number=order.number,
            amount=Decimal("28.00"),
            currency="EUR",
            customer_email=order.email,
            idempotency_key=f"{order.number}-payment-{payment.pk}",
            return_url=f"http://shop.test/orders/pay/return/?order={order.number}",
            cancel_url=f"http://shop.test/orders/pay/cancel/?order={order.number}",
        )
    ]
    assert (payment.reference, payment.client_secret, payment.status) == ("pi_1", "pi_1_secret_x", "pending")


def test_redirect_required_gives_the_client_an_approval_link(order, scripted):
    scripted.answer = RedirectRequired("https://paypal.test/approve?token=EC-1", reference="EC-1")
    payment = payment_start(order=order)
    assert payment.approval_url == "https://paypal.test/approve?token=EC-1"
    # The provider's reference is kept: the webhook and the customer's return name it.
    assert (payment.status, payment.reference) == ("pending", "EC-1")


def test_a_declined_start_keeps_the_customer_message(order, scripted):
    scripted.answer = PaymentDeclined("Your card does not allow online payments.")
    payment = payment_start(order=order)
    assert (payment.status, payment.failure_message) == (
        "failed",
        "Your card does not allow online payments.",
    )
    assert order.status == "pending_payment"


def test_a_gateway_error_is_logged_and_not_shown(order, scripted, caplog):
    scripted.answer = GatewayError("HTTP 503 from api.provider.test: upstream timeout, req_8812")
    payment = payment_start(order=order)
    assert payment.status == "error"
    assert "req_8812" not in payment.failure_message
    assert "req_8812" in caplog.text
    assert Payment.objects.get(pk=payment.pk).order.status == "pending_payment"
