"""PayPal, Orders v2 REST API over HTTP (``requests``), approval flow.

Starting a payment creates a PayPal order for the amount with the shop's return and cancel
URLs; the customer approves it at PayPal (``approval_url``) and comes back to the return URL,
where the shop captures; the ``CHECKOUT.ORDER.APPROVED`` webhook captures too, whichever comes
first. Both send the same ``PayPal-Request-Id`` (derived from the payment attempt), so PayPal
makes one capture and gives both the same answer. Refunds name the capture. Webhooks are
verified by PayPal's ``verify-webhook-signature`` call; only ``SUCCESS`` is trusted.

The OAuth access token (client credentials) is cached until shortly before it expires.

Settings: ``PAYPAL_CLIENT_ID``, ``PAYPAL_CLIENT_SECRET``, ``PAYPAL_WEBHOOK_ID``,
``PAYPAL_API_BASE`` (sandbox ``https://api-m.sandbox.paypal.com``, live
``https://api-m.paypal.com``, or a stand-in), ``PAYMENT_PROVIDER_TIMEOUT`` (seconds).
"""

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

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
from .money import decimal_string

EVENT_KINDS = {
    "CHECKOUT.ORDER.APPROVED": EventKind.PAYMENT_APPROVED,
    "PAYMENT.CAPTURE.COMPLETED": EventKind.PAYMENT_SUCCEEDED,
    "PAYMENT.CAPTURE.DENIED": EventKind.PAYMENT_FAILED,
    "PAYMENT.CAPTURE.REFUNDED": EventKind.REFUNDED,
}
CAPTURE_STATUSES = {
    "COMPLETED": ProviderStatus.SUCCEEDED,
    "PENDING": ProviderStatus.PENDING,
    "DECLINED": ProviderStatus.FAILED,
    "FAILED": ProviderStatus.FAILED,
}
ORDER_STATUSES = {"APPROVED": ProviderStatus.APPROVED, "VOIDED": ProviderStatus.CANCELLED}
WEBHOOK_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}
# A token is dropped this long before PayPal says it expires.
TOKEN_MARGIN = 120


class PayPalProvider(PaymentProvider):
    name = "paypal"

    def __init__(self) -> None:
        self.base = settings.PAYPAL_API_BASE.rstrip("/")
        self.timeout = settings.PAYMENT_PROVIDER_TIMEOUT
        digest = hashlib.sha256(f"{self.base} {settings.PAYPAL_CLIENT_ID}".encode()).hexdigest()[:16]
        self.token_cache_key = f"payments:paypal:token:{digest}"

    # --- HTTP ------------------------------------------------------------------------------

    def _token(self, *, fresh: bool = False) -> str:
        token = None if fresh else cache.get(self.token_cache_key)
        if token:
            return str(token)
        try:
            response = requests.post(
                f"{self.base}/v1/oauth2/token",
                auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise GatewayError(f"PayPal token: {exc!r}") from exc
        if response.status_code != 200:
            raise GatewayError(f"PayPal token: HTTP {response.status_code} {response.text[:300]}")
        body = response.json()
        token = str(body["access_token"])
        lifetime = int(body.get("expires_in", 0)) - TOKEN_MARGIN
        if lifetime > 0:
            cache.set(self.token_cache_key, token, timeout=lifetime)
        return token

    def _call(
        self, method: str, path: str, *, json_body: Any = None, request_id: str = "", prefer: bool = False
    ) -> tuple[int, dict[str, Any]]:
        """One API call; a token PayPal no longer accepts is renewed once. Returns status and body."""
        for attempt in range(2):
            headers = {
                "Authorization": f"Bearer {self._token(fresh=attempt > 0)}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            if prefer:
                headers["Prefer"] = "return=representation"
            try:
                response = requests.request(
                    method, f"{self.base}{path}", json=json_body, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                raise GatewayError(f"PayPal {method} {path}: {exc!r}") from exc
            if response.status_code == 401 and attempt == 0:
                cache.delete(self.token_cache_key)
                continue
            break
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if response.status_code >= 500 or response.status_code in {401, 403, 429}:
            raise GatewayError(f"PayPal {method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.status_code, body

    # --- Payments --------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        status, body = self._call(
            "POST",
            "/v2/checkout/orders",
            request_id=request.idempotency_key,
            json_body={
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "reference_id": request.order_number,
                        "custom_id": str(request.payment_id),
                        "description": f"Commande {request.order_number}",
                        "amount": {
                            "currency_code": request.currency.upper(),
                            "value": decimal_string(request.amount, request.currency),
                        },
                    }
                ],
                "payment_source": {
                    "paypal": {
                        "experience_context": {
                            "return_url": request.return_url,
                            "cancel_url": request.cancel_url,
                            "user_action": "PAY_NOW",
                            "shipping_preference": "NO_SHIPPING",
                        }
                    }
                },
            },
        )
        if status not in {200, 201}:
            raise PaymentDeclined(_message(body, "PayPal refused the payment."))
        links = {link.get("rel"): link.get("href") for link in body.get("links", [])}
        approval = links.get("payer-action") or links.get("approve")
        if not approval:
            raise GatewayError(f"PayPal order {body.get('id')} has no approval link")
        return PaymentStart(reference=str(body["id"]), approval_url=str(approval))

    def retrieve(self, *, reference: str) -> PaymentState:
        status, body = self._call("GET", f"/v2/checkout/orders/{reference}")
        if status != 200:
            raise GatewayError(f"PayPal order {reference}: HTTP {status} {_message(body, '')}")
        return _order_state(body)

    def capture(self, *, reference: str, idempotency_key: str) -> PaymentState:
        status, body = self._call(
            "POST", f"/v2/checkout/orders/{reference}/capture", json_body={}, request_id=idempotency_key
        )
        if status in {200, 201}:
            return _order_state(body)
        issues = {detail.get("issue") for detail in body.get("details", [])}
        if issues & {"ORDER_ALREADY_CAPTURED", "ORDER_NOT_APPROVED", "ORDER_COMPLETED_OR_VOIDED"}:
            # Captured by another call, not approved yet, or voided (expired): say where it stands.
            return self.retrieve(reference=reference)
        if "INSTRUMENT_DECLINED" in issues:
            return PaymentState(
                reference=reference,
                status=ProviderStatus.FAILED,
                failure_message="PayPal declined the payment.",
            )
        raise PaymentDeclined(_message(body, "PayPal refused the capture."))

    def cancel(self, *, reference: str, idempotency_key: str) -> PaymentState:
        # A PayPal order cannot be cancelled: it is never captured, and expires at PayPal.
        return self.retrieve(reference=reference)

    def refund(self, request: RefundRequest) -> RefundResult:
        status, body = self._call(
            "POST",
            f"/v2/payments/captures/{request.capture_reference}/refund",
            request_id=request.idempotency_key,
            prefer=True,
            json_body={
                "amount": {
                    "value": decimal_string(request.amount, request.currency),
                    "currency_code": request.currency.upper(),
                },
                "custom_id": request.idempotency_key[:127],
            },
        )
        if status not in {200, 201} or body.get("status") not in {"COMPLETED", "PENDING"}:
            raise PaymentDeclined(_message(body, "PayPal refused the refund."))
        amount = body.get("amount") or {}
        return RefundResult(
            reference=str(body["id"]),
            amount=_decimal(amount.get("value")) or request.amount,
            currency=str(amount.get("currency_code") or request.currency),
            status=RefundOutcome.SUCCEEDED if body["status"] == "COMPLETED" else RefundOutcome.PENDING,
        )

    # --- Webhooks --------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        transmission = {field: headers.get(name) for field, name in WEBHOOK_HEADERS.items()}
        if not all(transmission.values()):
            raise WebhookInvalid("a PayPal webhook without its transmission headers")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise WebhookInvalid("a PayPal webhook whose body is not JSON") from exc
        if not isinstance(event, dict):
            raise WebhookInvalid("a PayPal webhook whose body is not an event")
        status, answer = self._call(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            json_body={**transmission, "webhook_id": settings.PAYPAL_WEBHOOK_ID, "webhook_event": event},
        )
        if status != 200:
            raise GatewayError(f"PayPal webhook verification: HTTP {status} {_message(answer, '')}")
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookInvalid("PayPal did not verify this webhook's signature")
        return _event(event)


def _event(event: dict[str, Any]) -> WebhookEvent:
    event_type = str(event.get("event_type", ""))
    kind = EVENT_KINDS.get(event_type, EventKind.OTHER)
    resource = event.get("resource") or {}
    reference, capture, amount_field = "", "", resource.get("amount") or {}
    if kind == EventKind.PAYMENT_APPROVED:
        reference = str(resource.get("id", ""))
        units = resource.get("purchase_units") or [{}]
        amount_field = units[0].get("amount") or {}
    elif kind in {EventKind.PAYMENT_SUCCEEDED, EventKind.PAYMENT_FAILED}:
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        reference, capture = str(related.get("order_id", "")), str(resource.get("id", ""))
    elif kind == EventKind.REFUNDED:
        links = {link.get("rel"): str(link.get("href", "")) for link in resource.get("links", [])}
        capture = links.get("up", "").rstrip("/").rsplit("/", 1)[-1]
        # The capture's cumulative refunded total, as the shop counts refunds.
        breakdown = resource.get("seller_payable_breakdown") or {}
        amount_field = breakdown.get("total_refunded_amount") or amount_field
    return WebhookEvent(
        event_id=str(event.get("id", "")),
        kind=kind,
        event_type=event_type,
        reference=reference,
        capture_reference=capture,
        amount=_decimal(amount_field.get("value")),
        currency=str(amount_field.get("currency_code", "")).upper(),
        failure_message="PayPal declined the payment." if kind == EventKind.PAYMENT_FAILED else "",
        payload=event,
    )


def _order_state(order: dict[str, Any]) -> PaymentState:
    reference = str(order.get("id", ""))
    units = order.get("purchase_units") or [{}]
    captures = (units[0].get("payments") or {}).get("captures") or []
    if captures:
        capture = captures[0]
        amount = capture.get("amount") or {}
        return PaymentState(
            reference=reference,
            status=CAPTURE_STATUSES.get(capture.get("status"), ProviderStatus.PENDING),
            amount=_decimal(amount.get("value")),
            currency=str(amount.get("currency_code", "")).upper(),
            capture_reference=str(capture.get("id", "")),
        )
    return PaymentState(
        reference=reference, status=ORDER_STATUSES.get(order.get("status", ""), ProviderStatus.PENDING)
    )


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _message(body: Mapping[str, Any], default: str) -> str:
    details = body.get("details") or []
    issue = details[0].get("issue") if details and isinstance(details[0], dict) else ""
    text = str(body.get("message") or default)
    return f"{text} ({issue})" if issue else text
