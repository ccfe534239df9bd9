"""Storefront pages of the accounts app, included under ``/accounts/`` (namespace ``accounts``).

The verification and password reset paths are the ones the emails link to
(``services.VERIFY_EMAIL_PATH`` and ``services.RESET_LINK_PATH``).
"""

from django.urls import path

from . import views_storefront as views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register-done"),
    path("verify-email/", views.verify_email, name="verify-email"),
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/done/", views.password_reset_done, name="password-reset-done"),
    path("password-reset/confirm/", views.password_reset_confirm, name="password-reset-confirm"),
    path("password-reset/complete/", views.password_reset_complete, name="password-reset-complete"),
    path("profile/", views.profile, name="profile"),
    path("password/", views.password_change, name="password-change"),
    path("addresses/", views.address_list, name="addresses"),
    path("addresses/new/", views.address_create, name="address-create"),
    path("addresses/<int:pk>/", views.address_edit, name="address-edit"),
    path("addresses/<int:pk>/delete/", views.address_delete, name="address-delete"),
]
