"""Checkout: the customer's cart becomes an order, in one transaction, or nothing is written.

``order_place`` is the one entry point. It re-checks every line, takes the stock, snapshots the
lines, addresses and amounts, records the first payment attempt and empties the cart. The
payment provider is called afterwards (``payment.payment_start``), once this has committed.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction

from apps.accounts.exceptions import AddressNotFound
from apps.accounts.models import User
from apps.accounts.selectors import address_get_for_user
from apps.cart.selectors import cart_get_for_user
from apps.cart.services import cart_clear
from apps.catalog.exceptions import OutOfStock
from apps.catalog.services import stock_reserve
from bookstore.exceptions import InvalidInput

from ..exceptions import (
    CartChanged,
    CartEmpty,
    IdempotencyKeyReused,
    OrderTooLarge,
    PaymentProviderUnavailable,
)
from ..models import IdempotencyKey, Order, OrderLine, OrderStatus, OrderStatusChange, Payment
from ..pricing import money, shipping_for, vat_included

ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country", "phone")

# Order numbers: no 0/O, 1/I/L, so they can be read out on the phone.
NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _column_max(field_name: str) -> Decimal:
    field = cast("models.DecimalField[Any, Any]", Order._meta.get_field(field_name))
    digits, places = int(field.max_digits or 0), int(field.decimal_places or 0)
    return Decimal(10) ** (digits - places) - Decimal(10) ** -places


# The largest amount an order (and each of its lines) can record: 99999999.99.
ORDER_AMOUNT_MAX = _column_max("total")

AddressInput = int | Mapping[str, Any]


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
            raise InvalidInput(
                "One or more fields are invalid.", errors={field: ["You have no address with this id."]}
            ) from None
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


def _sale_price(book: Any) -> Decimal:
    """The price of a book ``_cart_problems`` found for sale (priced)."""
    if book.price is None:
        raise CartChanged(f"“{book.title}” is no longer sold.")
    return book.price


def _cart_problems(lines: list[Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        book = line.book
        if not book.for_sale:
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
    prices = [_sale_price(line.book) for line in lines]
    line_totals = [money(price * line.quantity) for price, line in zip(prices, lines, strict=True)]
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
            unit_price=_sale_price(line.book),
            quantity=line.quantity,
            line_total=line_total,
        )
        for line, line_total in zip(lines, line_totals, strict=True)
    )
    Payment.objects.create(
        order=order, provider=payment_provider, amount=order.total, currency=order.currency
    )
    OrderStatusChange.objects.create(
        order=order, from_status="", to_status=OrderStatus.PENDING_PAYMENT, actor=user
    )
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
