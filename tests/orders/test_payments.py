"""order_mark_paid, the dummy provider's page, and the provider configuration."""

from decimal import Decimal

import pytest
from django.core import signing

from apps.orders.exceptions import InvalidTransition, PaymentMismatch
from apps.orders.models import Order, OutboxEmail, Payment
from apps.orders.payments import PaymentRequest, RefundRequest, WebhookInvalid, get_provider
from apps.orders.payments.dummy import pay_token_make
from apps.orders.payments.registry import ProviderUnavailable
from apps.orders.services import order_mark_paid, order_place, order_transition, payment_start

from .conftest import INLINE_ADDRESS, ORDERS, fill_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user, book):
    fill_cart(user, (book, 1))
    placed, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")
    payment_start(order=placed)
    return placed


@pytest.fixture
def payment(order) -> Payment:
    return order.payments.get()


def test_mark_paid_records_the_payment_and_moves_the_order(order, payment):
    paid = order_mark_paid(
        payment_id=payment.pk, amount=Decimal("15.50"), currency="EUR", reference="dummy_x"
    )
    assert paid.status == "paid"
    assert paid.paid_at is not None
    payment.refresh_from_db()
    assert (payment.status, payment.reference) == ("succeeded", "dummy_x")
    assert payment.paid_at is not None
    assert OutboxEmail.objects.filter(order=order, kind="confirmation").count() == 1


def test_mark_paid_twice_is_harmless(order, payment):
    order_mark_paid(payment_id=payment.pk, amount=order.total, currency="EUR")
    again = order_mark_paid(payment_id=payment.pk, amount=order.total, currency="EUR")
    assert again.status == "paid"
    assert order.history.filter(to_status="paid").count() == 1
    assert OutboxEmail.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(("amount", "currency"), [("15.49", "EUR"), ("15.51", "EUR"), ("15.50", "USD")])
def test_mark_paid_refuses_another_amount_or_currency(order, payment, amount, currency):
    with pytest.raises(PaymentMismatch):
        order_mark_paid(payment_id=payment.pk, amount=Decimal(amount), currency=currency)
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_a_cancelled_order_cannot_be_paid(order, payment):
    order_transition(order=order, to_status="cancelled")
    with pytest.raises(InvalidTransition):
        order_mark_paid(payment_id=payment.pk, amount=order.total, currency="EUR")
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_dummy_start_returns_a_signed_pay_url(order, payment):
    assert payment.pay_url == f"http://shop.test/orders/pay/dummy/{pay_token_make(payment.pk)}/"
    assert payment.reference.startswith("dummy_")
    assert payment.client_secret == payment.approval_url == ""


def test_provider_results_are_frozen_with_decimal_amounts(payment):
    request = PaymentRequest(
        payment_id=payment.pk,
        order_number="LB-X",
        amount=Decimal("1.00"),
        currency="EUR",
        customer_email="a@b.c",
    )
    start = get_provider("dummy").start_payment(request)
    with pytest.raises(AttributeError):
        start.pay_url = "http://evil.example/"  # type: ignore[misc]
    refund = get_provider("dummy").refund(
        RefundRequest(
            refund_id=1,
            payment_reference=start.reference,
            capture_reference="",
            amount=Decimal("1.00"),
            currency="EUR",
            idempotency_key="k",
        )
    )
    assert refund.amount == Decimal("1.00")


def test_dummy_webhook_signature_is_verified():
    provider = get_provider("dummy")
    body = signing.dumps(
        {
            "id": "evt_1",
            "kind": "payment_succeeded",
            "reference": "dummy_1",
            "amount": "15.50",
            "currency": "EUR",
        },
        salt="orders.payments.dummy.webhook",
    ).encode()
    event = provider.parse_webhook(body=body, headers={})
    assert (event.event_id, event.amount) == ("evt_1", Decimal("15.50"))
    with pytest.raises(WebhookInvalid):
        provider.parse_webhook(body=body[:-2] + b"xx", headers={})


def test_disabled_provider_cannot_be_had(settings):
    settings.PAYMENT_PROVIDERS = []
    with pytest.raises(ProviderUnavailable):
        get_provider("dummy")


# --- The dummy page -------------------------------------------------------------------------


def test_dummy_page_shows_the_order_and_pays_it(client, order, payment):
    url = payment.pay_url.removeprefix("http://shop.test")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html
    assert "15,50\u00a0€" in html  # French number format
    assert 'value="pay"' in html

    response = client.post(url, {"action": "pay"}, follow=True)

    assert response.status_code == 200
    assert "Cette commande est payée." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"


def test_dummy_page_can_fail_the_payment_then_pay(client, order, payment):
    url = payment.pay_url.removeprefix("http://shop.test")
    client.post(url, {"action": "fail"})
    assert Payment.objects.get(pk=payment.pk).status == "failed"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    # The customer tries again with another (dummy) card.
    client.post(url, {"action": "pay"})
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_dummy_page_refuses_a_forged_token(client, payment):
    token = pay_token_make(payment.pk)
    assert client.get(f"/orders/pay/dummy/{token[:-3]}abc/").status_code == 404
    forged = signing.dumps({"payment": payment.pk})  # right payload, wrong salt
    assert client.post(f"/orders/pay/dummy/{forged}/", {"action": "pay"}).status_code == 404
    assert Order.objects.get(pk=payment.order_id).status == "pending_payment"


def test_dummy_page_is_gone_when_the_dummy_provider_is_disabled(client, payment, settings):
    settings.PAYMENT_PROVIDERS = []
    response = client.post(payment.pay_url.removeprefix("http://shop.test"), {"action": "pay"})
    assert response.status_code == 404
    assert Order.objects.get(pk=payment.order_id).status == "pending_payment"


def test_dummy_page_of_a_cancelled_order_cannot_pay(client, order, payment):
    order_transition(order=order, to_status="cancelled")
    url = payment.pay_url.removeprefix("http://shop.test")
    assert "ne peut plus être payée" in client.get(url).content.decode()
    client.post(url, {"action": "pay"})
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_checkout_response_carries_the_pay_url_that_pays(user_client, client, user, book):
    fill_cart(user, (book, 1))
    body = user_client.post(ORDERS, {"shipping_address": INLINE_ADDRESS, "payment_provider": "dummy"}).json()
    client.post(body["payment"]["pay_url"].removeprefix("http://shop.test"), {"action": "pay"})
    assert user_client.get(f"{ORDERS}{body['number']}/").json()["status"] == "paid"
