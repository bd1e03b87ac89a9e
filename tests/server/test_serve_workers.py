"""``riskmap serve --workers N``: each worker listens on its own socket, and the kernel spreads the connections.

A real server is started the way users start it (the ``riskmap`` command, a subprocess). Which
worker holds which connection is read from ``/proc`` (the sockets each worker process has open,
matched with the established TCP connections of ``/proc/net/tcp``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from typer.testing import CliRunner

from server.cli.main import app
from server.cli.workers import PortInUse, StartFailed, bind_sockets, serve_workers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and needs SO_REUSEPORT")

RISKMAP = str(Path(sys.executable).parent / "riskmap")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def workers_of(pid: int) -> list[int]:
    """The worker processes of server ``pid`` (multiprocessing may also start a resource tracker)."""
    return [child for child in children(pid)
            if b"multiprocessing.spawn" in Path(f"/proc/{child}/cmdline").read_bytes()
            and b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()]


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def connections_held(pid: int, port: int) -> int:
    """How many established TCP connections to local ``port`` process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        held += local_port == port and state == "01" and inode in inodes  # 01: ESTABLISHED
    return held


@pytest.fixture
def served(store_path, tmp_path):
    """``(process, base URL)``: ``riskmap serve --workers 2`` over the fixture store, answering."""
    port = free_port()
    env = {**os.environ, "RISKMAP_TILE_CACHE": str(tmp_path / "tiles.sqlite")}
    process = subprocess.Popen([RISKMAP, "serve", "--store", str(store_path), "--port", str(port), "--workers", "2",
                                "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(base + "/", timeout=30)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the server did not start: {process.stderr.read()[-2000:]}")
            time.sleep(0.05)
    yield process, base, port
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_connections_made_at_once_are_spread_over_the_workers(served):
    # on one shared socket (uvicorn's workers) a burst of connections went to one worker: 100 and 0
    process, base, port = served
    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(40)]
    try:
        for client in clients:  # each client opens its connection and keeps it
            assert client.get("/").status_code == 200
        workers = workers_of(process.pid)
        assert len(workers) == 2
        held = [connections_held(pid, port) for pid in workers]
        assert sum(held) == 40
        assert min(held) >= 8, held  # binomial(40, 1/2): fewer than 8 has a probability of 1e-5
    finally:
        for client in clients:
            client.close()


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_them_all(served):
    process, base, port = served
    first = workers_of(process.pid)
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = workers_of(process.pid)
        if len(now) == 2 and first[0] not in now:
            break
        assert time.monotonic() < deadline, f"the dead worker was not replaced: {now}"
        time.sleep(0.1)
    for _ in range(20):  # new connections, hashed to both sockets: the new worker answers its share
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get("/").status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert not any(running(pid) for pid in now)


def test_a_port_in_use_is_one_error_before_any_worker_starts(store_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_sockets("127.0.0.1", port, 2)
        result = CliRunner().invoke(app, ["serve", "--store", str(store_path), "--port", str(port), "--workers", "2"])
        assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output
        assert "Traceback" not in result.output


def test_the_workers_of_one_server_share_one_free_port():
    sockets = bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1 and ports != {0}
    finally:
        for s in sockets:
            s.close()


def test_a_worker_that_cannot_open_the_store_stops_the_server_with_its_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("RISKMAP_STORE", str(tmp_path / "missing.gpkg"))  # the workers fail to open it
    started = time.monotonic()
    with pytest.raises(StartFailed, match="missing.gpkg"):
        serve_workers("127.0.0.1", free_port(), 2, "critical")
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("content", [None, b"not a GeoPackage at all" * 100])
def test_serve_with_workers_on_a_missing_or_damaged_store_is_one_line_and_exit_1(tmp_path, content):
    # the parent no longer opens the store (the workers do): their error comes back as the one line
    # a single worker's server prints
    address = tmp_path / "city.gpkg"
    if content is not None:
        address.write_bytes(content)
    single = CliRunner().invoke(app, ["serve", "--store", str(address)])
    done = subprocess.run([RISKMAP, "serve", "--store", str(address), "--port", str(free_port()), "--workers", "2",
                           "--log-level", "warning"], capture_output=True, text=True, timeout=120)
    assert single.exit_code == done.returncode == 1, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert said == [line for line in single.output.splitlines() if line.startswith("error:")], done.stderr
    assert len(said) == 1 and str(address) in said[0]  # once, though both workers failed
    assert "serving" not in done.stderr  # not said before the store is open
    assert "Traceback" not in done.stderr and "Traceback" not in single.output


def test_the_workers_end_with_their_parent_even_when_it_is_killed(served):
    process, _, _ = served
    workers = workers_of(process.pid)
    assert len(workers) == 2
    process.kill()  # SIGKILL: the parent cannot stop them itself
    process.wait()
    deadline = time.monotonic() + 30
    while any(running(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.1)
