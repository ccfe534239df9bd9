"""Liveness and readiness probes for the load balancer and the orchestrator.

``HealthCheckMiddleware`` answers them before host validation and the HTTPS redirect:
probes call the container by its address over plain HTTP (the Dockerfile's HEALTHCHECK
does), which ``ALLOWED_HOSTS`` and ``SECURE_SSL_REDIRECT`` would otherwise refuse.
"""

import logging
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

from .replicas import replicas_report

logger = logging.getLogger(__name__)


# The probe's own connection gives up sooner than a request's: a load balancer asks often.
PROBE_DATABASE_TIMEOUT = 1


def _check_database() -> None:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
        connect_timeout=PROBE_DATABASE_TIMEOUT,
    ) as probe:
        probe.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("readyz", "ok", timeout=5)
    if cache.get("readyz") != "ok":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answering; nothing else is checked."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Database, cache and broker are reachable; 503 naming the ones that are not. Read
    replicas are listed with their state, and those not serving under ``degraded``."""
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.warning("Readiness check %s failed", name, exc_info=True)
            checks[name] = "unavailable"
        else:
            checks[name] = "ok"
    failed = [name for name, result in checks.items() if result != "ok"]
    body: dict = {"status": "unavailable" if failed else "ok"}
    if failed:
        body["failed"] = failed
    body["checks"] = checks
    # A replica down or lagging is named but does not fail the probe: the primary serves.
    replicas = replicas_report()
    if replicas:
        body["replicas"] = replicas
        body["degraded"] = [alias for alias, state in replicas.items() if state != "ok"]
    return JsonResponse(body, status=503 if failed else 200)


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path)
        if probe is not None and request.method in {"GET", "HEAD"}:
            return probe(request)
        return self.get_response(request)
