"""A provider that takes no money, for development and the demo.

Starting a payment returns the URL of a storefront page (``orders:dummy-pay``) where the
customer presses "Pay" or "Fail". The page's address carries a signed token of the payment,
so nobody can pay or fail someone else's order by guessing. Startup refuses this provider when
``DJANGO_ENV=production``.
"""

import uuid
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .base import GatewayError, PaymentProvider, PaymentRequest, PaymentStart, RefundResult, WebhookEvent

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
            pay_url=f"{settings.FRONTEND_URL.rstrip('/')}{path}",
        )

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        # The dummy page calls the services directly; a "webhook" is only a signed JSON body,
        # accepted so the webhook path can be exercised without a real provider.
        try:
            data = signing.loads(body.decode(), salt=SIGNING_SALT + ".webhook")
        except (signing.BadSignature, UnicodeDecodeError) as exc:
            raise GatewayError("dummy webhook with a bad signature") from exc
        return WebhookEvent(
            event_id=str(data["id"]),
            kind=str(data["kind"]),
            reference=str(data["reference"]),
            amount=Decimal(data["amount"]) if data.get("amount") is not None else None,
            currency=str(data.get("currency", "")),
            payload=data,
        )

    def refund(self, *, reference: str, amount: Decimal, currency: str) -> RefundResult:
        return RefundResult(
            reference=f"dummy_refund_{uuid.uuid4().hex}", amount=amount, currency=currency, status="succeeded"
        )
