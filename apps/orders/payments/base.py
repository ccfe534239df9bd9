"""The interface every payment provider implements, and what it returns.

Amounts are ``Decimal`` with two places everywhere here; a provider converts to its minor units
at its own edge. Results are frozen dataclasses, so nothing downstream can alter what the
gateway said.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What a provider needs to start collecting an order's payment."""

    payment_id: int
    order_number: str
    amount: Decimal
    currency: str
    customer_email: str


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """What the client needs to pay: one of a client secret, an approval link or a pay URL."""

    reference: str
    status: str = "pending"
    client_secret: str = ""
    approval_url: str = ""
    pay_url: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified notification from a provider, reduced to what the shop acts on."""

    event_id: str
    kind: str
    reference: str
    amount: Decimal | None = None
    currency: str = ""
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RefundResult:
    reference: str
    amount: Decimal
    currency: str
    status: str


class PaymentError(Exception):
    """The root of the payment errors; providers raise only these."""


class PaymentDeclined(PaymentError):
    """The payment was refused. ``customer_message`` is safe to show to the customer."""

    def __init__(self, customer_message: str = "The payment was declined."):
        self.customer_message = customer_message
        super().__init__(customer_message)


class GatewayError(PaymentError):
    """The provider failed or could not be reached. The message is for the log, not the customer."""


class RedirectRequired(PaymentError):
    """The customer must go to ``url`` to go on with the payment."""

    def __init__(self, url: str):
        self.url = url
        super().__init__(url)


class PaymentProvider(ABC):
    """Start a payment, verify and parse a webhook, refund.

    Every method talks to the outside world: call them after the database transaction that
    prepared the payment has committed, never inside it.
    """

    name: ClassVar[str]

    @abstractmethod
    def start_payment(self, request: PaymentRequest) -> PaymentStart: ...

    @abstractmethod
    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the signature of a webhook and return its event; raise ``GatewayError`` if forged."""

    @abstractmethod
    def refund(self, *, reference: str, amount: Decimal, currency: str) -> RefundResult: ...
