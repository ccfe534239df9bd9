"""The anymail backends, each exercised once against a local server standing in for the ESP.

The emails go through ``bookstore.mail`` exactly as the tasks send them; the stand-in records
the HTTP request the backend makes, which is what SendGrid or Amazon SES would receive.
"""

import base64
import email
import json
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from anymail.exceptions import AnymailNotSupportedWarning

from bookstore.mail import email_send

CONTEXT = {
    "user": None,
    "verify_url": "https://shop.example/accounts/verify-email/?token=abc",
    "valid_hours": 72,
}


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
        )
        status, body = self.server.answer
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        return


@pytest.fixture
def esp_server():
    """A local HTTP server that records requests and answers ``server.answer`` (status, JSON)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    server.answer = (200, {})
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_sendgrid_backend_posts_the_rendered_email_to_the_api(esp_server, settings):
    esp_server.answer = (202, None)
    settings.ANYMAIL = {"SENDGRID_API_KEY": "SG.test-key", "SENDGRID_API_URL": f"{esp_server.url}/v3/"}
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.sendgrid.EmailBackend"}}

    # anymail 15 no longer officially supports SendGrid and says so on every backend start.
    with pytest.warns(AnymailNotSupportedWarning, match="SendGrid"):
        message = email_send(template="accounts/verify_email", context=CONTEXT, to=["zoe@example.com"])

    assert message.anymail_status.status == {"queued"}
    [request] = esp_server.requests
    assert request["path"] == "/v3/mail/send"
    assert request["headers"]["Authorization"] == "Bearer SG.test-key"
    body = json.loads(request["body"])
    assert body["personalizations"][0]["to"] == [{"email": "zoe@example.com"}]
    assert body["from"]["email"] == "no-reply@librairie.example"
    assert body["subject"] == "Confirmez votre adresse email — Librairie"
    contents = {part["type"]: part["value"] for part in body["content"]}
    assert set(contents) == {"text/plain", "text/html"}
    assert "https://shop.example/accounts/verify-email/?token=abc" in contents["text/plain"]
    assert 'href="https://shop.example/accounts/verify-email/?token=abc"' in contents["text/html"]


def test_amazon_ses_backend_sends_the_raw_email_through_sesv2(esp_server, settings):
    esp_server.answer = (200, {"MessageId": "0100-test-message-id"})
    settings.ANYMAIL = {
        "AMAZON_SES_CLIENT_PARAMS": {
            "region_name": "eu-west-3",
            "endpoint_url": esp_server.url,
            "aws_access_key_id": "AKIDTEST",
            "aws_secret_access_key": "test-secret",
        }
    }
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.amazon_ses.EmailBackend"}}

    message = email_send(template="accounts/verify_email", context=CONTEXT, to=["zoe@example.com"])

    assert message.anymail_status.message_id == "0100-test-message-id"
    [request] = esp_server.requests
    assert request["path"] == "/v2/email/outbound-emails"
    # Signed with AWS Signature V4 for SES in the configured region.
    assert request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    assert "/eu-west-3/ses/aws4_request" in request["headers"]["Authorization"]
    body = json.loads(request["body"])
    assert body["Destination"]["ToAddresses"] == ["zoe@example.com"]
    raw = email.message_from_bytes(base64.b64decode(body["Content"]["Raw"]["Data"]), policy=policy.default)
    assert raw["Subject"] == "Confirmez votre adresse email — Librairie"
    assert raw["To"] == "zoe@example.com"
    parts = {part.get_content_type(): part.get_content() for part in raw.walk() if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "https://shop.example/accounts/verify-email/?token=abc" in parts["text/plain"]


def test_an_esp_error_is_raised_for_the_task_to_retry(esp_server, settings):
    from anymail.exceptions import AnymailAPIError

    from apps.accounts.tasks import TRANSIENT_EMAIL_ERRORS

    esp_server.answer = (503, {"errors": [{"message": "Service unavailable"}]})
    settings.ANYMAIL = {"SENDGRID_API_KEY": "SG.test-key", "SENDGRID_API_URL": f"{esp_server.url}/v3/"}
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.sendgrid.EmailBackend"}}

    with pytest.raises(AnymailAPIError) as raised, pytest.warns(AnymailNotSupportedWarning):
        email_send(template="accounts/verify_email", context=CONTEXT, to=["zoe@example.com"])
    assert isinstance(raised.value, TRANSIENT_EMAIL_ERRORS)
