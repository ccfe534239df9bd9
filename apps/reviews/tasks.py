"""Celery tasks of the reviews app: the moderation emails, sent after the decision commits."""

import logging

from celery import shared_task

from apps.accounts.tasks import RETRY_OPTIONS

from . import services
from .models import Review

logger = logging.getLogger(__name__)


@shared_task(**RETRY_OPTIONS)
def review_moderated_email_send(review_id: int, status: str) -> bool:
    review = Review.objects.select_related("user", "book").filter(pk=review_id).first()
    if review is None:
        logger.info("review moderation email: review %s is gone", review_id)
        return False
    return services.review_moderated_email_send(review=review, status=status)
