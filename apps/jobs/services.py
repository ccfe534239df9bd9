"""The dead-letter path of the background tasks.

A task that fails for good (its retries spent, or an error it does not retry) is logged on
``apps.jobs`` and recorded as a ``FailedTask``, which the admin lists for the staff; they run it
again once the cause is fixed (every task is safe to run twice) or mark it resolved. The record
is made by the process that ran the task, on whatever broker (Redis, RabbitMQ, or none: the
embedded default runs tasks eagerly and records their failures the same way), so nothing
depends on a broker feature such as RabbitMQ's dead-letter exchanges.
"""

import json
import logging
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any

from celery import current_app
from django.db import DatabaseError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from apps.accounts.models import User

from .models import FailedTask

logger = logging.getLogger(__name__)

TRACEBACK_MAX_CHARS = 20_000


def _plain(value: Any) -> Any:
    """``value`` as JSON would carry it (tasks take ids and plain values; anything else as text)."""
    return json.loads(json.dumps(value, default=str))


def failed_task_record(
    *,
    task_id: str,
    task_name: str,
    queue: str,
    args: Iterable[Any],
    kwargs: dict[str, Any],
    retries: int,
    exception: BaseException,
    traceback: str = "",
) -> FailedTask:
    """Record a task that failed for good, for the staff to see and run again: a new row, or the
    open one of the same task and arguments, counted once more with this failure's details."""
    details = {
        "task_id": task_id,
        "queue": queue,
        "retries": retries,
        "exception": f"{type(exception).__module__}.{type(exception).__qualname__}"[:200],
        "message": str(exception),
        "traceback": traceback[-TRACEBACK_MAX_CHARS:],
        "failed_at": timezone.now(),
    }
    args_plain, kwargs_plain = _plain(list(args)), _plain(dict(kwargs))
    with transaction.atomic():
        same = (
            FailedTask.objects.select_for_update()
            .filter(
                task_name=task_name, args=args_plain, kwargs=kwargs_plain, resolved_at=None, rerun_at=None
            )
            .first()
        )
        if same is None:
            return FailedTask.objects.create(
                task_name=task_name, args=args_plain, kwargs=kwargs_plain, **details
            )
        for name, value in details.items():
            setattr(same, name, value)
        same.occurrences = F("occurrences") + 1
        same.save()
        same.refresh_from_db(fields=["occurrences"])
        return same


def task_failure_received(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Iterable[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    einfo: Any = None,
    **extra: Any,
) -> None:
    """Celery's ``task_failure`` (sent once a task will not be retried): log it, record it.

    The log line comes first and stands alone: when the record cannot be written (the database
    being what failed), the log is what is left."""
    request = getattr(sender, "request", None)
    name = getattr(sender, "name", "") or "?"
    retries = int(getattr(request, "retries", 0) or 0)
    delivery = getattr(request, "delivery_info", None) or {}
    queue = str(delivery.get("routing_key") or ("" if getattr(request, "is_eager", False) else "?"))
    logger.error(
        "task %s [%s] failed for good after %d retries on queue %r: %s: %s",
        name,
        task_id,
        retries,
        queue,
        type(exception).__name__,
        exception,
    )
    try:
        failed_task_record(
            task_id=task_id or "",
            task_name=name,
            queue=queue,
            args=args or (),
            kwargs=kwargs or {},
            retries=retries,
            exception=exception if exception is not None else RuntimeError("unknown"),
            traceback=str(einfo or ""),
        )
    except DatabaseError:
        logger.exception("task %s [%s]: its failure could not be recorded", name, task_id)


def _task(name: str) -> Any:
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def _send_again(task: Any, failed: FailedTask) -> None:
    task.apply_async(args=failed.args, kwargs=failed.kwargs, task_id=failed.rerun_task_id)


def failed_tasks_rerun(*, failed_tasks: QuerySet[FailedTask]) -> list[FailedTask]:
    """Send each of these tasks again, with the same arguments, to its queue (after commit).

    Resolved ones and ones already run again are left alone: a second click sends nothing more.
    Returns those sent."""
    sent = []
    with transaction.atomic():
        for failed in failed_tasks.select_for_update().filter(resolved_at=None, rerun_at=None):
            task = _task(failed.task_name)
            failed.rerun_task_id = str(uuid.uuid4())
            failed.rerun_at = timezone.now()
            failed.save(update_fields=["rerun_task_id", "rerun_at"])
            transaction.on_commit(partial(_send_again, task, failed), robust=True)
            sent.append(failed)
    return sent


def failed_tasks_resolve(*, failed_tasks: QuerySet[FailedTask], by: User) -> int:
    """Mark these failures dealt with (by hand, or made moot); they leave the open list."""
    return failed_tasks.filter(resolved_at=None).update(resolved_at=timezone.now(), resolved_by=by)
