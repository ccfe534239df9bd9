"""Storefront pages of the accounts app (session authentication, server-rendered).

They call the same services as the API; a service's ``InvalidInput`` goes back on the form.
The forms that take a password or send an email share the API's strict ``auth`` allowance
(``throttling.auth_throttled``): past it, a POST is answered 429 with ``Retry-After``.
The verification and reset pages are where the emailed links land (``FRONTEND_URL``).
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookstore.exceptions import InvalidInput

from . import selectors, services
from .exceptions import AccountDeactivated, AddressNotFound, InvalidToken
from .forms import (
    AddressForm,
    EmailForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
    form_errors_from,
)
from .models import Address, User
from .throttling import auth_throttled

RESET_SESSION_KEY = "_password_reset_token"
ADDRESS_FIELDS = ("kind", "name", "line1", "line2", "postal_code", "city", "country", "phone", "is_default")


@method_decorator(auth_throttled, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule); redirects to ``LOGOUT_REDIRECT_URL``."""


# --- Registration and verification --------------------------------------------------------


@require_http_methods(["GET", "POST"])
@auth_throttled
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["new_password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except InvalidInput as error:
            form_errors_from(form, error, {"password": "new_password1"})
        else:
            return redirect("accounts:register-done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


@require_http_methods(["GET", "POST"])
@auth_throttled
def verify_email(request: HttpRequest) -> HttpResponse:
    """GET shows a button (link scanners do not verify anyone); POST verifies."""
    token = request.POST.get("token") if request.method == "POST" else request.GET.get("token")
    if not token:
        return render(request, "accounts/verify_email.html", {"state": "invalid"}, status=400)
    if request.method == "GET":
        return render(request, "accounts/verify_email.html", {"state": "confirm", "token": token})
    try:
        user = services.user_email_verify(token=token)
    except AccountDeactivated:
        return render(request, "accounts/verify_email.html", {"state": "disabled"}, status=400)
    except InvalidToken as error:
        return render(
            request, "accounts/verify_email.html", {"state": "invalid", "error": error.message}, status=400
        )
    return render(request, "accounts/verify_email.html", {"state": "done", "verified_user": user})


@require_http_methods(["GET", "POST"])
@auth_throttled
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.verification_email_resend(email=form.cleaned_data["email"])
        messages.success(
            request,
            _("If an account at this address is waiting for its confirmation, an email is on its way."),
        )
        return redirect("accounts:login")
    return render(request, "accounts/verify_email_resend.html", {"form": form})


# --- Password reset -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@auth_throttled
def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return redirect("accounts:password-reset-done")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_done.html")


@require_http_methods(["GET", "POST"])
@auth_throttled
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    if "token" in request.GET:
        # Keep the token out of the address bar (and of Referer headers to other sites).
        request.session[RESET_SESSION_KEY] = request.GET["token"]
        return redirect("accounts:password-reset-confirm")
    token = request.session.get(RESET_SESSION_KEY, "")
    try:
        services.password_reset_token_check(token=token)
    except InvalidToken as error:
        return render(request, "accounts/password_reset_confirm.html", {"invalid": error.message}, status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(token=token, new_password=form.cleaned_data["new_password1"])
        except InvalidToken as error:
            return render(
                request, "accounts/password_reset_confirm.html", {"invalid": error.message}, status=400
            )
        except InvalidInput as error:
            form_errors_from(form, error, {"new_password": "new_password1"})
        else:
            request.session.pop(RESET_SESSION_KEY, None)
            return redirect("accounts:password-reset-complete")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


def password_reset_complete(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_complete.html")


# --- Profile ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(
        request.POST or None,
        initial={"first_name": user.first_name, "last_name": user.last_name, "email": user.email},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data["email"].lower() == user.email.lower():
            # Saving the names must not cancel an email change waiting for its confirmation.
            del data["email"]
        try:
            updated = services.user_update(user=user, data=data)
        except InvalidInput as error:
            form_errors_from(form, error)
        else:
            if updated.pending_email and updated.pending_email != user.pending_email:
                messages.info(
                    request,
                    _(
                        "A confirmation link has been sent to %(email)s. "
                        "Your address will change once you have opened it."
                    )
                    % {"email": updated.pending_email},
                )
            messages.success(request, _("Profile saved."))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
@auth_throttled
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_change(
                user=request.user,  # type: ignore[arg-type]
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except InvalidInput as error:
            form_errors_from(form, error, {"new_password": "new_password1"})
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Password changed. Your other devices have been signed out."))
            return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


# --- Addresses ----------------------------------------------------------------------------


def _address_or_404(request: HttpRequest, pk: int) -> Address:
    try:
        return selectors.address_get_for_user(user=request.user, address_id=pk)  # type: ignore[arg-type]
    except AddressNotFound:
        raise Http404("No such address.") from None


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = selectors.address_list_for_user(user=request.user)  # type: ignore[arg-type]
    return render(request, "accounts/address_list.html", {"addresses": addresses})


@login_required
@require_http_methods(["GET", "POST"])
def address_create(request: HttpRequest) -> HttpResponse:
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_create(user=request.user, data=form.cleaned_data)  # type: ignore[arg-type]
        except InvalidInput as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Address added."))
            return redirect("accounts:addresses")
    return render(request, "accounts/address_form.html", {"form": form, "address": None})


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    address = _address_or_404(request, pk)
    form = AddressForm(
        request.POST or None, initial={name: getattr(address, name) for name in ADDRESS_FIELDS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(address=address, data=form.cleaned_data)
        except InvalidInput as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Address saved."))
            return redirect("accounts:addresses")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_http_methods(["GET", "POST"])
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    address = _address_or_404(request, pk)
    if request.method == "POST":
        services.address_delete(address=address)
        messages.success(request, _("Address deleted."))
        return redirect(reverse("accounts:addresses"))
    return render(request, "accounts/address_confirm_delete.html", {"address": address})
