"""Writes to orders: checkout, the lifecycle, payments and the email outbox.

Every status change goes through ``order_transition`` (one table of allowed moves, a history
row, the side effects of the new status). Emails are written to the outbox in the same
transaction as the change and sent by a task enqueued on commit.
"""

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.accounts.exceptions import AddressNotFound
from apps.accounts.models import User
from apps.accounts.selectors import address_get_for_user
from apps.cart.selectors import cart_get_for_user
from apps.cart.services import cart_clear
from apps.catalog.exceptions import OutOfStock
from apps.catalog.services import stock_release, stock_reserve
from bookstore.mail import email_send

from .exceptions import (
    CartChanged,
    CartEmpty,
    IdempotencyKeyReused,
    InvalidTransition,
    OrderTooLarge,
    PaymentMismatch,
    PaymentProviderUnavailable,
    TrackingNumberRequired,
)
from .models import (
    EmailKind,
    EmailStatus,
    IdempotencyKey,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    OutboxEmail,
    Payment,
    PaymentStatus,
)
from .payments import (
    GatewayError,
    PaymentDeclined,
    PaymentRequest,
    ProviderUnavailable,
    RedirectRequired,
    get_provider,
)
from .pricing import money, shipping_for, vat_included

logger = logging.getLogger(__name__)

S = OrderStatus
# Every move an order can make. Cancelling is possible only before the parcel leaves;
# refunds (whole or partial) are recorded by the payments code once money went back.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.CANCELLED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# The email each status sends to the customer.
STATUS_EMAILS: dict[str, str] = {
    S.PAID: EmailKind.CONFIRMATION,
    S.SHIPPED: EmailKind.SHIPPED,
    S.CANCELLED: EmailKind.CANCELLED,
}

ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country", "phone")

# Order numbers: no 0/O, 1/I/L, so they can be read out on the phone.
NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# An email claimed by a sender that has not reported back after this long is sent again.
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=10)


def _column_max(field_name: str) -> Decimal:
    field = cast("models.DecimalField[Any, Any]", Order._meta.get_field(field_name))
    digits, places = int(field.max_digits or 0), int(field.decimal_places or 0)
    return Decimal(10) ** (digits - places) - Decimal(10) ** -places


# The largest amount an order (and each of its lines) can record: 99999999.99.
ORDER_AMOUNT_MAX = _column_max("total")

AddressInput = int | Mapping[str, Any]


# --- Checkout -------------------------------------------------------------------------------


def order_number_generate() -> str:
    """``LB-XXXX-XXXX``: 31^8 (about 8.5e11) random values, so numbers reveal nothing."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"LB-{chars[:4]}-{chars[4:]}"


def _request_hash(**parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _address_snapshot(*, user: User, value: AddressInput, field: str) -> dict[str, str]:
    if isinstance(value, int):
        try:
            address = address_get_for_user(user=user, address_id=value)
        except AddressNotFound:
            raise ValidationError({field: ["You have no address with this id."]}) from None
        return {name: str(getattr(address, name)) for name in ADDRESS_FIELDS}
    return {name: str(value.get(name, "") or "") for name in ADDRESS_FIELDS}


def _checkout_lock(*, user: User) -> None:
    """Serialise one customer's checkouts, so a double click cannot order the same cart twice.

    A transaction-scoped PostgreSQL advisory lock; SQLite already lets one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Two keys: this app's namespace and the user (folded into 32 bits; a collision only
            # makes two customers wait for each other).
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [6, user.pk % 2_147_483_647])


def _idempotent_replay(*, user: User, key: str, request_hash: str) -> Order | None:
    record = IdempotencyKey.objects.select_related("order").filter(user=user, key=key).first()
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different checkout; use a new key."
        )
    return record.order


def _cart_problems(lines: list[Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        book = line.book
        if not book.is_active:
            problems[f"lines.{index}"] = [f"“{book.title}” is no longer sold."]
        elif book.price != line.price_when_added:
            problems[f"lines.{index}"] = [
                f"The price of “{book.title}” changed from {line.price_when_added} to {book.price}."
            ]
        elif book.stock < line.quantity:
            problems[f"lines.{index}"] = [_shortage_message(book.title, book.stock)]
    return problems


def _shortage_message(title: str, available: int) -> str:
    if available <= 0:
        return f"“{title}” is out of stock."
    return f"Only {available} cop{'y' if available == 1 else 'ies'} of “{title}” left."


def order_place(
    *,
    user: User,
    shipping_address: AddressInput,
    billing_address: AddressInput | None = None,
    payment_provider: str,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Turn the customer's cart into an order; return it and whether it was created just now.

    One transaction: every line is checked again (book still sold, price unchanged, enough
    copies), stock is taken by ``stock_reserve`` (conditional updates in primary-key order: no
    overselling, no deadlock), the order is written with a snapshot of the lines, addresses and
    amounts (computed here, never taken from the client) and the cart is emptied. A cart
    problem raises ``CartChanged`` naming the lines and writes nothing; so does a total over
    ``ORDER_AMOUNT_MAX``, what the order's amount columns hold (``OrderTooLarge``).

    With ``idempotency_key``, a retry with the same request returns the first order
    (``created`` is False) and a different request with that key is ``IdempotencyKeyReused``;
    a concurrent duplicate waits for the first to finish, then gets its order.
    """
    if payment_provider not in settings.PAYMENT_PROVIDERS:
        raise PaymentProviderUnavailable(
            f"Payment by {payment_provider!r} is not available.",
            errors={
                "payment_provider": [f"Choose one of: {', '.join(settings.PAYMENT_PROVIDERS) or 'none'}."]
            },
        )
    request_hash = _request_hash(
        shipping=shipping_address, billing=billing_address, provider=payment_provider
    )
    try:
        with transaction.atomic():
            _checkout_lock(user=user)
            key_record = None
            if idempotency_key:
                replay = _idempotent_replay(user=user, key=idempotency_key, request_hash=request_hash)
                if replay is not None:
                    return replay, False
                # Inserted first: a duplicate running at the same time (on a database without
                # the advisory lock) blocks on this unique row until this transaction ends.
                key_record = IdempotencyKey.objects.create(
                    user=user, key=idempotency_key, request_hash=request_hash
                )
            order = _order_create(
                user=user,
                shipping_address=shipping_address,
                billing_address=billing_address,
                payment_provider=payment_provider,
            )
            if key_record is not None:
                key_record.order = order
                key_record.save(update_fields=["order"])
            return order, True
    except IntegrityError:
        if not idempotency_key:
            raise
        replay = _idempotent_replay(user=user, key=idempotency_key, request_hash=request_hash)
        if replay is None:
            raise
        return replay, False


def _order_create(
    *, user: User, shipping_address: AddressInput, billing_address: AddressInput | None, payment_provider: str
) -> Order:
    cart = cart_get_for_user(user=user, for_update=True)
    lines = list(cart.lines.all()) if cart is not None else []
    if cart is None or not lines:
        raise CartEmpty("Your cart is empty: add books before ordering.")
    shipping = _address_snapshot(user=user, value=shipping_address, field="shipping_address")
    billing = (
        shipping
        if billing_address is None
        else _address_snapshot(user=user, value=billing_address, field="billing_address")
    )

    problems = _cart_problems(lines)
    if problems:
        raise CartChanged(
            "Some lines of your cart cannot be ordered as they are.",
            errors=problems,
        )
    line_totals = [money(line.book.price * line.quantity) for line in lines]
    subtotal = sum(line_totals, Decimal("0.00"))
    shipping_total = shipping_for(books_total=subtotal)
    # Every amount is non-negative and at most the total, so the total alone decides.
    if subtotal + shipping_total > ORDER_AMOUNT_MAX:
        raise OrderTooLarge(
            f"An order cannot exceed {ORDER_AMOUNT_MAX} {settings.SHOP_CURRENCY}: "
            "order fewer copies, or split the order."
        )
    try:
        stock_reserve(quantities={line.book_id: line.quantity for line in lines})
    except OutOfStock as exc:
        # Someone took the copies between the read above and the reservation.
        problems = {
            f"lines.{index}": [_shortage_message(line.book.title, exc.shortages[line.book_id])]
            for index, line in enumerate(lines)
            if line.book_id in exc.shortages
        }
        raise CartChanged("Some books of your cart are no longer in stock.", errors=problems) from exc

    vat_rate = settings.SHOP_VAT_RATE
    # Shipping is an accessory of the books sold: French VAT taxes it at the books' rate.
    vat_total = vat_included(amounts=[*line_totals, shipping_total], rate=vat_rate)
    order = _order_insert(
        user=user,
        email=user.email,
        currency=settings.SHOP_CURRENCY,
        subtotal=subtotal,
        shipping_total=shipping_total,
        vat_rate=vat_rate,
        vat_total=vat_total,
        total=subtotal + shipping_total,
        shipping_address=shipping,
        billing_address=billing,
        payment_provider=payment_provider,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            book=line.book,
            title=line.book.title,
            isbn13=line.book.isbn13,
            unit_price=line.book.price,
            quantity=line.quantity,
            line_total=line_total,
        )
        for line, line_total in zip(lines, line_totals, strict=True)
    )
    Payment.objects.create(
        order=order, provider=payment_provider, amount=order.total, currency=order.currency
    )
    OrderStatusChange.objects.create(order=order, from_status="", to_status=S.PENDING_PAYMENT, actor=user)
    cart_clear(cart=cart)
    return order


def _order_insert(**fields: Any) -> Order:
    for _attempt in range(5):
        number = order_number_generate()
        # A number already taken is one chance in hundreds of billions; the unique
        # constraint stands behind this check.
        if not Order.objects.filter(number=number).exists():
            return Order.objects.create(number=number, **fields)
    raise RuntimeError("could not draw a free order number")


# --- Payments -------------------------------------------------------------------------------


def payment_start(*, order: Order) -> Payment | None:
    """Ask the order's provider for what the client needs to pay, and record it.

    Called after the checkout committed: the provider is an outside service, never called
    inside a transaction. A declined or failed start is recorded on the payment (the order
    stays pending until it expires); the checkout itself has succeeded.
    """
    payment = order.payments.filter(status=PaymentStatus.PENDING, reference="").order_by("-pk").first()
    if payment is None:
        return None
    try:
        provider = get_provider(payment.provider)
        result = provider.start_payment(
            PaymentRequest(
                payment_id=payment.pk,
                order_number=order.number,
                amount=payment.amount,
                currency=payment.currency,
                customer_email=order.email,
            )
        )
    except RedirectRequired as exc:
        payment.approval_url = exc.url
        payment.save(update_fields=["approval_url", "updated_at"])
        return payment
    except PaymentDeclined as exc:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = exc.customer_message[:500]
        payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment
    except (GatewayError, ProviderUnavailable) as exc:
        logger.error("Payment start failed for order %s: %r", order.number, exc)
        payment.status = PaymentStatus.ERROR
        payment.failure_message = "The payment service could not be reached; try again later."
        payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment
    payment.reference = result.reference
    payment.client_secret = result.client_secret
    payment.approval_url = result.approval_url
    payment.pay_url = result.pay_url
    payment.save(update_fields=["reference", "client_secret", "approval_url", "pay_url", "updated_at"])
    return payment


def order_mark_paid(
    *, payment_id: int, amount: Decimal, currency: str, reference: str = "", actor: User | None = None
) -> Order:
    """Record that ``payment_id`` collected ``amount`` and move its order to ``paid``. Idempotent.

    The order is locked; if it is already paid (a redelivered webhook, a double click) it is
    returned unchanged. The amount and currency must be exactly the order's, or
    ``PaymentMismatch``; a cancelled order cannot be paid (``InvalidTransition``: the payments
    code refunds it).
    """
    order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.SUCCEEDED or order.paid_at is not None:
            return order
        if order.status != S.PENDING_PAYMENT:
            raise InvalidTransition(f"Order {order.number} is {order.status}: it cannot be paid.")
        if money(amount) != order.total or currency.upper() != order.currency:
            raise PaymentMismatch(
                f"Received {amount} {currency} for order {order.number}, "
                f"which is {order.total} {order.currency}."
            )
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = timezone.now()
        payment.failure_message = ""
        if reference:
            payment.reference = reference
        payment.save(update_fields=["status", "paid_at", "failure_message", "reference", "updated_at"])
        return _transition(order=order, to_status=S.PAID, actor=actor, note=f"Paid by {payment.provider}.")


def payment_mark_failed(*, payment_id: int, message: str) -> Payment:
    """Record a refused payment; the order stays pending (the customer may pay again)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = message[:500]
            payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment


# --- Lifecycle ------------------------------------------------------------------------------


def order_transition(
    *,
    order: Order,
    to_status: str,
    actor: User | None = None,
    note: str = "",
    tracking_number: str = "",
) -> Order:
    """Move ``order`` to ``to_status`` if ``TRANSITIONS`` allows it, else ``InvalidTransition``.

    The order row is locked for the change, so two moves cannot both start from the same
    status. Each move is recorded (who, when, from, to, note). Cancelling gives the stock back
    exactly once; shipping needs a tracking number; paid, shipped and cancelled orders get
    their email through the outbox.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        return _transition(
            order=locked, to_status=to_status, actor=actor, note=note, tracking_number=tracking_number
        )


def _transition(
    *, order: Order, to_status: str, actor: User | None, note: str = "", tracking_number: str = ""
) -> Order:
    from_status = order.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        allowed = sorted(TRANSITIONS.get(from_status, frozenset()))
        raise InvalidTransition(
            f"A {S(from_status).label.lower()} order cannot become {to_status}.",
            current_status=from_status,
            allowed=allowed,
        )
    now = timezone.now()
    fields = ["status", "updated_at"]
    if to_status == S.SHIPPED:
        tracking_number = tracking_number.strip() or order.tracking_number
        if not tracking_number:
            raise TrackingNumberRequired(
                "A tracking number is needed to ship an order.",
                errors={"tracking_number": ["This field is required to ship an order."]},
            )
        order.tracking_number = tracking_number
        order.shipped_at = now
        fields += ["tracking_number", "shipped_at"]
    elif to_status == S.PAID:
        order.paid_at = now
        fields.append("paid_at")
    elif to_status == S.CANCELLED:
        order.cancelled_at = now
        fields.append("cancelled_at")
        if not order.stock_released:
            quantities: dict[int, int] = {}
            for line in order.lines.all():
                if line.book_id is not None:
                    quantities[line.book_id] = quantities.get(line.book_id, 0) + line.quantity
            if quantities:
                stock_release(quantities=quantities)
            order.stock_released = True
            fields.append("stock_released")
        order.payments.filter(status=PaymentStatus.PENDING).update(
            status=PaymentStatus.CANCELLED, updated_at=now
        )
    order.status = to_status
    order.save(update_fields=fields)
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=to_status, actor=actor, note=note
    )
    if to_status in STATUS_EMAILS:
        _outbox_add(order=order, kind=STATUS_EMAILS[to_status])
    return order


def order_cancel(*, order: Order, actor: User | None, note: str = "") -> Order:
    """Cancel an order that has not been shipped yet (pending payment or paid); stock goes back."""
    return order_transition(order=order, to_status=S.CANCELLED, actor=actor, note=note)


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancel the orders still unpaid ``ORDER_PAYMENT_TIMEOUT`` after checkout; return how many.

    Each order is cancelled in its own transaction under its row lock: an order paid meanwhile
    is left alone, and its stock is given back only once.
    """
    cutoff = (now or timezone.now()) - settings.ORDER_PAYMENT_TIMEOUT
    expired = 0
    candidates = Order.objects.filter(status=S.PENDING_PAYMENT, created_at__lt=cutoff).order_by("pk")
    for order in candidates.only("pk"):
        try:
            order_transition(
                order=order, to_status=S.CANCELLED, note="Not paid in time: cancelled automatically."
            )
        except InvalidTransition:
            continue
        expired += 1
    return expired


# --- Email outbox ---------------------------------------------------------------------------


def _outbox_add(*, order: Order, kind: str) -> None:
    email, created = OutboxEmail.objects.get_or_create(order=order, kind=kind, defaults={"to": order.email})
    if created:
        transaction.on_commit(lambda: _outbox_enqueue(email.pk), robust=True)


def _outbox_enqueue(email_id: int) -> None:
    # Imported here: tasks import this module. An unreachable broker raises out of delay();
    # on_commit(robust=True) logs it and the relay task sends the email later.
    from .tasks import outbox_email_send as task

    task.delay(email_id)


def outbox_email_send(*, email_id: int) -> bool:
    """Send one outbox email if nobody has; return whether this call sent it.

    The row is claimed under its lock (``sending``) and the claim committed before the mail
    server is called, so two senders never both send it, and no transaction stays open during
    the call. A claim that never reports back (a crashed worker) is taken over after
    ``OUTBOX_CLAIM_TIMEOUT``. A failure puts the row back to ``pending`` and is raised.
    """
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .select_related("order")
            .filter(pk=email_id)
            .first()
        )
        if email is None or email.status == EmailStatus.SENT:
            return False
        if (
            email.status == EmailStatus.SENDING
            and email.claimed_at is not None
            and email.claimed_at > now - OUTBOX_CLAIM_TIMEOUT
        ):
            return False
        email.status = EmailStatus.SENDING
        email.claimed_at = now
        email.attempts += 1
        email.save(update_fields=["status", "claimed_at", "attempts", "updated_at"])
    try:
        email_send(template=f"orders/{email.kind}", context=_email_context(email.order), to=[email.to])
    except Exception as exc:
        OutboxEmail.objects.filter(pk=email.pk, claimed_at=now).update(
            status=EmailStatus.PENDING, last_error=repr(exc)[:2000], updated_at=timezone.now()
        )
        raise
    OutboxEmail.objects.filter(pk=email.pk, claimed_at=now).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error="", updated_at=timezone.now()
    )
    return True


def outbox_emails_relay() -> int:
    """Send every outbox email still waiting (the broker was down, a send failed); return how many."""
    stale = timezone.now() - OUTBOX_CLAIM_TIMEOUT
    waiting = OutboxEmail.objects.filter(status=EmailStatus.PENDING) | OutboxEmail.objects.filter(
        status=EmailStatus.SENDING, claimed_at__lt=stale
    )
    sent = 0
    for email_id in waiting.order_by("pk").values_list("pk", flat=True):
        try:
            sent += outbox_email_send(email_id=email_id)
        except Exception:
            # One bad address or a flaky server must not hold back the rest.
            logger.exception("Outbox email %s could not be sent", email_id)
    return sent


def _email_context(order: Order) -> dict[str, Any]:
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "customer_name": order.shipping_address.get("name", ""),
    }
