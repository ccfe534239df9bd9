"""The one place that turns templates into an email and hands it to a mailer.

An email named ``<name>`` is three templates under ``templates/emails/<name>/``:

- ``subject.txt``: one line (newlines are folded into spaces, surrounding blanks dropped),
- ``body.txt``: the plain text part,
- ``body.html``: the HTML alternative (optional: without it the email is plain text only).

The two text templates are rendered without HTML escaping; the HTML one escapes as usual.

The templates mark their text for translation (English msgids, French in ``locale/fr``): an email
is written in the language active when it is rendered, which is ``LANGUAGE_CODE`` (French) outside
a request (a Celery task, a management command), or the one given as ``language``. Numbers and
dates are localized the same way (``28,00`` in French).

Sending goes through Django 6.1's ``django.core.mail.mailers`` (``settings.MAILERS``; the
``"default"`` alias unless told otherwise), so the console, SMTP, locmem or anymail backend is
chosen by configuration alone. Callers that must not send inside a database transaction (all of
them: see the architecture notes) call :func:`email_send` from a Celery task enqueued on commit.
"""

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template import Context, TemplateDoesNotExist
from django.template import Template as DjangoTemplate
from django.template.loader import get_template, render_to_string
from django.utils import translation

from .links import frontend_url

DEFAULT_MAILER = "default"


def _template_path(template: str, part: str) -> str:
    return f"emails/{template}/{part}"


def _render_text(name: str, context: Mapping[str, Any]) -> str:
    """Render a plain text template without HTML escaping (``&`` must stay ``&`` in a subject)."""
    template = get_template(name)
    inner = getattr(template, "template", None)
    if isinstance(inner, DjangoTemplate):
        return inner.render(Context(dict(context), autoescape=False))
    return template.render(dict(context))


def email_render(
    *,
    template: str,
    context: Mapping[str, Any],
    to: Sequence[str],
    from_email: str | None = None,
    reply_to: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
    language: str | None = None,
) -> EmailMultiAlternatives:
    """Render ``templates/emails/<template>/`` into a message to ``to`` (nothing is sent).

    The subject is always a single line, because a header cannot hold a newline; the HTML part
    is attached when ``body.html`` exists. ``from_email`` defaults to ``DEFAULT_FROM_EMAIL``.
    The context also receives ``frontend_url`` (``settings.FRONTEND_URL``), the base of every
    link an email carries. The text is in ``language`` (a code of ``LANGUAGES``) when given,
    else in the active language.
    """
    with translation.override(language) if language else nullcontext():
        ctx = {"frontend_url": frontend_url(), **context}
        subject = " ".join(_render_text(_template_path(template, "subject.txt"), ctx).split())
        text_body = _render_text(_template_path(template, "body.txt"), ctx)
        try:
            html_body: str | None = render_to_string(_template_path(template, "body.html"), ctx)
        except TemplateDoesNotExist:
            html_body = None
    message = EmailMultiAlternatives(
        subject=subject,
        body=text_body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=list(reply_to) if reply_to else None,
        headers=dict(headers) if headers else None,
    )
    if html_body is not None:
        message.attach_alternative(html_body, "text/html")
    return message


def email_deliver(*, message: EmailMultiAlternatives, using: str = DEFAULT_MAILER) -> int:
    """Send an already rendered message through the mailer ``using``; return how many were sent.

    Errors of the backend (SMTP, the ESP's API) are raised, never swallowed, so that the Celery
    task calling this can retry.
    """
    return mailers[using].send_messages([message]) or 0


def email_send(
    *,
    template: str,
    context: Mapping[str, Any],
    to: Sequence[str],
    from_email: str | None = None,
    reply_to: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
    using: str = DEFAULT_MAILER,
    language: str | None = None,
) -> EmailMultiAlternatives:
    """Render ``template`` (see :func:`email_render`) and send it now; return the message sent.

    Call it outside any transaction (from a task enqueued on commit): a rolled-back write must
    not leave an email behind it.
    """
    message = email_render(
        template=template,
        context=context,
        to=to,
        from_email=from_email,
        reply_to=reply_to,
        headers=headers,
        language=language,
    )
    email_deliver(message=message, using=using)
    return message
