"""The interface every payment provider implements, and what it returns.

Amounts are ``Decimal`` everywhere here; a provider converts to its minor units (or its decimal
strings) at its own edge, with ``minor_units``. Results are frozen dataclasses, so nothing
downstream can alter what the gateway said. The exception family tells the callers what to do:

- ``PaymentDeclined``: the provider refused (a card, a refund); its message is safe to show;
- ``GatewayError``: the provider failed or could not be reached; try again later (a webhook is
  answered 5xx so the provider retries);
- ``WebhookInvalid``: a forged, tampered or stale notification; answered 400, nothing stored;
- ``RedirectRequired``: the customer must go to ``url`` (the provider's ``reference`` kept).
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar


class EventKind(StrEnum):
    """What a provider's notification means to the shop, whatever the provider calls it."""

    PAYMENT_SUCCEEDED = "payment_succeeded"
    # PayPal: the customer approved; the shop must capture.
    PAYMENT_APPROVED = "payment_approved"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_CANCELLED = "payment_cancelled"
    # ``amount`` is the payment's cumulative refunded total at the provider.
    REFUNDED = "refunded"
    OTHER = "other"


class ProviderStatus(StrEnum):
    """A payment's state at the provider."""

    PENDING = "pending"
    APPROVED = "approved"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RefundOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What a provider needs to start collecting an order's payment.

    ``idempotency_key`` is derived from the payment attempt: a retry after a timeout sends the
    same key, so the provider returns the payment it already made instead of a second one.
    ``return_url`` and ``cancel_url`` are where a redirect provider sends the customer back.
    """

    payment_id: int
    order_number: str
    amount: Decimal
    currency: str
    customer_email: str
    idempotency_key: str = ""
    return_url: str = ""
    cancel_url: str = ""


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """What the client needs to pay: one of a client secret, an approval link or a pay URL."""

    reference: str
    status: str = "pending"
    client_secret: str = ""
    approval_url: str = ""
    pay_url: str = ""


@dataclass(frozen=True, slots=True)
class PaymentState:
    """A payment as the provider sees it now (after a capture, a cancel, or when asked)."""

    reference: str
    status: ProviderStatus
    amount: Decimal | None = None
    currency: str = ""
    capture_reference: str = ""
    failure_message: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified notification from a provider, reduced to what the shop acts on.

    ``reference`` is the provider's id of the payment (a PaymentIntent, a PayPal order);
    ``capture_reference`` a PayPal capture's id, by which refunds name their payment.
    """

    event_id: str
    kind: EventKind
    reference: str
    event_type: str = ""
    amount: Decimal | None = None
    currency: str = ""
    capture_reference: str = ""
    failure_message: str = ""
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """A refund of ``amount`` of a payment; ``idempotency_key`` makes a retry the same refund."""

    refund_id: int
    payment_reference: str
    capture_reference: str
    amount: Decimal
    currency: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    reference: str
    amount: Decimal
    currency: str
    status: RefundOutcome


class PaymentError(Exception):
    """The root of the payment errors; providers raise only these."""


class PaymentDeclined(PaymentError):
    """The payment (or refund) was refused. ``customer_message`` is safe to show to the customer."""

    def __init__(self, customer_message: str = "The payment was declined."):
        self.customer_message = customer_message
        super().__init__(customer_message)


class GatewayError(PaymentError):
    """The provider failed or could not be reached. The message is for the log, not the customer."""


class WebhookInvalid(PaymentError):
    """A notification whose signature is missing, wrong or stale: nothing in it can be trusted."""


class RedirectRequired(PaymentError):
    """The customer must go to ``url`` to go on with the payment ``reference``."""

    def __init__(self, url: str, *, reference: str = ""):
        self.url = url
        self.reference = reference
        super().__init__(url)


class PaymentProvider(ABC):
    """Start, capture, cancel, look up and refund payments; verify and parse webhooks.

    Every method but ``parse_webhook``'s local checks talks to the outside world: call them
    after the database transaction that prepared the payment has committed, never inside it.
    """

    name: ClassVar[str]

    @abstractmethod
    def start_payment(self, request: PaymentRequest) -> PaymentStart: ...

    @abstractmethod
    def retrieve(self, *, reference: str) -> PaymentState:
        """The payment's state at the provider (reconciliation asks this)."""

    @abstractmethod
    def capture(self, *, reference: str, idempotency_key: str) -> PaymentState:
        """Collect an approved payment (PayPal); one capture whatever the number of calls."""

    @abstractmethod
    def cancel(self, *, reference: str, idempotency_key: str) -> PaymentState:
        """Close a payment that should no longer be paid; return its state (it may have succeeded)."""

    @abstractmethod
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify a webhook and return its event; ``WebhookInvalid`` if it is forged or stale."""

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult: ...
