"""Covers given by URL in an import are fetched later, and never from the shop's own network."""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from apps.catalog import services
from apps.catalog.imports import covers
from apps.catalog.models import Book
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 300), (30, 60, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


class CoverServer:
    """A web server of covers on 127.0.0.1: ``/cover.png``, ``/text``, and ``/to?url=…`` redirects."""

    def __init__(self):
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                if self.path.startswith("/to?url="):
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/to?url="))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, kind = (_png(), "image/png") if self.path == "/cover.png" else (b"hello", "text/html")
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cover_server():
    server = CoverServer()
    yield server
    server.close()


@pytest.fixture
def localhost_looks_public(monkeypatch):
    """The test's own server stands for a CDN: "localhost" resolves to a public address for the
    shop's check (the connection still goes to 127.0.0.1); every other host resolves for real."""
    real = covers._resolve
    monkeypatch.setattr(
        covers, "_resolve", lambda host: ["93.184.216.34"] if host == "localhost" else real(host)
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/cover.png",
        "http://169.254.169.254/latest/meta-data/cover.png",
        "http://[::1]:{port}/cover.png",
        "http://10.0.0.8/cover.png",
        "file:///etc/passwd",
        "ftp://example.com/cover.png",
    ],
)
def test_addresses_of_the_shops_own_network_are_refused_without_a_request(cover_server, url):
    book = BookFactory()
    url = url.format(port=cover_server.port)

    with pytest.raises(covers.CoverRefused):
        covers.cover_download(url)
    services.book_cover_fetch(book_id=book.pk, url=url)

    assert cover_server.hits == []
    assert not Book.objects.get(pk=book.pk).cover


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/cover.png", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_redirect_to_the_shops_own_network_is_refused(cover_server, localhost_looks_public, target):
    url = f"http://localhost:{cover_server.port}/to?url=" + target.format(port=cover_server.port)

    with pytest.raises(covers.CoverRefused, match="not a public address"):
        covers.cover_download(url)

    assert cover_server.hits == [url.split(str(cover_server.port), 1)[1]]  # the first hop only


def test_a_public_cover_is_fetched_checked_and_thumbnailed(
    cover_server, localhost_looks_public, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    book = BookFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.book_cover_fetch(book_id=book.pk, url=f"http://localhost:{cover_server.port}/cover.png")

    book.refresh_from_db()
    assert book.cover
    assert set(book.cover_thumbnails) == {"120", "300", "600"}


def test_what_is_not_an_image_is_not_kept(cover_server, localhost_looks_public):
    book = BookFactory()

    services.book_cover_fetch(book_id=book.pk, url=f"http://localhost:{cover_server.port}/text")

    assert not Book.objects.get(pk=book.pk).cover
