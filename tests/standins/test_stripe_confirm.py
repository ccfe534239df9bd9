"""The Stripe stand-in's confirm endpoint: as Stripe.js calls it from a browser (publishable key,
client secret, card details, CORS), and as a server calls it through the real ``stripe`` client."""

from collections.abc import Iterator

import pytest
import requests
import stripe

from tests.standins.stripe_api import DEFAULT_PUBLISHABLE_KEY, DEFAULT_SECRET_KEY, StripeStandIn

SHOP = "http://127.0.0.1:8000"


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with StripeStandIn() as running:
        yield running


@pytest.fixture
def stripe_client(standin: StripeStandIn) -> Iterator[stripe.StripeClient]:
    http_client = stripe.RequestsClient(timeout=2)
    try:
        yield stripe.StripeClient(
            DEFAULT_SECRET_KEY,
            base_addresses={"api": standin.url},
            max_network_retries=0,
            http_client=http_client,
        )
    finally:
        http_client.close()


def _intent(stripe_client: stripe.StripeClient):
    return stripe_client.v1.payment_intents.create(
        params={"amount": 1190, "currency": "eur", "automatic_payment_methods": {"enabled": True}}
    )


def _from_browser(standin: StripeStandIn, path: str, params: dict[str, str]) -> tuple[int, dict, dict]:
    """A form-encoded POST as Stripe.js sends it (no Authorization header, an Origin)."""
    answer = requests.post(f"{standin.url}{path}", data=params, headers={"Origin": SHOP}, timeout=2)
    return answer.status_code, dict(answer.headers), answer.json()


def _card(intent, number: str, **extra: str) -> dict[str, str]:
    return {
        "key": DEFAULT_PUBLISHABLE_KEY,
        "client_secret": intent.client_secret,
        "return_url": f"{SHOP}/orders/LB-1/",
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": number,
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "34",
        "payment_method_data[card][cvc]": "123",
        **extra,
    }


def test_a_paying_card_confirmed_from_the_browser_succeeds(standin, stripe_client):
    intent = _intent(stripe_client)
    status, headers, body = _from_browser(
        standin, f"/v1/payment_intents/{intent.id}/confirm", _card(intent, "4242 4242 4242 4242")
    )
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert body["status"] == "succeeded"
    assert body["amount_received"] == 1190
    assert body["payment_method"].startswith("pm_")
    # The shop's server sees it as Stripe would show it.
    retrieved = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert retrieved.status == "succeeded"
    assert standin.charge_object(intent.id)["amount_captured"] == 1190


@pytest.mark.parametrize(
    ("number", "code", "decline_code", "message"),
    [
        ("4000000000000002", "card_declined", "generic_decline", "Your card was declined."),
        ("4000000000009995", "card_declined", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000069", "expired_card", None, "Your card has expired."),
        ("4111111111111111", "card_declined", "test_mode_live_card", "Your card was declined. Your request"),
    ],
)
def test_a_declined_card_is_a_card_error_and_the_intent_waits(
    standin, stripe_client, number, code, decline_code, message
):
    intent = _intent(stripe_client)
    status, headers, body = _from_browser(
        standin, f"/v1/payment_intents/{intent.id}/confirm", _card(intent, number)
    )
    assert status == 402
    assert headers["Access-Control-Allow-Origin"] == "*"
    error = body["error"]
    assert (error["type"], error["code"], error.get("decline_code")) == ("card_error", code, decline_code)
    assert error["message"].startswith(message)
    assert error["payment_intent"]["status"] == "requires_payment_method"
    intent_now = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert intent_now.status == "requires_payment_method"
    assert intent_now.last_payment_error.code == code
    # Another card on the same intent may pay.
    status, _, body = _from_browser(
        standin, f"/v1/payment_intents/{intent.id}/confirm", _card(intent, "4242424242424242")
    )
    assert (status, body["status"]) == (200, "succeeded")
    assert body["last_payment_error"] is None


def test_the_publishable_key_needs_the_intents_client_secret(standin, stripe_client):
    intent = _intent(stripe_client)
    params = _card(intent, "4242424242424242", client_secret=f"{intent.id}_secret_wrong")
    status, _, body = _from_browser(standin, f"/v1/payment_intents/{intent.id}/confirm", params)
    assert status == 400
    assert body["error"]["param"] == "client_secret"
    assert stripe_client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_the_publishable_key_cannot_do_what_the_secret_key_does(standin):
    status, _, body = _from_browser(
        standin, "/v1/payment_intents", {"key": DEFAULT_PUBLISHABLE_KEY, "amount": "100", "currency": "eur"}
    )
    assert status == 401
    assert "publishable API key" in body["error"]["message"]
    assert standin.intents == {}
    status, _, body = _from_browser(standin, "/v1/payment_intents/pi_x/confirm", {"key": "pk_test_other"})
    assert status == 401


def test_a_succeeded_intent_cannot_be_confirmed_again(standin, stripe_client):
    intent = _intent(stripe_client)
    path = f"/v1/payment_intents/{intent.id}/confirm"
    assert _from_browser(standin, path, _card(intent, "4242424242424242"))[0] == 200
    status, _, body = _from_browser(standin, path, _card(intent, "4242424242424242"))
    assert status == 400
    assert body["error"]["code"] == "payment_intent_unexpected_state"
    assert len(standin.charges) == 1


def test_a_confirm_without_a_payment_method_is_refused(standin, stripe_client):
    intent = _intent(stripe_client)
    params = {"key": DEFAULT_PUBLISHABLE_KEY, "client_secret": intent.client_secret}
    status, _, body = _from_browser(standin, f"/v1/payment_intents/{intent.id}/confirm", params)
    assert status == 400
    assert body["error"]["code"] == "parameter_missing"


def test_the_stripe_client_confirms_with_test_payment_methods(standin, stripe_client):
    paid = stripe_client.v1.payment_intents.confirm(
        _intent(stripe_client).id, params={"payment_method": "pm_card_visa"}
    )
    assert paid.status == "succeeded"
    declined = _intent(stripe_client)
    with pytest.raises(stripe.CardError) as refused:
        stripe_client.v1.payment_intents.confirm(
            declined.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    assert refused.value.code == "card_declined"
    assert refused.value.http_status == 402
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.payment_intents.confirm(declined.id, params={"payment_method": "pm_unknown"})
