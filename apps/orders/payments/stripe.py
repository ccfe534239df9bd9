"""Stripe, through the official ``stripe`` package (``StripeClient``), PaymentIntents flow.

One PaymentIntent per payment attempt, in the order's currency and minor units, the order
number in its metadata, created with an idempotency key derived from the attempt: a retry after
a timeout gets the intent Stripe already made. The client confirms it with Stripe.js (or the
mobile SDKs) using its ``client_secret`` and the publishable key; Stripe captures at once, so
``capture`` only looks the intent up. Webhooks are verified with ``stripe.Webhook`` on the raw
body and the endpoint's secret.

Settings: ``STRIPE_SECRET_KEY``, ``STRIPE_PUBLISHABLE_KEY``, ``STRIPE_WEBHOOK_SECRET``,
``STRIPE_API_BASE`` (tests and stand-ins only), ``PAYMENT_PROVIDER_TIMEOUT`` (seconds).
"""

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

from .base import (
    EventKind,
    GatewayError,
    PaymentDeclined,
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
from .money import from_minor_units, minor_units

EVENT_KINDS = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
    "payment_intent.canceled": EventKind.PAYMENT_CANCELLED,
    "charge.refunded": EventKind.REFUNDED,
}

INTENT_STATUSES = {
    "succeeded": ProviderStatus.SUCCEEDED,
    "canceled": ProviderStatus.CANCELLED,
    # A failed attempt leaves the intent waiting for another payment method.
    "requires_payment_method": ProviderStatus.PENDING,
}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """A field of a StripeObject or of a plain dict (webhook payloads are parsed JSON)."""
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(self) -> None:
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            # Retries are ours to make, with the same idempotency key (tasks, reconciliation).
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=settings.PAYMENT_PROVIDER_TIMEOUT),
        )

    # --- Payments --------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        with _errors():
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": minor_units(request.amount, request.currency),
                    "currency": request.currency.lower(),
                    "metadata": {"order_number": request.order_number, "payment_id": str(request.payment_id)},
                    "automatic_payment_methods": {"enabled": True},
                    "receipt_email": request.customer_email,
                    "description": f"Commande {request.order_number}",
                },
                options={"idempotency_key": request.idempotency_key},
            )
        return PaymentStart(reference=intent.id, client_secret=intent.client_secret or "")

    def retrieve(self, *, reference: str) -> PaymentState:
        with _errors():
            intent = self.client.v1.payment_intents.retrieve(reference)
        return _intent_state(intent)

    def capture(self, *, reference: str, idempotency_key: str) -> PaymentState:
        # Intents are created with automatic capture: a succeeded intent is already captured.
        return self.retrieve(reference=reference)

    def cancel(self, *, reference: str, idempotency_key: str) -> PaymentState:
        try:
            with _errors():
                intent = self.client.v1.payment_intents.cancel(
                    reference, options={"idempotency_key": idempotency_key}
                )
        except PaymentDeclined:
            # Stripe refuses to cancel a succeeded (or already cancelled) intent: say which it is.
            return self.retrieve(reference=reference)
        return _intent_state(intent)

    def refund(self, request: RefundRequest) -> RefundResult:
        with _errors():
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": request.payment_reference,
                    "amount": minor_units(request.amount, request.currency),
                    "metadata": {"refund_id": str(request.refund_id)},
                },
                options={"idempotency_key": request.idempotency_key},
            )
        return RefundResult(
            reference=refund.id,
            amount=from_minor_units(refund.amount, refund.currency),
            currency=refund.currency.upper(),
            status=RefundOutcome.SUCCEEDED if refund.status == "succeeded" else RefundOutcome.PENDING,
        )

    # --- Webhooks --------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        if not signature:
            raise WebhookInvalid("no Stripe-Signature header")
        try:
            # Verifies the HMAC of the raw body and the timestamp's tolerance (300 s).
            stripe.Webhook.construct_event(body, signature, settings.STRIPE_WEBHOOK_SECRET)
        except stripe.SignatureVerificationError as exc:
            raise WebhookInvalid(f"bad Stripe signature: {exc.user_message or exc}") from exc
        except ValueError as exc:
            raise WebhookInvalid("a Stripe webhook whose body is not JSON") from exc
        payload = json.loads(body)
        event_type = str(payload.get("type", ""))
        obj = (payload.get("data") or {}).get("object") or {}
        kind = EVENT_KINDS.get(event_type, EventKind.OTHER)
        currency = str(obj.get("currency") or "")
        amount: Decimal | None = None
        reference = str(obj.get("id") or "")
        failure = ""
        if kind == EventKind.PAYMENT_SUCCEEDED:
            amount = _amount(obj.get("amount_received"), currency)
        elif kind == EventKind.PAYMENT_FAILED:
            failure = str(_get(obj.get("last_payment_error"), "message", "The payment was declined."))
        elif kind == EventKind.REFUNDED:
            # A charge: its payment is the intent, its refunded amount the cumulative total.
            reference = str(obj.get("payment_intent") or "")
            amount = _amount(obj.get("amount_refunded"), currency)
        return WebhookEvent(
            event_id=str(payload.get("id") or ""),
            kind=kind,
            event_type=event_type,
            reference=reference,
            amount=amount,
            currency=currency.upper(),
            failure_message=failure[:500],
            payload=payload,
        )


def _amount(value: Any, currency: str) -> Decimal | None:
    return from_minor_units(int(value), currency) if isinstance(value, int) and currency else None


def _intent_state(intent: Any) -> PaymentState:
    status = INTENT_STATUSES.get(intent.status, ProviderStatus.PENDING)
    currency = str(intent.currency or "")
    error = _get(intent, "last_payment_error")
    if status == ProviderStatus.PENDING and error is not None:
        status = ProviderStatus.FAILED
    return PaymentState(
        reference=intent.id,
        status=status,
        amount=_amount(_get(intent, "amount_received"), currency),
        currency=currency.upper(),
        failure_message=str(_get(error, "message", ""))[:500],
    )


@contextmanager
def _errors() -> Iterator[None]:
    """Stripe's exceptions as the payment family: refusals are declines, the rest gateway errors."""
    try:
        yield
    except stripe.CardError as exc:
        raise PaymentDeclined(exc.user_message or "The card was declined.") from exc
    except stripe.InvalidRequestError as exc:
        if exc.http_status in {400, 402}:
            raise PaymentDeclined(exc.user_message or "The payment service refused the request.") from exc
        raise GatewayError(f"Stripe: {type(exc).__name__} {exc.http_status}: {exc}") from exc
    except stripe.StripeError as exc:
        raise GatewayError(f"Stripe: {type(exc).__name__} {exc.http_status}: {exc}") from exc
