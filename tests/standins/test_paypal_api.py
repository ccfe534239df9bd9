"""The PayPal stand-in, driven with ``requests`` as the shop drives PayPal's sandbox."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.standins.paypal_api import CERT_URL, PayPalStandIn, signed_headers

TIMEOUT = 5
CLIENT_ID, CLIENT_SECRET = "standin-client", "standin-secret"
PAYPAL_ID = re.compile(r"[A-Z0-9]{17}")


@pytest.fixture
def paypal() -> Iterator[PayPalStandIn]:
    with PayPalStandIn(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_id="WH-STANDIN") as stand_in:
        yield stand_in


def get_token(paypal: PayPalStandIn, secret: str = CLIENT_SECRET) -> requests.Response:
    return requests.post(
        f"{paypal.url}/v1/oauth2/token",
        auth=(CLIENT_ID, secret),
        data={"grant_type": "client_credentials"},
        timeout=TIMEOUT,
    )


@pytest.fixture
def token(paypal: PayPalStandIn) -> str:
    return get_token(paypal).json()["access_token"]


def call(
    paypal: PayPalStandIn,
    method: str,
    path: str,
    token: str,
    body: Any = None,
    *,
    request_id: str | None = None,
    timeout: float = TIMEOUT,
    representation: bool = False,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if request_id:
        headers["PayPal-Request-Id"] = request_id
    if representation:
        headers["Prefer"] = "return=representation"
    return requests.request(method, f"{paypal.url}{path}", json=body, headers=headers, timeout=timeout)


def order_body(value: str = "15.50", currency: str = "EUR", **unit: Any) -> dict[str, Any]:
    return {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "reference_id": "LB-AAAA-BBBB",
                "custom_id": "12",
                "amount": {"currency_code": currency, "value": value},
                **unit,
            }
        ],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "return_url": "https://shop.example/paypal/return",
                    "cancel_url": "https://shop.example/paypal/cancel",
                    "user_action": "PAY_NOW",
                }
            }
        },
    }


def create_order(paypal: PayPalStandIn, token: str, **kwargs: Any) -> dict[str, Any]:
    response = call(paypal, "POST", "/v2/checkout/orders", token, order_body(**kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def captured_order(paypal: PayPalStandIn, token: str, **kwargs: Any) -> tuple[str, str]:
    """An order created, approved and captured: (order id, capture id)."""
    order_id = create_order(paypal, token, **kwargs)["id"]
    paypal.approve(order_id)
    response = call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, {}, request_id="cap-1")
    assert response.status_code == 201, response.text
    return order_id, response.json()["purchase_units"][0]["payments"]["captures"][0]["id"]


def issue(response: requests.Response) -> str:
    return response.json()["details"][0]["issue"]


# --- OAuth2 -------------------------------------------------------------------------------------


def test_token_with_good_credentials(paypal):
    response = get_token(paypal)

    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("A21")
    assert body["token_type"] == "Bearer"
    assert body["app_id"] == "APP-STANDIN"
    assert body["expires_in"] == 32400
    assert body["scope"]
    assert body["nonce"]
    assert paypal.tokens_issued == 1


def test_token_with_bad_credentials(paypal):
    response = get_token(paypal, secret="wrong")

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Client Authentication failed"}
    assert paypal.tokens_issued == 0


def test_calls_without_a_live_token_are_refused(paypal):
    for token in ("", "A21made-up"):
        response = call(paypal, "POST", "/v2/checkout/orders", token, order_body())
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
    assert paypal.orders == {}


def test_an_expired_token_is_refused_and_a_new_one_works(paypal, token):
    assert call(paypal, "POST", "/v2/checkout/orders", token, order_body()).status_code == 201

    paypal.expire_tokens()
    response = call(paypal, "POST", "/v2/checkout/orders", token, order_body())

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "Token signature verification failed",
    }
    fresh = get_token(paypal).json()["access_token"]
    assert call(paypal, "POST", "/v2/checkout/orders", fresh, order_body()).status_code == 201
    assert paypal.tokens_issued == 2


# --- Orders -------------------------------------------------------------------------------------


def test_create_approve_capture(paypal, token):
    created = create_order(paypal, token)
    order_id = created["id"]
    assert PAYPAL_ID.fullmatch(order_id)
    assert created["status"] == "PAYER_ACTION_REQUIRED"
    assert created["payment_source"] == {"paypal": {}}
    links = {link["rel"]: link for link in created["links"]}
    assert links["self"] == {
        "href": f"{paypal.url}/v2/checkout/orders/{order_id}",
        "rel": "self",
        "method": "GET",
    }
    assert links["payer-action"]["href"] == f"{paypal.url}/checkoutnow?token={order_id}"
    assert paypal.orders[order_id]["_return_url"] == "https://shop.example/paypal/return"

    order_path = f"/v2/checkout/orders/{order_id}"
    assert call(paypal, "GET", order_path, token).json()["status"] == "PAYER_ACTION_REQUIRED"
    paypal.approve(order_id)
    approved = call(paypal, "GET", f"/v2/checkout/orders/{order_id}", token).json()
    assert approved["status"] == "APPROVED"
    assert approved["payer"]["email_address"] == "buyer@example.com"
    assert approved["payer"]["payer_id"]

    response = call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, {}, request_id="c1")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == order_id
    assert body["status"] == "COMPLETED"
    assert body["payer"] == approved["payer"]
    unit = body["purchase_units"][0]
    assert unit["reference_id"] == "LB-AAAA-BBBB"
    (capture,) = unit["payments"]["captures"]
    assert PAYPAL_ID.fullmatch(capture["id"])
    assert capture["status"] == "COMPLETED"
    assert capture["amount"] == {"currency_code": "EUR", "value": "15.50"}
    assert capture["final_capture"] is True
    assert capture["custom_id"] == "12"
    assert capture["supplementary_data"] == {"related_ids": {"order_id": order_id}}
    assert capture["create_time"] == capture["update_time"]
    assert paypal.captures_made == 1
    assert paypal.captures[capture["id"]]["status"] == "COMPLETED"

    now = call(paypal, "GET", f"/v2/checkout/orders/{order_id}", token).json()
    assert now["status"] == "COMPLETED"
    assert now["purchase_units"][0]["payments"]["captures"] == [capture]
    assert call(paypal, "GET", f"/v2/payments/captures/{capture['id']}", token).json() == capture


def test_unknown_order_is_404(paypal, token):
    response = call(paypal, "GET", "/v2/checkout/orders/NOSUCHORDER123456", token)

    assert response.status_code == 404
    assert response.json()["name"] == "RESOURCE_NOT_FOUND"
    assert issue(response) == "INVALID_RESOURCE_ID"


def test_unknown_path_is_404(paypal, token):
    response = call(paypal, "GET", "/v1/nothing/here", token)

    assert response.status_code == 404
    assert response.json()["name"] == "RESOURCE_NOT_FOUND"


def test_amount_decimals_must_match_the_currency(paypal, token):
    for value, currency in (("15.505", "EUR"), ("1500.00", "JPY")):
        response = call(paypal, "POST", "/v2/checkout/orders", token, order_body(value, currency))
        assert response.status_code == 422
        assert response.json()["name"] == "UNPROCESSABLE_ENTITY"
        assert issue(response) == "DECIMAL_PRECISION"
        assert response.json()["message"]
        assert response.headers["Paypal-Debug-Id"] == response.json()["debug_id"]
    assert paypal.orders == {}
    assert call(paypal, "POST", "/v2/checkout/orders", token, order_body("1500", "JPY")).status_code == 201


def test_amount_value_must_be_a_string(paypal, token):
    response = call(paypal, "POST", "/v2/checkout/orders", token, order_body(15.5))  # type: ignore[arg-type]

    assert response.status_code == 400
    assert issue(response) == "INVALID_PARAMETER_SYNTAX"


def test_missing_intent_or_purchase_units_is_invalid_request(paypal, token):
    for missing in ("intent", "purchase_units"):
        body = order_body()
        del body[missing]
        response = call(paypal, "POST", "/v2/checkout/orders", token, body)
        assert response.status_code == 400
        assert response.json()["name"] == "INVALID_REQUEST"
        assert response.json()["details"][0] == {
            "field": f"/{missing}",
            "location": "body",
            "issue": "MISSING_REQUIRED_PARAMETER",
            "description": "A required field / parameter is missing.",
        }


def test_breakdown_and_items_must_add_up(paypal, token):
    items = [{"name": "Book", "quantity": "2", "unit_amount": {"currency_code": "EUR", "value": "7.00"}}]
    good = {
        "item_total": {"currency_code": "EUR", "value": "14.00"},
        "shipping": {"currency_code": "EUR", "value": "1.50"},
    }
    body = order_body()
    body["purchase_units"][0]["amount"]["breakdown"] = good
    body["purchase_units"][0]["items"] = items
    assert call(paypal, "POST", "/v2/checkout/orders", token, body).status_code == 201

    body["purchase_units"][0]["amount"]["value"] = "16.50"
    response = call(paypal, "POST", "/v2/checkout/orders", token, body)
    assert (response.status_code, issue(response)) == (422, "AMOUNT_MISMATCH")

    body["purchase_units"][0]["amount"]["value"] = "15.50"
    items[0]["quantity"] = "3"
    response = call(paypal, "POST", "/v2/checkout/orders", token, body)
    assert (response.status_code, issue(response)) == (422, "ITEM_TOTAL_MISMATCH")


def test_the_buyer_page_approves_and_redirects(paypal, token):
    order_id = create_order(paypal, token)["id"]

    buyer_page = f"{paypal.url}/checkoutnow?token={order_id}"
    response = requests.get(buyer_page, allow_redirects=False, timeout=TIMEOUT)

    assert response.status_code == 302
    payer_id = paypal.orders[order_id]["payer"]["payer_id"]
    assert response.headers["Location"] == (
        f"https://shop.example/paypal/return?token={order_id}&PayerID={payer_id}"
    )
    assert paypal.orders[order_id]["status"] == "APPROVED"


# --- Capture ------------------------------------------------------------------------------------


def test_capture_twice_with_one_request_id_captures_once(paypal, token):
    order_id = create_order(paypal, token)["id"]
    paypal.approve(order_id)
    path = f"/v2/checkout/orders/{order_id}/capture"

    first = call(paypal, "POST", path, token, {}, request_id="capture-LB-AAAA-BBBB")
    second = call(paypal, "POST", path, token, {}, request_id="capture-LB-AAAA-BBBB")

    assert first.status_code == 201
    assert second.status_code == 200  # PayPal answers an idempotent replay with 200 OK.
    assert second.json() == first.json()
    assert paypal.captures_made == 1
    assert len(paypal.captures) == 1


def test_capture_again_with_another_request_id_is_already_captured(paypal, token):
    order_id, _ = captured_order(paypal, token)

    response = call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, {}, request_id="cap-2")

    assert response.status_code == 422
    assert issue(response) == "ORDER_ALREADY_CAPTURED"
    assert paypal.captures_made == 1


def test_capture_before_approval_is_refused(paypal, token):
    order_id = create_order(paypal, token)["id"]

    response = call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, request_id="early")

    assert response.status_code == 422
    assert response.json()["name"] == "UNPROCESSABLE_ENTITY"
    assert issue(response) == "ORDER_NOT_APPROVED"
    assert paypal.captures_made == 0
    # An error is not kept for replay: once approved, the same request id captures.
    paypal.approve(order_id)
    assert call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, request_id="early").ok


def test_a_declined_instrument_sends_the_buyer_back(paypal, token):
    order_id = create_order(paypal, token)["id"]
    paypal.approve(order_id)
    paypal.set_capture_outcome(order_id, "INSTRUMENT_DECLINED")

    response = call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, {})

    assert (response.status_code, issue(response)) == (422, "INSTRUMENT_DECLINED")
    assert paypal.orders[order_id]["status"] == "PAYER_ACTION_REQUIRED"
    paypal.approve(order_id)
    assert call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, {}).status_code == 201


def test_a_pending_capture_settles_later(paypal, token):
    order_id = create_order(paypal, token)["id"]
    paypal.approve(order_id)
    paypal.set_capture_outcome(order_id, "PENDING")
    response = call(paypal, "POST", f"/v2/checkout/orders/{order_id}/capture", token, {})
    capture = response.json()["purchase_units"][0]["payments"]["captures"][0]
    assert capture["status"] == "PENDING"
    refund_path = f"/v2/payments/captures/{capture['id']}/refund"
    response = call(paypal, "POST", refund_path, token, {})
    assert (response.status_code, issue(response)) == (422, "PENDING_CAPTURE")

    paypal.settle_capture(capture["id"], "DECLINED")

    event = paypal.capture_event(capture["id"], "PAYMENT.CAPTURE.DENIED")
    assert event["resource"]["status"] == "DECLINED"
    assert event["resource_type"] == "capture"


# --- Refunds ------------------------------------------------------------------------------------


def test_partial_refund_then_over_refund_then_the_rest(paypal, token):
    _, capture_id = captured_order(paypal, token)
    path = f"/v2/payments/captures/{capture_id}/refund"
    five_euros = {"value": "5.00", "currency_code": "EUR"}
    five = {"amount": five_euros, "custom_id": "refund-1", "note_to_payer": "Sorry"}

    response = call(paypal, "POST", path, token, five, request_id="r1", representation=True)

    assert response.status_code == 201
    refund = response.json()
    assert PAYPAL_ID.fullmatch(refund["id"])
    assert refund["status"] == "COMPLETED"
    assert refund["amount"] == {"currency_code": "EUR", "value": "5.00"}
    assert refund["custom_id"] == "refund-1"
    assert refund["seller_payable_breakdown"]["total_refunded_amount"] == five_euros
    links = {link["rel"]: link for link in refund["links"]}
    capture_url = f"{paypal.url}/v2/payments/captures/{capture_id}"
    assert links["up"] == {"href": capture_url, "rel": "up", "method": "GET"}
    assert links["self"]["href"] == f"{paypal.url}/v2/payments/refunds/{refund['id']}"
    assert refund["create_time"] == refund["update_time"]
    assert paypal.captures[capture_id]["status"] == "PARTIALLY_REFUNDED"

    too_much = {"amount": {"value": "10.51", "currency_code": "EUR"}}
    response = call(paypal, "POST", path, token, too_much, request_id="r2", representation=True)
    assert (response.status_code, issue(response)) == (422, "REFUND_AMOUNT_EXCEEDED")

    response = call(paypal, "POST", path, token, {}, request_id="r3", representation=True)
    assert response.status_code == 201
    rest = response.json()
    assert rest["amount"] == {"currency_code": "EUR", "value": "10.50"}
    assert rest["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "15.50"
    assert paypal.captures[capture_id]["status"] == "REFUNDED"

    response = call(paypal, "POST", path, token, {"amount": {"value": "0.01", "currency_code": "EUR"}})
    assert (response.status_code, issue(response)) == (422, "CAPTURE_FULLY_REFUNDED")
    assert paypal.refunds_made == 2
    assert set(paypal.refunds) == {refund["id"], rest["id"]}


def test_refund_in_another_currency_is_refused(paypal, token):
    _, capture_id = captured_order(paypal, token)

    response = call(
        paypal,
        "POST",
        f"/v2/payments/captures/{capture_id}/refund",
        token,
        {"amount": {"value": "5.00", "currency_code": "USD"}},
    )

    assert (response.status_code, issue(response)) == (422, "REFUND_CURRENCY_MISMATCH")
    assert paypal.refunds == {}


def test_refund_of_an_unknown_capture_is_404(paypal, token):
    response = call(paypal, "POST", "/v2/payments/captures/NOSUCHCAPTURE1234/refund", token, {})

    assert response.status_code == 404
    assert response.json()["name"] == "RESOURCE_NOT_FOUND"


# --- Idempotency and faults ---------------------------------------------------------------------


def test_create_order_twice_with_one_request_id_creates_one_order(paypal, token):
    first = call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-12")
    second = call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-12")
    other = call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-13")

    assert second.json() == first.json()
    assert other.json()["id"] != first.json()["id"]
    assert len(paypal.orders) == 2


def test_an_injected_failure_creates_nothing(paypal, token):
    paypal.fail_next(500)

    response = call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-12")

    assert response.status_code == 500
    assert paypal.orders == {}
    retry = call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-12")
    assert retry.status_code == 201
    assert list(paypal.orders) == [retry.json()["id"]]


def test_a_lost_answer_is_replayed_to_the_retry(paypal, token):
    paypal.stall_next(3, after=True)

    with pytest.raises(requests.Timeout):
        call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-12", timeout=1)

    assert len(paypal.orders) == 1  # PayPal created the order; the answer was lost.
    retry = call(paypal, "POST", "/v2/checkout/orders", token, order_body(), request_id="order-12")
    assert retry.ok
    assert list(paypal.orders) == [retry.json()["id"]]


# --- Webhooks -----------------------------------------------------------------------------------


def verify(paypal: PayPalStandIn, token: str, event: dict, headers: dict[str, str], **override: Any):
    body = {
        "auth_algo": headers["PAYPAL-AUTH-ALGO"],
        "cert_url": headers["PAYPAL-CERT-URL"],
        "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": "WH-STANDIN",
        "webhook_event": event,
        **override,
    }
    return call(paypal, "POST", "/v1/notifications/verify-webhook-signature", token, body)


def test_signed_headers_look_like_paypal_s():
    headers = signed_headers({"id": "WH-1"}, webhook_id="WH-STANDIN")

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["PAYPAL-TRANSMISSION-TIME"])
    assert headers["PAYPAL-CERT-URL"] == CERT_URL
    assert headers["PAYPAL-AUTH-ALGO"] == "SHA256withRSA"
    assert len(headers["PAYPAL-TRANSMISSION-ID"]) == 36


def test_a_signed_event_verifies(paypal, token):
    _, capture_id = captured_order(paypal, token)
    event = paypal.capture_event(capture_id)
    headers = signed_headers(event, webhook_id="WH-STANDIN")
    # The shop parses the delivered body and sends the event back, keys in whatever order.
    reserialized = json.loads(json.dumps(dict(reversed(list(event.items())))))

    response = verify(paypal, token, reserialized, headers)

    assert response.status_code == 200
    assert response.json() == {"verification_status": "SUCCESS"}
    assert paypal.verifications == 1


def test_a_tampered_event_fails(paypal, token):
    _, capture_id = captured_order(paypal, token)
    event = paypal.capture_event(capture_id)
    headers = signed_headers(event, webhook_id="WH-STANDIN")
    event["resource"]["amount"]["value"] = "1500.00"

    assert verify(paypal, token, event, headers).json() == {"verification_status": "FAILURE"}


def test_another_webhook_id_fails(paypal, token):
    event = paypal.event("CHECKOUT.ORDER.APPROVED", {"id": "5O190127TN364715T", "status": "APPROVED"})
    headers = signed_headers(event, webhook_id="WH-OTHER")

    other = verify(paypal, token, event, headers, webhook_id="WH-OTHER")
    assert other.json()["verification_status"] == "FAILURE"
    assert verify(paypal, token, event, headers).json()["verification_status"] == "FAILURE"


def test_a_stale_or_future_transmission_fails(paypal, token):
    event = paypal.event("CHECKOUT.ORDER.APPROVED", {"id": "5O190127TN364715T"})
    for shift in (timedelta(minutes=-6), timedelta(minutes=6)):
        when = (datetime.now(UTC) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = signed_headers(event, webhook_id="WH-STANDIN", transmission_time=when)
        assert verify(paypal, token, event, headers).json()["verification_status"] == "FAILURE"


def test_verify_with_missing_fields_is_invalid_request(paypal, token):
    response = call(
        paypal, "POST", "/v1/notifications/verify-webhook-signature", token, {"webhook_id": "WH-STANDIN"}
    )

    assert response.status_code == 400
    assert response.json()["name"] == "INVALID_REQUEST"
    assert {d["field"] for d in response.json()["details"]} >= {"/transmission_sig", "/webhook_event"}
    assert paypal.verifications == 0


def test_events_carry_the_current_resources(paypal, token):
    order_id, capture_id = captured_order(paypal, token)
    path = f"/v2/payments/captures/{capture_id}/refund"
    call(paypal, "POST", path, token, {"amount": {"value": "5.00", "currency_code": "EUR"}})
    second = call(paypal, "POST", path, token, {"amount": {"value": "2.00", "currency_code": "EUR"}}).json()

    order_event = paypal.order_event(order_id)
    capture_event = paypal.capture_event(capture_id)
    refund_event = paypal.refund_event(second["id"])

    assert re.fullmatch(r"WH-[A-Z0-9]+", order_event["id"])
    assert order_event["event_type"] == "CHECKOUT.ORDER.APPROVED"
    assert order_event["resource_type"] == "checkout-order"
    assert order_event["resource"]["id"] == order_id
    assert "_return_url" not in order_event["resource"]
    assert capture_event["resource_type"] == "capture"
    assert capture_event["resource"]["supplementary_data"]["related_ids"]["order_id"] == order_id
    assert capture_event["summary"] == "Payment completed for EUR 15.50 EUR"
    assert refund_event["resource_type"] == "refund"
    assert refund_event["resource"]["amount"]["value"] == "2.00"
    assert refund_event["resource"]["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "7.00"
    up = next(link for link in refund_event["resource"]["links"] if link["rel"] == "up")
    assert up["href"].endswith(f"/v2/payments/captures/{capture_id}")
    for event in (order_event, capture_event, refund_event):
        assert event["event_version"] == "1.0"
        assert event["resource_version"] == "2.0"
        assert event["create_time"]
        assert event["summary"]
        assert event["links"]
