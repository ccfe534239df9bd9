"""Translations: the pages in French by default and in English on request, the language switch,
labels and emails following the active language, and a French catalogue that is complete and
compiled."""

import ast
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from apps.catalog.models import BookFormat
from apps.orders.models import Order, OrderStatus, Payment, PaymentStatus
from bookstore.mail import email_render
from tests.factories import BookFactory, CartLineFactory

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- Pages ------------------------------------------------------------------------------------

PAGES = [
    # (path, a French string, its English msgid)
    ("/", "Bienvenue à la Librairie", "Welcome to the Bookshop"),
    ("/books/", "Affiner", "Refine"),
    ("/cart/", "Votre panier est vide.", "Your cart is empty."),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "french", "english"), PAGES)
def test_pages_are_french_by_default(client, path, french, english):
    html = page(client.get(path))
    assert '<html lang="fr">' in html
    assert french in html
    assert english not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "french", "english"), PAGES)
def test_pages_are_english_when_the_browser_asks(client, path, french, english):
    html = page(client.get(path, HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en">' in html
    assert english in html
    assert french not in html


@pytest.mark.django_db
def test_the_header_and_its_cart_count_are_translated(client):
    assert "Panier (0)" in page(client.get("/"))
    assert "Cart (0)" in page(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))


@pytest.mark.django_db
def test_cached_catalogue_data_is_shown_in_each_visitors_language(client):
    """The book list's data (its format facet's labels) is cached for every visitor: the labels
    stay lazy in the cache, so the second visitor reads them in their own language."""
    BookFactory(format=BookFormat.PAPERBACK)
    french = page(client.get("/books/"))
    english = page(client.get("/books/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Broché" in french
    assert "1 livre<" in french
    assert "Paperback" in english
    assert "1 book<" in english
    assert "Broché" not in english


@pytest.mark.django_db
def test_the_language_switch_makes_the_next_page_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/books/"})
    assert response.status_code == 302
    assert response["Location"] == "/books/"
    html = page(client.get(response["Location"]))
    assert '<html lang="en">' in html
    assert "Refine" in html
    # The switch now offers French back.
    assert 'name="language" value="fr"' in html

    client.post("/i18n/setlang/", {"language": "fr", "next": "/books/"})
    assert '<html lang="fr">' in page(client.get("/books/"))


@pytest.mark.django_db
def test_error_pages_are_translated(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "merged", "limited"),
    [
        (
            "fr",
            "Les livres choisis avant de vous connecter sont dans votre panier.",
            "Certains livres de votre panier ont été limités aux exemplaires en stock",
        ),
        ("en", "The books you picked before signing in are in your cart.", "limited to the copies in stock"),
    ],
)
def test_the_sign_in_cart_messages_are_translated(user, password, accept_language, merged, limited):
    scarce, other = BookFactory(stock=1), BookFactory(stock=5)
    CartLineFactory(cart__user=user, book=scarce, quantity=1, price_when_added=scarce.price)
    browser = Client(headers={"Accept-Language": accept_language})
    for book in (scarce, other):
        response = browser.post(
            "/api/v1/cart/items/", {"book": book.pk, "quantity": 1}, content_type="application/json"
        )
        assert response.status_code == 201, response.content

    response = browser.post("/accounts/login/", {"username": user.email, "password": password}, follow=True)

    texts = [str(message) for message in response.context["messages"]]
    assert merged in texts
    assert any(limited in text for text in texts)


# --- Labels and emails ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "english", "french"),
    [
        (OrderStatus.PENDING_PAYMENT, "Pending payment", "En attente de paiement"),
        (OrderStatus.PAID, "Paid", "Payée"),
        (OrderStatus.CANCELLED, "Cancelled", "Annulée"),
    ],
)
def test_an_order_status_label_follows_the_language(status, english, french):
    order = Order(status=status)
    with translation.override("en"):
        assert order.get_status_display() == english
    with translation.override("fr"):
        assert order.get_status_display() == french


def test_a_payment_status_agrees_with_a_payment_not_an_order():
    # "Cancelled" is feminine for an order (la commande) and masculine for a payment.
    with translation.override("fr"):
        assert Payment(status=PaymentStatus.CANCELLED).get_status_display() == "Annulé"
        assert Order(status=OrderStatus.CANCELLED).get_status_display() == "Annulée"


def _refund_email(**kwargs):
    order = SimpleNamespace(number="LB-ABCD-1234", currency="EUR")
    refund = SimpleNamespace(amount=Decimal("28.00"), currency="EUR", reason="")
    context = {"customer_name": "Zoé", "order": order, "refund": refund}
    return email_render(template="orders/refunded", context=context, to=["zoe@example.com"], **kwargs)


def test_an_email_is_french_by_default_with_french_numbers():
    message = _refund_email()
    assert message.subject == "Remboursement de 28,00 EUR — commande LB-ABCD-1234"
    assert message.body.startswith("Bonjour Zoé,")
    assert '<html lang="fr">' in message.alternatives[0].content


def test_an_email_is_in_the_language_it_is_rendered_in():
    message = _refund_email(language="en")
    assert message.subject == "Refund of 28.00 EUR — order LB-ABCD-1234"
    assert message.body.startswith("Hello Zoé,")
    assert '<html lang="en">' in message.alternatives[0].content
    # The override ends with the rendering.
    assert translation.get_language() == settings.LANGUAGE_CODE
    with translation.override("en"):
        assert _refund_email().subject.startswith("Refund of 28.00 EUR")


# --- The French catalogue ---------------------------------------------------------------------


def _po_entries(text: str) -> list[dict]:
    """The entries of a PO file: flags, msgctxt, msgid, msgid_plural and every msgstr, joined."""
    entries: list[dict] = []
    entry: dict | None = None
    field = ""
    for line in [*text.splitlines(), ""]:
        line = line.strip()
        if not line:
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.fullmatch(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")", line):
            field, value = match.group(1), ast.literal_eval(match.group(2))
            if field.startswith("msgstr"):
                entry["msgstr"][field] = value
            else:
                entry[field] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field.startswith("msgstr"):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
        else:
            raise AssertionError(f"unexpected line in {CATALOGUE.name}: {line!r}")
    return entries


def test_the_french_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = [e for e in _po_entries(CATALOGUE.read_text(encoding="utf-8")) if e["msgid"]]  # not the header
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    # Every plural has the three forms of Django's French (0 and 1, millions, the rest).
    plurals = [e for e in entries if "msgid_plural" in e]
    assert plurals
    assert all(len(e["msgstr"]) == 3 for e in plurals)


def test_msgfmt_finds_the_french_catalogue_complete_and_well_formed():
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is needed to compile the translations (make messages)"
    result = subprocess.run(  # noqa: S603 (a fixed command on the project's own file)
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.", result.stderr.strip()), result.stderr


def test_the_catalogue_is_compiled():
    assert COMPILED.exists(), "run `make messages` (compilemessages)"
    assert COMPILED.stat().st_mtime >= CATALOGUE.stat().st_mtime, "the .mo is older than the .po"
