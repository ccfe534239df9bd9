"""The development email backend: each message printed as a person reads it.

Django's console backend prints the raw MIME message, where French text is quoted-printable
(``=C3=A9``) and long lines are folded with ``=``: a link copied from the log does not work.
This one prints the headers decoded and the plain-text body as it is, so the verification or
payment link can be copied from the terminal and followed.
"""

from typing import Any

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message: Any) -> None:
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            f"Subject: {message.subject}",
            "",
            message.body,
        ]
        if any(mimetype == "text/html" for _content, mimetype in getattr(message, "alternatives", [])):
            lines.append("[an HTML version of this message is attached]")
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
