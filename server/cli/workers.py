"""Worker processes for ``riskmap serve --workers N``: one listening socket each, balanced by the kernel.

uvicorn's own workers share one listening socket, and the event loop of whichever worker wakes
first accepts every connection waiting. A burst of new keep-alive connections therefore lands on
one worker: the 100 clients of the mixed-load benchmark (issue 14) were all held by one of two
workers (counted with ``ss -tnp``: 100 and 0), so a second worker added nothing (1.01× the
requests/s of one). Here each worker listens on a socket of its own, bound to the same address
with ``SO_REUSEPORT`` (Linux 3.9+), and the kernel hashes each new connection to one of the
listening sockets: the ``reuseport`` of nginx's ``listen``.

* The parent binds the sockets before any worker starts, so a port in use is one clear error
  (and a plain bind is tried first: another server on the port, itself with ``SO_REUSEPORT``,
  would otherwise silently share its connections with this one).
* The parent does not open the store: each worker opens and checks it anyway, and the parent's
  check (0.6 s of imports, then the workers' 2 s) made two workers start in 3.8-4.4 s at scale 10
  against 2.1-2.3 s for one. A worker that cannot open it sends the one-line error to the
  parent, which prints it and stops (:class:`StartFailed`), as one worker's server would.
* A socket is passed to its worker bound but not listening; asyncio listens once the app has
  started (uvicorn's lifespan). The first workers also wait for each other at a start gate (at
  most :data:`START_GATE_SECONDS`), so the connections made right after the server's first
  answer spread over all of them rather than over the quickest.
* A worker that dies after it started is replaced on its socket (connections the kernel hashed
  to that socket meanwhile wait in its backlog); one that dies before it started stops the
  server with exit status 1 (a broken store or setting fails the same way every time).
* SIGINT and SIGTERM stop the workers gracefully (uvicorn's shutdown: requests in flight end),
  then kill those still running after :data:`STOP_SECONDS`. On Linux a worker also ends when
  its parent is killed (``PR_SET_PDEATHSIG``).

Where ``SO_REUSEPORT`` is missing (Windows), :func:`serve_workers` is not used and uvicorn's
shared socket serves instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing
import signal
import socket
import sys
import threading
from collections.abc import Callable

import uvicorn

__all__ = ["START_GATE_SECONDS", "STOP_SECONDS", "PortInUse", "StartFailed", "bind_sockets", "gated_app",
           "reuse_port", "serve_workers"]

log = logging.getLogger("uvicorn.error")

#: Longest a first worker waits for the others before it starts listening anyway.
START_GATE_SECONDS = 60.0
#: Longest the workers have to end gracefully once asked to stop.
STOP_SECONDS = 20.0
# set in a worker process by _worker, read by gated_app (the app factory uvicorn calls there)
_gate = None
_ready = None
_failed = None


class PortInUse(OSError):
    """The address to listen on is taken (by another server, or not this user's)."""


class StartFailed(RuntimeError):
    """A worker could not start the app: the store or a setting is wrong (the message says which)."""


def reuse_port() -> bool:
    """Whether this system spreads connections over sockets sharing a port (``SO_REUSEPORT``)."""
    return hasattr(socket, "SO_REUSEPORT") and sys.platform != "win32"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` TCP sockets bound to ``host:port`` with ``SO_REUSEPORT``, not listening yet.

    Raises :class:`PortInUse` when something already listens there. Port 0 takes a free port
    (the same for all).
    """
    family = _family(host)
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is no obstacle
        probe.bind((host, port))
        port = probe.getsockname()[1]
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
        raise
    finally:
        probe.close()
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise PortInUse(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sockets


def gated_app():
    """The app of ``RISKMAP_STORE`` (:func:`server.app.create_app_from_env`); in a worker, its start-up
    also marks the worker ready and waits at the start gate before the worker listens."""
    from geo.errors import RiskmapError
    from server.app import create_app_from_env

    try:
        app = create_app_from_env()
    except RiskmapError as exc:  # the store or a setting: the parent prints the line and stops
        if _failed is None:
            raise
        _failed.put(str(exc))
        raise SystemExit(1) from None
    gate, ready = _gate, _ready
    if ready is None:
        return app
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with started(app) as state:
            ready.set()
            if gate is not None:
                await asyncio.to_thread(_wait_at, gate)
            # the worker listens from now: its warm-up waits for a pause counted from here, not from
            # its own start (an import begun while the first requests arrive is starved of the GIL)
            app.state.activity.touch()
            yield state

    app.router.lifespan_context = lifespan
    return app


def _wait_at(gate) -> None:
    try:
        gate.wait(START_GATE_SECONDS)
    except threading.BrokenBarrierError:  # a worker failed, or the others were slow: listen anyway
        pass


def _die_with_parent() -> None:
    """Linux: have the kernel send this process SIGTERM when its parent dies (no orphaned workers)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _worker(config: uvicorn.Config, sock: socket.socket, gate, ready, failed) -> None:
    """One worker process: the app on ``sock`` (spawned: everything comes as arguments)."""
    global _gate, _ready, _failed
    _die_with_parent()
    _gate, _ready, _failed = gate, ready, failed
    config.configure_logging()
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])


def serve_workers(host: str, port: int, workers: int, log_level: str = "info",
                  on_ready: Callable[[], object] | None = None) -> int:
    """Serve the app of ``RISKMAP_STORE`` with ``workers`` processes, each on its own socket; returns
    the exit status (0 when stopped by a signal, 1 when a worker failed to start otherwise).

    Raises :class:`PortInUse` before starting anything when the port is taken, and
    :class:`StartFailed` (once the workers are stopped) when a worker cannot open the store or
    read its settings. ``on_ready`` is called once, when every first worker has started (e.g. to
    say that the server is serving: not before its store has been opened).
    """
    sockets = bind_sockets(host, port, workers)
    config = uvicorn.Config("server.cli.workers:gated_app", factory=True, host=host, port=port,
                            log_level=log_level, workers=workers)
    config.configure_logging()
    spawn = multiprocessing.get_context("spawn")
    gate, failed = spawn.Barrier(workers), spawn.SimpleQueue()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start(i: int, gate) -> tuple:
        ready = spawn.Event()
        process = spawn.Process(target=_worker, args=(config, sockets[i], gate, ready, failed),
                                name=f"riskmap-worker-{i}")
        process.start()
        return process, ready

    status, reason = 0, None
    running = [start(i, gate) for i in range(workers)]
    log.info("started %d workers [%s], each listening on its own socket (SO_REUSEPORT)", workers,
             ", ".join(str(p.pid) for p, _ in running))
    try:
        while not stop.wait(0.25):
            if on_ready is not None and all(ready.is_set() for _, ready in running):
                on_ready()
                on_ready = None
            for i, (process, ready) in enumerate(running):
                if process.is_alive():
                    continue
                process.join()
                if not ready.is_set():
                    reason = None if failed.empty() else failed.get()  # the store or a setting: said by the caller
                    if reason is None:
                        log.error("worker [%s] failed to start (exit status %s); stopping", process.pid,
                                  process.exitcode)
                    status = 1
                    stop.set()
                    gate.abort()
                    break
                running[i] = start(i, None)
                log.warning("worker [%s] ended (exit status %s); replaced by [%s]", process.pid,
                            process.exitcode, running[i][0].pid)
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()
        for process, _ in running:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if reason is not None:
        raise StartFailed(reason)
    return status
