"""Cover upload stored in S3 through django-storages, against moto's S3 server."""

import io
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from PIL import Image

from apps.catalog.models import Book
from tests.servers import spare_port, stop

pytestmark = pytest.mark.django_db

BUCKET = "covers-test"
KEYS = {"access_key": "testing", "secret_key": "testing"}


@pytest.fixture(scope="session")
def moto_s3():
    """A local S3 (moto's server) for the whole session; stopped at the end."""
    port = spare_port()
    executable = Path(__import__("sys").executable).with_name("moto_server")
    process = subprocess.Popen(  # noqa: S603 (our own virtualenv's executable)
        [str(executable), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310 (local http)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    yield endpoint
    stop(process)


@pytest.fixture
def s3(moto_s3):
    """Default storage on S3 (moto), with an empty bucket."""
    request = urllib.request.Request(f"{moto_s3}/moto-api/reset", method="POST")  # noqa: S310 (local http)
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (local http)
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    storages = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": moto_s3,
                "region_name": "us-east-1",
                "querystring_auth": False,
                "default_acl": None,
                "file_overwrite": False,
                **KEYS,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield client


def image_file(fmt: str = "PNG", size=(900, 1350), name: str = "cover.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def keys(client) -> list[str]:
    return sorted(obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def upload(client, book, file):
    return client.post(f"/api/v1/books/{book.pk}/cover/", {"cover": file}, format="multipart")


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_cover_is_stored_in_s3_with_its_thumbnails(
    staff_client, api_client, catalogue, s3, django_capture_on_commit_callbacks, fmt, ext
):
    book = catalogue["dune"]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, book, image_file(fmt, name=f"scan.{ext}"))
    assert response.status_code == 201, response.content
    stored = keys(s3)
    book.refresh_from_db()
    assert book.cover.name.startswith(f"covers/{book.isbn13}-")
    assert book.cover.name.endswith(f".{ext}")
    stem = book.cover.name.rsplit(".", 1)[0]
    assert stored == sorted([book.cover.name, f"{stem}-w120.jpg", f"{stem}-w300.jpg", f"{stem}-w600.jpg"])
    for width in (120, 300, 600):
        body = s3.get_object(Bucket=BUCKET, Key=f"{stem}-w{width}.jpg")["Body"].read()
        with Image.open(io.BytesIO(body)) as thumbnail:
            assert thumbnail.format == "JPEG"
            assert thumbnail.size == (width, width * 3 // 2)
    cover = api_client.get(f"/api/v1/books/{book.isbn13}/").json()["cover"]
    assert cover["original"].endswith(f"/{BUCKET}/{book.cover.name}")
    assert sorted(cover["thumbnails"], key=int) == ["120", "300", "600"]
    assert cover["thumbnails"]["300"].endswith(f"{stem}-w300.jpg")


def test_thumbnail_task_is_safe_to_run_twice(staff_client, catalogue, s3, django_capture_on_commit_callbacks):
    from apps.catalog.tasks import book_cover_thumbnails_make

    book = catalogue["dune"]
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, book, image_file())
    before = keys(s3)
    book_cover_thumbnails_make.delay(book.pk)
    assert keys(s3) == before
    book_cover_thumbnails_make.delay(999_999)  # a deleted book: nothing to do


def test_a_new_cover_replaces_the_old_files(staff_client, catalogue, s3, django_capture_on_commit_callbacks):
    book = catalogue["dune"]
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, book, image_file())
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, book, image_file("JPEG", name="new.jpg"))
    book.refresh_from_db()
    assert len(keys(s3)) == 4
    assert book.cover.name in keys(s3)


@pytest.mark.parametrize(
    "file",
    [
        SimpleUploadedFile("cover.png", b"this is not an image at all", content_type="image/png"),
        SimpleUploadedFile("cover.jpg", b"\xff\xd8\xff\xe0 truncated jpeg", content_type="image/jpeg"),
    ],
)
def test_a_non_image_is_rejected(staff_client, catalogue, s3, file):
    response = upload(staff_client, catalogue["dune"], file)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cover"
    assert list(response.json()["errors"]) == ["cover"]
    assert keys(s3) == []
    assert not Book.objects.get(pk=catalogue["dune"].pk).cover


def test_an_image_of_another_format_is_rejected(staff_client, catalogue, s3):
    response = upload(staff_client, catalogue["dune"], image_file("GIF", name="cover.gif"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"cover": ["Upload a JPEG, PNG or WebP image."]}
    assert keys(s3) == []


def test_an_oversized_file_is_rejected(staff_client, catalogue, s3):
    with override_settings(CATALOG_COVER_MAX_BYTES=2048):
        response = upload(staff_client, catalogue["dune"], image_file(size=(1200, 1800)))
    assert response.status_code == 400
    assert "larger than 2 KiB" in response.json()["errors"]["cover"][0]
    assert keys(s3) == []


def test_only_staff_upload_covers(api_client, user_client, catalogue, s3):
    assert upload(api_client, catalogue["dune"], image_file()).status_code == 401
    assert upload(user_client, catalogue["dune"], image_file()).status_code == 403
    assert keys(s3) == []


def test_an_image_of_too_many_pixels_is_rejected_before_it_is_decoded(staff_client, catalogue, s3):
    """A 12,000 x 12,000 PNG is 17 KiB on the wire and 430 MiB once decoded: refused by its header."""
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")
    bomb = SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")
    assert bomb.size < 64 * 1024

    response = upload(staff_client, catalogue["dune"], bomb)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "cover": ["The image is 12000 x 12000 pixels; at most 25 million are accepted."]
    }
    assert keys(s3) == []


def test_the_thumbnail_task_skips_a_cover_of_too_many_pixels(catalogue, s3, settings):
    from django.core.files.base import ContentFile

    from apps.catalog.services import book_cover_thumbnails_make

    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")
    book = catalogue["dune"]
    book.cover.save("huge.png", ContentFile(buffer.getvalue()), save=True)  # bypassing the upload checks

    assert book_cover_thumbnails_make(book_id=book.pk) == {}
    assert keys(s3) == ["covers/huge.png"]


class _Endless:
    """A request body of ``size`` bytes that counts what the server reads of it."""

    def __init__(self, prefix: bytes, size: int):
        self.prefix, self.size, self.read_bytes = prefix, size, 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        start = self.read_bytes
        self.read_bytes += n
        head = self.prefix[start : start + n]
        return head + b"\0" * (n - len(head))

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit if limit and limit > 0 else 65536)


def _wsgi_upload(path: str, token: str, *, declared: int) -> tuple[str, bytes, int]:
    """POST a 100 MiB multipart body straight to the WSGI application, as gunicorn would."""
    from io import BytesIO

    from bookstore.wsgi import application

    boundary = "xyzBOUNDARYxyz"
    prefix = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="cover"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = _Endless(prefix, 100 * 1024 * 1024)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": BytesIO(),
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(declared),
    }
    status: list[str] = []
    # As the test client does: the request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, lambda s, headers, *a: status.append(s))
        return status[0], b"".join(chunks), body.read_bytes
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_100_mib_upload_is_refused_early_not_read_to_the_end(staff_user, catalogue):
    from rest_framework_simplejwt.tokens import RefreshToken

    token = str(RefreshToken.for_user(staff_user).access_token)
    book = next(iter(catalogue.values()))

    status, body, read = _wsgi_upload(f"/api/v1/books/{book.pk}/cover/", token, declared=100 * 1024 * 1024)

    assert status.startswith("413"), (status, body)
    assert b"content_too_large" in body
    assert read < 1024 * 1024, f"{read} bytes read of a refused upload"
    assert not Book.objects.get(pk=book.pk).cover
