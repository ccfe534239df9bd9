"""The dead-letter path: a task that keeps failing is retried with backoff, then logged and
recorded for the staff, who see it in the admin and run it again once the cause is fixed."""

import logging
import time

import pytest
from django.contrib.auth.models import Group

from apps.accounts.tasks import RETRY_OPTIONS, verification_email_send
from apps.jobs.models import FailedTask
from bookstore.celery import app as celery_app
from tests.accounts.mailers import FlakyBackend
from tests.factories import UserFactory
from tests.services import requires_broker, requires_postgres
from tests.workers import celery_worker, queues_of_the_test

FLAKY = {"default": {"BACKEND": "tests.accounts.mailers.FlakyBackend"}}
ADMIN_LIST = "/admin/jobs/failedtask/"


@pytest.fixture
def failing_mail(settings):
    """The mail server drops every connection until the test says otherwise."""
    settings.MAILERS = FLAKY
    FlakyBackend.failures, FlakyBackend.attempts = 10**6, 0
    # In-process runs re-raise a retry instead of running it unless propagation is off, as a
    # worker has it.
    celery_app.conf.task_eager_propagates = False
    yield FlakyBackend
    celery_app.conf.task_eager_propagates = True
    FlakyBackend.failures, FlakyBackend.attempts = 0, 0


def _send_verification(customer):
    result = verification_email_send.delay(customer.pk, customer.email)
    assert result.state == "FAILURE"


@pytest.fixture
def customer(db):
    return UserFactory(email="ada@example.com", is_active=False, email_verified=False)


def test_a_task_that_keeps_failing_is_retried_then_recorded_and_logged(customer, failing_mail, caplog):
    with caplog.at_level(logging.ERROR, logger="apps.jobs"):
        _send_verification(customer)

    assert failing_mail.attempts == 1 + RETRY_OPTIONS["max_retries"]
    [failed] = FailedTask.objects.all()
    assert failed.task_name == "apps.accounts.tasks.verification_email_send"
    assert failed.args == [customer.pk, "ada@example.com"]
    assert failed.retries == RETRY_OPTIONS["max_retries"]
    assert failed.exception == "smtplib.SMTPServerDisconnected"
    assert failed.message == "Connection unexpectedly closed"
    assert "SMTPServerDisconnected" in failed.traceback
    assert failed.rerun_at is None
    assert failed.resolved_at is None
    [line] = [r for r in caplog.records if r.name == "apps.jobs.services"]
    assert "verification_email_send" in line.getMessage()
    assert "failed for good after 6 retries" in line.getMessage()


def test_the_same_task_failing_again_counts_on_its_open_record(customer, failing_mail):
    _send_verification(customer)
    _send_verification(customer)
    other = UserFactory(email="bea@example.com", is_active=False, email_verified=False)
    _send_verification(other)

    records = {failed.args[1]: failed for failed in FailedTask.objects.all()}
    assert sorted(records) == ["ada@example.com", "bea@example.com"]
    assert records["ada@example.com"].occurrences == 2
    assert records["ada@example.com"].failed_at > records["ada@example.com"].first_failed_at
    assert records["bea@example.com"].occurrences == 1


def test_a_task_that_succeeds_after_a_retry_leaves_no_record(customer, failing_mail, mailoutbox):
    failing_mail.failures = 2

    verification_email_send.delay(customer.pk, customer.email)

    assert len(mailoutbox) == 1
    assert not FailedTask.objects.exists()


def _administrator(client):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(staff)
    return staff


def test_staff_see_the_failed_task_and_run_it_again_once_the_cause_is_fixed(
    client, customer, failing_mail, mailoutbox, django_capture_on_commit_callbacks
):
    _send_verification(customer)
    [failed] = FailedTask.objects.all()
    _administrator(client)

    listing = client.get(ADMIN_LIST, {"state": "open"})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert "apps.accounts.tasks.verification_email_send" in listing.text
    assert "smtplib.SMTPServerDisconnected" in listing.text
    assert client.get(f"{ADMIN_LIST}{failed.pk}/change/").status_code == 200

    failing_mail.failures = 0  # the mail server is back
    action = {"action": "rerun", "_selected_action": [failed.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADMIN_LIST, action, follow=True)

    assert response.status_code == 200
    assert "1 task(s) sent again." in response.text
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    failed.refresh_from_db()
    assert failed.rerun_at is not None
    assert failed.rerun_task_id
    assert client.get(ADMIN_LIST, {"state": "open"}).context["cl"].result_count == 0
    assert client.get(ADMIN_LIST, {"state": "rerun"}).context["cl"].result_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(ADMIN_LIST, action, follow=True)
    assert "0 task(s) sent again." in again.text
    assert len(mailoutbox) == 1


def test_staff_mark_a_failure_resolved(
    client, customer, failing_mail, mailoutbox, django_capture_on_commit_callbacks
):
    _send_verification(customer)
    [failed] = FailedTask.objects.all()
    staff = _administrator(client)

    response = client.post(ADMIN_LIST, {"action": "resolve", "_selected_action": [failed.pk]}, follow=True)

    assert "1 failure(s) marked resolved." in response.text
    failed.refresh_from_db()
    assert failed.resolved_by == staff
    assert failed.resolved_at is not None
    failing_mail.failures = 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ADMIN_LIST, {"action": "rerun", "_selected_action": [failed.pk]})
    assert mailoutbox == []


def test_failed_tasks_cannot_be_added_or_deleted_by_administrators(client, db):
    _administrator(client)

    assert client.get(f"{ADMIN_LIST}add/").status_code == 403


@requires_postgres
@requires_broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_records_what_fails_on_its_queue(api_client, monkeypatch, tmp_path):
    """A worker whose mail backend is misconfigured (an error no retry mends): the registration
    email fails at once, and the worker records it, with its queue, for the staff."""
    queues = queues_of_the_test(monkeypatch)
    broken = {"EMAIL_BACKEND": "bookstore.no_such_module.EmailBackend"}
    with celery_worker(queue=queues, folder=tmp_path, kinds=("emails",), env=broken) as (_, log_path):
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "grace@example.com", "password": "a-long-enough-password", "first_name": "Grace"},
        )
        assert response.status_code == 201, response.content
        deadline = time.monotonic() + 60
        while not FailedTask.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.5)

    failed = FailedTask.objects.get()
    assert failed.task_name == "apps.accounts.tasks.verification_email_send", log_path.read_text()
    assert failed.queue == queues["emails"]
    assert failed.args[1] == "grace@example.com"
    assert failed.retries == 0
    assert "no_such_module" in failed.message
    assert "failed for good" in log_path.read_text()
