from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookstore.models import TimeStampedModel

from .countries import COUNTRY_CODES


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        # Email is the login name, and it is matched without regard to case.
        return self.get(email__iexact=username)

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        # An operator creating an administrator vouches for the address.
        extra_fields.setdefault("email_verified", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or an administrator (``is_staff``), who signs in with an email address."""

    # Unique as typed (Django requires it of the login field) and, through the constraint
    # below, unique whatever the case.
    email = models.EmailField(_("email address"), max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Designates whether the user can sign in to the admin site."
    )
    is_active = models.BooleanField(default=True, help_text="Unselect this instead of deleting the account.")
    # Registration creates inactive, unverified accounts; following the emailed link sets both.
    email_verified = models.BooleanField(
        default=False, help_text="The owner proved they receive mail at this address."
    )
    # An email change takes effect only once the new address is verified; until then the old
    # address stays the login and the new one waits here.
    pending_email = models.EmailField(
        _("new email address awaiting verification"), max_length=254, blank=True, default=""
    )
    # Set by an administrator's deactivation (``services.user_deactivate``), cleared by a
    # reactivation. ``is_active`` alone cannot say it: an account that has not verified its
    # address yet is inactive too, and following its link would activate it.
    deactivated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When an administrator disabled the account; no link can activate it meanwhile.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with that email address already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(deactivated_at__isnull=True) | models.Q(is_active=False),
                name="accounts_user_deactivated_is_inactive",
                violation_error_message="A deactivated account cannot be active: reactivate it instead.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 .()-]{4,22}[0-9]$",
    _("Enter a phone number: digits, optionally a leading + and spaces, dots, dashes or brackets."),
)


def validate_country_code(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-2 country code (e.g. FR, BE, CH)."),
            code="invalid_country",
            params={"value": value},
        )


class Address(TimeStampedModel):
    """A shipping or billing address of a user; at most one default of each kind per user."""

    class Kind(models.TextChoices):
        SHIPPING = "shipping", _("Shipping")
        BILLING = "billing", _("Billing")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="addresses", on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(_("full name"), max_length=150)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True, default="")
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(
        max_length=2, validators=[validate_country_code], help_text="ISO 3166-1 alpha-2 code, e.g. FR."
    )
    phone = models.CharField(max_length=32, blank=True, default="", validators=[phone_validator])
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["kind", "-is_default", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=models.Q(is_default=True),
                name="accounts_address_one_default_per_kind",
                violation_error_message="This user already has a default address of this kind.",
            ),
        ]
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}, {self.postal_code} {self.city}, {self.country}"
