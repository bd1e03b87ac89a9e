"""A PostgreSQL 15 + PostGIS server of the test session, started and stopped by the suite itself.

``initdb`` into a fresh temporary folder, ``pg_ctl start`` on a free loopback port (socket in the
same folder), ``CREATE EXTENSION postgis`` — once per test session (once per xdist worker), stopped
at the end. As root (CI, this machine) the server runs as the ``postgres`` user, since initdb
refuses root. Fixtures:

``postgis_server``
    the running server's base URL (``postgresql://postgres@127.0.0.1:PORT/postgres``); skips,
    naming what is missing, only where the PostgreSQL 15 / PostGIS binaries are not installed.
``postgis_address``
    a store address in a schema of its own (``…?schema=t_<random>``), for one test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


def missing() -> str | None:
    """Why no PostGIS server can be started here (None when it can)."""
    if not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 binaries not found in {BIN} (Debian package postgresql-15)"
    if not POSTGIS_CONTROL.exists():
        return f"PostGIS not installed ({POSTGIS_CONTROL} missing; Debian package postgresql-15-postgis-3)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as the postgres user"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgisServer:
    """One throw-away PostgreSQL cluster with PostGIS."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="riskmap-pg-"))
        self.port = _free_port()
        self.root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = (["runuser", "-u", "postgres", "--"] if self.root else []) + list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> str:
        data = self.folder / "data"
        if self.root:
            shutil.chown(self.folder, "postgres")
        self._run(str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self._run(str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return self.url

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgis_server():
    """The base URL of the session's PostGIS server (skips only where the binaries are absent)."""
    reason = missing()
    if reason:
        pytest.skip(f"PostGIS tests need a local PostgreSQL 15 + PostGIS: {reason}")
    server = PostgisServer()
    try:
        yield server.start()
    finally:
        server.stop()


def new_schema_address(base_url: str) -> str:
    """A store address in a schema no other test uses."""
    return f"{base_url}?schema=t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def postgis_address(postgis_server) -> str:
    """A store address in a fresh schema of the session's server."""
    return new_schema_address(postgis_server)
