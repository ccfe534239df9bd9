"""gunicorn's settings for the shop: ``gunicorn -c python:bookstore.gunicorn_conf bookstore.wsgi``
(the Dockerfile and docker-compose.yml), with ``PORT`` and ``WEB_CONCURRENCY`` from the
environment.

``timeout`` (30 s) is above what a request can wait on the database (``DB_CONNECT_TIMEOUT`` 3 s,
``DB_STATEMENT_TIMEOUT`` 20 s): the app answers 503 before gunicorn would kill the worker. No
access log: the app writes one JSON line per request, with its ``X-Request-ID``.

gunicorn answers some requests itself, before Django sees them: a request line longer than
``limit_request_line`` (414), too many or too large headers (431), a request it cannot parse
(400). Its answer is an HTML page quoting the offending input; here it is a problem details
body like every other error of the API, with a fixed text. gunicorn writes those answers with
``gunicorn.util.write_error`` and offers no setting for it, so this module replaces that function
when gunicorn loads its configuration (in the master, before the workers fork).
"""

import json
import os

from gunicorn import util

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30
forwarded_allow_ips = "*"
accesslog = None

PROBLEMS = {
    400: ("bad_request", "The request could not be read."),
    403: ("forbidden", "The request is not allowed."),
    414: ("uri_too_long", "The address of the request is longer than the shop accepts."),
    417: ("expectation_failed", "The request's Expect header cannot be met."),
    431: ("request_header_fields_too_large", "The request's headers are larger than the shop accepts."),
    500: ("server_error", "An unexpected error occurred."),
    501: ("not_implemented", "The request uses a transfer coding the shop does not support."),
}


def _type_base() -> str:
    try:
        from django.conf import settings

        return settings.PROBLEM_TYPE_BASE
    except Exception:  # Django not configured (yet): the default of the settings
        return os.environ.get("PROBLEM_TYPE_BASE", "urn:librairie:problem:")


def problem_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answers as ``application/problem+json`` (never echoing the input)."""
    code, detail = PROBLEMS.get(status_int, ("bad_request", "The request could not be read."))
    body = json.dumps(
        {
            "type": f"{_type_base()}{code}",
            "title": reason,
            "status": status_int,
            "detail": detail,
            "code": code,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


util.write_error = problem_error
