"""A provider that takes no money, for development and the demo.

Starting a payment returns the URL of a storefront page (``orders:dummy-pay``) where the
customer presses "Pay" or "Fail". The page's address carries a signed token of the payment,
so nobody can pay or fail someone else's order by guessing. Startup refuses this provider when
``DJANGO_ENV=production``.
"""

import uuid
from collections.abc import Mapping
from decimal import Decimal

from django.core import signing
from django.urls import reverse

from bookstore.links import frontend_url

from .base import (
    EventKind,
    PaymentProvider,
    PaymentRequest,
    PaymentStart,
    PaymentState,
    ProviderStatus,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    WebhookEvent,
    WebhookInvalid,
)

SIGNING_SALT = "orders.payments.dummy"


def pay_token_make(payment_id: int) -> str:
    return signing.dumps({"payment": payment_id}, salt=SIGNING_SALT)


def pay_token_read(token: str) -> int:
    """The payment id a token was made for; ``signing.BadSignature`` if it was tampered with."""
    return int(signing.loads(token, salt=SIGNING_SALT)["payment"])


class DummyProvider(PaymentProvider):
    name = "dummy"

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        path = reverse("orders:dummy-pay", kwargs={"token": pay_token_make(request.payment_id)})
        return PaymentStart(
            reference=f"dummy_{uuid.uuid4().hex}",
            pay_url=f"{frontend_url()}{path}",
        )

    def retrieve(self, *, reference: str) -> PaymentState:
        # The dummy page records payments itself; there is nothing else to ask.
        return PaymentState(reference=reference, status=ProviderStatus.PENDING)

    def capture(self, *, reference: str, idempotency_key: str) -> PaymentState:
        return self.retrieve(reference=reference)

    def cancel(self, *, reference: str, idempotency_key: str) -> PaymentState:
        return PaymentState(reference=reference, status=ProviderStatus.CANCELLED)

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        # The dummy page calls the services directly; a "webhook" is only a signed JSON body,
        # accepted so the webhook path can be exercised without a real provider.
        try:
            data = signing.loads(body.decode(), salt=SIGNING_SALT + ".webhook")
        except (signing.BadSignature, UnicodeDecodeError) as exc:
            raise WebhookInvalid("dummy webhook with a bad signature") from exc
        try:
            kind = EventKind(data["kind"])
        except ValueError:
            kind = EventKind.OTHER
        return WebhookEvent(
            event_id=str(data["id"]),
            kind=kind,
            event_type=str(data["kind"]),
            reference=str(data["reference"]),
            amount=Decimal(data["amount"]) if data.get("amount") is not None else None,
            currency=str(data.get("currency", "")),
            payload=data,
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        return RefundResult(
            reference=f"dummy_refund_{uuid.uuid4().hex}",
            amount=request.amount,
            currency=request.currency,
            status=RefundOutcome.SUCCEEDED,
        )
