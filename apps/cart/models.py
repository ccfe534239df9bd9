from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bookstore.models import TimeStampedModel

MAX_LINE_QUANTITY = 99


class Cart(TimeStampedModel):
    """A customer's one cart, or an anonymous visitor's (found by its random ``token``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="cart", on_delete=models.CASCADE
    )
    token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(token__isnull=False),
                name="cart_cart_has_owner",
            )
        ]
        indexes = [models.Index(fields=["user", "updated_at"])]

    def __str__(self) -> str:
        return f"cart {self.pk} ({self.user or 'anonymous'})"


class CartLine(TimeStampedModel):
    """A book in a cart, with the price it had when it was added (to flag a change)."""

    cart = models.ForeignKey(Cart, related_name="lines", on_delete=models.CASCADE)
    book = models.ForeignKey("catalog.Book", related_name="+", on_delete=models.CASCADE)
    quantity = models.PositiveSmallIntegerField()
    price_when_added = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "book"], name="cart_line_one_per_book"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=MAX_LINE_QUANTITY),
                name="cart_line_quantity_range",
            ),
        ]
