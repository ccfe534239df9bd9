from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("me/addresses", views.AddressViewSet, basename="address")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/verify-email/", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    path("auth/verify-email/resend/", views.VerifyEmailResendView.as_view(), name="auth-verify-email-resend"),
    path("auth/password-reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/password-change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("me/", views.MeView.as_view(), name="me"),
]
