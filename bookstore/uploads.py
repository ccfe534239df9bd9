"""Refuse an oversized upload while it arrives, not after it has been written to disk.

Django's own limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``) leaves files out: a 100 MiB "cover" would be
read whole into a temporary file before the cover service looks at its size. This handler,
first in ``FILE_UPLOAD_HANDLERS``, refuses a multipart body larger than ``UPLOAD_MAX_BYTES``
from its ``Content-Length`` before a byte of it is read, and a body without one (chunked) as
soon as its files pass the limit. The refusal is Django's ``RequestDataTooBig``: a 413 problem
in the API, the 400 page elsewhere.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class UploadSizeLimitHandler(FileUploadHandler):
    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        self.received = 0
        if content_length and content_length > settings.UPLOAD_MAX_BYTES:
            raise RequestDataTooBig(
                f"Upload of {content_length} bytes refused (limit {settings.UPLOAD_MAX_BYTES})."
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            raise RequestDataTooBig(f"Upload refused past {settings.UPLOAD_MAX_BYTES} bytes.")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
