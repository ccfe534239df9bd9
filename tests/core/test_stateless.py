"""Stateless web processes: one customer's journey through a real load balancer (Debian's
HAProxy, round-robin) over two gunicorn servers, each request answered by the other process.

Sessions, the cache, carts and throttles live in Redis and PostgreSQL, shared by both
processes; nothing a request leaves in one process's memory is needed by the next one. Each
server runs one gunicorn worker, so a server is a process; HAProxy names the one that answered
in ``X-Served-By``.
"""

import email
import email.policy
import itertools
import re
import time
from decimal import Decimal

import pytest
import requests
from django.conf import settings

from apps.orders.models import Order, OrderStatus
from tests.factories import BookFactory
from tests.html_forms import form_of
from tests.servers import HAPROXY, gunicorn, haproxy, spare_port, the_test_database_url
from tests.services import requires_postgres, requires_redis

pytestmark = [
    requires_postgres,
    requires_redis,
    pytest.mark.skipif(not HAPROXY.exists(), reason=f"HAProxy is not installed ({HAPROXY})"),
    pytest.mark.django_db(transaction=True),
]

EMAIL = "claude.dupont@example.com"
PASSWORD = "Lecture-du-soir-2026"
VERIFY_LINK = re.compile(r"https?://[^\s\"'<>]+/accounts/verify-email/\?token=[A-Za-z0-9_\-.:]+")


class Journey:
    """A browser's session through the balancer, noting which process answered each request."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "fr"
        self.served_by: list[tuple[str, str, str, int]] = []

    def _note(self, response: requests.Response) -> requests.Response:
        for answer in [*response.history, response]:
            served = answer.headers.get("X-Served-By", "?")
            self.served_by.append((served, answer.request.method or "", answer.url, answer.status_code))
        return response

    def get(self, path: str) -> str:
        response = self._note(self.http.get(self.base + path.removeprefix(self.base), timeout=30))
        assert response.status_code == 200, (path, response.status_code, response.text[-2000:])
        return response.text

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        response = self._note(
            self.http.post(self.base + path, data=data, headers={"Referer": self.base + path}, timeout=30)
        )
        assert response.status_code == 200, (path, response.status_code, response.text[-2000:])
        return response

    def processes(self) -> list[str]:
        return [name for name, *_ in self.served_by]


@pytest.fixture
def shop(tmp_path):
    """Two gunicorn servers of the shop on the test database and the test's Redis database,
    behind HAProxy; yields the balancer's URL and the folder the emails are written to."""
    mail = tmp_path / "mail"
    mail.mkdir()
    env = {
        "DATABASE_URL": the_test_database_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail),
        # Tasks (the emails) run in the process that asked for them.
        "CELERY_BROKER_URL": None,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "PAYMENT_PROVIDERS": "dummy",
        "TRUSTED_PROXY_COUNT": "1",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "INFO",
    }
    # Links (emails, the dummy payment page) point at the balancer, as FRONTEND_URL does in production.
    port = spare_port()
    env["FRONTEND_URL"] = f"http://127.0.0.1:{port}"
    with (
        gunicorn(env, tmp_path / "web1.log") as web1,
        gunicorn(env, tmp_path / "web2.log") as web2,
        haproxy([web1, web2], tmp_path, port=port) as balancer,
    ):
        yield balancer, mail, tmp_path


def test_a_customer_journey_alternating_between_two_processes(shop):
    base, mail, logs = shop
    book = BookFactory(title="Le Comte de Monte-Cristo", price=Decimal("12.90"), stock=5)
    journey = Journey(base)

    # Register; the verification email is written by whichever process answered.
    page = journey.get("/accounts/register/")
    journey.post(
        "/accounts/register/",
        form_of(page, "/accounts/register/").data(
            email=EMAIL,
            first_name="Claude",
            last_name="Dupont",
            new_password1=PASSWORD,
            new_password2=PASSWORD,
        ),
    )
    assert journey.served_by[-1][2].endswith("/accounts/register/done/")
    deadline = time.monotonic() + 10
    while not (messages := list(mail.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.1)
    [message] = messages
    body = email.message_from_bytes(message.read_bytes(), policy=email.policy.default).get_body(("plain",))
    link = VERIFY_LINK.search(body.get_content())
    assert link, body
    assert link.group(0).startswith(f"{base}/accounts/verify-email/")
    page = journey.get(link.group(0))
    confirmed = journey.post("/accounts/verify-email/", form_of(page, "/accounts/verify-email/").data())
    assert EMAIL in confirmed.text

    # Sign in on one process; the next request, on the other, is signed in.
    page = journey.get("/accounts/login/")
    journey.post(
        "/accounts/login/", form_of(page, "/accounts/login/").data(username=EMAIL, password=PASSWORD)
    )
    assert EMAIL in journey.get("/accounts/profile/")

    # Add the book to the cart; the cart page, from the other process, has it.
    page = journey.get(f"/books/{book.slug}/")
    journey.post("/cart/add/", form_of(page, "/cart/add/").data(quantity="2"))
    assert book.title in journey.get("/cart/")

    # Check out to a new address with the dummy provider, and pay on its page.
    page = journey.get("/checkout/")
    checkout = form_of(page, "/checkout/").data(
        address="new",
        name="Claude Dupont",
        line1="12 rue des Écoles",
        postal_code="75005",
        city="Paris",
        country="FR",
        payment_provider="dummy",
    )
    placed = journey.post("/checkout/", checkout)
    assert "/orders/pay/dummy/" in placed.url
    order = Order.objects.get(user__email=EMAIL)
    assert order.number in placed.text
    paid = journey.post(placed.url.removeprefix(base), form_of(placed.text, "").data(action="pay"))
    assert f"/orders/{order.number}/" in paid.text

    # See the order, paid, from either process.
    for _ in range(2):
        shown = journey.get(f"/orders/{order.number}/")
        assert re.search(r"Payée", shown), shown[-3000:]
        assert book.title in shown
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.lines.get().quantity == 2

    processes = journey.processes()
    assert set(processes) == {"web1", "web2"}, journey.served_by
    # Round-robin: no two requests in a row went to the same process.
    assert all(a != b for a, b in itertools.pairwise(processes)), journey.served_by
    # And each process's own request log has its share of the journey.
    for name in ("web1", "web2"):
        log = (logs / f"{name}.log").read_text()
        assert "POST /" in log, (name, log[-3000:])
        assert "GET /" in log, (name, log[-3000:])
