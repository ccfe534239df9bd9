"""The storefront in a real browser: Chromium, driven by Playwright, against the live server.

What a customer does, end to end: search (with a typo), filter, add to the cart, register and
confirm the address from the email, sign in (the anonymous cart follows), check out with the
dummy provider, pay, find the order. Then the language switch, a phone-width layout, a form
error shown in place, a double submit of the checkout, and the keyboard path to the cart.

Every step saves a full-page screenshot under ``test-artifacts/<test>/`` (git-ignored), to look
at what a person would have seen. Chromium is the Debian package (``/usr/bin/chromium``, which
``.ci/run`` installs); the tests are skipped only where it is missing, and CI forbids skips.
Assertions use ``data-testid``s, form field names and URLs rather than wording, since the page
text is translated (French by default, English on request).
"""

import io
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from playwright.sync_api import Route, expect

from apps.catalog import services as catalog
from apps.catalog.demo import demo_catalog_load
from apps.catalog.models import Book
from apps.orders.models import Order, OrderStatus
from tests.factories import UserFactory, order_make

from .browser import (
    CHROMIUM,
    HARRY,
    LAPTOP,
    PASSWORD,
    PHONE,
    TYPO,
    VERIFY_LINK,
    add_to_cart,
    cart_link,
    expect_cart_count,
    fill_new_address,
    horizontal_overflow,
    sign_in,
)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed ({CHROMIUM})"),
    # The live server answers from its own thread: the data must be committed to be seen there.
    pytest.mark.django_db(transaction=True),
]


# --- 1. The journey ---------------------------------------------------------------------------


def test_journey_from_a_typo_search_to_a_paid_order(page, shot, site, shelf, mailoutbox):
    email = "camille@example.com"

    page.goto(f"{site}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    shot(page, "home")

    # Search with typos: "Poter" is forgiven (5 letters, one typo) but not "Hary" (4 letters, no
    # typo allowed), so nothing is found and "did you mean" offers the catalogue's own words.
    page.fill("#site-search", TYPO)
    page.press("#site-search", "Enter")
    page.wait_for_url(re.compile(r"/books/\?q="))
    shot(page, "search-with-a-typo")
    harry_card = page.locator(".book-card a", has_text=HARRY)
    suggestion = page.get_by_test_id("suggestion")
    expect(suggestion).to_contain_text("harry potter")
    suggestion.locator("a").click()
    page.wait_for_url(re.compile(r"q=harry"))
    shot(page, "did-you-mean-followed")
    expect(harry_card).to_be_visible()

    # Narrow the results to the book's category: the search stays, the book is still there.
    page.check("input[name=category][value=fantastique]")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"category=fantastique"))
    assert "q=" in page.url
    expect(page.locator("input[name=category][value=fantastique]")).to_be_checked()
    expect(page.locator(".book-card a", has_text="Les Misérables")).to_have_count(0)
    expect(harry_card).to_be_visible()
    shot(page, "filtered-by-category")

    harry_card.click()
    page.wait_for_url(f"**/books/{shelf['harry'].slug}/")
    expect(page.locator("h1")).to_have_text(HARRY)
    expect_cart_count(page, 0)
    shot(page, "book-page")

    page.fill("form.add-to-cart input[name=quantity]", "1")
    add_to_cart(page)
    expect_cart_count(page, 1)
    expect(page.locator("table.cart")).to_contain_text(HARRY)
    shot(page, "added-to-cart")

    # Register: the account waits for the address to be confirmed.
    page.locator("header a[href='/accounts/register/']").click()
    page.wait_for_url("**/accounts/register/")
    page.fill("input[name=email]", email)
    page.fill("input[name=first_name]", "Camille")
    page.fill("input[name=last_name]", "Lefèvre")
    page.fill("input[name=new_password1]", PASSWORD)
    page.fill("input[name=new_password2]", PASSWORD)
    shot(page, "register-form")
    page.locator("main form[action='/accounts/register/'] button[type=submit]").click()
    page.wait_for_url("**/accounts/register/done/")
    shot(page, "register-done")
    assert not get_user_model().objects.get(email=email).is_active

    # The emailed link opens a page with a button (link scanners do not confirm anything).
    [message] = [m for m in mailoutbox if email in m.to]
    link = VERIFY_LINK.search(message.body)
    assert link, message.body
    assert link.group(0).startswith(f"{site}/accounts/verify-email/?token=")
    page.goto(link.group(0))
    shot(page, "verify-email-page")
    page.locator("main form[action='/accounts/verify-email/'] button[type=submit]").click()
    expect(page.locator("main [role=status]")).to_contain_text(email)
    shot(page, "email-confirmed")
    assert get_user_model().objects.get(email=email).is_active

    # Sign in: the anonymous cart joins the customer's.
    page.locator("main a[href^='/accounts/login/']").click()
    page.wait_for_url("**/accounts/login/**")
    sign_in(page, email, PASSWORD)
    expect_cart_count(page, 1)
    shot(page, "signed-in")
    cart_link(page).click()
    page.wait_for_url("**/cart/")
    expect(page.get_by_test_id("merge")).to_be_visible()
    expect(page.locator("table.cart")).to_contain_text(HARRY)
    shot(page, "cart-after-sign-in")

    # Check out to a new address with the dummy provider, and pay on its page.
    page.locator("main a[href='/checkout/']").click()
    page.wait_for_url("**/checkout/")
    fill_new_address(page)
    shot(page, "checkout-filled")
    page.get_by_test_id("place-order").click()
    page.wait_for_url("**/orders/pay/dummy/**")
    order = Order.objects.get(user__email=email)
    expect(page.locator("main")).to_contain_text(order.number)
    shot(page, "dummy-pay-page")
    page.locator("button[value=pay]").click()
    order_link = page.locator(f"main a[href='/orders/{order.number}/']")
    expect(order_link).to_be_visible()
    shot(page, "paid")

    order_link.click()
    page.wait_for_url(f"**/orders/{order.number}/")
    expect(page.get_by_test_id("order-status")).to_contain_text(re.compile(r"Payée|Paid", re.IGNORECASE))
    expect(page.locator("main")).to_contain_text(HARRY)
    expect(page.locator("main address")).to_contain_text("75005")
    shot(page, "order-page")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.lines.get().title == HARRY

    page.locator("header a[href='/accounts/orders/']").click()
    page.wait_for_url("**/accounts/orders/")
    expect(page.locator(f"main a[href='/orders/{order.number}/']")).to_be_visible()
    expect_cart_count(page, 0)
    shot(page, "my-orders")

    # Review the book bought: the review appears on the book page, and in "my reviews".
    page.goto(f"{site}/books/{shelf['harry'].slug}/")
    review_form = page.locator("form.review-form")
    review_form.locator("input[name=rating][value='5']").check()
    review_form.locator("input[name=title]").fill("Un classique <b>magique</b>")
    review_form.locator("textarea[name=body]").fill("Lu d\u2019une traite.")
    shot(page, "review-form-filled")
    review_form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/books/{shelf['harry'].slug}/#reviews")
    review = page.get_by_test_id("review").filter(has_text="Un classique <b>magique</b>")
    expect(review).to_be_visible()
    expect(review).to_contain_text("Camille L.")
    expect(review.locator("b")).to_have_count(0)  # the customer's markup is text, never HTML
    expect(page.get_by_test_id("rating-summary")).to_contain_text("5,0")
    expect(page.locator("form.review-form")).to_have_count(0)
    shot(page, "review-published")
    page.goto(f"{site}/accounts/reviews/")
    mine = page.get_by_test_id("my-review")
    expect(mine).to_contain_text(HARRY)
    expect(mine).to_contain_text("Publié")
    shot(page, "my-reviews")


# --- 2. The language switch -------------------------------------------------------------------


def test_the_language_switch_turns_the_site_english_and_it_stays_english(page, shot, site, shelf):
    page.goto(f"{site}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    shot(page, "french-by-default")

    page.locator("form.language-switch button[name=language][value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.rstrip("/") == site  # back on the page it was pressed on
    # The switch now offers French.
    expect(page.locator("form.language-switch button[name=language][value=fr]")).to_be_visible()
    shot(page, "english-after-the-switch")

    page.locator("header a[href='/books/']").click()
    page.wait_for_url("**/books/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "still-english-on-the-catalogue")
    page.goto(f"{site}/books/{shelf['harry'].slug}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "still-english-on-a-book")


# --- 3. A phone's width -----------------------------------------------------------------------


def test_pages_fit_a_phone_without_horizontal_scroll(phone, shot, site, transactional_db):
    demo_catalog_load()  # real titles, authors and publishers, long ones included
    book = Book.objects.filter(stock__gt=0).order_by("-title")[0]
    longest = max(Book.objects.filter(stock__gt=0), key=lambda b: len(b.title) + len(b.subtitle))

    pages = [
        ("home", "/"),
        ("catalogue", "/books/"),
        ("book", f"/books/{longest.slug}/"),
        ("book-2", f"/books/{book.slug}/"),
    ]
    problems = {}
    for name, path in pages:
        phone.goto(f"{site}{path}")
        shot(phone, name)
        measured = horizontal_overflow(phone)
        if measured["scrollWidth"] > measured["innerWidth"] or measured["innerWidth"] != PHONE["width"]:
            problems[name] = measured

    add_to_cart(phone)  # from the last book page
    expect_cart_count(phone, 1)
    shot(phone, "cart")
    measured = horizontal_overflow(phone)
    if measured["scrollWidth"] > measured["innerWidth"] or measured["innerWidth"] != PHONE["width"]:
        problems["cart"] = measured

    assert not problems, problems


# --- 4. A form error in place -----------------------------------------------------------------


def test_a_too_short_password_is_explained_next_to_its_field(page, shot, site):
    email = "court@example.com"
    page.goto(f"{site}/accounts/register/")
    page.fill("input[name=email]", email)
    page.fill("input[name=first_name]", "Dominique")
    page.fill("input[name=new_password1]", "abc12")
    page.fill("input[name=new_password2]", "abc12")
    with page.expect_navigation():  # the same address, answered with the form again
        page.locator("main form[action='/accounts/register/'] button[type=submit]").click()
    shot(page, "password-too-short")

    assert page.url.endswith("/accounts/register/")  # shown again, not redirected
    assert not get_user_model().objects.filter(email=email).exists()
    expect(page.locator("input[name=email]")).to_have_value(email)
    expect(page.locator("input[name=first_name]")).to_have_value("Dominique")

    placement = page.evaluate(
        """() => {
            const input = document.querySelector('input[name=new_password1]');
            const box = input.parentElement;
            const next = input.nextElementSibling;
            const error = box.querySelector('.errorlist')
                || (next && next.classList.contains('errorlist') ? next : null);
            if (!error) return {found: false};
            const others = [...document.querySelectorAll('main .errorlist')].filter(e => e !== error);
            const field = input.getBoundingClientRect(), shown = error.getBoundingClientRect();
            const following = box.nextElementSibling.getBoundingClientRect();
            return {
                found: true,
                text: error.innerText.trim(),
                belowTheInput: shown.top >= field.bottom - 1,
                aboveTheNextField: shown.bottom <= following.top + 1,
                otherErrors: others.map(e => e.innerText.trim()),
                invalid: input.getAttribute('aria-invalid'),
            };
        }"""
    )
    assert placement["found"], "no error list in the password field's container nor right after it"
    assert placement["text"], placement
    # Seen in place: under the password input, before the confirmation field.
    assert placement["belowTheInput"], placement
    assert placement["aboveTheNextField"], placement
    assert placement["invalid"] == "true", placement
    # The error belongs to the password, not to the email or the whole form.
    assert not placement["otherErrors"], placement


# --- 5. A double submit of the checkout -------------------------------------------------------


@pytest.mark.parametrize("how", ["double-click", "twice-ignoring-the-guard"])
def test_a_double_submit_of_place_order_makes_one_order(page, shot, site, shelf, customer, how):
    page.goto(f"{site}/accounts/login/")
    sign_in(page, customer.email, PASSWORD)
    page.goto(f"{site}/books/{shelf['harry'].slug}/")
    add_to_cart(page)
    page.goto(f"{site}/checkout/")
    fill_new_address(page)
    shot(page, "checkout-filled")

    if how == "double-click":
        page.get_by_test_id("place-order").dblclick()
        page.wait_for_url("**/orders/pay/dummy/**")
    else:
        # The same form POSTed twice, as a double click sends it without the page's script (the
        # data-once guard only runs on the submit event). At once on PostgreSQL; one after the
        # other on SQLite, whose in-memory test database is one connection that the live
        # server's threads share, and must not use at the same time (Django's documentation).
        answers = page.evaluate(
            """async (together) => {
                const form = document.querySelector('[data-testid=checkout-form]');
                const send = () => fetch(form.action, {
                    method: 'POST', body: new FormData(form), credentials: 'same-origin',
                }).then(response => ({status: response.status, url: response.url}));
                return together ? Promise.all([send(), send()]) : [await send(), await send()];
            }""",
            connection.vendor == "postgresql",
        )
        assert all(answer["status"] < 400 for answer in answers), answers
        page.goto(answers[-1]["url"])  # where the last answer would have left the customer
    shot(page, "after-the-double-submit")

    orders = list(Order.objects.filter(user=customer))
    assert len(orders) == 1, [order.number for order in orders]
    assert orders[0].lines.get().quantity == 1
    if how != "double-click":
        # One of them goes on to pay. Where the other lands depends on when it arrives: the
        # same payment page, the order's page (its payment not started yet), or the cart page,
        # empty (the view checks the cart before the idempotency key: reported, not asserted).
        assert any("/orders/pay/dummy/" in answer["url"] for answer in answers), answers
    page.goto(f"{site}/accounts/orders/")
    expect(page.locator(f"main a[href='/orders/{orders[0].number}/']")).to_have_count(1)
    shot(page, "one-order")


# --- 6. The keyboard --------------------------------------------------------------------------


def test_the_keyboard_reaches_the_quantity_and_adds_the_book(page, shot, site, shelf):
    page.goto(f"{site}/books/{shelf['harry'].slug}/")
    focused = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.name || document.activeElement.tagName"))
        if page.evaluate("() => document.activeElement.matches('form.add-to-cart input[name=quantity]')"):
            break
    else:
        pytest.fail(f"Tab never reached the quantity input; it went through {focused}")
    # A person sees where the focus is.
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    shot(page, "quantity-focused")

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.matches('form.add-to-cart button[type=submit]')"), (
        "the add-to-cart button is not the next Tab stop after the quantity"
    )
    shot(page, "button-focused")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cart/")
    expect_cart_count(page, 2)
    expect(page.locator("table.cart")).to_contain_text(HARRY)
    shot(page, "added-with-the-keyboard")


# --- 7. The admin at 1280 pixels --------------------------------------------------------------


def test_the_admin_fits_1280_pixels_and_shows_covers_and_totals(laptop, shot, site, settings, tmp_path):
    # Covers are stored on the file system, in a folder of this test's own.
    settings.MEDIA_ROOT = tmp_path / "media"
    admin_user = UserFactory(
        email="libraire@example.com", password=PASSWORD, is_staff=True, is_superuser=True
    )
    demo_catalog_load()
    # The first book of the admin's list (by title): its row is on the first page.
    covered = Book.objects.order_by("title", "-pk").first()
    buffer = io.BytesIO()
    Image.new("RGB", (300, 450), (200, 30, 40)).save(buffer, format="PNG")
    upload = SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")
    # The thumbnail task runs when the cover commits: eagerly, in this thread (Celery is eager).
    catalog.book_cover_set(book=covered, upload=upload)
    covered.refresh_from_db()
    assert "120" in covered.cover_thumbnails, covered.cover_thumbnails
    order = order_make(paid=True)
    assert order.status == OrderStatus.PAID

    # The live server serves static files only (media is served by the web server, or in DEBUG):
    # the browser gets the cover files from the storage folder.
    def serve_media(route: Route) -> None:
        name = unquote(urlsplit(route.request.url).path).removeprefix(settings.MEDIA_URL)
        file = Path(settings.MEDIA_ROOT) / name
        if file.is_file():
            route.fulfill(path=str(file))
        else:
            route.fulfill(status=404)

    laptop.context.route(f"{site}{settings.MEDIA_URL}**", serve_media)

    laptop.goto(f"{site}/admin/login/")
    laptop.fill("input[name=username]", admin_user.email)
    laptop.fill("input[name=password]", PASSWORD)
    laptop.locator("#login-form [type=submit]").click()
    laptop.wait_for_url(lambda url: "/admin/login/" not in url)
    expect(laptop.locator("#site-name")).to_have_text("Librairie — administration")
    shot(laptop, "admin-home")

    problems = {}

    def visit(name: str, path: str) -> None:
        laptop.goto(f"{site}{path}")
        expect(laptop.locator("#site-name")).to_be_visible()
        shot(laptop, name)
        measured = horizontal_overflow(laptop)
        if measured["scrollWidth"] > measured["innerWidth"] or measured["innerWidth"] != LAPTOP["width"]:
            problems[name] = measured
        # The admin scrolls a wide list inside its own box: that must not be needed either.
        clipped = laptop.evaluate(
            "() => [...document.querySelectorAll('.results')].some(box => box.scrollWidth > box.clientWidth)"
        )
        if clipped:
            problems[f"{name} (list clipped)"] = measured

    visit("books", "/admin/catalog/book/")
    row = laptop.locator("#result_list tbody tr").filter(
        has=laptop.locator(f"a[href='/admin/catalog/book/{covered.pk}/change/']")
    )
    cover = row.locator("td.field-cover_preview img")
    expect(cover).to_be_visible()
    expect(cover).to_have_attribute("src", re.compile(r"-w120\.jpg$"))
    assert cover.evaluate("img => img.complete && img.naturalWidth") == 120
    # Only that book has a cover.
    expect(laptop.locator("#result_list td.field-cover_preview img")).to_have_count(1)

    visit("orders", "/admin/orders/order/")
    row = laptop.locator("#result_list tbody tr").filter(has_text=order.number)
    total = re.escape(f"{order.total:.2f}").replace(r"\.", "[.,]")
    expect(row.locator("td.field-total")).to_have_text(re.compile(rf"^\s*{total}\s*$"))

    visit("payments", "/admin/orders/payment/")
    expect(laptop.locator("#result_list tbody tr")).to_have_count(order.payments.count())

    visit("order", f"/admin/orders/order/{order.pk}/change/")
    expect(laptop.locator("main, #content").first).to_contain_text(order.number)

    assert not problems, problems
