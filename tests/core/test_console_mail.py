"""In development, emails are printed so that a person can read them and follow their links."""

import io

from django.core.mail import EmailMultiAlternatives

from bookstore.console_mail import EmailBackend


def test_the_console_email_prints_the_text_and_its_links_as_they_are():
    link = "http://127.0.0.1:8000/accounts/verify-email/?token=" + "a" * 90 + ":1vQx-Z"
    message = EmailMultiAlternatives(
        subject="Confirmez votre adresse — Librairie",
        body=f"Bonjour Émile,\n\nOuvrez ce lien pour confirmer votre adresse :\n{link}\n",
        from_email="Librairie <no-reply@librairie.example>",
        to=["emile@example.com"],
    )
    message.attach_alternative(f'<a href="{link}">confirmer</a>', "text/html")
    stream = io.StringIO()

    EmailBackend(stream=stream).send_messages([message])

    printed = stream.getvalue()
    assert "Subject: Confirmez votre adresse — Librairie" in printed
    assert "Bonjour Émile," in printed
    assert f"\n{link}\n" in printed  # whole, on its own line: it can be copied and followed
    assert "=C3" not in printed
