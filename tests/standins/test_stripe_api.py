"""The Stripe stand-in, driven by the real ``stripe`` client the way the shop drives it."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import stripe

from tests.standins.stripe_api import DEFAULT_SECRET_KEY, StripeStandIn, sign

WEBHOOK_SECRET = "whsec_standin"
ORDER = "LB-AAAA-BBBB"


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with StripeStandIn() as running:
        yield running


@contextmanager
def _connected(
    standin: StripeStandIn, *, key: str = DEFAULT_SECRET_KEY, timeout: float = 2
) -> Iterator[stripe.StripeClient]:
    """A client configured as the shop's; its HTTP session is closed afterwards."""
    http_client = stripe.RequestsClient(timeout=timeout)
    try:
        yield stripe.StripeClient(
            key, base_addresses={"api": standin.url}, max_network_retries=0, http_client=http_client
        )
    finally:
        http_client.close()


@pytest.fixture
def stripe_client(standin: StripeStandIn) -> Iterator[stripe.StripeClient]:
    with _connected(standin) as connected:
        yield connected


def _create(stripe_client: stripe.StripeClient, key: str = f"{ORDER}-payment-12", **overrides: object):
    params = {
        "amount": 1550,
        "currency": "EUR",
        "metadata": {"order_number": ORDER, "payment_id": "12"},
        "automatic_payment_methods": {"enabled": True},
        "receipt_email": "a@b.c",
        **overrides,
    }
    return stripe_client.v1.payment_intents.create(params=params, options={"idempotency_key": key})


def _paid_intent(standin: StripeStandIn, stripe_client: stripe.StripeClient) -> str:
    intent_id = _create(stripe_client).id
    standin.succeed(intent_id)
    return intent_id


def test_create_and_retrieve_an_intent(standin, stripe_client):
    pi = _create(stripe_client)

    assert pi.object == "payment_intent"
    assert pi.id.startswith("pi_")
    assert len(pi.id) == 27
    assert pi.amount == 1550
    assert pi.amount_received == 0
    assert pi.currency == "eur"
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert pi.metadata.to_dict() == {"order_number": ORDER, "payment_id": "12"}
    assert pi.automatic_payment_methods.enabled is True
    assert pi.latest_charge is None
    assert pi.livemode is False
    assert pi.receipt_email == "a@b.c"
    assert standin.intents[pi.id]["amount"] == 1550
    (post,) = standin.requests_to("POST", "/v1/payment_intents")
    assert post.headers["idempotency-key"] == f"{ORDER}-payment-12"
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"

    again = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert again.id == pi.id
    assert again.client_secret == pi.client_secret


def test_retrieve_an_unknown_intent_is_resource_missing(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.retrieve("pi_nothing")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "intent"


def test_missing_amount_is_refused_and_not_saved_under_the_key(standin, stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.create(params={"currency": "eur"}, options={"idempotency_key": "k1"})
    assert caught.value.param == "amount"
    assert standin.intents == {}

    # Stripe saves no result for a request that failed validation: the key is still free.
    pi = _create(stripe_client, key="k1")
    assert list(standin.intents) == [pi.id]


def test_the_same_key_and_params_replay_the_first_answer(standin, stripe_client):
    first = _create(stripe_client)
    second = _create(stripe_client)

    assert second.id == first.id
    assert second.client_secret == first.client_secret
    assert len(standin.intents) == 1
    assert second.last_response.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.last_response.headers


def test_the_same_key_with_other_params_is_an_idempotency_error(standin, stripe_client):
    _create(stripe_client)
    with pytest.raises(stripe.IdempotencyError):
        _create(stripe_client, amount=999)
    assert len(standin.intents) == 1


def test_an_injected_failure_creates_nothing_and_is_not_saved(standin, stripe_client):
    standin.fail_next(500)
    with pytest.raises(stripe.APIError):
        _create(stripe_client)
    assert standin.intents == {}

    pi = _create(stripe_client)
    assert list(standin.intents) == [pi.id]
    assert "idempotent-replayed" not in pi.last_response.headers


def test_a_lost_answer_is_replayed_to_the_retry(standin, stripe_client):
    standin.stall_next(3, after=True)
    with _connected(standin, timeout=1) as impatient, pytest.raises(stripe.APIConnectionError):
        _create(impatient)
    assert len(standin.intents) == 1  # Stripe did the work; the answer was lost.

    retried = _create(stripe_client)
    assert list(standin.intents) == [retried.id]
    assert retried.last_response.headers["idempotent-replayed"] == "true"
    assert len(standin.requests_to("POST", "/v1/payment_intents")) == 2


def test_cancel(standin, stripe_client):
    pi = _create(stripe_client)

    canceled = stripe_client.v1.payment_intents.cancel(
        pi.id, options={"idempotency_key": f"{ORDER}-cancel-12"}
    )

    assert canceled.status == "canceled"
    assert canceled.canceled_at is not None
    assert standin.intents[pi.id]["status"] == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.cancel(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"


def test_cancel_of_a_succeeded_intent_is_refused(standin, stripe_client):
    intent_id = _paid_intent(standin, stripe_client)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.cancel(intent_id, options={"idempotency_key": f"{ORDER}-cancel-12"})

    assert caught.value.code == "payment_intent_unexpected_state"
    assert caught.value.error.payment_intent.status == "succeeded"
    assert standin.intents[intent_id]["status"] == "succeeded"


def test_succeed_and_fail_controls(standin, stripe_client):
    declined = _create(stripe_client, key="k-declined")
    standin.fail(declined.id)
    failed = stripe_client.v1.payment_intents.retrieve(declined.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "card_declined"
    assert failed.last_payment_error.message == "Your card was declined."

    intent = standin.succeed(declined.id, amount=1500)
    paid = stripe_client.v1.payment_intents.retrieve(declined.id)
    assert paid.status == intent["status"] == "succeeded"
    assert paid.amount_received == 1500
    assert paid.latest_charge.startswith("ch_")
    assert paid.last_payment_error is None
    with pytest.raises(ValueError, match="succeeded"):
        standin.fail(declined.id)


def test_refund_in_parts_and_over_refund(standin, stripe_client):
    intent_id = _paid_intent(standin, stripe_client)

    part = stripe_client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 500, "metadata": {"refund_id": "3"}},
        options={"idempotency_key": f"{ORDER}-refund-3"},
    )
    assert part.object == "refund"
    assert part.id.startswith("re_")
    assert (part.amount, part.currency, part.status) == (500, "eur", "succeeded")
    assert part.payment_intent == intent_id
    assert part.charge == standin.intents[intent_id]["latest_charge"]
    assert part.metadata.to_dict() == {"refund_id": "3"}
    assert standin.amount_refunded(intent_id) == 500

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1051})
    assert too_much.value.code == "amount_too_large"

    rest = stripe_client.v1.refunds.create(
        params={"payment_intent": intent_id, "metadata": {"refund_id": "4"}},
        options={"idempotency_key": f"{ORDER}-refund-4"},
    )
    assert rest.amount == 1050
    assert standin.amount_refunded(intent_id) == 1550
    assert standin.charge_object(intent_id)["refunded"] is True

    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1})
    assert again.value.code == "charge_already_refunded"
    assert stripe_client.v1.refunds.retrieve(part.id).amount == 500
    assert set(standin.refunds) == {part.id, rest.id}


def test_refund_replays_under_its_key(standin, stripe_client):
    intent_id = _paid_intent(standin, stripe_client)
    params = {"payment_intent": intent_id, "amount": 500, "metadata": {"refund_id": "3"}}

    first = stripe_client.v1.refunds.create(params=params, options={"idempotency_key": "refund-3"})
    second = stripe_client.v1.refunds.create(params=params, options={"idempotency_key": "refund-3"})

    assert second.id == first.id
    assert standin.amount_refunded(intent_id) == 500


def test_refund_of_an_unpaid_intent_is_refused(standin, stripe_client):
    pi = _create(stripe_client)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.refunds.create(params={"payment_intent": pi.id})
    assert standin.refunds == {}


def test_a_wrong_key_is_an_authentication_error(standin):
    with _connected(standin, key="sk_test_wrong") as wrong, pytest.raises(stripe.AuthenticationError):
        _create(wrong)
    assert standin.intents == {}


def test_an_unknown_path_is_not_found(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.retrieve("cus_nothing")
    assert caught.value.http_status == 404


def test_events_carry_the_objects_as_they_are(standin, stripe_client):
    intent_id = _paid_intent(standin, stripe_client)
    stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 500})

    succeeded = standin.intent_event("payment_intent.succeeded", intent_id, event_id="evt_fixed")
    refunded = standin.charge_refunded_event(intent_id)

    assert succeeded["id"] == "evt_fixed"
    assert succeeded["object"] == "event"
    assert succeeded["api_version"] == stripe._api_version._ApiVersion.CURRENT
    assert succeeded["data"]["object"] == standin.intents[intent_id]
    assert succeeded["data"]["object"] is not standin.intents[intent_id]
    charge = refunded["data"]["object"]
    assert refunded["type"] == "charge.refunded"
    assert refunded["id"].startswith("evt_")
    assert (charge["object"], charge["amount"], charge["amount_refunded"]) == ("charge", 1550, 500)
    assert charge["refunded"] is False
    assert charge["payment_intent"] == intent_id
    with pytest.raises(ValueError, match="not a payment intent event"):
        standin.intent_event("charge.refunded", intent_id)


def test_a_signed_event_is_accepted_by_stripe(standin, stripe_client):
    intent_id = _paid_intent(standin, stripe_client)
    payload = json.dumps(standin.intent_event("payment_intent.succeeded", intent_id)).encode()

    event = stripe.Webhook.construct_event(payload, sign(payload, WEBHOOK_SECRET), WEBHOOK_SECRET)

    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent_id


@pytest.mark.parametrize(
    ("what", "secret", "age", "tamper"),
    [
        ("stale", WEBHOOK_SECRET, 301, False),
        ("wrong secret", "whsec_other", 0, False),
        ("tampered", WEBHOOK_SECRET, 0, True),
    ],
)
def test_a_bad_signature_is_rejected_by_stripe(standin, what, secret, age, tamper):
    payload = json.dumps(standin.event("payment_intent.canceled", {"id": "pi_x"})).encode()
    header = sign(payload, secret, timestamp=int(time.time()) - age)
    if tamper:
        payload = payload.replace(b"pi_x", b"pi_y")

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)
