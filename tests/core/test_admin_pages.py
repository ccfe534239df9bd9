"""Every model registered in the admin lists, searches, filters and opens for a superuser."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.cart.services import cart_get_or_create_for_user, cart_item_add
from apps.catalog.models import Book
from apps.orders.services import order_mark_paid, order_place
from tests.catalog.conftest import catalogue, tree  # noqa: F401  (shared fixtures)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def shop(catalogue):  # noqa: F811 (the imported fixture, requested by name)
    """A small catalogue and a customer's paid order: real rows behind every page."""
    buyer = UserFactory()
    cart = cart_get_or_create_for_user(user=buyer)
    book = Book.objects.filter(stock__gt=0, is_active=True).first()
    cart_item_add(cart=cart, book_id=book.pk, quantity=1)
    address = {
        "name": "Émile Zola",
        "line1": "21 bis rue de Bruxelles",
        "postal_code": "75009",
        "city": "Paris",
        "country": "FR",
    }
    order, _ = order_place(user=buyer, shipping_address=address, payment_provider="dummy")
    payment = order.payments.get()
    order_mark_paid(payment_id=payment.pk, amount=order.total, currency=order.currency)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_admin_pages_render(superuser_client, shop, model, model_admin):
    info = (model._meta.app_label, model._meta.model_name)
    changelist = reverse("admin:{}_{}_changelist".format(*info))
    assert superuser_client.get(changelist).status_code == 200
    if model_admin.search_fields:
        assert superuser_client.get(changelist, {"q": "Dune"}).status_code == 200
    request = superuser_client.get(changelist).wsgi_request
    if model_admin.has_add_permission(request):
        assert superuser_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        response = superuser_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert response.status_code == 200


def test_the_admin_is_branded_in_the_staffs_language(superuser_client):
    assert "Librairie — administration" in superuser_client.get("/admin/").content.decode()
    english = superuser_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Bookshop — administration" in english
