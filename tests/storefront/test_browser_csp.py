"""The Content-Security-Policy in a real browser: the pages, the admin and Swagger UI work under
it (no violation reported on any of them), and it does stop what it is there to stop.

The browser reports every refused script, style, image, frame or form target as a
``securitypolicyviolation`` event; an init script records them on each page.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import UserFactory, order_make

from .browser import CHROMIUM, PASSWORD

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed ({CHROMIUM})"),
    pytest.mark.django_db(transaction=True),
]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    `${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
"""


def visit(page: Page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("load")
    return page.evaluate("window.__csp")


@pytest.fixture
def recording(laptop: Page) -> Page:
    laptop.context.add_init_script(RECORD_VIOLATIONS)
    return laptop


def test_the_storefront_works_under_the_policy(recording, shot, site, shelf):
    UserFactory(email="lectrice@example.com", password=PASSWORD)
    violations = {}
    for path in ("/", "/books/?q=prince", f"/books/{shelf['prince'].slug}/", "/cart/", "/accounts/login/"):
        violations[path] = visit(recording, f"{site}{path}")
    shot(recording, "login")
    recording.fill("input[name=username]", "lectrice@example.com")
    recording.fill("input[name=password]", PASSWORD)
    recording.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    recording.wait_for_url(lambda url: "/accounts/login/" not in url)
    visit(recording, f"{site}/books/{shelf['prince'].slug}/")
    recording.locator("form.add-to-cart button[type=submit]").click()
    recording.wait_for_url("**/cart/")
    violations["/checkout/"] = visit(recording, f"{site}/checkout/")
    # checkout.js runs under the policy: it disables the button once the form is sent.
    expect(recording.get_by_test_id("place-order")).to_be_enabled()
    shot(recording, "checkout")

    assert violations == {path: [] for path in violations}


def test_the_admin_works_under_the_policy(recording, shot, site, shelf):
    admin = UserFactory(email="libraire@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    order = order_make(paid=True)
    visit(recording, f"{site}/admin/login/")
    recording.fill("input[name=username]", admin.email)
    recording.fill("input[name=password]", PASSWORD)
    recording.locator("#login-form [type=submit]").click()
    recording.wait_for_url(lambda url: "/admin/login/" not in url)

    violations = {}
    for path in (
        "/admin/",
        "/admin/catalog/book/",
        f"/admin/catalog/book/{shelf['prince'].pk}/change/",
        "/admin/categories/category/",
        f"/admin/orders/order/{order.pk}/change/",
        "/admin/reviews/review/",
    ):
        violations[path] = visit(recording, f"{site}{path}")
    # The admin's own scripts ran: ticking a row updates the actions' counter.
    visit(recording, f"{site}/admin/catalog/book/")
    recording.locator("input.action-select").first.check()
    expect(recording.locator(".action-counter")).to_contain_text("1 sur")
    shot(recording, "admin-list-selected")

    assert violations == {path: [] for path in violations}


def test_swagger_ui_works_under_the_policy(recording, shot, site):
    violations = visit(recording, f"{site}/api/docs/")
    # Swagger UI's scripts ran and drew the operations from the schema.
    expect(recording.locator(".opblock").first).to_be_visible()
    shot(recording, "swagger")

    assert violations == []


def test_the_policy_refuses_an_injected_script_and_a_foreign_frame(recording, site, shelf):
    response = recording.goto(f"{site}/")
    policy = response.headers["content-security-policy"]

    recording.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.__injected = true';
            document.body.append(script);
            const frame = document.createElement('iframe');
            frame.src = 'https://evil.example/';
            document.body.append(frame);
        }"""
    )
    recording.wait_for_timeout(300)

    assert recording.evaluate("window.__injected === undefined")
    refused = recording.evaluate("window.__csp")
    assert any(v.startswith("script-src-elem refused inline") for v in refused), refused
    assert any(v.startswith("frame-src refused https://evil.example") for v in refused), refused
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
