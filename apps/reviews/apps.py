from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def author_active_changed(sender: Any, user: Any, active: bool, **kwargs: Any) -> None:
    """A deactivated customer's reviews stay, hidden, and leave their books' ratings."""
    from .services import reviews_author_visibility_changed

    reviews_author_visibility_changed(user=user)


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        from apps.accounts.signals import user_active_changed

        user_active_changed.connect(author_active_changed, dispatch_uid="reviews.author_active_changed")
