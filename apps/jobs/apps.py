from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "jobs"
    verbose_name = _("Background tasks")

    def ready(self) -> None:
        from celery.signals import task_failure

        from .services import task_failure_received

        task_failure.connect(task_failure_received, dispatch_uid="jobs.task_failure_received", weak=False)
