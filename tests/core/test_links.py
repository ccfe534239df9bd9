"""In development, links in emails and the dummy pay page point at the server that made them."""

import re

import pytest
from django.core import mail

from tests.factories import BookFactory, CartFactory, CartLineFactory, UserFactory
from tests.orders.conftest import INLINE_ADDRESS

pytestmark = pytest.mark.django_db

HOST = "127.0.0.1:8123"


def register(client) -> None:
    """Register through the sign-up page, as a browser on ``HOST`` would."""
    password = "Unmot-de-passe-sûr-42"
    client.post(
        "/accounts/register/",
        {"email": "ines@example.com", "new_password1": password, "new_password2": password},
        HTTP_HOST=HOST,
    )


@pytest.fixture
def follow_request(settings):
    settings.FRONTEND_URL = "http://127.0.0.1:8000"
    settings.FRONTEND_URL_FROM_REQUEST = True


@pytest.mark.django_db(transaction=True)
def test_the_verification_link_names_the_server_that_sent_it(client, follow_request):
    # A real transaction: the email is sent when the registration commits, during the request.
    register(client)

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/verify-email/\?token=\S+", message.body)
    assert link, message.body
    assert link.group(0).startswith(f"http://{HOST}/accounts/verify-email/")


def test_the_dummy_pay_url_names_the_server_of_the_checkout(client, follow_request):
    user = UserFactory()
    CartLineFactory(cart=CartFactory(user=user), book=BookFactory())
    client.force_login(user)

    response = client.post(
        "/api/v1/orders/",
        {
            "shipping_address": INLINE_ADDRESS,
            "payment_provider": "dummy",
        },
        content_type="application/json",
        HTTP_HOST=HOST,
    )

    assert response.status_code == 201, response.json()
    assert response.json()["payment"]["pay_url"].startswith(f"http://{HOST}/orders/pay/dummy/")


def test_without_the_development_setting_links_use_frontend_url(
    client, settings, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = "https://librairie.example"
    with django_capture_on_commit_callbacks(execute=True):
        register(client)

    (message,) = mail.outbox
    assert "https://librairie.example/accounts/verify-email/?token=" in message.body
