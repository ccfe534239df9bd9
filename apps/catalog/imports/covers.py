"""Fetching a cover an import gave by URL (``catalog.tasks.book_cover_fetch``), safely.

The URL comes from a file the shop did not write: it may point at the shop's own network
(``http://127.0.0.1/…``, a cloud's metadata service ``http://169.254.169.254/…``) or redirect
there. Only http(s) is fetched; every host is resolved first and every address it resolves to
must be a public one (no private, loopback, link-local, reserved or multicast address);
redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop checked the same way. The
answer must say it is an image, and is read in chunks up to ``CATALOG_COVER_MAX_BYTES``; then
the cover service checks it as an upload (Pillow, the pixel limit) and makes the thumbnails.
"""

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

MAX_REDIRECTS = 3
TIMEOUT = (3.05, 10)  # connect, read (seconds)


class CoverRefused(Exception):
    """The URL or its answer is not a cover the shop will fetch or keep (the reason says why)."""


def _resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except socket.gaierror as error:
        raise CoverRefused(f"{host}: cannot be resolved ({error}).") from None


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise CoverRefused(f"{url!r}: only http and https addresses are fetched.")
    for address in _resolve(parts.hostname):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise CoverRefused(f"{parts.hostname} is {address}, not a public address: not fetched.")


def cover_download(url: str) -> tuple[bytes, str]:
    """The image at ``url`` and its name, or ``CoverRefused``."""
    limit = int(settings.CATALOG_COVER_MAX_BYTES)
    for _hop in range(MAX_REDIRECTS + 1):
        _check_url(url)
        with requests.get(url, stream=True, timeout=TIMEOUT, allow_redirects=False) as response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code != 200:
                raise CoverRefused(f"{url} answered {response.status_code}.")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise CoverRefused(f"{url} is {kind or 'of no type'}, not an image.")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise CoverRefused(f"{url} is {declared} bytes, more than {limit}.")
            content = bytearray()
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > limit:
                    raise CoverRefused(f"{url} is more than {limit} bytes.")
            name = urlsplit(url).path.rsplit("/", 1)[-1] or "cover"
            return bytes(content), name
    raise CoverRefused(f"more than {MAX_REDIRECTS} redirects.")
