"""Thin Celery tasks: each takes ids (or nothing), calls one service and is safe to run twice.

Tasks are acknowledged late (``CELERY_TASK_ACKS_LATE``): a worker that dies mid-task leaves the
message to another, which is why every service here is idempotent. Provider calls that fail on
the way (``GatewayError``) are retried with backoff, with the same idempotency keys; a task that
still fails is recorded for the staff (``apps.jobs``). The payment tasks go to the ``payments``
queue (``CELERY_TASK_ROUTES``), whose worker takes one message at a time
(``--prefetch-multiplier 1``), and say ``acks_late`` themselves: it must hold for them whatever
the default becomes.
"""

from smtplib import SMTPException

from celery import shared_task
from celery.signals import worker_ready

from . import services
from .payments import GatewayError


@shared_task(autoretry_for=(OSError, SMTPException), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def outbox_email_send(email_id: int) -> bool:
    return services.outbox_email_send(email_id=email_id)


@shared_task
def outbox_emails_relay() -> int:
    return services.outbox_emails_relay()


@shared_task
def orders_expire_unpaid() -> int:
    return services.orders_expire_unpaid()


PAYMENT_TASK = {"acks_late": True}
PAYMENT_RETRIES = {"autoretry_for": (GatewayError, OSError), "retry_backoff": True, "retry_backoff_max": 600}


@shared_task(**PAYMENT_TASK, **PAYMENT_RETRIES, max_retries=8)
def payment_event_process(event_id: int) -> str:
    return services.payment_event_process(event_id=event_id)


@shared_task(**PAYMENT_TASK)
def payment_events_relay() -> int:
    return services.payment_events_relay()


@shared_task(**PAYMENT_TASK, **PAYMENT_RETRIES, max_retries=5)
def payment_cancel_at_provider(payment_id: int) -> str:
    return services.payment_cancel_at_provider(payment_id=payment_id)


@shared_task(**PAYMENT_TASK)
def payments_reconcile_due() -> int:
    return len(services.payments_reconcile_due())


@worker_ready.connect
def relay_on_worker_start(sender: object = None, **kwargs: object) -> None:
    """A worker that starts sends what waited while none ran (the broker down, beat stopped):
    pending order emails and webhook events do not wait for beat's next round."""
    outbox_emails_relay.delay()
    payment_events_relay.delay()
