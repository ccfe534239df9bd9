"""Storefront forms: they parse input; the rules (stock, prices, who owns what) are the services'."""

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Address, phone_validator, validate_country_code
from apps.reviews.models import BODY_MAX_LENGTH, RATING_MAX, RATING_MIN, TITLE_MAX_LENGTH

MAX_QUANTITY = 99
PROVIDER_LABELS = {
    "stripe": _("Bank card (Stripe)"),
    "paypal": _("PayPal"),
    "dummy": _("Test payment (no money is taken)"),
}


class AddToCartForm(forms.Form):
    book = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args: Any, max_quantity: int = MAX_QUANTITY, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].widget.attrs.update(min=1, max=min(max_quantity, MAX_QUANTITY))


class CartLineForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)


class CheckoutForm(forms.Form):
    """Where to ship (a saved address or a new one) and how to pay.

    The hidden key is the checkout's ``Idempotency-Key``: a double submit makes one order.
    """

    NEW = "new"

    address = forms.ChoiceField(label=_("Shipping address"), widget=forms.RadioSelect)
    name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(
        label=_("Country (two-letter ISO code)"),
        max_length=2,
        required=False,
        initial="FR",
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False, validators=[phone_validator])
    payment_provider = forms.ChoiceField(label=_("Payment"), widget=forms.RadioSelect)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    NEW_ADDRESS_FIELDS = ("name", "line1", "postal_code", "city", "country")

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [
            (str(a.pk), f"{a.name}, {a.line1}, {a.postal_code} {a.city} ({a.country})") for a in addresses
        ]
        self.fields["address"].choices = [*choices, (self.NEW, _("A new address"))]
        self.fields["address"].initial = choices[0][0] if choices else self.NEW
        providers = settings.PAYMENT_PROVIDERS
        self.fields["payment_provider"].choices = [
            (name, PROVIDER_LABELS.get(name, name)) for name in providers
        ]
        self.fields["payment_provider"].initial = providers[0] if providers else None
        self.fields["idempotency_key"].initial = uuid.uuid4().hex

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country:
            validate_country_code(country)
        return country

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("address") == self.NEW:
            for name in self.NEW_ADDRESS_FIELDS:
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("This field is required for a new address."))
        return data

    def shipping_address(self) -> int | dict[str, str]:
        """A saved address's id, or the address typed in, as ``order_place`` takes them."""
        if self.cleaned_data["address"] != self.NEW:
            return int(self.cleaned_data["address"])
        fields = (*self.NEW_ADDRESS_FIELDS, "line2", "phone")
        address = {name: self.cleaned_data.get(name, "").strip() for name in fields}
        address["country"] = address["country"].upper()
        return address


class ReviewForm(forms.Form):
    """A customer's review of a book: stars, and an optional title and text."""

    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, str(n)) for n in range(RATING_MAX, RATING_MIN - 1, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label=_("Title (optional)"), max_length=TITLE_MAX_LENGTH, required=False)
    body = forms.CharField(
        label=_("Your review (optional)"),
        max_length=BODY_MAX_LENGTH,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
