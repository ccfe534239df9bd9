"""API shapes of the accounts app: input serializers list exactly what a client may send,
output serializers exactly what it may see."""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from bookstore.api.authentication import ShopRefreshToken

from .exceptions import AccountInactive, AccountLocked, EmailNotVerified
from .lockout import login_failure_record, login_failures_clear, login_locked
from .models import Address, User
from .selectors import user_inactive_reason

# --- Authentication -----------------------------------------------------------------------


class TokenObtainInputSerializer(TokenObtainPairSerializer):
    """Email and password → a token pair; says clearly why a right password is not enough."""

    token_class = ShopRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        email = attrs.get("email", "")
        if login_locked(email=email):
            raise AccountLocked(
                "Too many failed sign-ins for this address: try again in a while, or reset the password."
            )
        try:
            tokens = super().validate(attrs)
        except AuthenticationFailed:
            login_failure_record(email=email)
            # Only someone who knows the password learns that the account is inactive.
            reason = user_inactive_reason(email=email, password=attrs.get("password", ""))
            if reason == "email_not_verified":
                raise EmailNotVerified(
                    "Confirm your email address with the link we sent you before signing in."
                ) from None
            if reason == "account_disabled":
                raise AccountInactive("This account has been disabled. Contact the shop.") from None
            raise
        login_failures_clear(email=email)
        return tokens


class TokenRefreshInputSerializer(TokenRefreshSerializer):
    token_class = ShopRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except User.DoesNotExist:
            # The account was deleted since the token was issued.
            raise AuthenticationFailed(
                "No active account found for the given token.", "no_active_account"
            ) from None


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, max_length=128)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class TokenInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token from the emailed link (`?token=`).")


class EmailInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token from the emailed link (`?token=`).")
    new_password = serializers.CharField(style={"input_type": "password"}, max_length=128)


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(style={"input_type": "password"}, max_length=128)
    new_password = serializers.CharField(style={"input_type": "password"}, max_length=128)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- Profile ------------------------------------------------------------------------------


class _NullableEmailField(serializers.EmailField):
    """An address, or null when there is none (the column stores "")."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class UserOutputSerializer(serializers.ModelSerializer):
    pending_email = _NullableEmailField(
        allow_null=True,
        read_only=True,
        help_text="The new address waiting for verification, or null when no change is pending.",
    )

    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name", "email_verified", "pending_email", "date_joined")
        read_only_fields = fields


class UserUpdateInputSerializer(serializers.Serializer):
    """The fields a customer may change on their profile; anything else sent is ignored."""

    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(
        max_length=254,
        required=False,
        help_text="A new address is applied only once verified: it shows in `pending_email` until then.",
    )


# --- Addresses ----------------------------------------------------------------------------


class AddressOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = (
            "id",
            "kind",
            "name",
            "line1",
            "line2",
            "postal_code",
            "city",
            "country",
            "phone",
            "is_default",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class AddressInputSerializer(serializers.ModelSerializer):
    """Writable address fields; the model's validators (country code, phone) apply."""

    country = serializers.CharField(
        max_length=2, min_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. FR (case-insensitive)."
    )

    class Meta:
        model = Address
        fields = ("kind", "name", "line1", "line2", "postal_code", "city", "country", "phone", "is_default")

    def validate_country(self, value: str) -> str:
        from .models import validate_country_code

        value = value.strip().upper()
        validate_country_code(value)
        return value
