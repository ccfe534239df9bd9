"""The orders admin: lists, filters, search, inlines and the two actions."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.orders.models import Order, PaymentEvent, Refund
from apps.orders.services import order_mark_paid, order_place
from tests.factories import UserFactory

from .conftest import INLINE_ADDRESS, fill_cart

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def paid_order(user, book):
    fill_cart(user, (book, 1))
    order, _ = order_place(user=user, shipping_address=INLINE_ADDRESS, payment_provider="dummy")
    order_mark_paid(payment_id=order.payments.get().pk, amount=order.total, currency="EUR")
    return Order.objects.get(pk=order.pk)


def test_changelist_search_and_filters(admin_client, paid_order, user):
    assert paid_order.number in admin_client.get(CHANGELIST).content.decode()
    assert paid_order.number in admin_client.get(CHANGELIST, {"q": paid_order.number}).content.decode()
    assert paid_order.number in admin_client.get(CHANGELIST, {"q": user.email}).content.decode()
    assert paid_order.number not in admin_client.get(CHANGELIST, {"q": "nobody@example.com"}).content.decode()
    assert paid_order.number in admin_client.get(CHANGELIST, {"status__exact": "paid"}).content.decode()
    assert (
        paid_order.number not in admin_client.get(CHANGELIST, {"status__exact": "shipped"}).content.decode()
    )
    by_provider = admin_client.get(CHANGELIST, {"payment_provider__exact": "dummy"}).content.decode()
    assert paid_order.number in by_provider


def test_change_page_shows_lines_payments_and_history(admin_client, paid_order):
    html = admin_client.get(f"{CHANGELIST}{paid_order.pk}/change/").content.decode()
    assert "Les Misérables" in html
    assert "9782070409228" in html
    assert "succeeded" in html.lower() or "Succeeded" in html
    assert "status history" in html.lower()
    assert "pending_payment" in html or "Pending payment" in html


def test_actions_mark_processing_then_shipped(admin_client, paid_order):
    response = admin_client.post(
        CHANGELIST, {"action": "mark_processing", "_selected_action": [paid_order.pk]}, follow=True
    )
    assert response.status_code == 200
    assert Order.objects.get(pk=paid_order.pk).status == "processing"

    # No tracking number yet: refused with a message, nothing moves.
    response = admin_client.post(
        CHANGELIST, {"action": "mark_shipped", "_selected_action": [paid_order.pk]}, follow=True
    )
    assert "tracking number" in response.content.decode()
    assert Order.objects.get(pk=paid_order.pk).status == "processing"

    Order.objects.filter(pk=paid_order.pk).update(tracking_number="6A999")
    admin_client.post(CHANGELIST, {"action": "mark_shipped", "_selected_action": [paid_order.pk]})
    shipped = Order.objects.get(pk=paid_order.pk)
    assert (shipped.status, shipped.tracking_number) == ("shipped", "6A999")
    assert shipped.history.last().note == "From the admin."


def test_administrators_group_has_the_orders_permissions():
    group = Group.objects.get(name="Administrators")
    expected = set(
        Permission.objects.filter(content_type__app_label="orders").values_list("codename", flat=True)
    )
    assert {"view_order", "change_order", "view_payment", "view_orderstatuschange"} <= expected
    assert expected <= set(group.permissions.values_list("codename", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_refund_action_refunds_through_the_provider(admin_client, paid_order, mailoutbox):
    response = admin_client.post(
        CHANGELIST, {"action": "refund_in_full", "_selected_action": [paid_order.pk]}, follow=True
    )
    assert f"{paid_order.number}: refund of 15.50 EUR succeeded." in response.content.decode()
    order = Order.objects.get(pk=paid_order.pk)
    assert order.status == "refunded"
    [refund] = Refund.objects.filter(payment__order=order)
    assert (refund.status, refund.reason) == ("succeeded", "From the admin.")
    # Again: nothing is left to refund, and the admin says so.
    again = admin_client.post(
        CHANGELIST, {"action": "refund_in_full", "_selected_action": [paid_order.pk]}, follow=True
    )
    assert "nothing paid left to refund" in again.content.decode()


def test_payments_refunds_and_webhook_events_are_read_only(admin_client, paid_order):
    event = PaymentEvent.objects.create(
        provider="stripe",
        event_id="evt_1",
        event_type="payment_intent.succeeded",
        kind="payment_succeeded",
        payload={"id": "evt_1", "note": "<script>alert(1)</script>"},
        status="processed",
    )
    page = admin_client.get(f"/admin/orders/paymentevent/{event.pk}/change/").content.decode()
    assert "payment_intent.succeeded" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'name="_save"' not in page
    assert admin_client.get("/admin/orders/paymentevent/add/").status_code == 403
    payment = paid_order.payments.get()
    page = admin_client.get(f"/admin/orders/payment/{payment.pk}/change/").content.decode()
    assert paid_order.number in page
    assert 'name="_save"' not in page
    flagged = admin_client.get("/admin/orders/payment/", {"flag__isempty": "0"}).content.decode()
    assert paid_order.number not in flagged


def test_the_order_page_shows_addresses_as_lines_escaped(admin_client, user, book):
    fill_cart(user, (book, 1))
    address = {**INLINE_ADDRESS, "name": "<b>Zoé</b> Martin", "line2": ""}
    order, _ = order_place(user=user, shipping_address=address, payment_provider="dummy")

    page = admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()

    assert "&lt;b&gt;Zoé&lt;/b&gt; Martin<br>" in page
    assert f"{INLINE_ADDRESS['postal_code']} {INLINE_ADDRESS['city']}" in page
    assert '"line1"' not in page  # not the JSON snapshot
