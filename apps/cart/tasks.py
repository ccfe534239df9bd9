from celery import shared_task

from .services import cart_purge_anonymous as _cart_purge_anonymous


@shared_task(name="apps.cart.tasks.cart_purge_anonymous")
def cart_purge_anonymous() -> int:
    """Periodic (beat): delete anonymous carts untouched for 30 days. Safe to run twice."""
    return _cart_purge_anonymous()
