"""The accounts API: authentication (``auth/…``), the profile (``me/``) and addresses
(``me/addresses/``). Views parse input, call one service or selector, and serialize."""

from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.signals import user_logged_in
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from bookstore.api.authentication import ShopRefreshToken
from bookstore.api.schema import COUNTRY_RULE, VALIDATORS_RULE, invalid_input

from . import selectors, services
from .models import Address, User
from .serializers import (
    AddressInputSerializer,
    AddressOutputSerializer,
    DetailSerializer,
    EmailInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenInputSerializer,
    TokenObtainInputSerializer,
    TokenPairSerializer,
    TokenRefreshInputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)

AUTH_TAG = ["auth"]


def _tokens_for(user: User) -> dict[str, str]:
    refresh = ShopRefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


# --- JWT ----------------------------------------------------------------------------------


class TokenObtainView(jwt_views.TokenObtainPairView):
    """Email and password → an access and a refresh token.

    Sends Django's ``user_logged_in`` signal like a session login does, so that whatever
    listens to sign-ins (``last_login``, the cart merge) works for API clients too. A receiver
    that returns a dict adds its keys to the response. An account whose email is not verified
    yet, or that was disabled, is refused with a 403 saying so (only to a caller who gave its
    right password).
    """

    serializer_class = TokenObtainInputSerializer
    permission_classes = [AllowAny]
    throttle_scope = "auth"
    # Wrong credentials are a 401; a right password on an inactive account a 403.
    problem_statuses = ("401", "403")

    @extend_schema(tags=AUTH_TAG, request=TokenObtainInputSerializer, responses={200: TokenPairSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer: TokenObtainPairSerializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.user
        data = dict(serializer.validated_data)
        # A receiver may report what the sign-in did (the cart merge does) by returning a
        # dict; it is added to the response so the client can tell the customer.
        for _receiver, result in user_logged_in.send(sender=user.__class__, request=request, user=user):
            if isinstance(result, dict):
                data.update(result)
        return Response(data, status=status.HTTP_200_OK)


class TokenRefreshView(jwt_views.TokenRefreshView):
    """A refresh token → a new access token and a new refresh token (the old one is spent)."""

    permission_classes = [AllowAny]
    serializer_class = TokenRefreshInputSerializer
    throttle_scope = "auth"
    problem_statuses = ("401",)  # a spent, expired or forged refresh token


class _AuthView(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "auth"


class LogoutView(_AuthView):
    problem_statuses = ("401",)  # a spent, expired or forged refresh token

    @extend_schema(
        tags=AUTH_TAG,
        summary="Sign out: blacklist a refresh token",
        request=RefreshInputSerializer,
        responses={204: OpenApiResponse(description="The refresh token can no longer be used.")},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.refresh_token_blacklist(refresh=serializer.validated_data["refresh"])
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Registration and verification --------------------------------------------------------


REGISTER_ACCEPTED = (
    "Check the inbox of this address to continue: it has been sent a link to confirm it, "
    "or, if it already has an account, a message saying how to sign in."
)


class RegisterView(_AuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Create an account (inactive until its email address is verified)",
        description="201 with the same body for all valid input, whether or not the address already "
        "has an account (no account enumeration): a new address gets an inactive account and a "
        "verification link, and the account stays inactive until it is followed "
        "(`auth/verify-email/`); an address that has an account is sent a notice instead, and "
        "nothing more is created. Invalid input (a bad email, a password Django's validators "
        "refuse) is a 400 with field errors.",
        request=RegisterInputSerializer,
        responses={
            201: DetailSerializer,
            **invalid_input(
                f"`errors.email`: not an email address. {VALIDATORS_RULE.format(field='password')}"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_register(**serializer.validated_data)
        return Response({"detail": REGISTER_ACCEPTED}, status=status.HTTP_201_CREATED)


class VerifyEmailView(_AuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Verify an email address with the emailed token",
        description="Activates a new account, or applies a pending email change. "
        "A malformed, used or expired token is a 400 `invalid_token`.",
        request=TokenInputSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_email_verify(token=serializer.validated_data["token"])
        return Response({"detail": "Email address verified."})


class VerifyEmailResendView(_AuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Send the verification email again",
        description="Always 202, whether or not an unverified account has this address.",
        request=EmailInputSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.verification_email_resend(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If an account awaits verification at this address, an email is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


# --- Passwords ----------------------------------------------------------------------------


class PasswordResetView(_AuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Ask for a password reset link",
        description="Always 202, whether or not an account has this address (no account enumeration).",
        request=EmailInputSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If an account has this address, an email with a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(_AuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Set a new password with the emailed token",
        description="Every refresh token of the user is blacklisted: all devices are signed out.",
        request=PasswordResetConfirmInputSerializer,
        responses={
            200: DetailSerializer,
            **invalid_input(
                "`invalid_token`: the link is malformed, used or expired (ask for a new one); "
                f"`account_disabled`. {VALIDATORS_RULE.format(field='new_password')}"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response({"detail": "Password changed. Sign in with the new one."})


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "auth"

    @extend_schema(
        tags=AUTH_TAG,
        summary="Change the signed-in user's password",
        description="Other devices are signed out (their refresh tokens are blacklisted); the "
        "response carries a new token pair for this one.",
        request=PasswordChangeInputSerializer,
        responses={
            200: TokenPairSerializer,
            **invalid_input(
                "`errors.old_password`: not the current password. "
                + VALIDATORS_RULE.format(field="new_password")
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.password_change(user=request.user, **serializer.validated_data)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the storefront session that made the change signed in.
            update_session_auth_hash(request._request, user)
        return Response(_tokens_for(user))


# --- Profile and addresses ----------------------------------------------------------------


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["me"], summary="The signed-in user's profile", responses={200: UserOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(
        tags=["me"],
        summary="Update the signed-in user's profile",
        description="Names change at once. A new email is sent a verification link and shows "
        "in `pending_email`; the login changes only once it is verified. An address another "
        "account has is answered the same way (no account is revealed) but is sent no link.",
        request=UserUpdateInputSerializer,
        responses={
            200: UserOutputSerializer,
            **invalid_input("`errors.email`: not an email address."),
        },
    )
    def patch(self, request: Request) -> Response:
        serializer = UserUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=serializer.validated_data)
        return Response(UserOutputSerializer(user).data)


@extend_schema_view(
    list=extend_schema(summary="The signed-in user's addresses"),
    create=extend_schema(
        summary="Add an address",
        description="The first address of a kind becomes its default; a new default replaces the old one.",
    ),
    retrieve=extend_schema(summary="One of the signed-in user's addresses"),
    partial_update=extend_schema(summary="Change an address"),
    destroy=extend_schema(summary="Remove an address"),
)
@extend_schema(tags=["me"])
class AddressViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Shipping and billing addresses of the signed-in user; another user's id is a 404."""

    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Address.objects.none()

    def get_queryset(self) -> QuerySet[Address]:
        if getattr(self, "swagger_fake_view", False):
            return Address.objects.none()
        return selectors.address_list_for_user(user=self.request.user)

    def get_object(self) -> Address:
        return selectors.address_get_for_user(user=self.request.user, address_id=self.kwargs["pk"])

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in {"create", "partial_update"}:
            return AddressInputSerializer
        return AddressOutputSerializer

    @extend_schema(
        request=AddressInputSerializer,
        responses={
            201: AddressOutputSerializer,
            **invalid_input(f"{COUNTRY_RULE}; `errors.phone`: not a phone number."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AddressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = services.address_create(user=request.user, data=serializer.validated_data)
        return Response(AddressOutputSerializer(address).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AddressInputSerializer,
        responses={
            200: AddressOutputSerializer,
            **invalid_input(f"{COUNTRY_RULE}; `errors.phone`: not a phone number."),
        },
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        address = self.get_object()
        serializer = AddressInputSerializer(address, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        address = services.address_update(address=address, data=serializer.validated_data)
        return Response(AddressOutputSerializer(address).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.address_delete(address=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
