"""The Stripe payment path of the storefront in a real browser (Chromium, Playwright, live server).

A signed-in customer checks out with Stripe; the order page loads Stripe.js from
``https://js.stripe.com/v3/`` and ``static/js/stripe-pay.js`` mounts the Payment Element and calls
``stripe.confirmPayment``. Nothing here reaches Stripe: the browser's requests to
``js.stripe.com`` are answered with a stand-in of Stripe.js (``tests/standins/stripe_js.py``,
whose Payment Element is a card form in a frame from ``js.stripe.com``, as Stripe's is), which
confirms the PaymentIntent at the local stand-in of Stripe's API (``tests/standins/stripe_api.py``)
over HTTP, as Stripe.js confirms it at ``api.stripe.com``; the shop's server talks to the same
stand-in through the real ``stripe`` library.

The page's Content-Security-Policy is the one the shop sends when Stripe is configured:
``SECURE_CSP`` is computed from the configuration when the settings are loaded, so it is
computed again, by ``bookstore/settings.py`` itself in a child process, with this test's Stripe
configuration in the environment (keys, ``STRIPE_API_BASE`` pointing at the stand-in); nothing
is added to it. Chromium enforces it on the stand-in exactly as on Stripe.js (``script-src`` on
the script, ``frame-src`` on the Payment Element's frame, ``connect-src`` on the confirm), and any
violation the browser reports fails the test.

Screenshots go to ``test-artifacts/<test>/`` like the other browser tests'.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from apps.orders.models import Order, OrderStatus, PaymentStatus
from tests.standins.stripe_api import DEFAULT_PUBLISHABLE_KEY, DEFAULT_SECRET_KEY, StripeStandIn
from tests.standins.stripe_js import STRIPE_JS_ORIGIN, StripeJs, serve_stripe_js

from .browser import CHROMIUM, HARRY, PASSWORD, add_to_cart, fill_new_address, sign_in

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_standin"
PAYING_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed ({CHROMIUM})"),
    pytest.mark.django_db(transaction=True),
]


# --- Stripe, configured as a deployment would be ----------------------------------------------


def _policies_as_configured(environment: dict[str, str]) -> dict[str, object]:
    """``SECURE_CSP`` and ``SECURE_CSP_REPORT_ONLY`` as ``bookstore/settings.py`` computes them with
    ``environment`` added to this process's: what a shop configured so would send."""
    names = ("SECURE_CSP", "SECURE_CSP_REPORT_ONLY")
    code = (
        "import json, bookstore.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def stripe_api(settings):
    """Stripe's API on a local port, the shop configured for Stripe (and its CSP with it)."""
    with StripeStandIn() as api:
        environment = {
            "STRIPE_SECRET_KEY": DEFAULT_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": DEFAULT_PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": api.url,
        }
        for name, value in environment.items():
            setattr(settings, name, value)
        settings.PAYMENT_PROVIDER_TIMEOUT = 2.0
        if "stripe" not in settings.PAYMENT_PROVIDERS:
            settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]
        policies = _policies_as_configured(
            {**environment, "PAYMENT_PROVIDERS": ",".join(settings.PAYMENT_PROVIDERS)}
        )
        for name, policy in policies.items():
            if hasattr(settings, name) or policy is not None:
                setattr(settings, name, policy)
        yield api


@pytest.fixture
def stripe_js(page: Page, stripe_api: StripeStandIn) -> StripeJs:
    """The browser's ``https://js.stripe.com/v3/`` answered by the stand-in of Stripe.js."""
    return serve_stripe_js(page, api_base=stripe_api.url)


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """What the browser refused under the page's Content-Security-Policy (Chromium says so on the
    console: "Refused to load the script … because it violates …")."""
    refused: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", listen)
    return refused


# --- Content-Security-Policy, read as a browser does ------------------------------------------

# The directives a browser looks at for a kind of request, most specific first.
FALLBACKS = {
    "script": ("script-src-elem", "script-src", "default-src"),
    "frame": ("frame-src", "child-src", "default-src"),
    "connect": ("connect-src", "default-src"),
}


def csp_allows(policy: str, kind: str, url: str) -> bool:
    """Whether ``policy`` (a header's value) lets the page load ``url`` as ``kind`` (host sources,
    schemes and ``*`` only: what a policy naming Stripe needs)."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    sources = next((directives[name] for name in FALLBACKS[kind] if name in directives), None)
    if sources is None:
        return True
    target = urlsplit(url)
    for source in sources:
        if source == "*" and target.scheme in {"http", "https"}:
            return True
        if source.lower() == f"{target.scheme}:":
            return True
        allowed = urlsplit(source if "://" in source else f"{target.scheme}://{source}")
        host = allowed.hostname or ""
        if allowed.scheme != target.scheme or (allowed.port or None) != (target.port or None):
            continue
        host_matches = host == target.hostname or (
            host.startswith("*.") and (target.hostname or "").endswith(host[1:])
        )
        if host_matches and (allowed.path in {"", "/"} or target.path.startswith(allowed.path)):
            return True
    return False


def expect_csp_allows_stripe(response: Response, api_base: str) -> None:
    """If the order page has a policy, it must let Stripe.js, its frames and its API calls through
    (the browser enforces it anyway: this says which part refuses)."""
    policy = response.headers.get("content-security-policy")
    if policy is None:
        return
    refused = [
        f"{kind} {url}"
        for kind, url in (
            ("script", f"{STRIPE_JS_ORIGIN}/v3/"),
            ("frame", f"{STRIPE_JS_ORIGIN}/v3/elements-inner-payment.html"),
            ("connect", f"{api_base}/v1/payment_intents/pi_x/confirm"),
        )
        if not csp_allows(policy, kind, url)
    ]
    assert not refused, f"the order page's Content-Security-Policy refuses {refused}: {policy}"


def test_csp_allows_reads_policies_as_a_browser():
    policy = "default-src 'self'; script-src 'self' https://js.stripe.com; frame-src https://*.stripe.com"
    assert csp_allows(policy, "script", "https://js.stripe.com/v3/")
    assert not csp_allows(policy, "script", "https://evil.example/v3/")
    assert csp_allows(policy, "frame", "https://js.stripe.com/v3/x.html")
    assert not csp_allows(policy, "connect", "https://api.stripe.com/v1/x")
    assert not csp_allows("script-src 'self'", "script", "https://js.stripe.com/v3/")
    assert csp_allows("script-src https:", "script", "https://js.stripe.com/v3/")
    assert csp_allows("img-src 'self'", "script", "https://js.stripe.com/v3/")  # no directive applies
    assert csp_allows("connect-src http://127.0.0.1:5555", "connect", "http://127.0.0.1:5555/v1/x")
    assert not csp_allows("connect-src http://127.0.0.1:5555", "connect", "http://127.0.0.1:6666/v1/x")


# --- Steps ------------------------------------------------------------------------------------


def is_order_page(response: Response) -> bool:
    return response.request.method == "GET" and re.fullmatch(r"/orders/[^/]+/", urlsplit(response.url).path)


def checkout_with_stripe(page: Page, site: str, shelf, customer, shot) -> tuple[Order, Response]:
    """Sign in, put a book in the cart, check out choosing Stripe: the order's page, with its answer."""
    page.goto(f"{site}/accounts/login/")
    sign_in(page, customer.email, PASSWORD)
    page.goto(f"{site}/books/{shelf['harry'].slug}/")
    add_to_cart(page)
    page.goto(f"{site}/checkout/")
    fill_new_address(page)
    page.check("input[name=payment_provider][value=stripe]")
    shot(page, "checkout-with-stripe")
    with page.expect_response(is_order_page) as answered:
        page.get_by_test_id("place-order").click()
    order = Order.objects.get(user=customer)
    page.wait_for_url(f"**/orders/{order.number}/")
    return order, answered.value


def expect_payment_element(page: Page, stripe_js: StripeJs, csp_violations: list[str]):
    """Stripe.js loaded and the Payment Element mounted in ``#stripe-payment-element``: its frame."""
    element = page.locator("#stripe-payment-element")
    card = page.frame_locator("#stripe-payment-element iframe")
    try:
        expect(element.locator("iframe")).to_be_visible()
        expect(card.locator("input[name=cardnumber]")).to_be_visible()
    except AssertionError as exc:
        raise AssertionError(
            f"no Payment Element: Stripe.js requests {stripe_js.served}, CSP refusals {csp_violations}"
        ) from exc
    expect(element).to_have_class(re.compile(r"\bStripeElement\b"))
    expect(card.locator("label[for=number]")).to_have_text("Numéro de carte")  # the page's language
    return card


def pay_with(page: Page, card, number: str) -> None:
    card.locator("input[name=cardnumber]").fill(number)
    card.locator("input[name=exp-date]").fill("12 / 34")
    card.locator("input[name=cvc]").fill("123")


def submit(page: Page):
    return page.locator("#stripe-payment form button[type=submit]")


def confirms(stripe_api: StripeStandIn):
    return [r for r in stripe_api.requests_to("POST", "/v1/payment_intents/") if r.path.endswith("/confirm")]


# --- 1. A card that pays ----------------------------------------------------------------------


def test_a_customer_pays_by_card_and_comes_back_to_a_paid_order(
    page, shot, site, shelf, customer, stripe_api, stripe_js, csp_violations
):
    order, answer = checkout_with_stripe(page, site, shelf, customer, shot)
    payment = order.payments.get()
    assert payment.provider == "stripe"
    assert payment.status == PaymentStatus.PENDING
    assert payment.reference in stripe_api.intents, "the shop made no PaymentIntent at the stand-in"
    assert payment.client_secret == stripe_api.intents[payment.reference]["client_secret"]
    expect_csp_allows_stripe(answer, stripe_api.url)

    card = expect_payment_element(page, stripe_js, csp_violations)
    expect(page.get_by_test_id("order-status")).to_contain_text("En attente de paiement")
    shot(page, "payment-element-mounted")
    pay_with(page, card, PAYING_CARD)
    shot(page, "card-filled")

    submit(page).click()
    try:
        expect(page).to_have_url(re.compile(r"[?&]redirect_status="))
    except AssertionError as exc:
        said = page.locator("#stripe-payment-message").all_inner_texts()
        raise AssertionError(f"not sent back: the page says {said}, CSP refusals {csp_violations}") from exc
    shot(page, "back-from-stripe")
    assert not csp_violations, csp_violations

    # Stripe.js confirmed the intent from the browser, with the publishable key and the client
    # secret only, and sent the customer back to the shop with Stripe's parameters.
    [confirm] = confirms(stripe_api)
    sent = parse_qs(confirm.body.decode())
    assert sent["key"] == [DEFAULT_PUBLISHABLE_KEY]
    assert sent["client_secret"] == [payment.client_secret]
    assert "authorization" not in confirm.headers
    assert confirm.headers.get("origin") == site
    assert stripe_api.intents[payment.reference]["status"] == "succeeded"
    landed = urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}" == site
    query = parse_qs(landed.query)
    assert query["payment_intent"] == [payment.reference]
    assert query["payment_intent_client_secret"] == [payment.client_secret]
    assert query["redirect_status"] == ["succeeded"]

    # The order shows as paid, on the page the customer is back on and in the database.
    order.refresh_from_db()
    page_says = " ".join(page.locator("main").inner_text().split())
    card_form_again = page.locator("#stripe-payment").is_visible()
    if order.status != OrderStatus.PAID:
        # What the shop's return page makes of the same parameters, for the failure's message.
        page.goto(f"{site}/orders/pay/return/?order={order.number}&{landed.query}")
        shot(page, "the-return-page-with-the-same-parameters")
        order.refresh_from_db()
        pytest.fail(
            f"Back from Stripe (intent {payment.reference} succeeded), the customer is on "
            f"{landed.path} and the order is {OrderStatus.PENDING_PAYMENT.value}: the page says "
            f"{page_says[:120]!r}{', the card form again' if card_form_again else ''}. The order page "
            "passes its own address as return_url (apps/storefront/views/shopping.py, order_detail) "
            "and never asks Stripe; "
            f"/orders/pay/return/?order={order.number} with the same parameters "
            f"{'pays it' if order.status == OrderStatus.PAID else 'does not pay it either'} "
            "(apps/orders/views.py, payment_return)."
        )
    assert re.search(r"Payée|la commande est payée", page_says), page_says
    assert order.payments.get().status == PaymentStatus.SUCCEEDED
    assert order.lines.get().title == HARRY


# --- 2. A card that is declined ---------------------------------------------------------------


def test_a_declined_card_is_explained_in_place_and_the_order_stays_pending(
    page, shot, site, shelf, customer, stripe_api, stripe_js, csp_violations
):
    order, answer = checkout_with_stripe(page, site, shelf, customer, shot)
    payment = order.payments.get()
    expect_csp_allows_stripe(answer, stripe_api.url)
    card = expect_payment_element(page, stripe_js, csp_violations)
    message = page.locator("#stripe-payment-message")
    expect(message).to_be_empty()
    shot(page, "payment-element-mounted")

    pay_with(page, card, DECLINED_CARD)
    order_page = page.url
    submit(page).click()
    expect(message).not_to_be_empty()
    shot(page, "card-declined")
    assert not csp_violations, csp_violations
    expect(message).to_have_text("Your card was declined.")

    # In place: the customer is still on the order's page, the message in the payment form,
    # next to the card field and before the button, and announced (role=alert).
    assert page.url == order_page
    expect(message).to_be_visible()
    expect(message).to_have_attribute("role", "alert")
    assert page.evaluate(
        """() => {
            const message = document.getElementById('stripe-payment-message');
            const form = document.querySelector('#stripe-payment form');
            const field = document.getElementById('stripe-payment-element').getBoundingClientRect();
            const button = form.querySelector('button[type=submit]').getBoundingClientRect();
            const shown = message.getBoundingClientRect();
            return form.contains(message) && shown.top >= field.bottom - 1 && shown.bottom <= button.top + 1;
        }"""
    ), "the message is not between the card field and the pay button"

    # Stripe refused the card: the intent waits for another payment method; the order waits too.
    [confirm] = confirms(stripe_api)
    assert parse_qs(confirm.body.decode())["payment_method_data[card][number]"] == ["4000000000000002"]
    intent = stripe_api.intents[payment.reference]
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["decline_code"] == "generic_decline"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.payments.get().status == PaymentStatus.PENDING
    expect(page.get_by_test_id("order-status")).to_contain_text("En attente de paiement")
