"""Tasks by kind on their own queues, on RabbitMQ and on Redis; a real worker runs them."""

import time
from pathlib import Path

import pytest
from django.conf import settings

from apps.accounts.tasks import account_exists_email_send, password_reset_email_send, verification_email_send
from apps.cart.tasks import cart_purge_anonymous
from apps.catalog.tasks import book_cover_fetch, book_cover_thumbnails_make
from apps.orders import tasks as orders_tasks
from apps.reviews.tasks import review_moderated_email_send
from bookstore.celery import app as celery_app
from tests.services import requires_broker, requires_postgres, requires_redis
from tests.workers import broker_queues, celery_worker, queues_of_the_test

# Every task of the shop and the queue it belongs on, with arguments it accepts.
ROUTES = [
    (orders_tasks.payment_event_process, (1,), "payments"),
    (orders_tasks.payment_events_relay, (), "payments"),
    (orders_tasks.payment_cancel_at_provider, (1,), "payments"),
    (orders_tasks.payments_reconcile_due, (), "payments"),
    (orders_tasks.outbox_email_send, (1,), "emails"),
    (orders_tasks.outbox_emails_relay, (), "emails"),
    (verification_email_send, (1, "a@example.com"), "emails"),
    (password_reset_email_send, (1,), "emails"),
    (account_exists_email_send, (1,), "emails"),
    (review_moderated_email_send, (1, "published"), "emails"),
    (book_cover_thumbnails_make, (1,), "covers"),
    (book_cover_fetch, (1, "https://covers.example/1.jpg"), "imports"),
    (orders_tasks.orders_expire_unpaid, (), "default"),
    (cart_purge_anonymous, (), "default"),
]


def test_every_task_of_the_shop_has_its_queue_here():
    """A new task is placed on a queue on purpose: this table (and the settings' routes) say which."""
    celery_app.loader.import_default_modules()
    shop_tasks = {name for name in celery_app.tasks if not name.startswith("celery.")}
    assert shop_tasks == {task.name for task, _, _ in ROUTES}


@pytest.mark.parametrize(("task", "args", "kind"), ROUTES, ids=[task.name for task, _, _ in ROUTES])
def test_the_settings_route_each_task_to_its_queue(task, args, kind):
    options = celery_app.amqp.router.route({}, task.name, args, {})

    assert options["queue"].name == settings.TASK_QUEUES[kind] == kind


def test_a_plain_worker_consumes_every_queue():
    """``make worker`` (no -Q) consumes all the queues the settings declare."""
    assert [queue.name for queue in celery_app.conf.task_queues] == list(settings.TASK_QUEUES.values())


def test_payment_tasks_are_acknowledged_late():
    for task, _, kind in ROUTES:
        if kind == "payments":
            assert task.acks_late is True, task.name


def _brokers() -> list:
    brokers = [pytest.param(settings.CELERY_BROKER_URL, id="configured-broker", marks=requires_broker)]
    brokers.append(pytest.param(settings.REDIS_URL, id="redis", marks=requires_redis))
    return brokers


@pytest.mark.parametrize("broker_url", _brokers())
def test_each_task_lands_on_its_own_queue_of_the_broker(broker_url, monkeypatch):
    """Sent through a real broker (RabbitMQ in CI, and Redis), each message waits on its queue."""
    queues = queues_of_the_test(monkeypatch)
    with broker_queues(queues, url=broker_url) as connection:
        for task, args, _ in ROUTES:
            task.apply_async(args, connection=connection)

        landed: dict[str, list[str]] = {kind: [] for kind in settings.TASK_QUEUES}
        for kind in landed:
            queue = queues.kombu_queue(kind).bind(connection.default_channel)
            deadline = time.monotonic() + 10
            while len(landed[kind]) < sum(1 for *_, k in ROUTES if k == kind) and time.monotonic() < deadline:
                message = queue.get(no_ack=True)
                if message is None:
                    time.sleep(0.05)
                    continue
                landed[kind].append(message.headers["task"])

    assert landed == {
        kind: [task.name for task, _, k in ROUTES if k == kind] for kind in settings.TASK_QUEUES
    }


@requires_postgres
@requires_broker
@pytest.mark.django_db(transaction=True)
def test_registration_email_is_sent_by_the_email_worker_through_the_broker(api_client, monkeypatch, tmp_path):
    queues = queues_of_the_test(monkeypatch)
    with celery_worker(queue=queues, folder=tmp_path, kinds=("emails",)) as (mail_dir, log_path):
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "worker@example.com", "password": "a-long-enough-password", "first_name": "Ada"},
        )
        assert response.status_code == 201, response.content

        deadline = time.monotonic() + 60
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            time.sleep(0.5)
            files = list(mail_dir.iterdir())
    assert len(files) == 1, f"the worker sent no email within 60 s; its log:\n{log_path.read_text()}"
    message = files[0].read_text()
    assert "To: worker@example.com" in message
    assert "/accounts/verify-email/?token=" in message
