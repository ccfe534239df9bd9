"""Markers for tests that need a real service: skipped only when its URL is not set.

CI sets every URL and fails the run on any skip (BOOKSTORE_FORBID_SKIPS).
"""

import pytest
from django.conf import settings

requires_postgres = pytest.mark.skipif(
    not settings.USING_POSTGRES, reason="needs PostgreSQL: set DATABASE_URL=postgres://…"
)
requires_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: set REDIS_URL=redis://…")
requires_broker = pytest.mark.skipif(
    settings.CELERY_BROKER_URL.startswith("memory://"),
    reason="needs a Celery broker: set CELERY_BROKER_URL=redis://…",
)
