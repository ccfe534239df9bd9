"""The cart, the checkout and the order pages: the cart's and the orders' services, as the API uses them.

Writes are POSTs (CSRF-checked) answered by a redirect; domain errors become messages or field
errors in the customer's language, named by their codes.
"""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.selectors import address_list_for_user
from apps.cart.apps import SESSION_CART_MERGE
from apps.cart.exceptions import CartItemError, CartLineNotFound
from apps.cart.services import cart_item_add, cart_item_remove, cart_item_update
from apps.orders import selectors as orders
from apps.orders import services as order_services
from apps.orders.exceptions import (
    CartChanged,
    CartEmpty,
    IdempotencyKeyReused,
    OrderTooLarge,
    PaymentProviderUnavailable,
)
from apps.orders.pricing import shipping_for, vat_included
from bookstore.exceptions import ApplicationError, InvalidInput

from ..cart import cart_for_request, cart_for_writing, cart_summary_for_request
from ..forms import AddToCartForm, CartLineForm, CheckoutForm
from ..paging import pager


def _cart_error(error: ApplicationError) -> str:
    messages_by_code = {
        "book_unavailable": _("This book is no longer for sale."),
        "quantity_out_of_range": _("The quantity must be between 1 and 99."),
        "insufficient_stock": _("There are not enough copies in stock for this quantity."),
        "not_found": _("This line is no longer in your cart."),
    }
    return messages_by_code.get(error.code, _("The cart could not be changed."))


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


# --- Cart ------------------------------------------------------------------------------------


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    summary = cart_summary_for_request(request)
    shipping = shipping_for(books_total=summary.subtotal) if summary.item_count else None
    return render(
        request,
        "storefront/cart.html",
        {
            "cart": summary,
            "forms": {line.id: CartLineForm(initial={"quantity": line.quantity}) for line in summary.lines},
            "shipping": shipping,
            "total": summary.subtotal + shipping if shipping is not None else None,
            "merge": request.session.pop(SESSION_CART_MERGE, None),
            "has_problems": any(
                line.price_changed or line.insufficient_stock or line.unavailable for line in summary.lines
            ),
        },
    )


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The quantity must be between 1 and 99."))
        return _back(request, reverse("storefront:cart"))
    try:
        cart_item_add(
            cart=cart_for_writing(request),
            book_id=form.cleaned_data["book"],
            quantity=form.cleaned_data["quantity"],
        )
    except CartItemError as error:
        messages.error(request, _cart_error(error))
        return _back(request, reverse("storefront:cart"))
    messages.success(request, _("The book is in your cart."))
    return redirect("storefront:cart")


@require_POST
def cart_line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    form = CartLineForm(request.POST)
    current = cart_for_request(request)
    if not form.is_valid() or current is None:
        messages.error(request, _("The quantity must be between 1 and 99."))
        return redirect("storefront:cart")
    try:
        cart_item_update(cart=current, line_id=line_id, quantity=form.cleaned_data["quantity"])
    except (CartItemError, CartLineNotFound) as error:
        messages.error(request, _cart_error(error))
    else:
        messages.success(request, _("The cart is up to date."))
    return redirect("storefront:cart")


@require_POST
def cart_line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    current = cart_for_request(request)
    if current is not None:
        try:
            cart_item_remove(cart=current, line_id=line_id)
        except CartLineNotFound as error:
            messages.error(request, _cart_error(error))
    return redirect("storefront:cart")


# --- Checkout --------------------------------------------------------------------------------


def _totals(summary: Any) -> dict[str, Any]:
    shipping = shipping_for(books_total=summary.subtotal)
    lines = [line.line_total for line in summary.lines if not line.unavailable]
    return {
        "subtotal": summary.subtotal,
        "shipping": shipping,
        "total": summary.subtotal + shipping,
        "vat": vat_included(amounts=[*lines, shipping], rate=settings.SHOP_VAT_RATE),
        "vat_rate": settings.SHOP_VAT_RATE,
    }


@login_required
def checkout(request: HttpRequest) -> HttpResponse:
    summary = cart_summary_for_request(request)
    if request.method != "POST" and not summary.item_count:
        # A POST goes on to order_place even so: a resubmitted form (a double click, a retry
        # after a lost answer) finds its order by its key there, after the cart was emptied.
        messages.info(request, _("Your cart is empty."))
        return redirect("storefront:cart")
    addresses = list(address_list_for_user(user=request.user).filter(kind="shipping"))
    form = CheckoutForm(request.POST or None, addresses=addresses)
    if request.method == "POST" and form.is_valid():
        try:
            order, created = order_services.order_place(
                user=request.user,
                shipping_address=form.shipping_address(),
                payment_provider=form.cleaned_data["payment_provider"],
                idempotency_key=f"web-{form.cleaned_data['idempotency_key']}",
            )
        except (CartChanged, CartEmpty, OrderTooLarge) as error:
            messages.error(request, _checkout_error(error))
            return redirect("storefront:cart")
        except IdempotencyKeyReused:
            messages.error(request, _("This form has already been used: check your order."))
            return redirect("storefront:checkout")
        except PaymentProviderUnavailable:
            form.add_error("payment_provider", _("This payment method is not available: choose another."))
        except InvalidInput:
            # The one input order_place refuses that the form cannot see: a saved address
            # that is no longer the customer's (deleted in another tab).
            form.add_error("address", _("This address is no longer in your account: choose another."))
        else:
            if created:
                order_services.payment_start(order=order)
            return _to_payment(order.number, user=request.user)
    return render(request, "storefront/checkout.html", {"form": form, "cart": summary, **_totals(summary)})


def _checkout_error(error: ApplicationError) -> str:
    if isinstance(error, CartEmpty):
        return _("Your cart is empty.")
    if isinstance(error, OrderTooLarge):
        return _("This order is more than the bookshop can take: order fewer copies.")
    return _("Your cart has changed (price, stock or a book withdrawn): check it before ordering.")


def _to_payment(number: str, *, user: Any) -> HttpResponse:
    """Where the customer goes to pay: the provider's page, or the order's page (Stripe's form is there)."""
    order = orders.order_get_for_user(user=user, number=number)
    payment = orders.payment_latest(order=order)
    if payment is not None and payment.status == "pending":
        if payment.approval_url:
            return redirect(payment.approval_url)
        if payment.pay_url:
            return redirect(payment.pay_url)
    return redirect("storefront:order", number=number)


# --- Orders ----------------------------------------------------------------------------------


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = orders.order_get_for_user(user=request.user, number=number)
    payments = list(order.payments.all())
    payment = payments[-1] if payments else None
    refunds = orders.order_refunds(order=order)
    return render(
        request,
        "storefront/order_detail.html",
        {
            "order": order,
            "payment": payment,
            "refunds": refunds,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY
            if payment and payment.provider == "stripe"
            else "",
            # Stripe sends the customer back there: the return page asks Stripe about the
            # payment (the webhook may come later) and shows the order paid.
            "return_url": request.build_absolute_uri(
                f"{reverse('orders:payment-return')}?{urlencode({'order': order.number})}"
            ),
        },
    )


@login_required
@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    order = orders.order_get_for_user(user=request.user, number=number)
    try:
        order_services.payment_retry(order=order, provider=request.POST.get("payment_provider", ""))
    except ApplicationError:
        messages.error(request, _("This order is not waiting for a payment."))
        return redirect("storefront:order", number=number)
    return _to_payment(number, user=request.user)


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = orders.order_get_for_user(user=request.user, number=number)
    try:
        order_services.order_cancel(order=order, actor=request.user)
    except ApplicationError:
        messages.error(request, _("This order can no longer be cancelled."))
    else:
        messages.success(request, _("The order is cancelled."))
    return redirect("storefront:order", number=number)


@login_required
def account_orders(request: HttpRequest) -> HttpResponse:
    page = Paginator(orders.order_list_for_user(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request, "storefront/account_orders.html", {"pager": pager(page), "orders": list(page.object_list)}
    )
