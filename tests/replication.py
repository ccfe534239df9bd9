"""A PostgreSQL primary and its streaming replica, of the tests' own, on spare ports.

The shared cluster allows no replication connections, so the tests make a pair in a scratch
folder with Debian's PostgreSQL binaries (``../shared/TOOLING.md``), run as ``postgres`` when the
tests run as root. The primary gets the schema of the test database (``pg_dump``, a second where
``migrate`` takes several), then the replica is cloned from it by ``pg_basebackup`` and follows
it by streaming replication. Durability is off (``fsync``): they live for one test session.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.servers import spare_port

BINARIES = Path(os.environ.get("BOOKSTORE_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
# Fast and disposable: no fsync, a checkpoint at once for the base backup.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
)


def available() -> bool:
    return (BINARIES / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


def _run(command: list[str], *, stdin: bytes | None = None, timeout: float = 60) -> bytes:
    done = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"{command[:3]} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return done.stdout


def _as_postgres(*command: str | Path, timeout: float = 60) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    _run([*prefix, *map(str, command)], timeout=timeout)


@dataclass
class Replication:
    folder: Path
    primary_port: int
    replica_port: int
    database: str = "bookstore"

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{self.database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def _pg_ctl(self, name: str, action: str, port: int | None = None) -> None:
        options = ["-o", f"-p {port} -k {self.folder} {SERVER_OPTIONS}"] if port else []
        _as_postgres(
            BINARIES / "pg_ctl", "-D", self.folder / name, "-l", self.folder / f"{name}.log", "-w",
            "-m", "fast", *options, action,
        )  # fmt: skip

    def start(self, name: str) -> None:
        self._pg_ctl(name, "start", self.primary_port if name == "primary" else self.replica_port)

    def stop(self, name: str) -> None:
        self._pg_ctl(name, "stop")

    def execute(self, port: int, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url(port), autocommit=True, connect_timeout=3) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def on_primary(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.execute(self.primary_port, sql, params)

    def on_replica(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.execute(self.replica_port, sql, params)

    def replay_pause(self) -> None:
        self.on_replica("SELECT pg_wal_replay_pause()")

    def replay_resume(self) -> None:
        self.on_replica("SELECT pg_wal_replay_resume()")

    def wait_replayed(self, *, timeout: float = 10) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        (target,) = self.on_primary("SELECT pg_current_wal_lsn()")[0]
        deadline = time.monotonic() + timeout
        while not self.on_replica("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0][0]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica did not replay up to {target}")
            time.sleep(0.05)


@contextmanager
def replication(schema_from: str) -> Iterator[Replication]:
    """A primary holding the schema (and the migrations' rows) of the database at
    ``schema_from`` (a URL), and its streaming replica; both stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bookstore-replication-"))
    folder.chmod(0o777)
    pair = Replication(folder, spare_port(), spare_port())
    started: list[str] = []
    try:
        _as_postgres(
            BINARIES / "initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", folder / "primary"
        )
        with (folder / "primary" / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        pair.start("primary")
        started.append("primary")
        admin = pair.url(pair.primary_port).rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pair.database}"')
        dump = _run(["pg_dump", "--no-owner", "--no-privileges", schema_from])
        _run(["psql", "-q", "-v", "ON_ERROR_STOP=1", pair.primary_url], stdin=dump)
        _as_postgres(
            BINARIES / "pg_basebackup", "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres",
            "--checkpoint=fast", "-R", "-D", folder / "replica",
        )  # fmt: skip
        pair.start("replica")
        started.append("replica")
        pair.wait_replayed()
        yield pair
    finally:
        for name in reversed(started):
            with contextlib.suppress(RuntimeError):  # a test stopped it already
                pair.stop(name)
        shutil.rmtree(folder, ignore_errors=True)
