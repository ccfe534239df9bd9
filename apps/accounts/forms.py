"""Storefront forms. They only parse input: the rules live in the services, whose
``ValidationError``s are put back on the form by the views (``form_errors_from``)."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bookstore.exceptions import InvalidInput

from .lockout import login_failure_record, login_failures_clear, login_locked
from .models import Address
from .selectors import user_inactive_reason


def form_errors_from(form: forms.Form, error: InvalidInput, renames: dict[str, str] | None = None) -> None:
    """Attach a service's ``InvalidInput`` to ``form``, renaming service fields to form fields."""
    renames = renames or {}
    if not error.errors:
        form.add_error(None, error.message)
        return
    for field, messages in error.errors.items():
        name = renames.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


class _PasswordPair(forms.Form):
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label=_("Confirm the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_new_password2(self) -> str:
        first, second = self.cleaned_data.get("new_password1"), self.cleaned_data.get("new_password2")
        if first and second and first != second:
            raise ValidationError(_("The two passwords do not match."), code="password_mismatch")
        return second or ""


class LoginForm(AuthenticationForm):
    """Email and password; says why a right password is not enough (unverified, disabled)."""

    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean(self) -> dict:
        email = self.cleaned_data.get("username") or ""
        if login_locked(email=email):
            raise ValidationError(
                _("Too many failed sign-ins for this address: try again in a while, or reset the password."),
                code="account_locked",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failure_record(email=email)
            reason = user_inactive_reason(
                email=self.cleaned_data.get("username") or "",
                password=self.cleaned_data.get("password") or "",
            )
            if reason == "email_not_verified":
                raise ValidationError(
                    _(
                        "Your email address is not confirmed yet: open the link we sent you, "
                        "or ask for a new one."
                    ),
                    code="email_not_verified",
                ) from None
            if reason == "account_disabled":
                raise ValidationError(
                    _("This account has been disabled. Contact the bookshop."), code="account_disabled"
                ) from None
            raise
        login_failures_clear(email=email)
        return cleaned


class RegisterForm(_PasswordPair):
    field_order = ["email", "first_name", "last_name", "new_password1", "new_password2"]

    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class SetPasswordForm(_PasswordPair):
    pass


class PasswordChangeForm(_PasswordPair):
    field_order = ["old_password", "new_password1", "new_password2"]

    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_(
            "A new address replaces the current one only once confirmed through the link sent to it."
        ),
    )


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Address.Kind.choices)
    name = forms.CharField(label=_("Full name"), max_length=150)
    line1 = forms.CharField(label=_("Address"), max_length=200)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.CharField(
        label=_("Country (two-letter ISO code)"),
        max_length=2,
        min_length=2,
        initial="FR",
        help_text=_("For example FR, BE, CH."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    is_default = forms.BooleanField(label=_("Default address for this type"), required=False)
