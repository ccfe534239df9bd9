"""Reads of carts: the rows, and the summary the API shows (current prices, flags, totals)."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User
from bookstore.cache import cached_books

from .cache import CART_CACHE_TIMEOUT, owner_key, summary_key
from .models import Cart, CartLine

CENT = Decimal("0.01")
TOKEN_MAX_LENGTH = Cart._meta.get_field("token").max_length or 64


# Tokens are secrets.token_urlsafe(): URL-safe base64.
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def _plausible(token: str | None) -> bool:
    # Whatever a client sends goes into a cache key: anything no cart could have is nothing
    # (spaces or control characters would also break a memcached key).
    return (
        bool(token) and len(token or "") <= TOKEN_MAX_LENGTH and bool(_TOKEN_ALPHABET.fullmatch(token or ""))
    )


@dataclass(frozen=True)
class CartBook:
    id: int
    title: str
    slug: str
    isbn13: str


@dataclass(frozen=True)
class CartLineSummary:
    id: int
    book: CartBook
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    price_when_added: Decimal
    price_changed: bool
    available: int
    insufficient_stock: bool
    unavailable: bool


@dataclass(frozen=True)
class CartSummary:
    token: str | None
    lines: tuple[CartLineSummary, ...]
    item_count: int
    subtotal: Decimal
    currency: str


def _lines() -> QuerySet[CartLine]:
    return CartLine.objects.select_related("book")


def _with_lines(queryset: QuerySet[Cart]) -> QuerySet[Cart]:
    return queryset.prefetch_related(Prefetch("lines", queryset=_lines()))


def cart_get_for_user(*, user: User, for_update: bool = False) -> Cart | None:
    """The customer's cart with its lines and their books prefetched (two queries), or None.

    ``for_update`` (inside a transaction) locks the cart row first: every cart write starts by
    updating that row, so none can slip a line in between a checkout's read and its clear.
    """
    carts = Cart.objects.filter(user=user)
    if for_update:
        carts = carts.select_for_update()
    return _with_lines(carts).first()


def cart_get_by_token(*, token: str | None) -> Cart | None:
    """The anonymous cart this token names, lines and books prefetched, or None.

    A token of a cart that now belongs to a customer (or any unknown value) finds nothing.
    """
    if not _plausible(token):
        return None
    return _with_lines(Cart.objects.filter(token=token, user__isnull=True)).first()


def cart_find(*, user: User | None = None, token: str | None = None) -> Cart | None:
    """The customer's cart, else the anonymous cart the token names (the row only), or None."""
    if user is not None:
        return Cart.objects.filter(user=user).first()
    if not _plausible(token):
        return None
    return Cart.objects.filter(token=token, user__isnull=True).first()


def cart_line_summary(line: CartLine) -> CartLineSummary:
    book = line.book
    unavailable = not book.for_sale
    # A book no longer priced keeps the price it was added at, shown with "unavailable".
    unit_price = (line.price_when_added if book.price is None else book.price).quantize(CENT)
    available = 0 if unavailable else max(book.stock, 0)
    return CartLineSummary(
        id=line.pk,
        book=CartBook(id=book.pk, title=book.title, slug=book.slug, isbn13=book.isbn13),
        quantity=line.quantity,
        unit_price=unit_price,
        line_total=(unit_price * line.quantity).quantize(CENT),
        price_when_added=line.price_when_added.quantize(CENT),
        price_changed=unit_price != line.price_when_added,
        available=available,
        insufficient_stock=not unavailable and line.quantity > available,
        unavailable=unavailable,
    )


def cart_summary(*, cart: Cart | None, token: str | None = None) -> CartSummary:
    """Lines at today's prices with their flags, and the totals of the lines that can be bought.

    Unavailable lines (the book is no longer sold) stay listed so the client can say so, but
    count in neither ``item_count`` nor ``subtotal``. ``cart=None`` is an empty cart.
    """
    return _summary(
        cart.lines.all() if cart is not None else (),
        token=token if token is not None else (cart.token if cart is not None else None),
    )


def cart_summary_reload(*, cart: Cart) -> CartSummary:
    """The summary of ``cart`` as the database has it now (one query: lines with their books)."""
    return _summary(_lines().filter(cart=cart), token=cart.token)


def _summary(cart_lines: Iterable[CartLine], *, token: str | None) -> CartSummary:
    lines = tuple(cart_line_summary(line) for line in cart_lines)
    buyable = [line for line in lines if not line.unavailable]
    return CartSummary(
        token=token,
        lines=lines,
        item_count=sum(line.quantity for line in buyable),
        subtotal=sum((line.line_total for line in buyable), Decimal("0.00")).quantize(CENT),
        currency=settings.SHOP_CURRENCY,
    )


def _summary_ids(summary: CartSummary) -> list[int]:
    return [line.book.id for line in summary.lines]


def cart_summary_for_user(*, user: User) -> CartSummary:
    """The customer's cart summary, from the cache when it is there (no SQL at all).

    A customer without a cart row gets an empty summary; the row is created by the first add.
    """

    def build() -> tuple[CartSummary, list[int]]:
        summary = cart_summary(cart=cart_get_for_user(user=user))
        return summary, _summary_ids(summary)

    return cached_books(summary_key(owner_key(user_id=user.pk)), build, timeout=CART_CACHE_TIMEOUT).value


def cart_summary_for_token(*, token: str | None) -> CartSummary | None:
    """The anonymous cart summary the token names, cached like a customer's; None if unknown."""
    if not _plausible(token):
        return None

    def build() -> tuple[CartSummary | None, list[int] | None]:
        cart = cart_get_by_token(token=token)
        if cart is None:
            return None, None
        summary = cart_summary(cart=cart)
        return summary, _summary_ids(summary)

    return cached_books(summary_key(owner_key(token=token)), build, timeout=CART_CACHE_TIMEOUT).value
