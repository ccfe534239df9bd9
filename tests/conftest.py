import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from bookstore import cache as bookstore_cache
from bookstore.celery import app as celery_app

from .factories import UserFactory

# --- CI guard: no test may be skipped where every service is configured ----------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not os.environ.get("BOOKSTORE_FORBID_SKIPS"):
        return
    if _skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"BOOKSTORE_FORBID_SKIPS is set and {len(_skipped)} test(s) were skipped: "
                + ", ".join(_skipped[:10]),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- Isolation ------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(worker_id: str):
    """Give each xdist worker its own Redis database, so clearing one never hits another."""
    if not settings.REDIS_URL:
        yield
        return
    # Worker n uses database base+1+n, where base is the one REDIS_URL names: two test runs
    # on one Redis stay apart by giving them different bases (CI: 0 → 1, 2).
    index = int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0
    parts = urlsplit(settings.REDIS_URL)
    base = int(parts.path.strip("/") or 0)
    location = urlunsplit(parts._replace(path=f"/{base + 1 + index}"))
    caches = {"default": {**settings.CACHES["default"], "LOCATION": location}}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    # And what this process remembers of the entries it read (bookstore/cache.py): every test
    # starts as a process that has read none.
    bookstore_cache._depends.clear()
    return


@pytest.fixture(scope="session", autouse=True)
def _links_from_frontend_url():
    """Links point at ``FRONTEND_URL`` whatever host a test's client names (the development
    behaviour of following the request's host is tested on its own: tests/core/test_links.py)."""
    with override_settings(FRONTEND_URL_FROM_REQUEST=False):
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """LocaleMiddleware leaves a request's language active in the thread after the response: a
    test asking for English must not make the next one's emails English. Each test starts and
    ends with no language active, that is in ``LANGUAGE_CODE`` (French)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Argon2 is slow by design; tests that are about hashing restore it themselves."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _celery_eager():
    """Tests run tasks in-process, also when CELERY_BROKER_URL names a real broker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    return


# --- Clients and users ----------------------------------------------------------------------


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple"


@pytest.fixture
def user(db, password):
    return UserFactory(password=password)


@pytest.fixture
def staff_user(db, password):
    return UserFactory(password=password, is_staff=True)


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(staff_user)
    return client
