import json
from decimal import Decimal

import pytest
from django.test import override_settings

from apps.accounts.models import Address
from apps.cart.models import Cart
from tests.factories import AddressFactory, BookFactory, CartLineFactory, UserFactory
from tests.standins.paypal_api import PayPalStandIn
from tests.standins.paypal_api import signed_headers as paypal_signed_headers
from tests.standins.stripe_api import DEFAULT_SECRET_KEY, StripeStandIn
from tests.standins.stripe_api import sign as stripe_sign

ORDERS = "/api/v1/orders/"

INLINE_ADDRESS = {
    "name": "Jeanne Valjean",
    "line1": "12 rue des Écoles",
    "postal_code": "75005",
    "city": "Paris",
    "country": "fr",
}


def order_url(number: str, action: str = "") -> str:
    return f"{ORDERS}{number}/{action + '/' if action else ''}"


def fill_cart(user, *lines: tuple) -> Cart:
    """Put ``(book, quantity)`` lines in the user's cart, at the books' current prices."""
    cart, _ = Cart.objects.get_or_create(user=user)
    for book, quantity in lines:
        CartLineFactory(cart=cart, book=book, quantity=quantity, price_when_added=book.price)
    return cart


@pytest.fixture(autouse=True)
def _shop_settings():
    """The documented defaults, whatever the environment running the tests says."""
    with override_settings(
        SHOP_CURRENCY="EUR",
        SHOP_VAT_RATE=Decimal("5.5"),
        SHIPPING_POLICY="book_law",
        SHIPPING_BOOK_LAW_THRESHOLD=Decimal("35.00"),
        SHIPPING_BOOK_LAW_UNDER=Decimal("3.00"),
        SHIPPING_BOOK_LAW_FROM=Decimal("0.01"),
        PAYMENT_PROVIDERS=["dummy"],
        FRONTEND_URL="http://shop.test",
    ):
        yield


@pytest.fixture
def book(db):
    return BookFactory(title="Les Misérables", isbn13="9782070409228", price=Decimal("12.50"), stock=10)


@pytest.fixture
def other_book(db):
    return BookFactory(title="Germinal", price=Decimal("8.90"), stock=5)


@pytest.fixture
def address(user):
    return AddressFactory(
        user=user,
        kind=Address.Kind.SHIPPING,
        name="Jean Valjean",
        line1="55 rue Plumet",
        postal_code="75007",
        city="Paris",
        country="FR",
        phone="+33123456789",
    )


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def checkout_body(address) -> dict:
    return {"shipping_address": address.pk, "payment_provider": "dummy"}


# --- Payment providers, against local stand-ins of their APIs ----------------------------------

STRIPE_WEBHOOK_SECRET = "whsec_standin"


@pytest.fixture
def stripe_api(settings):
    """Stripe's API on a local port; the real ``stripe`` client pointed at it by settings."""
    with StripeStandIn() as api:
        settings.STRIPE_SECRET_KEY = DEFAULT_SECRET_KEY
        settings.STRIPE_PUBLISHABLE_KEY = "pk_test_standin"
        settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
        settings.STRIPE_API_BASE = api.url
        settings.PAYMENT_PROVIDER_TIMEOUT = 1.0
        settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]
        yield api


@pytest.fixture
def paypal_api(settings):
    """PayPal's REST API on a local port; the provider's HTTP calls pointed at it by settings."""
    with PayPalStandIn() as api:
        settings.PAYPAL_CLIENT_ID = api.client_id
        settings.PAYPAL_CLIENT_SECRET = api.client_secret
        settings.PAYPAL_WEBHOOK_ID = api.webhook_id
        settings.PAYPAL_API_BASE = api.url
        settings.PAYMENT_PROVIDER_TIMEOUT = 1.0
        settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "paypal"]
        yield api


def stripe_webhook(client, event: dict, *, secret: str = STRIPE_WEBHOOK_SECRET, timestamp: int | None = None):
    """POST ``event`` to the shop as Stripe does: the raw JSON body, signed."""
    body = json.dumps(event).encode()
    return client.post(
        "/api/v1/payments/webhooks/stripe/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_sign(body, secret, timestamp)},
    )


def paypal_webhook(client, event: dict, *, webhook_id: str = "WH-STANDIN", **overrides):
    """POST ``event`` to the shop as PayPal does: JSON with its transmission headers."""
    headers = paypal_signed_headers(event, webhook_id=webhook_id, **overrides)
    return client.post(
        "/api/v1/payments/webhooks/paypal/",
        json.dumps(event),
        content_type="application/json",
        headers=headers,
    )
