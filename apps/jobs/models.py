from django.conf import settings
from django.db import models


class FailedTask(models.Model):
    """A Celery task that failed for good: its retries spent, or an error it does not retry.

    The dead-letter record of the shop: what ran, with what, where, and how it failed, so that
    staff see it in the admin and can run it again once the cause is fixed (every task is safe to
    run twice). One row per failed run; running it again makes a new message, and a new row if
    that one fails too.
    """

    task_id = models.CharField(max_length=64, db_index=True)
    task_name = models.CharField(max_length=200, db_index=True)
    queue = models.CharField(max_length=200, blank=True)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    retries = models.PositiveIntegerField(
        default=0, help_text="Retries made before it gave up (the last time)."
    )
    occurrences = models.PositiveIntegerField(default=1, help_text="Times it failed while this row was open.")
    exception = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    first_failed_at = models.DateTimeField(auto_now_add=True)
    failed_at = models.DateTimeField(db_index=True, help_text="The last failure.")
    rerun_at = models.DateTimeField(null=True, blank=True, help_text="When staff ran it again.")
    rerun_task_id = models.CharField(max_length=64, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-failed_at", "-pk"]
        indexes = [models.Index(fields=["resolved_at", "-failed_at"], name="jobs_failed_open_idx")]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.task_id}]: {self.exception}"
