"""Paying with PayPal (Orders v2): the provider's HTTP calls against a local stand-in of PayPal's API.

The buyer approves at PayPal and comes back to the shop's return page, which captures; the
``CHECKOUT.ORDER.APPROVED`` webhook captures too. Whatever arrives first, and however often,
PayPal makes one capture and the order is paid once.
"""

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection
from django.test import Client

from apps.orders.models import EventStatus, Payment, PaymentEvent, PaymentStatus, Refund
from tests.services import requires_postgres
from tests.standins.paypal_api import signed_headers

from .conftest import ORDERS, fill_cart, order_url, paypal_webhook

pytestmark = pytest.mark.django_db

RETURN_PAGE = "/orders/pay/return/"
CANCEL_PAGE = "/orders/pay/cancel/"
WEBHOOK = "/api/v1/payments/webhooks/paypal/"
SHOP = "http://shop.test"
WEBHOOK_ID = "WH-STANDIN"
PROBLEM = "application/problem+json"


# --- Helpers ------------------------------------------------------------------------------------


@pytest.fixture
def checkout(user, user_client, book, address, paypal_api):
    """Place an order paid by PayPal through the API; return the answer's body."""

    def place(quantity: int = 1) -> dict:
        fill_cart(user, (book, quantity))
        response = user_client.post(ORDERS, {"shipping_address": address.pk, "payment_provider": "paypal"})
        assert response.status_code == 201, response.content
        return response.json()

    return place


def back_from_paypal(client, number: str, reference: str):
    """The buyer's browser on the shop's return page, as PayPal sends it there."""
    return client.get(RETURN_PAGE, {"order": number, "token": reference, "PayerID": "STANDINPAYER1"})


def at_paypal(approval_url: str, *, cancel: bool = False) -> str:
    """The buyer on PayPal's page (the approval link): approves, or cancels. Returns where PayPal
    sends the buyer back, as a path and query of the shop."""
    response = requests.get(approval_url + ("&cancel=1" if cancel else ""), allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == SHOP
    return f"{location.path}?{location.query}"


def deliver(client, event: dict, headers: dict[str, str]):
    """POST ``event`` to the shop's PayPal webhook with the given transmission headers."""
    return client.post(WEBHOOK, json.dumps(event), content_type="application/json", headers=headers)


def page_text(response) -> str:
    return response.content.decode()


def order_of(user_client, number: str) -> dict:
    response = user_client.get(order_url(number))
    assert response.status_code == 200
    return response.json()


def statuses(order: dict) -> list[str]:
    return [change["to_status"] for change in order["history"]]


def only_capture(paypal_api) -> dict:
    [capture] = paypal_api.captures.values()
    return capture


def request_ids(paypal_api, method: str, path: str) -> list[str]:
    """The ``PayPal-Request-Id`` of each request to exactly ``path``, in order."""
    return [
        r.headers.get("paypal-request-id", "") for r in paypal_api.requests_to(method, path) if r.path == path
    ]


def confirmations(mailoutbox, number: str) -> list:
    return [m for m in mailoutbox if m.subject == f"Votre commande {number} est confirmée"]


def as_merchant(paypal_api, method: str, path: str, **kwargs) -> requests.Response:
    """A call to PayPal's API by the merchant themselves (with a token of their own), not the shop."""
    token = requests.post(
        f"{paypal_api.url}/v1/oauth2/token",
        auth=(paypal_api.client_id, paypal_api.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=5,
    ).json()["access_token"]
    return requests.request(
        method, f"{paypal_api.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=5, **kwargs
    )


@pytest.fixture
def paid_order(checkout, paypal_api, client, django_capture_on_commit_callbacks):
    """An order paid with PayPal: approved by the buyer, captured on the return page."""
    body = checkout()
    paypal_api.approve(body["payment"]["reference"])
    with django_capture_on_commit_callbacks(execute=True):
        response = back_from_paypal(client, body["number"], body["payment"]["reference"])
    assert response.status_code == 200
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    return body


@pytest.fixture
def pending_capture(checkout, paypal_api, client, django_capture_on_commit_callbacks):
    """An order whose capture PayPal holds PENDING (review): the return page could not pay it."""
    body = checkout()
    reference = body["payment"]["reference"]
    paypal_api.approve(reference)
    paypal_api.set_capture_outcome(reference, "PENDING")
    with django_capture_on_commit_callbacks(execute=True):
        response = back_from_paypal(client, body["number"], reference)
    assert response.status_code == 200
    assert "en cours de confirmation" in page_text(response)
    return body


# --- 1. Checkout --------------------------------------------------------------------------------


def test_checkout_creates_a_paypal_order_and_gives_the_client_its_approval_link(checkout, paypal_api):
    body = checkout()

    number, payment = body["number"], body["payment"]
    [paypal_order] = paypal_api.orders.values()
    assert payment["provider"] == "paypal"
    assert payment["status"] == "pending"
    assert payment["reference"] == paypal_order["id"]
    links = as_merchant(paypal_api, "GET", f"/v2/checkout/orders/{paypal_order['id']}").json()["links"]
    assert payment["approval_url"] == {link["rel"]: link["href"] for link in links}["payer-action"]
    assert payment["approval_url"] == f"{paypal_api.url}/checkoutnow?token={paypal_order['id']}"
    [unit] = paypal_order["purchase_units"]
    assert unit["amount"] == {"currency_code": "EUR", "value": "15.50"}
    assert unit["reference_id"] == number
    assert paypal_order["intent"] == "CAPTURE"
    assert paypal_order["_return_url"] == f"{SHOP}/orders/pay/return/?order={number}"
    assert paypal_order["_cancel_url"] == f"{SHOP}/orders/pay/cancel/?order={number}"
    assert body["status"] == "pending_payment"
    [create_id] = request_ids(paypal_api, "POST", "/v2/checkout/orders")
    assert create_id


# --- 2. The buyer approves and comes back ---------------------------------------------------------


def test_the_buyer_approves_at_paypal_and_the_return_page_captures_and_pays(
    checkout, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    body = checkout()
    number, reference = body["number"], body["payment"]["reference"]

    back_to = at_paypal(body["payment"]["approval_url"])
    query = parse_qs(urlsplit(back_to).query)
    assert query["order"] == [number]
    assert query["token"] == [reference]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(back_to)

    assert response.status_code == 200
    assert "la commande est payée" in page_text(response)
    assert paypal_api.captures_made == 1
    capture = only_capture(paypal_api)
    assert capture["supplementary_data"]["related_ids"]["order_id"] == reference
    assert Payment.objects.get().capture_reference == capture["id"]
    order = order_of(user_client, number)
    assert order["status"] == "paid"
    assert order["payment"]["status"] == "succeeded"
    assert order["paid_at"]
    assert statuses(order) == ["pending_payment", "paid"]
    assert len(confirmations(mailoutbox, number)) == 1


def test_the_return_page_refuses_a_token_that_is_not_the_orders_payment(checkout, paypal_api, client):
    body = checkout()
    paypal_api.approve(body["payment"]["reference"])

    response = back_from_paypal(client, body["number"], "NOTTHEORDERSTOKEN")

    assert response.status_code == 404
    assert paypal_api.captures_made == 0


def test_the_api_capture_pays_an_approved_order(checkout, paypal_api, user_client):
    body = checkout()
    paypal_api.approve(body["payment"]["reference"])

    response = user_client.post(order_url(body["number"], "capture"))

    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert paypal_api.captures_made == 1


def test_a_capture_paypal_declines_fails_the_payment_and_the_order_can_be_paid_again(
    checkout, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    body = checkout()
    reference = body["payment"]["reference"]
    paypal_api.approve(reference)
    paypal_api.set_capture_outcome(reference, "INSTRUMENT_DECLINED")

    with django_capture_on_commit_callbacks(execute=True):
        response = back_from_paypal(client, body["number"], reference)

    assert response.status_code == 200
    assert "refusé" in page_text(response)
    order = order_of(user_client, body["number"])
    assert order["status"] == "pending_payment"
    assert order["payment"]["status"] == "failed"
    assert not confirmations(mailoutbox, body["number"])
    again = user_client.post(order_url(body["number"], "pay"), {})
    assert again.status_code == 200
    payment = again.json()["payment"]
    assert payment["status"] == "pending"
    assert payment["reference"] != reference
    assert payment["approval_url"] == f"{paypal_api.url}/checkoutnow?token={payment['reference']}"


def test_the_buyer_returning_to_an_order_paypal_voided_gets_a_page_and_can_pay_again(
    checkout, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    body = checkout()
    number, reference = body["number"], body["payment"]["reference"]
    paypal_api.approve(reference)
    paypal_api.void(reference)  # expired at PayPal before the buyer came back

    with django_capture_on_commit_callbacks(execute=True):
        response = back_from_paypal(client, number, reference)

    assert response.status_code == 200
    assert paypal_api.captures_made == 0
    order = order_of(user_client, number)
    assert order["status"] == "pending_payment"
    assert order["payment"]["status"] != "succeeded"
    again = user_client.post(order_url(number, "pay"), {})
    assert again.status_code == 200
    payment = again.json()["payment"]
    assert payment["reference"] != reference
    assert payment["approval_url"] == f"{paypal_api.url}/checkoutnow?token={payment['reference']}"


# --- 3. Return page and APPROVED webhook both arrive ----------------------------------------------


@pytest.mark.parametrize("first", ["return", "webhook"])
def test_the_return_page_and_the_approved_webhook_make_one_capture_in_either_order(
    first, checkout, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    body = checkout()
    number, reference = body["number"], body["payment"]["reference"]
    paypal_api.approve(reference)
    approved = paypal_api.order_event(reference)  # PayPal sends it when the buyer approves
    arrivals = {
        "return": lambda: back_from_paypal(client, number, reference),
        "webhook": lambda: paypal_webhook(client, approved),
    }

    for name in (first, "webhook" if first == "return" else "return"):
        with django_capture_on_commit_callbacks(execute=True):
            response = arrivals[name]()
        assert response.status_code == 200, (name, response.content)
        if name == "return":
            assert "la commande est payée" in page_text(response)

    assert paypal_api.captures_made == 1
    [payment] = Payment.objects.all()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.capture_reference == only_capture(paypal_api)["id"]
    order = order_of(user_client, number)
    assert order["status"] == "paid"
    assert statuses(order) == ["pending_payment", "paid"]
    ids = request_ids(paypal_api, "POST", f"/v2/checkout/orders/{reference}/capture")
    assert len(set(ids)) == 1
    assert ids[0]
    assert len(confirmations(mailoutbox, number)) == 1
    assert PaymentEvent.objects.get().status == EventStatus.PROCESSED

    # PayPal's PAYMENT.CAPTURE.COMPLETED comes after: it changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        completed = paypal_webhook(client, paypal_api.capture_event(payment.capture_reference))
    assert completed.status_code == 200
    assert completed.json() == {"received": True, "duplicate": False}
    assert paypal_api.captures_made == 1
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    assert statuses(order_of(user_client, number)) == ["pending_payment", "paid"]
    assert len(confirmations(mailoutbox, number)) == 1


def test_a_capture_whose_answer_was_lost_is_not_made_twice_by_the_webhook(
    checkout, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    body = checkout()
    number, reference = body["number"], body["payment"]["reference"]
    paypal_api.approve(reference)
    approved = paypal_api.order_event(reference)

    # PayPal captures, then the answer is lost: the shop times out after 1 s.
    paypal_api.stall_next(2.5, after=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = back_from_paypal(client, number, reference)
    assert response.status_code == 200
    assert "pas pu joindre le service de paiement" in page_text(response)
    assert paypal_api.captures_made == 1
    assert order_of(user_client, number)["status"] == "pending_payment"

    with django_capture_on_commit_callbacks(execute=True):
        assert paypal_webhook(client, approved).status_code == 200

    assert paypal_api.captures_made == 1
    order = order_of(user_client, number)
    assert order["status"] == "paid"
    assert Payment.objects.get().capture_reference == only_capture(paypal_api)["id"]
    ids = request_ids(paypal_api, "POST", f"/v2/checkout/orders/{reference}/capture")
    assert len(ids) == 2
    assert ids[0]
    assert ids[0] == ids[1]
    assert len(confirmations(mailoutbox, number)) == 1


# --- 4. A true race (PostgreSQL) ------------------------------------------------------------------


def _race(*calls) -> list:
    """Run ``calls`` in threads started together; return their results (re-raise a failure)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if errors:
        raise errors[0]
    return results


def _answer_together(paypal_api, monkeypatch, path: str, parties: int = 2) -> None:
    """PayPal holds the next ``parties`` requests to ``path`` until all have arrived, then answers
    them: both callers are past their "not paid yet" check and get their answers at once."""
    barrier = threading.Barrier(parties, timeout=10)
    serve = paypal_api._serve  # the stand-in's request entry point, before its lock is taken

    def held(handler) -> None:
        if urlsplit(handler.path).path == path:
            barrier.wait()
        serve(handler)

    monkeypatch.setattr(paypal_api, "_serve", held)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_return_page_and_the_webhook_at_the_same_time_make_one_capture_and_one_payment(
    checkout, paypal_api, user_client, mailoutbox, monkeypatch
):
    body = checkout()
    number, reference = body["number"], body["payment"]["reference"]
    paypal_api.approve(reference)
    approved = paypal_api.order_event(reference)
    capture_path = f"/v2/checkout/orders/{reference}/capture"
    _answer_together(paypal_api, monkeypatch, capture_path)

    # Celery is eager: the webhook's request processes the event (and captures) in its thread.
    page, delivery = _race(
        lambda: back_from_paypal(Client(), number, reference),
        lambda: paypal_webhook(Client(), approved),
    )

    assert page.status_code == 200
    assert delivery.status_code == 200
    ids = request_ids(paypal_api, "POST", capture_path)
    assert len(ids) == 2  # both did ask PayPal: a true race
    assert ids[0] == ids[1]
    assert paypal_api.captures_made == 1
    [payment] = Payment.objects.all()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.capture_reference == only_capture(paypal_api)["id"]
    order = order_of(user_client, number)
    assert order["status"] == "paid"
    assert statuses(order) == ["pending_payment", "paid"]
    assert PaymentEvent.objects.get().status == EventStatus.PROCESSED
    assert len(confirmations(mailoutbox, number)) == 1


# --- 5. The OAuth token -----------------------------------------------------------------------------


def test_one_token_serves_every_call_until_paypal_expires_it(
    checkout, paypal_api, client, user_client, staff_client, django_capture_on_commit_callbacks
):
    body = checkout()
    number, reference = body["number"], body["payment"]["reference"]
    paypal_api.approve(reference)
    assert user_client.post(order_url(number, "capture")).json()["status"] == "paid"
    with django_capture_on_commit_callbacks(execute=True):
        first = staff_client.post(order_url(number, "refund"), {"amount": "5.00"})
    assert first.status_code == 201
    assert paypal_api.refunds_made == 1
    assert paypal_api.tokens_issued == 1

    paypal_api.expire_tokens()
    with django_capture_on_commit_callbacks(execute=True):
        rest = staff_client.post(order_url(number, "refund"), {})

    assert rest.status_code == 201
    assert paypal_api.refunds_made == 2
    assert paypal_api.tokens_issued == 2
    assert order_of(user_client, number)["status"] == "refunded"
    # The new token is kept too: the next call asks for none.
    with django_capture_on_commit_callbacks(execute=True):
        webhook = paypal_webhook(client, paypal_api.order_event(reference, "CHECKOUT.ORDER.COMPLETED"))
    assert webhook.status_code == 200
    assert paypal_api.verifications == 1
    assert paypal_api.tokens_issued == 2


# --- 6. Webhook security ----------------------------------------------------------------------------


@pytest.fixture
def approved_event(checkout, paypal_api) -> dict:
    """The CHECKOUT.ORDER.APPROVED event of an order the buyer approved; the token is cached."""
    body = checkout()
    paypal_api.approve(body["payment"]["reference"])
    return paypal_api.order_event(body["payment"]["reference"])


def test_a_signed_webhook_is_verified_stored_and_answered_200(
    approved_event, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = paypal_webhook(client, approved_event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert paypal_api.verifications == 1
    [event] = PaymentEvent.objects.all()
    assert (event.provider, event.event_id) == ("paypal", approved_event["id"])
    assert event.event_type == "CHECKOUT.ORDER.APPROVED"
    assert event.status == EventStatus.PROCESSED
    assert paypal_api.captures_made == 1


def _tampered(event: dict) -> tuple[dict, dict]:
    headers = signed_headers(event, webhook_id=WEBHOOK_ID)
    changed = copy.deepcopy(event)
    changed["resource"]["purchase_units"][0]["amount"]["value"] = "0.01"
    return changed, headers


def _other_webhook_id(event: dict) -> tuple[dict, dict]:
    return event, signed_headers(event, webhook_id="WH-SOMEONE-ELSE")


def _other_key(event: dict) -> tuple[dict, dict]:
    return event, signed_headers(event, webhook_id=WEBHOOK_ID, key="not-paypals-key")


def _no_headers(event: dict) -> tuple[dict, dict]:
    return event, {}


def _no_signature(event: dict) -> tuple[dict, dict]:
    headers = signed_headers(event, webhook_id=WEBHOOK_ID)
    del headers["PAYPAL-TRANSMISSION-SIG"]
    return event, headers


def _stale(event: dict) -> tuple[dict, dict]:
    sent = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event, signed_headers(event, webhook_id=WEBHOOK_ID, transmission_time=sent)


@pytest.mark.parametrize(
    "forge",
    [_tampered, _other_webhook_id, _other_key, _no_headers, _no_signature, _stale],
    ids=["tampered-body", "other-webhook-id", "other-key", "no-headers", "no-signature", "stale"],
)
def test_a_webhook_that_fails_verification_is_a_400_and_nothing_is_stored(
    forge, approved_event, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    event, headers = forge(approved_event)

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, event, headers)

    assert response.status_code == 400
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == "webhook_invalid"
    assert not PaymentEvent.objects.exists()
    assert paypal_api.captures_made == 0
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_paypals_verification_failing_is_a_503_so_paypal_sends_it_again(
    approved_event, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    paypal_api.fail_next(500)
    with django_capture_on_commit_callbacks(execute=True):
        response = paypal_webhook(client, approved_event)

    assert response.status_code == 503
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == "payment_service_unavailable"
    assert len(paypal_api.requests_to("POST", "/v1/notifications/verify-webhook-signature")) == 1
    assert not PaymentEvent.objects.exists()
    assert paypal_api.captures_made == 0

    # PayPal delivers it again later: now it is verified, stored and processed.
    with django_capture_on_commit_callbacks(execute=True):
        again = paypal_webhook(client, approved_event)
    assert again.status_code == 200
    assert again.json() == {"received": True, "duplicate": False}
    assert PaymentEvent.objects.count() == 1
    assert paypal_api.captures_made == 1


def test_the_same_event_delivered_twice_is_stored_and_processed_once(
    approved_event, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = paypal_webhook(client, approved_event)
    with django_capture_on_commit_callbacks(execute=True):
        second = paypal_webhook(client, approved_event)

    assert first.json() == {"received": True, "duplicate": False}
    assert second.status_code == 200
    assert second.json() == {"received": True, "duplicate": True}
    assert PaymentEvent.objects.count() == 1
    assert paypal_api.captures_made == 1
    assert len(mailoutbox) == 1


# --- 7. PAYMENT.CAPTURE.DENIED ----------------------------------------------------------------------


def test_a_denied_capture_fails_the_payment_and_the_order_waits_for_another(
    pending_capture, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    number = pending_capture["number"]
    capture = only_capture(paypal_api)
    paypal_api.settle_capture(capture["id"], "DECLINED")

    with django_capture_on_commit_callbacks(execute=True):
        response = paypal_webhook(client, paypal_api.capture_event(capture["id"], "PAYMENT.CAPTURE.DENIED"))

    assert response.status_code == 200
    order = order_of(user_client, number)
    assert order["status"] == "pending_payment"
    assert order["payment"]["status"] == "failed"
    assert order["payment"]["failure_message"]
    assert PaymentEvent.objects.get().status == EventStatus.PROCESSED
    assert not confirmations(mailoutbox, number)
    again = user_client.post(order_url(number, "pay"), {})
    assert again.status_code == 200
    assert again.json()["payment"]["approval_url"]
    assert len(paypal_api.orders) == 2


def test_a_pending_capture_pays_the_order_when_paypal_completes_it(
    pending_capture, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    number = pending_capture["number"]
    capture = only_capture(paypal_api)
    assert order_of(user_client, number)["status"] == "pending_payment"
    paypal_api.settle_capture(capture["id"], "COMPLETED")

    with django_capture_on_commit_callbacks(execute=True):
        response = paypal_webhook(client, paypal_api.capture_event(capture["id"]))

    assert response.status_code == 200
    assert order_of(user_client, number)["status"] == "paid"
    assert Payment.objects.get().capture_reference == capture["id"]
    assert len(confirmations(mailoutbox, number)) == 1


def test_a_denied_event_after_the_capture_completed_does_not_unpay(
    paid_order, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    capture = only_capture(paypal_api)
    completed = paypal_api.capture_event(capture["id"])
    denied = paypal_api.capture_event(capture["id"], "PAYMENT.CAPTURE.DENIED")

    for event in (completed, denied):
        with django_capture_on_commit_callbacks(execute=True):
            assert paypal_webhook(client, event).status_code == 200

    order = order_of(user_client, paid_order["number"])
    assert order["status"] == "paid"
    assert order["payment"]["status"] == "succeeded"
    assert statuses(order) == ["pending_payment", "paid"]
    assert Payment.objects.get().capture_reference == capture["id"]


# --- 8. Amount mismatch -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [{"currency_code": "EUR", "value": "1.00"}, {"currency_code": "USD", "value": "15.50"}],
    ids=["other-value", "other-currency"],
)
def test_a_completed_capture_of_another_amount_does_not_pay_and_is_flagged(
    amount, pending_capture, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    number = pending_capture["number"]
    capture = copy.deepcopy(only_capture(paypal_api))
    capture["status"] = "COMPLETED"
    capture.pop("status_details", None)
    capture["amount"] = amount
    event = paypal_api.event("PAYMENT.CAPTURE.COMPLETED", capture)

    with django_capture_on_commit_callbacks(execute=True):
        response = paypal_webhook(client, event)

    assert response.status_code == 200
    order = order_of(user_client, number)
    assert order["status"] == "pending_payment"
    payment = Payment.objects.get()
    assert payment.status != PaymentStatus.SUCCEEDED
    assert payment.flag
    assert PaymentEvent.objects.get().status == EventStatus.FLAGGED
    assert not confirmations(mailoutbox, number)


# --- 9. Refunds by staff ----------------------------------------------------------------------------


def test_staff_refund_in_part_then_the_rest_through_paypal(
    paid_order, paypal_api, staff_client, user_client, django_capture_on_commit_callbacks
):
    number = paid_order["number"]
    capture = only_capture(paypal_api)
    refund_path = f"/v2/payments/captures/{capture['id']}/refund"

    with django_capture_on_commit_callbacks(execute=True):
        part = staff_client.post(order_url(number, "refund"), {"amount": "5.00"})
    assert part.status_code == 201, part.content
    order = order_of(user_client, number)
    assert order["status"] == "partially_refunded"
    assert order["amount_refunded"] == "5.00"
    [first] = paypal_api.refunds.values()
    assert first["amount"] == {"currency_code": "EUR", "value": "5.00"}
    assert first["status"] == "COMPLETED"
    assert len(paypal_api.requests_to("POST", refund_path)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        rest = staff_client.post(order_url(number, "refund"), {})
    assert rest.status_code == 201, rest.content
    order = order_of(user_client, number)
    assert order["status"] == "refunded"
    assert order["amount_refunded"] == "15.50"
    assert [r["status"] for r in order["refunds"]] == ["succeeded", "succeeded"]
    second = next(r for r in paypal_api.refunds.values() if r["id"] != first["id"])
    assert second["amount"] == {"currency_code": "EUR", "value": "10.50"}
    assert paypal_api.captures[capture["id"]]["status"] == "REFUNDED"
    assert {r.reference for r in Refund.objects.all()} == {first["id"], second["id"]}

    with django_capture_on_commit_callbacks(execute=True):
        third = staff_client.post(order_url(number, "refund"), {})
    assert third.status_code == 409
    assert third["Content-Type"].startswith(PROBLEM)
    assert third.json()["code"] == "nothing_to_refund"
    assert paypal_api.refunds_made == 2

    ids = request_ids(paypal_api, "POST", refund_path)
    assert len(ids) == 2
    assert all(ids)
    assert len(set(ids)) == 2


def test_paypals_refund_webhook_for_the_shops_own_refund_adds_nothing(
    paid_order, paypal_api, staff_client, client, user_client, django_capture_on_commit_callbacks
):
    number = paid_order["number"]
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(order_url(number, "refund"), {"amount": "5.00"}).status_code == 201
    [refund] = paypal_api.refunds.values()

    with django_capture_on_commit_callbacks(execute=True):
        assert paypal_webhook(client, paypal_api.refund_event(refund["id"])).status_code == 200

    order = order_of(user_client, number)
    assert order["amount_refunded"] == "5.00"
    assert len(order["refunds"]) == 1
    assert order["status"] == "partially_refunded"


# --- 10. A refund made at PayPal's dashboard --------------------------------------------------------


def _refund_at_paypal(paypal_api, capture_id: str, value: str) -> str:
    """A refund made by the merchant at PayPal (the dashboard), not by the shop; returns its id."""
    response = as_merchant(
        paypal_api,
        "POST",
        f"/v2/payments/captures/{capture_id}/refund",
        json={"amount": {"currency_code": "EUR", "value": value}},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_refund_made_at_paypal_is_recorded_from_its_webhook_once(
    paid_order, paypal_api, client, user_client, mailoutbox, django_capture_on_commit_callbacks
):
    number = paid_order["number"]
    refund_id = _refund_at_paypal(paypal_api, only_capture(paypal_api)["id"], "4.00")
    event = paypal_api.refund_event(refund_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = paypal_webhook(client, event)

    assert response.status_code == 200
    order = order_of(user_client, number)
    assert order["status"] == "partially_refunded"
    assert order["amount_refunded"] == "4.00"
    [refund] = order["refunds"]
    assert (refund["amount"], refund["status"]) == ("4.00", "succeeded")
    assert PaymentEvent.objects.get().status == EventStatus.PROCESSED
    assert paypal_api.refunds_made == 1
    mails = len(mailoutbox)

    # The same event again, and PayPal's other notification of the same refund: nothing more.
    for again in (event, paypal_api.refund_event(refund_id)):
        with django_capture_on_commit_callbacks(execute=True):
            assert paypal_webhook(client, again).status_code == 200
    order = order_of(user_client, number)
    assert order["amount_refunded"] == "4.00"
    assert len(order["refunds"]) == 1
    assert statuses(order) == ["pending_payment", "paid", "partially_refunded"]
    assert len(mailoutbox) == mails
    assert paypal_api.refunds_made == 1


def test_a_refund_at_paypal_after_one_by_the_shop_records_only_the_new_money(
    paid_order, paypal_api, staff_client, client, user_client, django_capture_on_commit_callbacks
):
    number = paid_order["number"]
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(order_url(number, "refund"), {"amount": "5.00"}).status_code == 201
    refund_id = _refund_at_paypal(paypal_api, only_capture(paypal_api)["id"], "4.00")
    event = paypal_api.refund_event(refund_id)
    assert event["resource"]["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "9.00"

    with django_capture_on_commit_callbacks(execute=True):
        assert paypal_webhook(client, event).status_code == 200

    order = order_of(user_client, number)
    assert order["amount_refunded"] == "9.00"
    assert sorted(r["amount"] for r in order["refunds"]) == ["4.00", "5.00"]
    assert order["status"] == "partially_refunded"


def test_a_refund_webhook_before_the_pending_captures_completion_is_applied_after_it(
    pending_capture, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    # PayPal completes the capture it held for review; the merchant refunds part of it at once
    # from the dashboard; PayPal's webhooks arrive in the other order.
    number = pending_capture["number"]
    capture_id = only_capture(paypal_api)["id"]
    paypal_api.settle_capture(capture_id, "COMPLETED")
    refunded = paypal_api.refund_event(_refund_at_paypal(paypal_api, capture_id, "4.00"))
    completed = paypal_api.capture_event(capture_id)
    completed["resource"]["status"] = "COMPLETED"  # as it was when PayPal sent it, before the refund

    for event in (refunded, completed):
        with django_capture_on_commit_callbacks(execute=True):
            assert paypal_webhook(client, event).status_code == 200

    order = order_of(user_client, number)
    assert order["amount_refunded"] == "4.00"
    assert statuses(order) == ["pending_payment", "paid", "partially_refunded"]
    assert set(PaymentEvent.objects.values_list("status", flat=True)) == {EventStatus.PROCESSED}


# --- 11. The buyer cancels at PayPal ----------------------------------------------------------------


def test_the_buyer_cancelling_at_paypal_leaves_the_order_waiting(
    checkout, paypal_api, client, user_client, django_capture_on_commit_callbacks
):
    body = checkout()

    back_to = at_paypal(body["payment"]["approval_url"], cancel=True)
    assert back_to.startswith(f"{CANCEL_PAGE}?order={body['number']}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(back_to)

    assert response.status_code == 200
    assert "Le paiement n'a pas été effectué" in page_text(response)
    order = order_of(user_client, body["number"])
    assert order["status"] == "pending_payment"
    assert order["payment"]["status"] == "pending"
    assert paypal_api.captures_made == 0
    # The buyer may go back to PayPal: the same approval link still pays the order.
    again = user_client.post(order_url(body["number"], "pay"), {})
    assert again.status_code == 200
    assert again.json()["payment"]["approval_url"] == body["payment"]["approval_url"]
    assert len(paypal_api.orders) == 1


# --- 12. PayPal fails at checkout -------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["token", "order"])
def test_a_paypal_500_at_checkout_leaves_the_order_payable_and_the_retry_makes_one_order(
    failing, checkout, paypal_api, user_client
):
    if failing == "order":
        paypal_api.stall_next(0)  # the token request goes through
    paypal_api.fail_next(500)
    body = checkout()

    assert body["status"] == "pending_payment"
    assert body["payment"]["status"] == "error"
    assert body["payment"]["approval_url"] == ""
    assert not paypal_api.orders

    retried = user_client.post(order_url(body["number"], "pay"), {})

    assert retried.status_code == 200
    payment = retried.json()["payment"]
    assert payment["status"] == "pending"
    [paypal_order] = paypal_api.orders.values()
    assert payment["reference"] == paypal_order["id"]
    assert payment["approval_url"] == f"{paypal_api.url}/checkoutnow?token={paypal_order['id']}"
    if failing == "order":
        ids = request_ids(paypal_api, "POST", "/v2/checkout/orders")
        assert len(ids) == 2
        assert ids[0] == ids[1]


def test_a_timeout_after_paypal_made_the_order_gives_the_same_order_on_retry(
    checkout, paypal_api, user_client
):
    # The token goes through; PayPal makes the order, then its answer is lost (timeout 1 s).
    paypal_api.stall_next(0)
    paypal_api.stall_next(2.5, after=True)
    body = checkout()
    assert body["status"] == "pending_payment"
    assert body["payment"]["status"] == "error"
    assert len(paypal_api.orders) == 1

    retried = user_client.post(order_url(body["number"], "pay"), {})

    assert retried.status_code == 200
    assert len(paypal_api.orders) == 1
    [paypal_order] = paypal_api.orders.values()
    payment = retried.json()["payment"]
    assert payment["status"] == "pending"
    assert payment["reference"] == paypal_order["id"]
    assert payment["approval_url"] == f"{paypal_api.url}/checkoutnow?token={paypal_order['id']}"
    ids = request_ids(paypal_api, "POST", "/v2/checkout/orders")
    assert len(ids) == 2
    assert ids[0]
    assert ids[0] == ids[1]
    assert Decimal(paypal_order["purchase_units"][0]["amount"]["value"]) == Decimal("15.50")
