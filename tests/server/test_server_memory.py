"""A 600 MiB body against a real server: refused while it arrives, the server's memory bounded.

uvicorn serves the app in a subprocess (``riskmap`` settings from the environment). A raw socket
sends ``POST /login`` with a 600 MiB body, 1 MiB at a time, and stops when the server answers.
The server's peak resident memory (``VmHWM`` of ``/proc/PID/status``) is read before and after:
reading such a body whole would add 600 MiB; counting it as it arrives adds next to nothing.
Both a declared ``Content-Length`` (refused before a byte of the body is read) and a chunked
upload (refused once the count passes the limit) are sent, to sign-in (4 KiB limit) and to the
siting API (2 MB).
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time

import pytest

from server_common import TOKENS

MIB = 1 << 20
BODY = 600 * MIB


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def server(store_path):
    port = _free_port()
    env = {**os.environ, "RISKMAP_STORE": str(store_path), "RISKMAP_TOKENS": __import__("json").dumps(TOKENS)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app_from_env", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.2)
    yield port, process.pid
    process.terminate()
    process.wait(10)


def _upload(port: int, path: str, chunked: bool, kind: str) -> tuple[int, int]:
    """POST a 600 MiB body to ``path``; ``(HTTP status, bytes of body sent before the answer)``."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {kind}\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {BODY}\r\n\r\n"
    chunk = b"[" * MIB if kind == "application/json" else b"x" * MIB
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode())
        while sent < BODY:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break
            try:
                s.sendall((f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") if chunked else chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        try:
            while b"\r\n" not in answer:
                part = s.recv(65536)
                if not part:
                    break
                answer += part
        except ConnectionResetError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent


@pytest.mark.slow
@pytest.mark.parametrize("path, chunked, kind", [
    ("/login", False, "application/x-www-form-urlencoded"),
    ("/login", True, "application/x-www-form-urlencoded"),
    ("/api/siting", True, "application/json"),
])
def test_a_600_mib_body_is_refused_while_it_arrives_and_memory_stays_bounded(server, path, chunked, kind):
    port, pid = server
    before = _peak_rss_kib(pid)
    status, sent = _upload(port, path, chunked, kind)
    after = _peak_rss_kib(pid)
    assert status == 413, (status, sent)
    assert sent < 100 * MIB, f"the server let {sent / MIB:.0f} MiB arrive before refusing"
    assert (after - before) < 64 * 1024, f"peak memory grew by {(after - before) / 1024:.0f} MiB"
