"""Writes to carts.

Every write runs in one transaction that starts by touching the cart row (``updated_at``):
the UPDATE takes the row lock, so concurrent writes to one cart run one after the other and
each sees the lines the previous one left, and the purge knows when the cart was last used.
(A visitor's first add creates the cart and its line in one transaction, and touches nothing:
no other request knows a token this one has not answered yet.)
Every write retires the cart's cached summary once it commits.
"""

import secrets
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import Book
from bookstore.db import prepared_cursor

from .cache import cart_cache_invalidate, owner_key
from .exceptions import BookUnavailable, CartLineNotFound, CartNotFound, InsufficientStock, QuantityOutOfRange
from .models import MAX_LINE_QUANTITY, Cart, CartLine

MERGE_POLICIES = ("merge", "keep_customer", "keep_newest")
ANONYMOUS_CART_LIFETIME = timedelta(days=30)

MergePolicy = Literal["merge", "keep_customer", "keep_newest"]


def _owner(cart: Cart) -> str:
    return owner_key(user_id=cart.user_id, token=cart.token)


def _touch(cart: Cart) -> None:
    if not Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now()):
        raise CartNotFound("This cart no longer exists.")
    cart_cache_invalidate(_owner(cart))


def _check_quantity(quantity: int) -> None:
    if quantity < 1:
        raise QuantityOutOfRange("quantity", "Ensure this value is greater than or equal to 1.")
    if quantity > MAX_LINE_QUANTITY:
        raise QuantityOutOfRange(
            "quantity", f"At most {MAX_LINE_QUANTITY} copies of a book can be ordered at once."
        )


def _check_stock(book: Book, quantity: int, *, in_cart: int = 0) -> Decimal:
    """Refuse what cannot be bought (not for sale, too many copies); return the book's price."""
    if not book.for_sale or book.price is None:
        raise BookUnavailable("book", f"“{book.title}” is not for sale.")
    if quantity > MAX_LINE_QUANTITY:
        raise QuantityOutOfRange(
            "quantity",
            f"At most {MAX_LINE_QUANTITY} copies of a book can be ordered at once; "
            f"the cart already holds {in_cart}.",
        )
    if quantity > book.stock:
        message = f"Only {book.stock} copies of “{book.title}” are in stock"
        message += f"; the cart already holds {in_cart}." if in_cart else "."
        raise InsufficientStock("quantity", message, available=book.stock)
    return book.price


def cart_create_anonymous() -> Cart:
    """A new empty cart for a visitor, found again only by its long random token."""
    return Cart.objects.create(token=secrets.token_urlsafe(32))


def cart_get_or_create_for_user(*, user: User) -> Cart:
    """The customer's one cart, created empty the first time (two racing requests get one row)."""
    cart, _created = Cart.objects.get_or_create(user=user)
    return cart


def cart_item_add(*, cart: Cart, book_id: int, quantity: int) -> Cart:
    """Add ``quantity`` copies of a book; a book already in the cart adds to its line.

    The line's total stays within 1..MAX_LINE_QUANTITY and within the book's stock, and the
    book must exist and be sold; otherwise a field error is raised and nothing changes. The
    line records the price the customer saw when adding, to flag a later change.
    """
    _check_quantity(quantity)
    with transaction.atomic():
        _touch(cart)
        _line_add(cart, book_id, quantity)
    return cart


def cart_create_anonymous_with_item(*, book_id: int, quantity: int) -> Cart:
    """A new visitor's cart holding its first line, as ``cart_item_add`` would add it, in one
    transaction: a book that cannot be added leaves no empty cart behind.

    The row lock of the other writes is not taken: no other request knows the new cart's
    token before this one answers, and nothing is cached for it yet. For the same reason the
    cart comes back with its line, and the line's book as read to check it, in memory
    (``cart.lines.all()`` runs no query): nothing else can have changed the cart's lines.
    On PostgreSQL the book's read, the cart and the line are one statement (``_first_line``);
    elsewhere the book is read before a transaction writing the two rows.
    """
    _check_quantity(quantity)
    token = secrets.token_urlsafe(32)
    alias = router.db_for_write(Cart)
    if connections[alias].vendor == "postgresql":
        line = _first_line(alias, token=token, book_id=book_id, quantity=quantity)
    else:
        # A new cart has no line yet: the book alone (cart_item_add's query also looks for its line).
        book = Book.objects.filter(pk=book_id).first()
        if book is None:
            raise BookUnavailable("book", f"No book with id {book_id}.")
        price = _check_stock(book, quantity)
        with transaction.atomic():
            cart = Cart.objects.create(token=token)
            line = CartLine.objects.create(cart=cart, book=book, quantity=quantity, price_when_added=price)
    lines = line.cart.lines.all()
    # What a prefetch leaves (django.db.models.query.prefetch_one_level), from what was written.
    lines._result_cache, lines._prefetch_done = [line], True  # type: ignore[attr-defined]
    line.cart._prefetched_objects_cache = {"lines": lines}  # type: ignore[attr-defined]
    return line.cart


# What the first line's statement reads of the book: what _check_stock and the cart's summary
# use, in the model's column order (Model.from_db takes the values in that order).
_FIRST_LINE_BOOK_FIELDS = [
    f
    for f in Book._meta.concrete_fields
    if f.attname in {"id", "title", "slug", "isbn13", "price", "stock", "is_active"}
]


@cache
def _first_line_sql(alias: str) -> str:
    """The new cart and its line as one PostgreSQL statement: the book read, and both rows
    inserted only when ``_check_stock`` would let the line be (a data-modifying CTE commits
    alone, with no BEGIN and COMMIT around it; prepared once per connection,
    ``bookstore.db.prepared_cursor``); answers the book's row, with the new line's cart and id
    when they were written, or no row without the book."""
    quote = connections[alias].ops.quote_name

    def column(model: type[Model], name: str) -> str:
        return quote(next(str(f.column) for f in model._meta.concrete_fields if f.name == name))

    books = ", ".join(quote(str(f.column)) for f in _FIRST_LINE_BOOK_FIELDS)
    book_id, cart_id = column(Book, "id"), column(Cart, "id")
    # The rule of _check_stock (on sale, priced, enough copies; the line's maximum is checked
    # before), in SQL: a row it refuses writes nothing, and _check_stock then says why.
    sellable = (
        f"b.{column(Book, 'is_active')} AND b.{column(Book, 'price')} IS NOT NULL "
        f"AND b.{column(Book, 'stock')} >= %(quantity)s"
    )
    cart_columns = ", ".join(column(Cart, name) for name in ("created_at", "updated_at", "token"))
    line_columns = ", ".join(
        column(CartLine, name)
        for name in ("created_at", "updated_at", "cart", "book", "quantity", "price_when_added")
    )
    return (
        f"WITH b AS (SELECT {books} FROM {quote(Book._meta.db_table)} WHERE {book_id} = %(book)s), "  # noqa: S608
        f"c AS (INSERT INTO {quote(Cart._meta.db_table)} ({cart_columns}) "
        f"SELECT %(now)s, %(now)s, %(token)s FROM b WHERE {sellable} RETURNING {cart_id}), "
        f"l AS (INSERT INTO {quote(CartLine._meta.db_table)} ({line_columns}) "
        f"SELECT %(now)s, %(now)s, c.{cart_id}, b.{book_id}, %(quantity)s, b.{column(Book, 'price')} "
        f"FROM c CROSS JOIN b RETURNING {column(CartLine, 'id')}, {column(CartLine, 'cart')}) "
        f"SELECT b.*, l.* FROM b LEFT JOIN l ON TRUE"
    )


def _first_line(alias: str, *, token: str, book_id: int, quantity: int) -> CartLine:
    """``cart_create_anonymous_with_item``'s write on PostgreSQL: one statement, then the
    instances the ORM would have made of what it wrote (the line, its cart and its book)."""
    now = timezone.now()
    params: dict[str, Any] = {"book": book_id, "quantity": quantity, "now": now, "token": token}
    with prepared_cursor(alias) as cursor:
        cursor.execute(_first_line_sql(alias), params)
        row = cursor.fetchone()
    if row is None:
        raise BookUnavailable("book", f"No book with id {book_id}.")
    width = len(_FIRST_LINE_BOOK_FIELDS)
    book = Book.from_db(alias, [f.attname for f in _FIRST_LINE_BOOK_FIELDS], row[:width])
    line_id, cart_id = row[width:]
    price = _check_stock(book, quantity)
    if line_id is None:
        # _check_stock let the line be and the statement did not: the two rules differ.
        raise RuntimeError(f"the first line's statement refused book {book_id}, which _check_stock accepts")
    cart = Cart.from_db(
        alias, ["id", "created_at", "updated_at", "user_id", "token"], [cart_id, now, now, None, token]
    )
    line = CartLine.from_db(
        alias,
        ["id", "created_at", "updated_at", "cart_id", "book_id", "quantity", "price_when_added"],
        [line_id, now, now, cart_id, book.pk, quantity, price],
    )
    line.cart, line.book = cart, book
    return line


def _line_add(cart: Cart, book_id: int, quantity: int) -> None:
    """``cart_item_add``'s write, in the caller's transaction: the book, with its line in the
    cart, in one query; then the line written."""
    line = CartLine.objects.filter(cart=cart, book=OuterRef("pk"))
    book = (
        Book.objects.filter(pk=book_id)
        .annotate(line_id=Subquery(line.values("pk")[:1]), in_cart=Subquery(line.values("quantity")[:1]))
        .first()
    )
    if book is None:
        raise BookUnavailable("book", f"No book with id {book_id}.")
    in_cart = book.in_cart or 0
    price = _check_stock(book, in_cart + quantity, in_cart=in_cart)
    if book.line_id is not None:
        CartLine.objects.filter(pk=book.line_id).update(
            quantity=in_cart + quantity, price_when_added=price, updated_at=timezone.now()
        )
    else:
        CartLine.objects.create(cart=cart, book=book, quantity=quantity, price_when_added=price)


def _locked_line(cart: Cart, line_id: int) -> CartLine:
    line = CartLine.objects.select_related("book").filter(pk=line_id, cart=cart).first()
    if line is None:
        raise CartLineNotFound("No such line in your cart.")
    return line


def cart_item_update(*, cart: Cart, line_id: int, quantity: int) -> Cart:
    """Set a line's quantity, within 1..MAX_LINE_QUANTITY and the book's stock.

    The customer changing a line has been shown its current price, so the line takes it: this
    is how a ``price_changed`` line is accepted (send the same quantity) before checkout,
    which refuses lines whose price moved since they were added. A line of another cart is not
    found (404), whoever owns it.
    """
    _check_quantity(quantity)
    with transaction.atomic():
        _touch(cart)
        line = _locked_line(cart, line_id)
        price = _check_stock(line.book, quantity)
        line.quantity = quantity
        line.price_when_added = price
        line.save(update_fields=["quantity", "price_when_added", "updated_at"])
    return cart


def cart_item_remove(*, cart: Cart, line_id: int) -> Cart:
    """Remove a line of this cart; a line of another cart is not found (404)."""
    with transaction.atomic():
        _touch(cart)
        deleted, _ = CartLine.objects.filter(pk=line_id, cart=cart).delete()
        if not deleted:
            raise CartLineNotFound("No such line in your cart.")
    return cart


def cart_clear(*, cart: Cart) -> None:
    """Remove every line of ``cart``; the cart itself stays, empty."""
    with transaction.atomic():
        _touch(cart)
        CartLine.objects.filter(cart=cart).delete()
    # A cart passed in with its lines prefetched must not show them any more.
    getattr(cart, "_prefetched_objects_cache", {}).pop("lines", None)


# --- Merge at login -------------------------------------------------------------------------


@dataclass(frozen=True)
class MergedLine:
    book: int
    title: str
    quantity: int


@dataclass(frozen=True)
class CappedLine:
    book: int
    title: str
    requested: int
    quantity: int
    reason: Literal["stock", "line_maximum"]


@dataclass(frozen=True)
class DiscardedLine:
    book: int
    title: str
    quantity: int
    reason: Literal["policy", "unavailable", "out_of_stock"]


@dataclass(frozen=True)
class CartMergeResult:
    """What a sign-in did to the carts, for the client to tell the customer."""

    policy: str
    kept: Literal["both", "customer", "anonymous"]
    added: list[MergedLine] = field(default_factory=list)
    increased: list[MergedLine] = field(default_factory=list)
    capped: list[CappedLine] = field(default_factory=list)
    discarded: list[DiscardedLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _merge_policy(policy: str | None) -> str:
    policy = policy or settings.CART_MERGE_POLICY
    if policy not in MERGE_POLICIES:
        raise ValueError(f"CART_MERGE_POLICY must be one of {', '.join(MERGE_POLICIES)}, not {policy!r}")
    return policy


def cart_merge(*, user: User, token: str | None, policy: str | None = None) -> CartMergeResult | None:
    """Fold the anonymous cart named by ``token`` into the customer's cart, then delete it.

    ``policy`` (default ``settings.CART_MERGE_POLICY``):

    - ``merge``: every anonymous line joins the customer's cart; the same book's quantities
      add up;
    - ``keep_customer``: a customer's cart with lines stays as it is and the anonymous lines
      are discarded (an empty customer's cart takes them);
    - ``keep_newest``: the cart written to last wins whole; the other's lines are discarded.

    Whatever the policy, a kept line is capped at the book's stock and at
    MAX_LINE_QUANTITY, and an anonymous line of a book no longer sold or out of stock is
    discarded. Returns what happened, or None when the token names no anonymous cart.
    """
    policy = _merge_policy(policy)
    if not token:
        return None
    with transaction.atomic():
        anonymous = Cart.objects.select_for_update().filter(token=token, user__isnull=True).first()
        if anonymous is None:
            return None
        customer = cart_get_or_create_for_user(user=user)
        customer = Cart.objects.select_for_update().get(pk=customer.pk)
        incoming = list(anonymous.lines.select_related("book"))
        existing = {line.book_id: line for line in customer.lines.select_related("book")}

        keep_anonymous = True
        discard_customer = False
        if existing and policy == "keep_customer":
            keep_anonymous = False
        elif existing and policy == "keep_newest":
            keep_anonymous = anonymous.updated_at > customer.updated_at
            discard_customer = keep_anonymous
        kept: Literal["both", "customer", "anonymous"] = "both" if existing else "anonymous"
        if not keep_anonymous:
            kept = "customer"
        elif discard_customer:
            kept = "anonymous"
        result = CartMergeResult(policy=policy, kept=kept)

        if discard_customer:
            for line in existing.values():
                result.discarded.append(DiscardedLine(line.book_id, line.book.title, line.quantity, "policy"))
            CartLine.objects.filter(cart=customer).delete()
            existing = {}

        for line in incoming:
            book = line.book
            if not keep_anonymous:
                result.discarded.append(DiscardedLine(book.pk, book.title, line.quantity, "policy"))
                continue
            if not book.for_sale:
                result.discarded.append(DiscardedLine(book.pk, book.title, line.quantity, "unavailable"))
                continue
            current = existing.get(book.pk)
            requested = line.quantity + (current.quantity if current else 0)
            quantity = min(requested, MAX_LINE_QUANTITY, book.stock)
            if quantity < 1:
                result.discarded.append(DiscardedLine(book.pk, book.title, line.quantity, "out_of_stock"))
                continue
            if quantity < requested:
                reason: Literal["stock", "line_maximum"] = (
                    "stock" if book.stock < min(requested, MAX_LINE_QUANTITY) else "line_maximum"
                )
                result.capped.append(CappedLine(book.pk, book.title, requested, quantity, reason))
            if current is not None:
                current.quantity = quantity
                current.save(update_fields=["quantity", "updated_at"])
                result.increased.append(MergedLine(book.pk, book.title, quantity))
            else:
                CartLine.objects.create(
                    cart=customer, book=book, quantity=quantity, price_when_added=line.price_when_added
                )
                result.added.append(MergedLine(book.pk, book.title, quantity))

        cart_cache_invalidate(_owner(anonymous))
        anonymous.delete()
        _touch(customer)
    return result


# --- Housekeeping ---------------------------------------------------------------------------


def cart_purge_anonymous(*, older_than: timedelta = ANONYMOUS_CART_LIFETIME) -> int:
    """Delete anonymous carts (and their lines) not written to for ``older_than``.

    Customers' carts are never purged. Returns how many carts were deleted.
    """
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        # The lock re-reads ``updated_at``: a cart written to meanwhile is no longer stale,
        # and one being written to right now is left for the next run.
        stale = list(
            Cart.objects.select_for_update(skip_locked=True)
            .filter(user__isnull=True, updated_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        CartLine.objects.filter(cart__in=stale).delete()
        Cart.objects.filter(pk__in=stale).delete()
    return len(stale)
