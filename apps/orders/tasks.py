"""Thin Celery tasks: each takes ids (or nothing), calls one service and is safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(autoretry_for=(OSError, SMTPException), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def outbox_email_send(email_id: int) -> bool:
    return services.outbox_email_send(email_id=email_id)


@shared_task
def outbox_emails_relay() -> int:
    return services.outbox_emails_relay()


@shared_task
def orders_expire_unpaid() -> int:
    return services.orders_expire_unpaid()
