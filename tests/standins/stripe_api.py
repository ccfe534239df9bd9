"""A stand-in for the small part of Stripe's v1 HTTP API the shop uses, for tests.

The real ``stripe`` client talks to it over HTTP (``base_addresses={"api": stand_in.url}``). It speaks:

- ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``, ``POST /v1/payment_intents/{id}/cancel``;
- ``POST /v1/payment_intents/{id}/confirm``, as Stripe.js calls it from the customer's browser: the
  publishable key in the ``key`` parameter with the intent's ``client_secret`` (or the secret key, as
  a server would), and a payment method: ``payment_method_data[type]=card`` with
  ``payment_method_data[card][number]`` (Stripe's test card numbers, :data:`TEST_CARDS`: 4242… pays,
  4000 0000 0000 0002 is declined…) or one of Stripe's test payment methods (``pm_card_visa``,
  ``pm_card_chargeDeclined``…). A card that pays makes the intent ``succeeded`` with a charge; a
  declined one answers 402 ``card_error`` (the intent embedded) and leaves the intent
  ``requires_payment_method`` with its ``last_payment_error``, as Stripe does;
- ``POST /v1/refunds`` (by ``payment_intent`` or ``charge``), ``GET /v1/refunds/{id}``;
- ``GET /v1/charges/{id}`` (a charge exists once a test calls :meth:`StripeStandIn.succeed`);
- ``Authorization: Bearer <secret key>``: any other key answers 401 (``stripe.AuthenticationError``);
  the publishable key is accepted on the confirm endpoint only, with the right ``client_secret``;
- CORS as ``api.stripe.com`` answers a browser: ``Access-Control-Allow-Origin: *`` on the answers to
  requests that carry an ``Origin`` (Stripe.js sends form-encoded POSTs with no custom header: simple
  requests, no preflight);
- idempotency as Stripe does it, for every POST: the same ``Idempotency-Key`` with the same method, path
  and parameters replays the first answer (status and body, header ``Idempotent-Replayed: true``) and
  does nothing new; with other parameters it answers 400 ``idempotency_error``. Answers to requests
  that failed parameter validation are not saved (Stripe saves only requests whose endpoint started
  executing), nor are failures injected with ``fail_next`` (the request never reached Stripe); a
  request carried out before ``stall_next(after=True)`` is saved (the answer was lost on the way).

Request bodies are form-encoded (``metadata[order_number]=…``) and parsed into nested dicts; answers
are JSON objects with Stripe's ``object`` fields and error bodies as ``{"error": {"type", "code",
"message", "param"}}``. Amounts are integers in the currency's minor unit.

Nothing pays by itself but a confirm with a paying card: a test moves an intent on with
:meth:`StripeStandIn.succeed` or :meth:`StripeStandIn.fail` (or a browser confirms it), and builds
the webhook events Stripe would send with :meth:`StripeStandIn.intent_event` /
:meth:`StripeStandIn.charge_refunded_event`, signed with :func:`sign` (the stand-in sends no webhook
by itself). Not spoken: 3-D Secure (``requires_action``), manual capture, customers, payment method
objects, lists, updates, v2.
"""

import copy
import hashlib
import hmac
import itertools
import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from stripe._api_version import _ApiVersion

from tests.standins.base import Answer, Received, StandIn

DEFAULT_SECRET_KEY = "sk_test_standin"
DEFAULT_PUBLISHABLE_KEY = "pk_test_standin"

# The statuses from which Stripe lets an intent be canceled.
CANCELABLE_STATUSES = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
INTENT_EVENT_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
)

# Stripe's test card numbers (https://docs.stripe.com/testing): None pays; otherwise the decline
# as Stripe answers it: (code, decline_code, message, param).
TEST_CARDS: dict[str, tuple[str, str | None, str, str | None] | None] = {
    "4242424242424242": None,
    "4000056655665556": None,
    "5555555555554444": None,
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined.", None),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds.", None),
    "4000000000000069": ("expired_card", None, "Your card has expired.", "exp_month"),
    "4000000000000127": ("incorrect_cvc", None, "Your card's security code is incorrect.", "cvc"),
}
# A real (live) card number in test mode: declined.
LIVE_CARD_DECLINE = (
    "card_declined",
    "test_mode_live_card",
    "Your card was declined. Your request was in test mode, but used a non test (live) card. "
    "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
    None,
)
# Stripe's test payment methods, by the card they stand for.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
}
CONFIRMABLE_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action")
PUBLISHABLE_KEY_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
_CONFIRM_PATH = re.compile(r"/v1/payment_intents/([^/]+)/confirm")

IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first used with."
)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send with ``payload``, signed with ``secret``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class _StripeError(Exception):
    """An error answer; ``saved`` is False for parameter validation (Stripe saves no idempotent result)."""

    def __init__(self, status: int, message: str, *, saved: bool = True, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        self.error = {"type": "invalid_request_error", "message": message, **fields}


def _invalid_param(message: str, param: str, code: str = "parameter_invalid") -> _StripeError:
    return _StripeError(400, message, saved=False, param=param, code=code)


def _parse_form(body: bytes) -> dict[str, Any]:
    """``a[b][c]=1&l[0]=x&l[]=y`` → ``{"a": {"b": {"c": "1"}}, "l": ["x", "y"]}``; values stay strings."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        name, _, rest = key.partition("[")
        parts = [name, *re.findall(r"\[([^\]]*)\]", "[" + rest)] if rest else [name]
        node = params
        for part, following in itertools.pairwise(parts):
            node = node.setdefault(part, [] if following == "" else {})
        last = parts[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return _lists_from_indices(params)


def _lists_from_indices(value: Any) -> Any:
    if isinstance(value, dict):
        value = {k: _lists_from_indices(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value


def _int_param(params: dict[str, Any], name: str, *, required: bool) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise _invalid_param(f"Missing required param: {name}.", name, "parameter_missing")
        return None
    try:
        amount = int(raw)
    except (TypeError, ValueError):
        raise _invalid_param(f"Invalid integer: {raw}", name, "parameter_invalid_integer") from None
    if amount < 1:
        raise _invalid_param(
            "This value must be greater than or equal to 1.", name, "parameter_invalid_integer"
        )
    return amount


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    metadata = params.get("metadata", {})
    if metadata == "":
        return {}
    if not isinstance(metadata, dict):
        raise _invalid_param("Invalid object", "metadata")
    return {str(k): str(v) for k, v in metadata.items() if v != ""}


def _choice(params: dict[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in choices:
        raise _invalid_param(
            f"Invalid {name}: must be one of {', '.join(choices)}", name, "parameter_invalid_string"
        )
    return value


class StripeStandIn(StandIn):
    """Stripe's payment intents and refunds, in memory; see the module docstring."""

    def __init__(
        self, secret_key: str = DEFAULT_SECRET_KEY, publishable_key: str = DEFAULT_PUBLISHABLE_KEY
    ) -> None:
        super().__init__()
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        # Idempotency-Key → (method, path, params, answer).
        self._idempotent: dict[str, tuple[str, str, dict[str, Any], Answer]] = {}
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., dict[str, Any]]]] = [
            ("POST", re.compile(r"/v1/payment_intents"), self._create_intent),
            ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), self._retrieve_intent),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)/cancel"), self._cancel_intent),
            ("POST", _CONFIRM_PATH, self._confirm_intent),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds/([^/]+)"), self._retrieve_refund),
            ("GET", re.compile(r"/v1/charges/([^/]+)"), self._retrieve_charge),
        ]

    def start(self) -> "StripeStandIn":
        super().start()
        return self

    def __enter__(self) -> "StripeStandIn":
        return self.start()

    def fail_next(self, status: int = 500, body: Any = None, times: int = 1) -> None:
        """Answer the next requests with ``status`` and ``body`` (default: a Stripe ``api_error``)."""
        if body is None:
            body = {"error": {"type": "api_error", "message": "An unknown error occurred (injected)."}}
        super().fail_next(status, body, times)

    # --- Test controls ---------------------------------------------------------------------

    def succeed(
        self, intent_id: str, amount: int | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        """The customer paid: the intent succeeds with a charge of ``amount`` (default: the intent's)."""
        with self._lock:
            intent = self.intents[intent_id]
            if intent["status"] in ("succeeded", "canceled"):
                raise ValueError(f"{intent_id} is {intent['status']}: Stripe cannot make it succeed")
            if currency is not None:
                intent["currency"] = currency.lower()
            received = intent["amount"] if amount is None else amount
            charge_id = _new_id("ch")
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": received,
                "amount_captured": received,
                "amount_refunded": 0,
                "captured": True,
                "created": int(time.time()),
                "currency": intent["currency"],
                "livemode": False,
                "metadata": dict(intent["metadata"]),
                "paid": True,
                "payment_intent": intent_id,
                "receipt_email": intent["receipt_email"],
                "refunded": False,
                "status": "succeeded",
            }
            intent.update(
                status="succeeded", amount_received=received, latest_charge=charge_id, last_payment_error=None
            )
            return intent

    def fail(self, intent_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        """The payment attempt failed: the intent goes back to ``requires_payment_method``."""
        with self._lock:
            intent = self.intents[intent_id]
            if intent["status"] in ("succeeded", "canceled"):
                raise ValueError(f"{intent_id} is {intent['status']}: a payment attempt cannot fail")
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": message,
                },
            )
            return intent

    def amount_refunded(self, intent_id: str) -> int:
        """The total refunded on the intent's charge (0 when it has none)."""
        with self._lock:
            charge_id = self.intents[intent_id]["latest_charge"]
            return self.charges[charge_id]["amount_refunded"] if charge_id else 0

    def charge_object(self, intent_id: str) -> dict[str, Any]:
        """A copy of the intent's charge, as Stripe shows it now (the intent must have succeeded)."""
        with self._lock:
            charge_id = self.intents[intent_id]["latest_charge"]
            if charge_id is None:
                raise ValueError(f"{intent_id} has no charge: succeed() it first")
            return copy.deepcopy(self.charges[charge_id])

    # --- Webhook events --------------------------------------------------------------------

    def event(self, type: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """An event as Stripe sends it to a webhook endpoint (``json.dumps`` it, then :func:`sign`)."""
        return {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "api_version": _ApiVersion.CURRENT,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }

    def intent_event(self, type: str, intent_id: str, *, event_id: str | None = None) -> dict[str, Any]:
        """A ``payment_intent.succeeded`` / ``.payment_failed`` / ``.canceled`` event for the intent now."""
        if type not in INTENT_EVENT_TYPES:
            raise ValueError(f"not a payment intent event: {type!r}")
        with self._lock:
            return self.event(type, copy.deepcopy(self.intents[intent_id]), event_id=event_id)

    def charge_refunded_event(self, intent_id: str, *, event_id: str | None = None) -> dict[str, Any]:
        """A ``charge.refunded`` event carrying the intent's charge as it is now."""
        return self.event("charge.refunded", self.charge_object(intent_id), event_id=event_id)

    # --- Serving ---------------------------------------------------------------------------

    def handle(self, request: Received) -> Answer:
        headers = {"Request-Id": _new_id("req")}
        if "origin" in request.headers:
            # A browser (Stripe.js): api.stripe.com lets any origin read its answers.
            headers["Access-Control-Allow-Origin"] = "*"
        params = _parse_form(request.body) if request.method == "POST" else dict(request.query)
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            refused = self._publishable_refusal(request, params)
            if refused is not None:
                status, error = refused
                return Answer(status, {"error": error}, headers)
        key = request.headers.get("idempotency-key") if request.method == "POST" else None
        if key is not None:
            headers["Idempotency-Key"] = key
            if key in self._idempotent:
                method, path, first_params, answer = self._idempotent[key]
                if (method, path, first_params) != (request.method, request.path, params):
                    error = {"type": "idempotency_error", "message": IDEMPOTENCY_MISMATCH}
                    return Answer(400, {"error": error}, headers)
                original = answer.headers["Request-Id"]
                replay_headers = {**headers, "Idempotent-Replayed": "true", "Original-Request": original}
                return Answer(answer.status, copy.deepcopy(answer.body), replay_headers)
        try:
            answer = Answer(200, self._route(request, params), headers)
        except _StripeError as exc:
            answer = Answer(exc.status, {"error": exc.error}, headers)
            if not exc.saved:
                return answer
        if key is not None:
            self._idempotent[key] = (request.method, request.path, params, copy.deepcopy(answer))
        return answer

    def _publishable_refusal(self, request: Received, params: dict[str, Any]) -> tuple[int, dict] | None:
        """Why a request without the secret key is refused; None for Stripe.js's confirm (the
        publishable key in ``key`` and the intent's ``client_secret``)."""
        key = params.get("key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if key != self.publishable_key or not key:
            return 401, {"type": "invalid_request_error", "message": "Invalid API Key provided"}
        confirm = _CONFIRM_PATH.fullmatch(request.path)
        if request.method != "POST" or confirm is None:
            return 401, {"type": "invalid_request_error", "message": PUBLISHABLE_KEY_REFUSED}
        intent = self.intents.get(confirm.group(1))
        if intent is None:
            message = f"No such payment_intent: '{confirm.group(1)}'"
            return 404, {"type": "invalid_request_error", "code": "resource_missing", "message": message}
        if params.get("client_secret") != intent["client_secret"]:
            message = (
                "The client_secret provided does not match the client_secret associated with the "
                "PaymentIntent."
            )
            return 400, {"type": "invalid_request_error", "param": "client_secret", "message": message}
        return None

    def _route(self, request: Received, params: dict[str, Any]) -> dict[str, Any]:
        for method, pattern, view in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return copy.deepcopy(view(params, *match.groups()))
        raise _StripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see https://stripe.com/docs.",
            saved=False,
        )

    def _intent(self, intent_id: str, param: str = "intent") -> dict[str, Any]:
        try:
            return self.intents[intent_id]
        except KeyError:
            status = 404 if param == "intent" else 400
            raise _StripeError(
                status, f"No such payment_intent: '{intent_id}'", code="resource_missing", param=param
            ) from None

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _int_param(params, "amount", required=True)
        currency = str(params.get("currency") or "").lower()
        if not currency:
            raise _invalid_param("Missing required param: currency.", "currency", "parameter_missing")
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise _invalid_param(f"Invalid currency: {currency}.", "currency", "parameter_invalid_string")
        automatic = params.get("automatic_payment_methods")
        enabled = isinstance(automatic, dict) and automatic.get("enabled") == "true"
        intent_id = _new_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "always"} if enabled else None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": currency,
            "description": params.get("description") or None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": _metadata(params),
            "payment_method": None,
            "payment_method_types": ["card"],
            "receipt_email": params.get("receipt_email") or None,
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        return intent

    def _retrieve_intent(self, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
        return self._intent(intent_id)

    def _cancel_intent(self, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
        intent = self._intent(intent_id)
        reason = _choice(params, "cancellation_reason", CANCELLATION_REASONS)
        if intent["status"] not in CANCELABLE_STATUSES:
            raise _StripeError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                f"Only a PaymentIntent with one of the following statuses may be canceled: "
                f"{', '.join(CANCELABLE_STATUSES)}.",
                code="payment_intent_unexpected_state",
                payment_intent=copy.deepcopy(intent),
            )
        intent.update(status="canceled", canceled_at=int(time.time()), cancellation_reason=reason)
        return intent

    def _confirm_intent(self, params: dict[str, Any], intent_id: str) -> dict[str, Any]:
        intent = self._intent(intent_id)
        if intent["status"] == "succeeded":
            raise _StripeError(
                400,
                "You cannot confirm this PaymentIntent because it has already succeeded after being "
                "previously confirmed.",
                code="payment_intent_unexpected_state",
                payment_intent=copy.deepcopy(intent),
            )
        if intent["status"] not in CONFIRMABLE_STATUSES:
            raise _StripeError(
                400,
                f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}. "
                f"Only a PaymentIntent with one of the following statuses may be confirmed: "
                f"{', '.join(CONFIRMABLE_STATUSES)}.",
                code="payment_intent_unexpected_state",
                payment_intent=copy.deepcopy(intent),
            )
        number = self._card_number(params)
        payment_method = _new_id("pm")
        outcome = TEST_CARDS.get(number, LIVE_CARD_DECLINE)
        if outcome is None:
            intent["payment_method"] = payment_method
            return self.succeed(intent_id)
        code, decline_code, message, param = outcome
        error: dict[str, Any] = {"type": "card_error", "code": code}
        if decline_code:
            error["decline_code"] = decline_code
        if param:
            error["param"] = param
        intent.update(
            status="requires_payment_method",
            payment_method=None,
            last_payment_error={
                **error,
                "message": message,
                "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
            },
        )
        raise _StripeError(402, message, **error, payment_intent=copy.deepcopy(intent))

    def _card_number(self, params: dict[str, Any]) -> str:
        """The card a confirm pays with: a test payment method's, or the one in ``payment_method_data``."""
        method = params.get("payment_method")
        if method:
            if method not in TEST_PAYMENT_METHODS:
                raise _StripeError(
                    400, f"No such PaymentMethod: '{method}'", code="resource_missing", param="payment_method"
                )
            return TEST_PAYMENT_METHODS[method]
        data = params.get("payment_method_data")
        if not isinstance(data, dict):
            raise _invalid_param(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Pass `payment_method` or `payment_method_data`.",
                "payment_method",
                "parameter_missing",
            )
        if data.get("type") != "card":
            raise _invalid_param(
                "Invalid payment_method_data[type]: this stand-in only knows card",
                "payment_method_data[type]",
                "parameter_invalid_string",
            )
        card = data.get("card")
        number = re.sub(r"[\s-]", "", card.get("number", "")) if isinstance(card, dict) else ""
        if not number:
            raise _invalid_param(
                "Missing required param: payment_method_data[card][number].",
                "payment_method_data[card][number]",
                "parameter_missing",
            )
        return number

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _int_param(params, "amount", required=False)
        reason = _choice(params, "reason", REFUND_REASONS)
        if params.get("payment_intent"):
            intent = self._intent(params["payment_intent"], param="payment_intent")
        elif params.get("charge"):
            charge_id = params["charge"]
            if charge_id not in self.charges:
                raise _StripeError(
                    400, f"No such charge: '{charge_id}'", code="resource_missing", param="charge"
                )
            intent = self.intents[self.charges[charge_id]["payment_intent"]]
        else:
            raise _invalid_param(
                "One of the following params should be provided for this request: payment_intent or charge.",
                "payment_intent",
                "parameter_missing",
            )
        if intent["status"] != "succeeded":
            raise _StripeError(
                400,
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise _StripeError(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise _StripeError(
                400,
                f"Refund amount ({amount} {charge['currency']}) is greater than unrefunded amount on "
                f"charge ({remaining} {charge['currency']})",
                code="amount_too_large",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        refund_id = _new_id("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": None,
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": _metadata(params),
            "payment_intent": intent["id"],
            "reason": reason,
            "status": "succeeded",
        }
        self.refunds[refund_id] = refund
        return refund

    def _retrieve_refund(self, params: dict[str, Any], refund_id: str) -> dict[str, Any]:
        if refund_id not in self.refunds:
            raise _StripeError(404, f"No such refund: '{refund_id}'", code="resource_missing", param="id")
        return self.refunds[refund_id]

    def _retrieve_charge(self, params: dict[str, Any], charge_id: str) -> dict[str, Any]:
        if charge_id not in self.charges:
            raise _StripeError(404, f"No such charge: '{charge_id}'", code="resource_missing", param="id")
        return self.charges[charge_id]
