"""The browser tests' shared pieces: Chromium driven by Playwright against the live server,
the pages (a laptop's and a phone's), numbered screenshots, a small shelf of real books, a
customer, and the steps the tests share. The fixtures reach the tests through ``conftest.py``.

Chromium is the Debian package (``/usr/bin/chromium``, which ``.ci/run`` installs); the tests
are skipped only where it is missing, and CI forbids skips.
"""

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from apps.catalog import services as catalog
from apps.catalog.models import Book
from apps.categories.services import category_create
from tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

HARRY = "Harry Potter and the Philosopher's Stone"
TYPO = "Hary Poter"
PASSWORD = "Lecture-du-soir-2026"
VERIFY_LINK = re.compile(r"https?://[^\s\"'<>]+/accounts/verify-email/\?token=[A-Za-z0-9_\-.:]+")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium is not installed ({CHROMIUM})"),
    # The live server answers from its own thread: the data must be committed to be seen there.
    pytest.mark.django_db(transaction=True),
]


# --- Browser, pages, screenshots --------------------------------------------------------------


@pytest.fixture(scope="module")
def server(django_db_setup, live_server):
    """The live server, serving the test database.

    On SQLite the test database lives in memory: the server's request threads must use this
    thread's connection (a connection of their own would see the database through SQLite's
    shared cache, with table locks between them, and would never be closed). pytest-django
    picks the connections to share when it starts the server, which it may have done before
    the test database existed: then they are added now.
    """
    shared = live_server.thread.connections_override
    for alias in connections:
        wrapper = connections[alias]
        if wrapper.vendor == "sqlite" and wrapper.is_in_memory_db() and alias not in shared:
            wrapper.inc_thread_sharing()  # undone by the server's stop()
            shared[alias] = wrapper
    return live_server


@pytest.fixture(scope="module")
def playwright(server) -> Iterator[Playwright]:
    """Playwright's driver, started after the server has taken this thread's connections.

    Playwright's sync API leaves its asyncio loop "running" in this thread between calls. Django
    then sees async code: its guard refuses the ORM (the tests' calls, fixtures and the flush
    between tests are plain synchronous ones: allowed), and ``connections`` switches to a
    per-context store that would open a second connection, never closed (and on SQLite a
    second view of the in-memory database). The same connection objects go in that store.
    """
    wrappers = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as driver:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for alias, wrapper in wrappers.items():
            connections[alias] = wrapper
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
    yield browser
    browser.close()


def _artifacts_folder(test_name: str) -> Path:
    return ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name).strip("_")


def _new_page(browser: Browser, request: pytest.FixtureRequest, **options) -> Iterator[Page]:
    # A French customer's browser: the shop is French by default, and LocaleMiddleware would
    # answer an English Accept-Language (Chromium's own default) in English.
    context = browser.new_context(locale="fr-FR", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        # What the page showed when the test failed (the call's report is in by teardown).
        folder = _artifacts_folder(request.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "failure.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _new_page(browser, request, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _new_page(browser, request, viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def laptop(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _new_page(browser, request, viewport=LAPTOP)


class Shots:
    """Numbered full-page screenshots of one test: ``test-artifacts/<test>/NN-<step>.png``."""

    def __init__(self, test_name: str):
        self.folder = _artifacts_folder(test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request) -> Shots:
    return Shots(request.node.name)


@pytest.fixture
def site(server, settings) -> str:
    """The live server's address; emailed links and the dummy payment page point at it."""
    settings.FRONTEND_URL = server.url
    return server.url


# --- Data -------------------------------------------------------------------------------------


@pytest.fixture
def shelf(transactional_db) -> dict[str, Book]:
    """A few real books in a small tree (Jeunesse > Fantastique; Romans), through the services."""
    jeunesse = category_create(name="Jeunesse", slug="jeunesse")
    fantastique = category_create(name="Fantastique", slug="fantastique", parent=jeunesse)
    romans = category_create(name="Romans", slug="romans")
    bloomsbury = catalog.publisher_create(name="Bloomsbury")
    books = {
        "harry": catalog.book_create(
            isbn="9780747532699",
            title=HARRY,
            authors=[catalog.author_create(name="J. K. Rowling")],
            publisher=bloomsbury,
            categories=[fantastique],
            publication_date=date(1997, 6, 26),
            language="en",
            pages=223,
            price=Decimal("8.90"),
            stock=20,
        ),
        "lights": catalog.book_create(
            isbn="9780590660549",
            title="Northern Lights",
            authors=[catalog.author_create(name="Philip Pullman")],
            categories=[fantastique],
            language="en",
            price=Decimal("9.50"),
            stock=5,
        ),
        "prince": catalog.book_create(
            isbn="9782070612758",
            title="Le Petit Prince",
            authors=[catalog.author_create(name="Antoine de Saint-Exupéry")],
            categories=[jeunesse],
            language="fr",
            price=Decimal("7.50"),
            stock=12,
        ),
        "miserables": catalog.book_create(
            isbn="9782253096337",
            title="Les Misérables",
            authors=[catalog.author_create(name="Victor Hugo")],
            categories=[romans],
            language="fr",
            price=Decimal("11.90"),
            stock=8,
        ),
    }
    return books


@pytest.fixture
def customer(transactional_db):
    """A verified, active customer who signs in through the login page."""
    return UserFactory(email="lectrice@example.com", password=PASSWORD)


# --- Steps shared by the tests ----------------------------------------------------------------


def cart_link(page: Page):
    return page.get_by_test_id("cart-link")


def expect_cart_count(page: Page, count: int) -> None:
    expect(cart_link(page)).to_have_text(re.compile(rf"\({count}\)"))


def add_to_cart(page: Page) -> None:
    page.locator("form.add-to-cart button[type=submit]").click()
    page.wait_for_url("**/cart/")


def sign_in(page: Page, email: str, password: str) -> None:
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("main form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def fill_new_address(page: Page) -> None:
    page.check("input[name=address][value=new]")
    page.fill("input[name=name]", "Camille Lefèvre")
    page.fill("input[name=line1]", "12 rue des Écoles")
    page.fill("input[name=postal_code]", "75005")
    page.fill("input[name=city]", "Paris")
    page.fill("input[name=country]", "FR")
    page.check("input[name=payment_provider][value=dummy]")


def horizontal_overflow(page: Page) -> dict:
    """The page's width against the viewport's, and the elements that stick out on the right."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            const wide = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > width + 0.5)
                .slice(0, 8)
                .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                    + ' right=' + Math.round(el.getBoundingClientRect().right));
            return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide};
        }"""
    )
