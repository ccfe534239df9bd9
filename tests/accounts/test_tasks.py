"""The accounts emails: sent by Celery tasks after commit, retried on transient failures."""

import smtplib

import pytest

from apps.accounts import tasks
from apps.accounts.models import User
from apps.accounts.tokens import password_reset_tokens, token_user
from bookstore.celery import app as celery_app
from tests.factories import UserFactory

from .conftest import link_token
from .mailers import FlakyBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky_mailer(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.accounts.mailers.FlakyBackend"}}
    FlakyBackend.attempts = 0
    # In-process runs re-raise a retry instead of running it unless propagation is off, as a
    # worker has it.
    celery_app.conf.task_eager_propagates = False
    yield FlakyBackend
    celery_app.conf.task_eager_propagates = True
    FlakyBackend.failures = 0


def test_reset_email_is_retried_until_the_mail_server_answers(flaky_mailer, outbox, user):
    flaky_mailer.failures = 2
    result = tasks.password_reset_email_send.apply(args=[user.pk])
    assert result.state == "SUCCESS"
    assert flaky_mailer.attempts == 3
    assert len(outbox) == 1
    token = link_token(outbox[0], "/accounts/password-reset/confirm/")
    assert token_user(password_reset_tokens, token) == user


def test_email_task_gives_up_after_its_retries(flaky_mailer, outbox, user):
    flaky_mailer.failures = 100
    result = tasks.verification_email_send.apply(args=[user.pk, user.email])
    # The account is verified already: nothing to send, no attempt made.
    assert result.state == "SUCCESS"
    assert flaky_mailer.attempts == 0

    pending = UserFactory(is_active=False, email_verified=False)
    result = tasks.verification_email_send.apply(args=[pending.pk, pending.email])
    assert result.state == "FAILURE"
    assert isinstance(result.result, smtplib.SMTPServerDisconnected)
    assert flaky_mailer.attempts == 1 + tasks.RETRY_OPTIONS["max_retries"]
    assert outbox == []


def test_tasks_for_a_deleted_user_do_nothing(outbox, user):
    user_id = user.pk
    user.delete()
    tasks.password_reset_email_send.delay(user_id)
    tasks.verification_email_send.delay(user_id, "x@example.com")
    assert outbox == []


def test_reset_task_sends_nothing_once_the_account_is_disabled(outbox, user):
    user.is_active = False
    user.save()
    tasks.password_reset_email_send.delay(user.pk)
    assert outbox == []


def test_a_mail_outage_does_not_fail_the_registration(
    settings, api_client, django_capture_on_commit_callbacks, caplog
):
    settings.MAILERS = {"default": {"BACKEND": "tests.accounts.mailers.FlakyBackend"}}
    FlakyBackend.attempts = 0
    FlakyBackend.failures = 100
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post(
                "/api/v1/auth/register/", {"email": "zoe@example.com", "password": "Lecture-du-soir-2026"}
            )
    finally:
        FlakyBackend.failures = 0
    assert response.status_code == 201
    assert FlakyBackend.attempts >= 1
    assert User.objects.filter(email="zoe@example.com", is_active=False).exists()
    [logged] = [record for record in caplog.records if "in on_commit()" in record.getMessage()]
    assert logged.levelname == "ERROR"
