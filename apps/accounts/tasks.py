"""Celery tasks of the accounts app: the emails, sent after the transaction that asked for them.

Each takes a user id (and plain values), loads the row, returns quietly when it is gone, and
calls one service.
Transient failures of the mail backend (network, SMTP, the ESP's API) are retried with an
exponential backoff; a task run twice sends at most a duplicate of a still valid link.
"""

import logging

from anymail.exceptions import AnymailAPIError
from celery import shared_task

from . import services
from .models import User

logger = logging.getLogger(__name__)

# OSError covers connection errors and every smtplib.SMTPException.
TRANSIENT_EMAIL_ERRORS = (OSError, AnymailAPIError)
RETRY_OPTIONS = {
    "autoretry_for": TRANSIENT_EMAIL_ERRORS,
    "retry_backoff": 30,
    # Under RabbitMQ's consumer_timeout (30 minutes): a worker holds a retry's message unacknowledged
    # until it is due, and RabbitMQ closes the channel of one held longer.
    "retry_backoff_max": 60 * 15,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(**RETRY_OPTIONS)
def verification_email_send(user_id: int, address: str) -> None:
    """``address``: the one to verify when the request was made (stale requests send nothing)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.info("verification email: user %s is gone", user_id)
        return
    services.verification_email_send(user=user, address=address)


@shared_task(**RETRY_OPTIONS)
def password_reset_email_send(user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.info("password reset email: user %s is gone", user_id)
        return
    services.password_reset_email_send(user=user)


@shared_task(**RETRY_OPTIONS)
def account_exists_email_send(user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.info("account exists email: user %s is gone", user_id)
        return
    services.account_exists_email_send(user=user)
