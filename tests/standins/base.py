"""A local HTTP server standing in for a provider's API, for tests (no network, real clients).

A stand-in subclasses :class:`StandIn` and implements :meth:`StandIn.handle`; it runs a
threaded ``http.server`` on ``127.0.0.1`` and a free port, so the real client library (``stripe``,
``requests``) talks to it over HTTP exactly as it would to the provider. Tests can:

- read ``requests``: every request received (method, path, headers, query, body), in order;
- ``fail_next(status, body, times)``: answer the next requests with an error, doing nothing;
- ``stall_next(seconds, after=…, times)``: wait before answering, so that the client times
  out; with ``after=True`` the request is carried out first (the provider did the work, the
  answer was lost: the case idempotency keys exist for).
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: str  # "fail" or "stall"
    status: int = 500
    body: Any = None
    seconds: float = 0.0
    after: bool = False


class StandIn:
    """Base of the provider stand-ins: the server, the request log and fault injection."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- Lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                stand_in._serve(self)

            do_GET = do_POST = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "StandIn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Faults ----------------------------------------------------------------------------

    def fail_next(self, status: int = 500, body: Any = None, times: int = 1) -> None:
        with self._lock:
            self._faults.extend(_Fault("fail", status=status, body=body) for _ in range(times))

    def stall_next(self, seconds: float, *, after: bool = False, times: int = 1) -> None:
        with self._lock:
            self._faults.extend(_Fault("stall", seconds=seconds, after=after) for _ in range(times))

    def requests_to(self, method: str, path_prefix: str) -> list[Received]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # --- Serving ---------------------------------------------------------------------------

    def handle(self, request: Received) -> Answer:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        received = Received(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(received)
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None and fault.kind == "fail":
            answer = Answer(fault.status, fault.body if fault.body is not None else {"error": "injected"})
        else:
            if fault is not None and not fault.after:
                time.sleep(fault.seconds)
            with self._lock:
                answer = self.handle(received)
            if fault is not None and fault.after:
                time.sleep(fault.seconds)
        payload = json.dumps(answer.body).encode() if answer.body is not None else b""
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            # Headers and body in one write (two small writes meet Nagle's delay on keep-alive).
            handler._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
            handler._headers_buffer.append(payload)  # type: ignore[attr-defined]
            handler.flush_headers()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout the test asked for).
            pass
