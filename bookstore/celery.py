"""The Celery application.

Configuration comes from Django's settings (the ``CELERY_`` namespace). Without
``CELERY_BROKER_URL`` the embedded defaults run every task eagerly in the calling process;
with it, tasks go to the broker and a worker runs them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookstore.settings")

app = Celery("bookstore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
