"""Processes the tests start on this machine: spare ports, gunicorn serving the shop as the
container does, and stopping what was started whatever happens."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Terminate ``process``, killing it if it does not end within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class OwnRedis:
    """A Redis server of the test's own on a spare port, which it may stop and start again
    (it keeps nothing on disk): the shared one is never touched."""

    def __init__(self) -> None:
        self.port = spare_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def the_test_database_url() -> str:
    """The test database's URL, for a process of its own (a server, a worker, a command)."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def gunicorn(env: Mapping[str, str | None], log_path: Path, *, boot_seconds: float = 30) -> Iterator[str]:
    """gunicorn with the shop's configuration (``bookstore/gunicorn_conf.py``) on a spare port;
    yields its base URL once ``/healthz`` answers (it needs no database). ``env`` is laid over
    this process's environment; a ``None`` value removes the variable."""
    port = spare_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:bookstore.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "bookstore.wsgi:application",
            ],
            cwd=ROOT,
            env={k: v for k, v in {**os.environ, "PORT": str(port), **env}.items() if v is not None},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + boot_seconds
            while True:
                try:
                    requests.get(f"{base}/healthz", timeout=2).raise_for_status()
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline or process.poll() is not None:
                        tail = log_path.read_text()[-3000:]
                        raise RuntimeError(f"gunicorn did not start:\n{tail}") from None
                    time.sleep(0.2)
            yield base
        finally:
            stop(process)


HAPROXY = Path("/usr/sbin/haproxy")

HAPROXY_CONFIG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option forwardfor
frontend shop
    bind 127.0.0.1:{port}
    default_backend web
backend web
    # Plain round-robin, no health checks: on a loaded machine a slow check would take a server
    # out of the pool for a while, and the journey's requests would stop alternating.
    balance roundrobin
    # Which process answered: the tests assert both did.
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


@contextmanager
def haproxy(
    backends: list[str], folder: Path, *, port: int | None = None, boot_seconds: float = 15
) -> Iterator[str]:
    """Debian's HAProxy in the foreground on ``port`` (or a spare one), round-robin over
    ``backends`` (base URLs, named ``web1``, ``web2``… in its ``X-Served-By`` header); yields its
    base URL once every backend has answered ``/healthz`` through it."""
    port = port or spare_port()
    servers = "\n".join(
        f"    server web{n} {url.removeprefix('http://')}" for n, url in enumerate(backends, 1)
    )
    config = folder / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers))
    log_path = folder / "haproxy.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            [str(HAPROXY), "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            seen: set[str] = set()
            deadline = time.monotonic() + boot_seconds
            while len(seen) < len(backends):
                try:
                    answer = requests.get(f"{base}/healthz", timeout=2)
                    if answer.ok:
                        seen.add(answer.headers.get("X-Served-By", ""))
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(
                        f"HAProxy did not reach every backend ({seen}):\n{log_path.read_text()}"
                    )
                time.sleep(0.1)
            yield base
        finally:
            stop(process)
