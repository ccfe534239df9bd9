"""The errors gunicorn answers itself, before Django (an overlong URL, oversized headers, a
request it cannot parse), come as problem details like every other error, never as its HTML
page quoting the input. gunicorn runs here as in the container, with bookstore/gunicorn_conf.py.
"""

import json
import socket

import pytest

from tests.servers import gunicorn


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    env = {"WEB_CONCURRENCY": "1", "CELERY_BROKER_URL": "memory://"}
    with gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as base:
        yield int(base.rsplit(":", 1)[1])


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    headers = {
        name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (
            b"GET /api/v1/books/?q=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            414,
            "uri_too_long",
        ),
        (
            b"GET /api/v1/books/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 10_000 + b"\r\n\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"GET /\x01<script> HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "bad_request"),
    ],
)
def test_gunicorns_own_errors_are_problem_details(shop, request_bytes, status, code):
    got, headers, body = raw(shop, request_bytes)

    assert got == status
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)
    assert problem["type"].endswith(code)
    assert b"aaaa" not in body
    assert b"bbbb" not in body
    assert b"script" not in body
