"""A stand-in for PayPal's REST API (OAuth2, Orders v2, Payments v2 refunds, webhook verification).

:class:`PayPalStandIn` serves, on ``127.0.0.1``, the subset of the PayPal sandbox a shop uses to take
PayPal payments, with PayPal's paths, JSON shapes, status codes and error issues:

- ``POST /v1/oauth2/token``: client credentials (HTTP Basic) → a Bearer token. Every other endpoint
  (but the buyer's ``/checkoutnow`` page) wants a live token, else 401 ``invalid_token``;
- ``POST /v2/checkout/orders``, ``GET /v2/checkout/orders/{id}``, ``POST …/{id}/capture``
  (intent ``CAPTURE`` only: no authorizations, no PATCH);
- ``GET /v2/payments/captures/{id}``, ``POST /v2/payments/captures/{id}/refund``,
  ``GET /v2/payments/refunds/{id}``;
- ``POST /v1/notifications/verify-webhook-signature``;
- ``GET /checkoutnow?token=ORDER_ID``: the page PayPal sends the buyer to ("payer-action"/"approve"
  link). The stand-in approves the order and redirects (302) to the order's ``return_url`` with
  ``?token=ORDER_ID&PayerID=…``; with ``&cancel=1`` it redirects to the ``cancel_url`` instead.

Idempotency: a POST carrying ``PayPal-Request-Id`` whose path and id were seen before replays the
first answer's body and does nothing new. As PayPal documents ("a successful response to an
idempotent request returns the HTTP 200 OK status code"), a replay answers 200 even when the first
answer was 201; set :attr:`PayPalStandIn.replay_status` to ``None`` to replay the first status as
is. Only successful (2xx) answers are kept; an error answer leaves nothing to replay, so a retry
is carried out afresh (a stand-in choice: PayPal does not document the case). Answers injected by
``fail_next`` are never kept (the request never reached PayPal); a request carried out before a
``stall_next(after=True)`` is.

Webhooks: PayPal signs a webhook with its RSA certificate; the stand-in signs with an HMAC instead
(see :func:`webhook_signature`) and checks it in the verify endpoint, which answers ``SUCCESS`` when
the ``webhook_id`` is the stand-in's, ``auth_algo`` and ``cert_url`` are the ones
:func:`signed_headers` sends, the signature matches the event the shop passes back (compared in a
canonical JSON form, so a re-serialized event still matches and a tampered one does not), and the
``transmission_time`` is within 300 s of now, in either direction (the stand-in's replay window).

Test controls (on the instance, under the stand-in's lock): :meth:`~PayPalStandIn.approve`,
:meth:`~PayPalStandIn.void`, :meth:`~PayPalStandIn.set_capture_outcome`,
:meth:`~PayPalStandIn.settle_capture`, :meth:`~PayPalStandIn.expire_tokens`, and webhook events
built from the current state: :meth:`~PayPalStandIn.event`, :meth:`~PayPalStandIn.order_event`,
:meth:`~PayPalStandIn.capture_event`, :meth:`~PayPalStandIn.refund_event`.

State, for assertions: ``orders`` (id → order, in PayPal's shape plus private ``_return_url``,
``_cancel_url`` keys that answers leave out), ``captures`` (id → capture; the capture's
``supplementary_data.related_ids.order_id`` points to its order), ``refunds`` (id → refund), and
the counters ``tokens_issued``, ``captures_made``, ``refunds_made``, ``verifications``.

Made-up details: the PayPal fee on a capture (3.4 % + 0.35, or 35 in a currency without decimals)
and that refunds return no fee.
"""

import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode

from .base import Answer, Received, StandIn

SIGNING_KEY = "standin-webhook-signing-key"
CERT_URL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-STANDIN"
AUTH_ALGO = "SHA256withRSA"
WEBHOOK_MAX_AGE = timedelta(seconds=300)

# The currencies PayPal accepts; these three have no decimals, the others two.
CURRENCIES = frozenset(
    {"AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS"}
    | {"JPY", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "SEK", "SGD", "THB", "TWD", "USD"}
)
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})

CAPTURE_OUTCOMES = ("COMPLETED", "PENDING", "DECLINED", "INSTRUMENT_DECLINED")

_MERCHANT = {"email_address": "merchant@example.com", "merchant_id": "STANDINMERCHANT"}
_SCOPE = " ".join(
    f"https://uri.paypal.com/services/{name}"
    for name in ("payments/payment/authcapture", "payments/refund", "applications/webhooks")
)
_INVALID_CLIENT = {"error": "invalid_client", "error_description": "Client Authentication failed"}
_INVALID_TOKEN = {"error": "invalid_token", "error_description": "Token signature verification failed"}
_BREAKDOWN_ADDED = ("item_total", "tax_total", "shipping", "handling", "insurance")
_BREAKDOWN_TAKEN = ("shipping_discount", "discount")

_MESSAGES = {
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
    "UNPROCESSABLE_ENTITY": (
        "The requested action could not be performed, semantically incorrect, or failed business validation."
    ),
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "UNSUPPORTED_MEDIA_TYPE": "The server does not support the request payload's media type.",
}
_ISSUES = {
    "MALFORMED_REQUEST_JSON": "The request JSON is not well formed.",
    "MISSING_REQUIRED_PARAMETER": "A required field / parameter is missing.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_PARAMETER_VALUE": "The value of a field is invalid.",
    "INVALID_STRING_LENGTH": "The value of a field is either too short or too long.",
    "INVALID_ARRAY_MAX_ITEMS": "The number of items in an array parameter is too large.",
    "CURRENCY_NOT_SUPPORTED": "Currency code is not currently supported.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero.",
    "CANNOT_BE_NEGATIVE": "Must be greater than or equal to zero.",
    "AMOUNT_MISMATCH": (
        "Should equal item_total + tax_total + shipping + handling + insurance"
        " - shipping_discount - discount."
    ),
    "ITEM_TOTAL_MISMATCH": "Should equal sum of (unit_amount * quantity) across the purchase_unit's items.",
    "ITEM_TOTAL_REQUIRED": "If item details are specified, amount.breakdown.item_total is required.",
    "TAX_TOTAL_MISMATCH": "Should equal sum of (tax * quantity) across all items for a purchase_unit.",
    "TAX_TOTAL_REQUIRED": "If item tax is specified, amount.breakdown.tax_total is required.",
    "REFERENCE_ID_REQUIRED": "'reference_id' is required for each 'purchase_unit' if there are several.",
    "DUPLICATE_REFERENCE_ID": "`reference_id` must be unique if multiple `purchase_unit` are provided.",
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID.",
    "ORDER_NOT_APPROVED": (
        "Payer has not yet approved the Order for payment. Please redirect the payer to the "
        "'rel':'payer-action' url returned as part of the HATEOAS links within the Create Order call."
    ),
    "ORDER_ALREADY_CAPTURED": "Order already captured. With 'intent=CAPTURE' one capture per order.",
    "ORDER_COMPLETED_OR_VOIDED": "Order is voided or completed and hence cannot be processed.",
    "INSTRUMENT_DECLINED": "The instrument presented was either declined by the processor or bank.",
    "DUPLICATE_INVOICE_ID": "Duplicate Invoice ID detected. Invoice Id must be unique for each transaction.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded.",
    "PENDING_CAPTURE": "Cannot initiate a refund as the capture is pending.",
    "TRANSACTION_REFUSED": "The capture was declined: there is nothing to refund.",
    "REFUND_AMOUNT_EXCEEDED": (
        "The refund amount must be less than or equal to the capture amount that has not yet been refunded."
    ),
    "REFUND_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture.",
}
_SUMMARIES = {
    "CHECKOUT.ORDER.APPROVED": "An order has been approved by buyer",
    "CHECKOUT.ORDER.COMPLETED": "Checkout Order Completed",
    "PAYMENT.CAPTURE.COMPLETED": "Payment completed for {amount}",
    "PAYMENT.CAPTURE.PENDING": "Payment pending for {amount}",
    "PAYMENT.CAPTURE.DENIED": "A {amount} capture payment was denied",
    "PAYMENT.CAPTURE.REFUNDED": "A {amount} capture payment was refunded",
    "PAYMENT.CAPTURE.REVERSED": "A {amount} capture payment was reversed",
}

_VALUE = re.compile(r"(?P<sign>-?)(?P<units>[0-9]+)(?:\.(?P<decimals>[0-9]+))?")
_ALNUM = string.ascii_uppercase + string.digits


# --- Webhook signatures ---------------------------------------------------------------------------


def canonical_json(event: dict[str, Any]) -> str:
    """The form of an event that is signed: whoever re-serializes the event gets the same text."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"))


def webhook_signature(
    event: dict[str, Any],
    *,
    transmission_id: str,
    transmission_time: str,
    webhook_id: str,
    key: str = SIGNING_KEY,
) -> str:
    """Base64 of HMAC-SHA256(key, "id|time|webhook_id|crc32 of the canonical event JSON")."""
    crc = zlib.crc32(canonical_json(event).encode())
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}"
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(
    event: dict[str, Any],
    *,
    webhook_id: str,
    transmission_time: str | None = None,
    key: str = SIGNING_KEY,
) -> dict[str, str]:
    """The headers PayPal sends with a webhook delivering ``event`` (time: now unless given)."""
    transmission_id = str(uuid.uuid4())
    transmission_time = transmission_time or _now()
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": webhook_signature(
            event,
            transmission_id=transmission_id,
            transmission_time=transmission_time,
            webhook_id=webhook_id,
            key=key,
        ),
        "PAYPAL-CERT-URL": CERT_URL,
        "PAYPAL-AUTH-ALGO": AUTH_ALGO,
    }


# --- Small helpers --------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _decimals(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def _money_value(value: Decimal, currency: str) -> str:
    return str(value.quantize(Decimal(1).scaleb(-_decimals(currency)), rounding=ROUND_HALF_UP))


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": _money_value(value, currency)}


def _link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """A copy without the stand-in's private (``_``) keys."""
    return {key: copy.deepcopy(value) for key, value in data.items() if not key.startswith("_")}


class _Refusal(Exception):
    """Raised by an endpoint to answer with an error."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def _problem(status: int, name: str, *details: dict[str, Any]) -> Answer:
    debug_id = secrets.token_hex(7)[:13]
    body: dict[str, Any] = {"name": name, "message": _MESSAGES[name], "debug_id": debug_id}
    if details:
        body["details"] = list(details)
        body["links"] = [
            _link(
                f"https://developer.paypal.com/docs/api/orders/v2/#error-{details[0]['issue']}",
                "information_link",
            )
        ]
    return Answer(status, body, {"Paypal-Debug-Id": debug_id})


def _detail(
    issue: str, *, field: str | None = None, value: Any = None, description: str | None = None
) -> dict:
    detail: dict[str, Any] = {}
    if field is not None:
        detail["field"] = field
        if value is not None:
            detail["value"] = value
        detail["location"] = "body"
    detail["issue"] = issue
    detail["description"] = description or _ISSUES.get(issue, issue)
    return detail


def _invalid(issue: str, **detail: Any) -> NoReturn:
    raise _Refusal(_problem(400, "INVALID_REQUEST", _detail(issue, **detail)))


def _unprocessable(issue: str, **detail: Any) -> NoReturn:
    raise _Refusal(_problem(422, "UNPROCESSABLE_ENTITY", _detail(issue, **detail)))


def _not_found(value: str, field: str | None = None) -> NoReturn:
    raise _Refusal(
        _problem(404, "RESOURCE_NOT_FOUND", _detail("INVALID_RESOURCE_ID", field=field, value=value))
    )


def _json_object(request: Received) -> dict[str, Any]:
    """The request's JSON object; an empty body is ``{}``."""
    if not request.body.strip():
        return {}
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise _Refusal(_problem(415, "UNSUPPORTED_MEDIA_TYPE"))
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        _invalid("MALFORMED_REQUEST_JSON")
    if not isinstance(body, dict):
        _invalid("MALFORMED_REQUEST_JSON")
    return body


def _check_length(data: dict[str, Any], path: str, limits: dict[str, int]) -> None:
    for name, limit in limits.items():
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            _invalid("INVALID_PARAMETER_SYNTAX", field=f"{path}/{name}", value=str(value))
        if not 1 <= len(value) <= limit:
            _invalid("INVALID_STRING_LENGTH", field=f"{path}/{name}", value=value)


def _money(amount: Any, field: str, *, positive: bool = True) -> tuple[str, Decimal]:
    """Validate a PayPal money object: a supported currency, a string value with the right decimals."""
    if not isinstance(amount, dict):
        _invalid("INVALID_PARAMETER_SYNTAX", field=field)
    currency, value = amount.get("currency_code"), amount.get("value")
    if currency is None:
        _invalid("MISSING_REQUIRED_PARAMETER", field=f"{field}/currency_code")
    if value is None:
        _invalid("MISSING_REQUIRED_PARAMETER", field=f"{field}/value")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        _unprocessable("CURRENCY_NOT_SUPPORTED", field=f"{field}/currency_code", value=str(currency))
    if not isinstance(value, str) or len(value) > 32 or not (match := _VALUE.fullmatch(value)):
        _invalid("INVALID_PARAMETER_SYNTAX", field=f"{field}/value", value=str(value))
    places = _decimals(currency)
    if len(match["decimals"] or "") > places:
        _unprocessable(
            "DECIMAL_PRECISION",
            field=f"{field}/value",
            value=value,
            description=f"{currency} supports {places} decimal places; the value has more.",
        )
    number = Decimal(value)
    if positive and number <= 0:
        _unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", field=f"{field}/value", value=value)
    if number < 0:
        _unprocessable("CANNOT_BE_NEGATIVE", field=f"{field}/value", value=value)
    return currency, number


def _check_breakdown(unit: dict[str, Any], path: str, currency: str, total: Decimal) -> None:
    """PayPal's consistency rules between amount, amount.breakdown and items."""
    breakdown = unit["amount"].get("breakdown")
    items = unit.get("items")
    if breakdown is None and not items:
        return
    breakdown = breakdown if isinstance(breakdown, dict) else {}
    parts = {
        name: _money(breakdown[name], f"{path}/amount/breakdown/{name}", positive=False)[1]
        for name in _BREAKDOWN_ADDED + _BREAKDOWN_TAKEN
        if name in breakdown
    }
    if breakdown:
        expected = sum((parts.get(n, Decimal(0)) for n in _BREAKDOWN_ADDED), Decimal(0)) - sum(
            (parts.get(n, Decimal(0)) for n in _BREAKDOWN_TAKEN), Decimal(0)
        )
        if expected != total:
            _unprocessable(
                "AMOUNT_MISMATCH", field=f"{path}/amount/value", value=_money_value(total, currency)
            )
    if not items:
        return
    if not isinstance(items, list):
        _invalid("INVALID_PARAMETER_SYNTAX", field=f"{path}/items")
    item_total = tax_total = Decimal(0)
    has_tax = False
    for index, item in enumerate(items):
        item_path = f"{path}/items/@index={index}"
        if not isinstance(item, dict) or "name" not in item:
            _invalid("MISSING_REQUIRED_PARAMETER", field=f"{item_path}/name")
        quantity = item.get("quantity")
        if not isinstance(quantity, str) or not quantity.isdigit():
            _invalid("INVALID_PARAMETER_SYNTAX", field=f"{item_path}/quantity", value=str(quantity))
        if "unit_amount" not in item:
            _invalid("MISSING_REQUIRED_PARAMETER", field=f"{item_path}/unit_amount")
        unit_amount = _money(item["unit_amount"], f"{item_path}/unit_amount", positive=False)[1]
        item_total += unit_amount * int(quantity)
        if "tax" in item:
            has_tax = True
            tax_total += _money(item["tax"], f"{item_path}/tax", positive=False)[1] * int(quantity)
    if "item_total" not in parts:
        _unprocessable("ITEM_TOTAL_REQUIRED", field=f"{path}/amount/breakdown/item_total")
    if parts["item_total"] != item_total:
        _unprocessable("ITEM_TOTAL_MISMATCH", field=f"{path}/amount/breakdown/item_total")
    if has_tax and "tax_total" not in parts:
        _unprocessable("TAX_TOTAL_REQUIRED", field=f"{path}/amount/breakdown/tax_total")
    if has_tax and parts["tax_total"] != tax_total:
        _unprocessable("TAX_TOTAL_MISMATCH", field=f"{path}/amount/breakdown/tax_total")


def _resource_type(event_type: str) -> str:
    if event_type.startswith("CHECKOUT.ORDER."):
        return "checkout-order"
    if event_type == "PAYMENT.CAPTURE.REFUNDED":
        return "refund"
    if event_type.startswith("PAYMENT.CAPTURE."):
        return "capture"
    return event_type.split(".")[0].lower()


def _is_fresh(transmission_time: str) -> bool:
    try:
        sent = datetime.fromisoformat(transmission_time)
    except ValueError:
        return False
    if sent.tzinfo is None:
        return False
    return abs(datetime.now(UTC) - sent) <= WEBHOOK_MAX_AGE


# --- The stand-in ---------------------------------------------------------------------------------


class PayPalStandIn(StandIn):
    """PayPal's REST API for one merchant app (see the module docstring for what it speaks)."""

    #: The status a replayed (idempotent) answer is given; ``None``: the first answer's own status.
    replay_status: int | None = 200

    def __init__(
        self,
        *,
        client_id: str = "standin-client",
        client_secret: str = "standin-secret",  # noqa: S107 (a test credential)
        webhook_id: str = "WH-STANDIN",
        signing_key: str = SIGNING_KEY,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.signing_key = signing_key
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.tokens_issued = 0
        self.captures_made = 0
        self.refunds_made = 0
        self.verifications = 0
        self._live_tokens: set[str] = set()
        self._replies: dict[tuple[str, str], Answer] = {}
        self._refunded: dict[str, Decimal] = {}  # capture id → total refunded
        self._refund_capture: dict[str, str] = {}  # refund id → capture id
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Answer], bool]] = [
            ("POST", re.compile(r"/v1/oauth2/token"), self._token, False),
            ("POST", re.compile(r"/v2/checkout/orders"), self._create_order, True),
            ("GET", re.compile(r"/v2/checkout/orders/(?P<order_id>[^/]+)"), self._get_order, True),
            ("POST", re.compile(r"/v2/checkout/orders/(?P<order_id>[^/]+)/capture"), self._capture, True),
            ("GET", re.compile(r"/v2/payments/captures/(?P<capture_id>[^/]+)"), self._get_capture, True),
            ("POST", re.compile(r"/v2/payments/captures/(?P<capture_id>[^/]+)/refund"), self._refund, True),
            ("GET", re.compile(r"/v2/payments/refunds/(?P<refund_id>[^/]+)"), self._get_refund, True),
            ("POST", re.compile(r"/v1/notifications/verify-webhook-signature"), self._verify, True),
            ("GET", re.compile(r"/checkoutnow"), self._checkout_page, False),
        ]

    def start(self) -> "PayPalStandIn":
        super().start()
        return self

    def __enter__(self) -> "PayPalStandIn":
        return self.start()

    # --- Test controls ----------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (401 ``invalid_token``), as after expires_in."""
        with self._lock:
            self._live_tokens.clear()

    def approve(self, order_id: str, *, email_address: str = "buyer@example.com") -> dict[str, Any]:
        """The buyer approved the order at PayPal: status APPROVED, with a payer. Returns the order."""
        with self._lock:
            order = self._order_for_control(order_id)
            if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
                raise ValueError(f"order {order_id} is {order['status']}: it cannot be approved")
            self._approve(order, email_address)
            return self._render_order(order)

    def void(self, order_id: str) -> dict[str, Any]:
        """The order was voided (expired or cancelled at PayPal): status VOIDED. Returns the order."""
        with self._lock:
            order = self._order_for_control(order_id)
            if order["status"] == "COMPLETED":
                raise ValueError(f"order {order_id} is COMPLETED: it cannot be voided")
            order["status"] = "VOIDED"
            order["update_time"] = _now()
            return self._render_order(order)

    def set_capture_outcome(self, order_id: str, outcome: str) -> None:
        """What the next capture of the order does, once: ``COMPLETED`` (the default), ``PENDING``
        (capture status PENDING, reason PENDING_REVIEW; see :meth:`settle_capture`), ``DECLINED``
        (the order completes with a DECLINED capture) or ``INSTRUMENT_DECLINED`` (422 INSTRUMENT_DECLINED
        and the order goes back to PAYER_ACTION_REQUIRED, for the buyer to pick another funding source).
        """
        if outcome not in CAPTURE_OUTCOMES:
            raise ValueError(f"outcome must be one of {CAPTURE_OUTCOMES}, not {outcome!r}")
        with self._lock:
            self._order_for_control(order_id)["_capture_outcome"] = outcome

    def settle_capture(self, capture_id: str, status: str) -> dict[str, Any]:
        """A PENDING capture ends ``COMPLETED`` or ``DECLINED`` (send the matching webhook after:
        ``capture_event(id)`` or ``capture_event(id, "PAYMENT.CAPTURE.DENIED")``). Returns the capture.
        """
        if status not in ("COMPLETED", "DECLINED"):
            raise ValueError(f"status must be COMPLETED or DECLINED, not {status!r}")
        with self._lock:
            capture = self.captures[capture_id]
            if capture["status"] != "PENDING":
                raise ValueError(f"capture {capture_id} is {capture['status']}, not PENDING")
            capture["status"] = status
            capture.pop("status_details", None)
            capture["update_time"] = _now()
            return copy.deepcopy(capture)

    # --- Webhook events ---------------------------------------------------------------------------

    def event(
        self,
        event_type: str,
        resource: dict[str, Any],
        *,
        event_id: str | None = None,
        resource_type: str | None = None,
    ) -> dict[str, Any]:
        """A webhook event as PayPal delivers it (a copy of ``resource``, without ``_`` keys)."""
        event_id = event_id or f"WH-{_paypal_id(20)}"
        amount = resource.get("amount")
        shown = f"{amount['currency_code']} {amount['value']} {amount['currency_code']}" if amount else ""
        summary = _SUMMARIES.get(event_type, f"A {event_type} event").format(amount=shown)
        events_url = f"{self.url}/v1/notifications/webhooks-events/{event_id}"
        return {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type or _resource_type(event_type),
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": _public(resource),
            "links": [_link(events_url, "self"), _link(f"{events_url}/resend", "resend", "POST")],
        }

    def order_event(self, order_id: str, event_type: str = "CHECKOUT.ORDER.APPROVED") -> dict[str, Any]:
        """An order event whose resource is the order as it is now (as GET answers it)."""
        with self._lock:
            return self.event(event_type, self._render_order(self.orders[order_id]))

    def capture_event(self, capture_id: str, event_type: str = "PAYMENT.CAPTURE.COMPLETED") -> dict[str, Any]:
        """A capture event (COMPLETED, DENIED, PENDING…) whose resource is the capture as it is now,
        with ``supplementary_data.related_ids.order_id``."""
        with self._lock:
            return self.event(event_type, self.captures[capture_id])

    def refund_event(self, refund_id: str, event_type: str = "PAYMENT.CAPTURE.REFUNDED") -> dict[str, Any]:
        """A refund event whose resource is the refund: ``seller_payable_breakdown.total_refunded_amount``
        is the capture's refunded total when the refund was made, ``links`` has ``rel: up`` to the capture."""
        with self._lock:
            return self.event(event_type, self.refunds[refund_id])

    # --- Serving ----------------------------------------------------------------------------------

    def handle(self, request: Received) -> Answer:
        route = self._route(request)
        if route is None:
            return _problem(404, "RESOURCE_NOT_FOUND", _detail("INVALID_RESOURCE_ID", value=request.path))
        endpoint, match, needs_token = route
        if needs_token and not self._token_is_live(request):
            return Answer(401, dict(_INVALID_TOKEN))
        request_id = request.headers.get("paypal-request-id") if request.method == "POST" else None
        key = (request.path, request_id) if request_id and needs_token else None
        if key is not None and key in self._replies:
            first = self._replies[key]
            headers = {**first.headers, "Paypal-Debug-Id": secrets.token_hex(7)[:13]}
            return Answer(self.replay_status or first.status, copy.deepcopy(first.body), headers)
        try:
            answer = endpoint(request, **match.groupdict())
        except _Refusal as refusal:
            return refusal.answer
        answer.headers.setdefault("Paypal-Debug-Id", secrets.token_hex(7)[:13])
        if key is not None and 200 <= answer.status < 300:
            self._replies[key] = Answer(answer.status, copy.deepcopy(answer.body), dict(answer.headers))
        return answer

    def _route(self, request: Received) -> tuple[Callable[..., Answer], re.Match[str], bool] | None:
        for method, pattern, endpoint, needs_token in self._routes:
            match = pattern.fullmatch(request.path)
            if match and request.method == method:
                return endpoint, match, needs_token
        return None

    def _token_is_live(self, request: Received) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token in self._live_tokens

    # --- OAuth2 -----------------------------------------------------------------------------------

    def _token(self, request: Received) -> Answer:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = ""
        good = (
            scheme.lower() == "basic"
            and hmac.compare_digest(client_id, self.client_id)
            and hmac.compare_digest(secret, self.client_secret)
        )
        if not good:
            return Answer(401, dict(_INVALID_CLIENT))
        grant_type = dict(parse_qsl(request.body.decode(errors="replace"))).get("grant_type")
        if grant_type != "client_credentials":
            description = "Grant Type is NULL" if grant_type is None else "unsupported grant_type"
            return Answer(400, {"error": "unsupported_grant_type", "error_description": description})
        token = f"A21{secrets.token_hex(48)}"
        self._live_tokens.add(token)
        self.tokens_issued += 1
        return Answer(
            200,
            {
                "scope": _SCOPE,
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-STANDIN",
                "expires_in": 32400,
                "nonce": f"{_now()}{secrets.token_urlsafe(32)}",
            },
        )

    # --- Orders -----------------------------------------------------------------------------------

    def _create_order(self, request: Received) -> Answer:
        body = _json_object(request)
        intent = body.get("intent")
        if intent is None:
            _invalid("MISSING_REQUIRED_PARAMETER", field="/intent")
        if intent != "CAPTURE":
            _invalid(
                "INVALID_PARAMETER_VALUE",
                field="/intent",
                value=str(intent),
                description="The stand-in speaks intent=CAPTURE only.",
            )
        raw_units = body.get("purchase_units")
        if not isinstance(raw_units, list) or not raw_units:
            _invalid("MISSING_REQUIRED_PARAMETER", field="/purchase_units")
        if len(raw_units) > 10:
            _invalid("INVALID_ARRAY_MAX_ITEMS", field="/purchase_units")
        units = [self._purchase_unit(raw, index, len(raw_units)) for index, raw in enumerate(raw_units)]
        references = [unit["reference_id"] for unit in units]
        if len(set(references)) != len(references):
            _unprocessable("DUPLICATE_REFERENCE_ID", field="/purchase_units")

        payment_source = body.get("payment_source")
        paypal = payment_source.get("paypal") if isinstance(payment_source, dict) else None
        if isinstance(paypal, dict):
            context = paypal.get("experience_context") or {}
        else:
            context = body.get("application_context") or {}
        order_id = _paypal_id()
        order: dict[str, Any] = {
            "id": order_id,
            "intent": intent,
            "status": "PAYER_ACTION_REQUIRED" if isinstance(paypal, dict) else "CREATED",
            "purchase_units": units,
            "create_time": _now(),
            "_return_url": context.get("return_url") if isinstance(context, dict) else None,
            "_cancel_url": context.get("cancel_url") if isinstance(context, dict) else None,
        }
        if isinstance(paypal, dict):
            order["payment_source"] = {"paypal": {}}
        self.orders[order_id] = order
        rendered = self._render_order(order)
        if self._wants_representation(request):
            return Answer(201, rendered)
        minimal = {
            key: rendered[key] for key in ("id", "status", "payment_source", "links") if key in rendered
        }
        return Answer(201, minimal)

    def _purchase_unit(self, raw: Any, index: int, count: int) -> dict[str, Any]:
        if not isinstance(raw, dict):
            _invalid("INVALID_PARAMETER_SYNTAX", field=f"/purchase_units/{index}")
        if count > 1 and "reference_id" not in raw:
            _unprocessable("REFERENCE_ID_REQUIRED", field=f"/purchase_units/{index}/reference_id")
        reference_id = raw.get("reference_id", "default")
        path = f"/purchase_units/@reference_id=='{reference_id}'"
        _check_length(
            raw, path, {"reference_id": 256, "custom_id": 127, "invoice_id": 127, "description": 127}
        )
        if "amount" not in raw:
            _invalid("MISSING_REQUIRED_PARAMETER", field=f"{path}/amount")
        currency, total = _money(raw["amount"], f"{path}/amount")
        _check_breakdown(raw, path, currency, total)
        unit = copy.deepcopy(raw)
        unit["reference_id"] = reference_id
        unit.setdefault("payee", dict(_MERCHANT))
        return unit

    def _get_order(self, request: Received, order_id: str) -> Answer:
        return Answer(200, self._render_order(self._order(order_id)))

    def _capture(self, request: Received, order_id: str) -> Answer:
        order = self._order(order_id)
        _json_object(request)
        status = order["status"]
        if status == "COMPLETED":
            _unprocessable("ORDER_ALREADY_CAPTURED")
        if status == "VOIDED":
            _unprocessable("ORDER_COMPLETED_OR_VOIDED")
        if status != "APPROVED":
            _unprocessable("ORDER_NOT_APPROVED")
        for unit in order["purchase_units"]:
            invoice_id = unit.get("invoice_id")
            if invoice_id and any(
                c.get("invoice_id") == invoice_id and c["status"] != "DECLINED"
                for c in self.captures.values()
            ):
                _unprocessable("DUPLICATE_INVOICE_ID", field="/purchase_units/invoice_id", value=invoice_id)
        outcome = order.pop("_capture_outcome", "COMPLETED")
        if outcome == "INSTRUMENT_DECLINED":
            order["status"] = "PAYER_ACTION_REQUIRED"
            order["update_time"] = _now()
            _unprocessable("INSTRUMENT_DECLINED")

        now = _now()
        for unit in order["purchase_units"]:
            capture = self._new_capture(order_id, unit, outcome, now)
            unit.setdefault("payments", {}).setdefault("captures", []).append(capture)
            self.captures[capture["id"]] = capture
            self.captures_made += 1
        order["status"] = "COMPLETED"
        order["update_time"] = now
        rendered = self._render_order(order)
        if self._wants_representation(request):
            return Answer(201, rendered)
        minimal = {
            "id": order_id,
            "status": "COMPLETED",
            "payment_source": rendered.get("payment_source", {}),
            "purchase_units": [
                {"reference_id": unit["reference_id"], "payments": {"captures": unit["payments"]["captures"]}}
                for unit in rendered["purchase_units"]
            ],
            "payer": rendered.get("payer", {}),
            "links": rendered["links"],
        }
        return Answer(201, minimal)

    def _new_capture(self, order_id: str, unit: dict[str, Any], outcome: str, now: str) -> dict[str, Any]:
        capture_id = _paypal_id()
        currency, value = unit["amount"]["currency_code"], Decimal(unit["amount"]["value"])
        fixed = Decimal("35") if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.35")
        fee = min(value, value * Decimal("0.034") + fixed)
        capture_url = f"{self.url}/v2/payments/captures/{capture_id}"
        capture: dict[str, Any] = {
            "id": capture_id,
            "status": outcome,
            "amount": _amount(value, currency),
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
        }
        if outcome == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        if outcome != "DECLINED":
            capture["seller_receivable_breakdown"] = {
                "gross_amount": _amount(value, currency),
                "paypal_fee": _amount(fee, currency),
                "net_amount": _amount(value - Decimal(_money_value(fee, currency)), currency),
            }
        for name in ("custom_id", "invoice_id"):
            if unit.get(name) is not None:
                capture[name] = unit[name]
        capture["links"] = [
            _link(capture_url, "self"),
            _link(f"{capture_url}/refund", "refund", "POST"),
            _link(f"{self.url}/v2/checkout/orders/{order_id}", "up"),
        ]
        capture["create_time"] = capture["update_time"] = now
        capture["supplementary_data"] = {"related_ids": {"order_id": order_id}}
        return capture

    # --- Captures and refunds ---------------------------------------------------------------------

    def _get_capture(self, request: Received, capture_id: str) -> Answer:
        if capture_id not in self.captures:
            _not_found(capture_id)
        return Answer(200, copy.deepcopy(self.captures[capture_id]))

    def _get_refund(self, request: Received, refund_id: str) -> Answer:
        if refund_id not in self.refunds:
            _not_found(refund_id)
        return Answer(200, copy.deepcopy(self.refunds[refund_id]))

    def _refund(self, request: Received, capture_id: str) -> Answer:
        capture = self.captures.get(capture_id)
        if capture is None:
            _not_found(capture_id)
        body = _json_object(request)
        if capture["status"] == "REFUNDED":
            _unprocessable("CAPTURE_FULLY_REFUNDED")
        if capture["status"] == "PENDING":
            _unprocessable("PENDING_CAPTURE")
        if capture["status"] == "DECLINED":
            _unprocessable("TRANSACTION_REFUSED")
        currency = capture["amount"]["currency_code"]
        captured = Decimal(capture["amount"]["value"])
        refunded = self._refunded.get(capture_id, Decimal(0))
        if "amount" in body:
            asked_currency, value = _money(body["amount"], "/amount")
            if asked_currency != currency:
                _unprocessable(
                    "REFUND_CURRENCY_MISMATCH", field="/amount/currency_code", value=asked_currency
                )
            if value > captured - refunded:
                _unprocessable("REFUND_AMOUNT_EXCEEDED", field="/amount/value", value=body["amount"]["value"])
        else:
            value = captured - refunded
        _check_length(body, "", {"custom_id": 127, "invoice_id": 127, "note_to_payer": 255})

        now = _now()
        refunded += value
        self._refunded[capture_id] = refunded
        capture["status"] = "REFUNDED" if refunded == captured else "PARTIALLY_REFUNDED"
        capture["update_time"] = now
        refund_id = _paypal_id()
        refund: dict[str, Any] = {"id": refund_id, "status": "COMPLETED", "amount": _amount(value, currency)}
        for name in ("custom_id", "invoice_id", "note_to_payer"):
            if body.get(name) is not None:
                refund[name] = body[name]
        refund["seller_payable_breakdown"] = {
            "gross_amount": _amount(value, currency),
            "paypal_fee": _amount(Decimal(0), currency),
            "net_amount": _amount(value, currency),
            "total_refunded_amount": _amount(refunded, currency),
        }
        refund["links"] = [
            _link(f"{self.url}/v2/payments/refunds/{refund_id}", "self"),
            _link(f"{self.url}/v2/payments/captures/{capture_id}", "up"),
        ]
        refund["create_time"] = refund["update_time"] = now
        self.refunds[refund_id] = refund
        self._refund_capture[refund_id] = capture_id
        self.refunds_made += 1
        order = self.orders[capture["supplementary_data"]["related_ids"]["order_id"]]
        for unit in order["purchase_units"]:
            if capture in unit.get("payments", {}).get("captures", []):
                unit["payments"].setdefault("refunds", []).append(refund)
        if self._wants_representation(request):
            return Answer(201, copy.deepcopy(refund))
        return Answer(201, {"id": refund_id, "status": "COMPLETED", "links": copy.deepcopy(refund["links"])})

    # --- Webhook verification ---------------------------------------------------------------------

    def _verify(self, request: Received) -> Answer:
        body = _json_object(request)
        fields = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        missing = [name for name in fields if body.get(name) in (None, "")]
        if missing:
            details = [_detail("MISSING_REQUIRED_PARAMETER", field=f"/{name}") for name in missing]
            raise _Refusal(_problem(400, "INVALID_REQUEST", *details))
        if not isinstance(body["webhook_event"], dict):
            _invalid("INVALID_PARAMETER_SYNTAX", field="/webhook_event")
        if not all(isinstance(body[name], str) for name in fields[:-1]):
            _invalid("INVALID_PARAMETER_SYNTAX", field="/")
        self.verifications += 1
        expected = webhook_signature(
            body["webhook_event"],
            transmission_id=body["transmission_id"],
            transmission_time=body["transmission_time"],
            webhook_id=body["webhook_id"],
            key=self.signing_key,
        )
        verified = (
            body["webhook_id"] == self.webhook_id
            and body["auth_algo"] == AUTH_ALGO
            and body["cert_url"] == CERT_URL
            and _is_fresh(body["transmission_time"])
            and hmac.compare_digest(body["transmission_sig"], expected)
        )
        return Answer(200, {"verification_status": "SUCCESS" if verified else "FAILURE"})

    # --- The buyer's page -------------------------------------------------------------------------

    def _checkout_page(self, request: Received) -> Answer:
        order_id = request.query.get("token", "")
        order = self._order(order_id)
        if request.query.get("cancel"):
            target = order["_cancel_url"] and _with_query(order["_cancel_url"], token=order_id)
        else:
            if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
                self._approve(order, "buyer@example.com")
            payer_id = order.get("payer", {}).get("payer_id", "")
            target = order["_return_url"] and _with_query(
                order["_return_url"], token=order_id, PayerID=payer_id
            )
        if target:
            return Answer(302, None, {"Location": target})
        return Answer(200, {"token": order_id, "status": order["status"]})

    # --- Internals --------------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            _not_found(order_id)
        return self.orders[order_id]

    def _order_for_control(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise KeyError(f"no order {order_id!r}; the stand-in has {sorted(self.orders)}")
        return self.orders[order_id]

    def _approve(self, order: dict[str, Any], email_address: str) -> None:
        payer_id = _paypal_id(13)
        name = {"given_name": "Test", "surname": "Buyer"}
        order["payer"] = {
            "name": name,
            "email_address": email_address,
            "payer_id": payer_id,
            "address": {"country_code": "FR"},
        }
        order["payment_source"] = {
            "paypal": {
                "email_address": email_address,
                "account_id": payer_id,
                "account_status": "VERIFIED",
                "name": dict(name),
                "address": {"country_code": "FR"},
            }
        }
        order["status"] = "APPROVED"
        order["update_time"] = _now()

    def _render_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order as PayPal shows it: no private keys, HATEOAS links for its status."""
        rendered = _public(order)
        self_url = f"{self.url}/v2/checkout/orders/{order['id']}"
        checkout_url = f"{self.url}/checkoutnow?token={order['id']}"
        update, capture = _link(self_url, "update", "PATCH"), _link(f"{self_url}/capture", "capture", "POST")
        links = [_link(self_url, "self")]
        match order["status"]:
            case "CREATED":
                links += [_link(checkout_url, "approve"), update, capture]
            case "PAYER_ACTION_REQUIRED":
                links.append(_link(checkout_url, "payer-action"))
            case "APPROVED":
                links += [update, capture]
        rendered["links"] = links
        return rendered

    @staticmethod
    def _wants_representation(request: Received) -> bool:
        return "return=representation" in request.headers.get("prefer", "")
