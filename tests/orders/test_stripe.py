"""Paying with Stripe: the real ``stripe`` client against a local stand-in of its API."""

from decimal import Decimal

import pytest

from apps.orders.models import Order, Payment
from apps.orders.services import payment_start

from .conftest import ORDERS, fill_cart, order_url, stripe_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(user, user_client, book, address, stripe_api):
    """Place an order paid by Stripe through the API; return the answer's body."""

    def place(quantity: int = 1) -> dict:
        fill_cart(user, (book, quantity))
        response = user_client.post(ORDERS, {"shipping_address": address.pk, "payment_provider": "stripe"})
        assert response.status_code == 201, response.content
        return response.json()

    return place


def test_checkout_creates_one_intent_and_gives_the_client_its_secret(checkout, stripe_api):
    body = checkout()

    [intent] = stripe_api.intents.values()
    assert (intent["amount"], intent["currency"]) == (1550, "eur")
    assert intent["metadata"]["order_number"] == body["number"]
    payment = body["payment"]
    assert payment["provider"] == "stripe"
    assert payment["reference"] == intent["id"]
    assert payment["client_secret"] == intent["client_secret"]
    assert payment["publishable_key"] == "pk_test_standin"
    assert payment["status"] == "pending"
    [create] = stripe_api.requests_to("POST", "/v1/payment_intents")
    assert create.headers["idempotency-key"] == f"{body['number']}-payment-{Payment.objects.get().pk}"


def test_the_schema_offers_exactly_the_configured_providers(api_client, stripe_api, settings):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["PaymentProviderEnum"]["enum"] == ["dummy", "stripe"]
    settings.PAYMENT_PROVIDERS = ["stripe"]
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["PaymentProviderEnum"]["enum"] == ["stripe"]


def test_a_provider_not_offered_is_a_400_naming_those_that_are(user, user_client, book, address, stripe_api):
    fill_cart(user, (book, 1))
    response = user_client.post(ORDERS, {"shipping_address": address.pk, "payment_provider": "paypal"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "payment_provider": ["This payment method is not offered. Choose one of: dummy, stripe."]
    }
    assert not Order.objects.exists()


def test_the_signed_webhook_pays_the_order_once(
    checkout, stripe_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    body = checkout()
    intent_id = body["payment"]["reference"]
    stripe_api.succeed(intent_id)
    event = stripe_api.intent_event("payment_intent.succeeded", intent_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = stripe_webhook(client, event)
    with django_capture_on_commit_callbacks(execute=True):
        again = stripe_webhook(client, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    order = user_client.get(order_url(body["number"])).json()
    assert order["status"] == "paid"
    assert order["payment"]["status"] == "succeeded"
    assert [change["to_status"] for change in order["history"]] == ["pending_payment", "paid"]
    assert [m.subject for m in mailoutbox] == [f"Votre commande {body['number']} est confirmée"]


# --- The provider fails while the payment starts ---------------------------------------------


def test_a_provider_500_leaves_the_order_payable_and_the_retry_makes_one_intent(
    checkout, stripe_api, user_client
):
    stripe_api.fail_next(500)
    body = checkout()

    assert body["status"] == "pending_payment"
    assert body["payment"]["status"] == "error"
    assert body["payment"]["client_secret"] == ""
    assert not stripe_api.intents

    retried = user_client.post(order_url(body["number"], "pay"), {})
    assert retried.status_code == 200
    payment = retried.json()["payment"]
    assert payment["status"] == "pending"
    [intent] = stripe_api.intents.values()
    assert payment["client_secret"] == intent["client_secret"]


def test_a_timeout_after_stripe_made_the_intent_gives_the_same_intent_on_retry(
    checkout, stripe_api, user_client
):
    # Stripe makes the intent, then the answer is lost: the client times out after 1 s.
    stripe_api.stall_next(2.5, after=True)
    body = checkout()
    assert body["payment"]["status"] == "error"
    assert len(stripe_api.intents) == 1

    retried = user_client.post(order_url(body["number"], "pay"), {}).json()

    # The same idempotency key: Stripe answers with the intent it made, not a second one.
    assert len(stripe_api.intents) == 1
    [intent] = stripe_api.intents.values()
    assert retried["payment"]["reference"] == intent["id"]
    keys = {r.headers["idempotency-key"] for r in stripe_api.requests_to("POST", "/v1/payment_intents")}
    assert len(keys) == 1


def test_payment_start_with_a_wrong_key_is_an_error_not_a_500(checkout, stripe_api, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    body = checkout()
    assert body["payment"]["status"] == "error"
    assert body["status"] == "pending_payment"


def test_a_paid_order_needs_no_second_payment(
    checkout, stripe_api, client, user_client, django_capture_on_commit_callbacks
):
    body = checkout()
    stripe_api.succeed(body["payment"]["reference"])
    with django_capture_on_commit_callbacks(execute=True):
        stripe_webhook(
            client, stripe_api.intent_event("payment_intent.succeeded", body["payment"]["reference"])
        )
    response = user_client.post(order_url(body["number"], "pay"), {})
    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_needed"


def test_switching_to_another_provider_cancels_the_open_intent(
    checkout, stripe_api, user_client, django_capture_on_commit_callbacks
):
    body = checkout()
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(order_url(body["number"], "pay"), {"payment_provider": "dummy"})
    assert response.json()["payment"]["provider"] == "dummy"
    [intent] = stripe_api.intents.values()
    assert intent["status"] == "canceled"
    assert Order.objects.get().payment_provider == "dummy"


def test_minor_units_follow_the_currency(user, book, address, stripe_api, settings):
    from apps.orders.services import order_place

    settings.SHOP_CURRENCY = "JPY"
    settings.SHIPPING_POLICY = "flat"
    settings.SHIPPING_FLAT_RATE = Decimal("500")
    book.price = Decimal("1500.00")
    book.save()
    fill_cart(user, (book, 1))
    order, _ = order_place(user=user, shipping_address=address.pk, payment_provider="stripe")
    payment_start(order=order)
    [intent] = stripe_api.intents.values()
    assert (intent["amount"], intent["currency"]) == (2000, "jpy")  # no minor units in yen


def test_an_amount_the_currency_cannot_hold_is_a_payment_error_not_a_500(
    user, book, address, stripe_api, settings
):
    from apps.orders.services import order_place

    settings.SHOP_CURRENCY = "JPY"  # but the book law's 0.01 of shipping gives 1500.01
    book.price = Decimal("1500.00")
    book.save()
    fill_cart(user, (book, 1))
    order, _ = order_place(user=user, shipping_address=address.pk, payment_provider="stripe")
    payment = payment_start(order=order)
    assert payment.status == "error"
    assert not stripe_api.intents


def test_a_customer_cancelling_an_unpaid_order_cancels_its_intent(
    checkout, stripe_api, user_client, django_capture_on_commit_callbacks
):
    body = checkout()
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(order_url(body["number"], "cancel"), {})
    assert response.json()["status"] == "cancelled"
    assert response.json()["refunds"] == []
    assert stripe_api.intents[body["payment"]["reference"]]["status"] == "canceled"
    assert Payment.objects.get().status == "cancelled"
