"""Writes to carts. Every write touches the cart (for the purge) and drops its cached copy."""

from django.db import transaction

from .models import Cart


def cart_clear(*, cart: Cart) -> None:
    """Remove every line of ``cart``; the cart itself stays, empty."""
    with transaction.atomic():
        cart.lines.all().delete()
        cart.save(update_fields=["updated_at"])
