import logging
import re

import pytest

pytestmark = pytest.mark.django_db


def test_request_id_sent_by_the_client_is_returned(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-42.abc")
    assert response["X-Request-ID"] == "req-42.abc"


def test_request_id_is_generated_when_absent(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_implausible_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="evil\nforged log line")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_one_log_line_per_request_with_method_path_status_duration_and_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="bookstore.request"):
        client.get("/api/v1/nowhere/", HTTP_X_REQUEST_ID="trace-1")
    [record] = [r for r in caplog.records if r.name == "bookstore.request"]
    assert (record.method, record.path, record.status) == ("GET", "/api/v1/nowhere/", 404)
    assert record.duration_ms >= 0
    assert record.request_id == "trace-1"


def test_json_formatter_writes_one_object_per_line():
    import json

    from bookstore.logging import JsonFormatter

    record = logging.makeLogRecord(
        {"name": "bookstore.request", "msg": "GET / 200", "levelname": "INFO", "status": 200}
    )
    record.request_id = "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["status"] == 200
    assert data["request_id"] == "abc"
    assert data["message"] == "GET / 200"


def test_cors_allows_configured_origins_only(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.librairie.example"]
    allowed = client.options(
        "/api/v1/auth/token/",
        HTTP_ORIGIN="https://app.librairie.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.librairie.example"
    refused = client.options(
        "/api/v1/auth/token/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in refused
