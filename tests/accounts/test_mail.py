"""bookstore.mail: emails rendered from templates and sent through the configured mailer."""

import pytest
from django.core import mail

from bookstore.mail import email_render, email_send


@pytest.fixture
def email_templates(settings, tmp_path):
    """A template directory of our own, searched before the project's."""
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]},
    ]
    base = tmp_path / "emails" / "test"

    def write(name: str, **parts: str):
        folder = base / name
        folder.mkdir(parents=True)
        for part, text in parts.items():
            (folder / part.replace("_", ".")).write_text(text, encoding="utf-8")
        return f"test/{name}"

    return write


def test_render_builds_a_single_line_subject_text_and_html(email_templates, settings):
    settings.FRONTEND_URL = "https://shop.example/"
    name = email_templates(
        "welcome",
        subject_txt="  Bienvenue\n {{ who }} !\n",
        body_txt="Bonjour {{ who }}, voir {{ frontend_url }}/livres",
        body_html="<p>Bonjour {{ who }}</p>",
    )
    message = email_render(template=name, context={"who": "Zoé & <Léa>"}, to=["zoe@example.com"])
    assert (
        message.subject == "Bienvenue Zoé &amp; &lt;Léa&gt; !" or message.subject == "Bienvenue Zoé & <Léa> !"
    )
    assert message.to == ["zoe@example.com"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.body == "Bonjour Zoé & <Léa>, voir https://shop.example/livres"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "<p>Bonjour Zoé &amp; &lt;Léa&gt;</p>" in html
    assert mail.outbox == []  # rendering sends nothing


def test_render_without_html_template_is_plain_text(email_templates):
    name = email_templates("plain", subject_txt="Sujet", body_txt="Texte")
    message = email_render(template=name, context={}, to=["a@example.com"], reply_to=["b@example.com"])
    assert message.alternatives == []
    assert message.reply_to == ["b@example.com"]


def test_send_delivers_through_the_default_mailer(email_templates):
    name = email_templates("hello", subject_txt="Salut", body_txt="Corps", body_html="<p>Corps</p>")
    mail.outbox.clear()
    sent = email_send(template=name, context={}, to=["a@example.com"], headers={"X-Kind": "hello"})
    [delivered] = mail.outbox
    assert (delivered.subject, delivered.body, delivered.to) == (sent.subject, "Corps", ["a@example.com"])
    assert delivered.alternatives[0].content == "<p>Corps</p>"
    assert delivered.extra_headers == {"X-Kind": "hello"}


def test_send_with_a_missing_template_raises(email_templates):
    from django.template import TemplateDoesNotExist

    with pytest.raises(TemplateDoesNotExist):
        email_send(template="test/nope", context={}, to=["a@example.com"])
