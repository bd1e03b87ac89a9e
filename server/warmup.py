"""Prepare, in a background thread once the server answers, what the first requests would wait for.

First the store's tile connections (on PostGIS each database backend loads PostGIS and PROJ on its
first tile, about 70 ms: :meth:`server.source.LayerSource.warm_tiles`), then the slow libraries.

The pages' libraries (folium and branca for the map pages, pypinyin's dictionaries for the public
search, scipy for "my place" and siting) take about two seconds together to import. Importing them
at module level held the first answer back by as much (issue 14: start in under 3 s at scale 10), so
the modules that use them import them where they are used; this thread then loads them shortly after
startup, so that the first page or search does not pay for them either. Importing holds the GIL,
so each import waits until no request has been in flight for ``quiet`` seconds (:class:`Activity`,
fed by :class:`ActivityMiddleware`), or at most ``patience`` seconds: a burst of first requests (the
first tiles of a map) is not slowed by the warm-up. The first import waits ``delay`` seconds (3)
after start-up: a server restarted under traffic gets it within a second of its first answer, and
an import begun just before it is starved of the GIL by forty request threads while it holds the
module's import lock, so every request needing that module waited for it (on a first start under
100 clients, p95 7-8 s with the warm-up's imports and 3.5-4 s without). A failure here only logs: the request that
needs the module imports it again and reports the error itself.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable

__all__ = ["WARM_MODULES", "Activity", "ActivityMiddleware", "start_warm_up"]

log = logging.getLogger(__name__)

#: Modules imported in the background after startup (each is imported lazily where it is used).
WARM_MODULES: tuple[str, ...] = ("scipy.sparse.csgraph", "rasterio.vrt", "branca.element", "folium",
                                 "pypinyin")


class Activity:
    """When the last request started or ended (monotonic seconds), and how many are in flight.

    In flight counts: a server whose clients all wait on slow requests starts none for seconds
    while it is at its busiest (on a first start under 100 clients every client waited on a tile
    for the layers to load, and the warm-up took that for a pause and imported under load).
    """

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.in_flight = 0

    def touch(self) -> None:
        self.last = time.monotonic()

    def started(self) -> None:
        self.in_flight += 1
        self.last = time.monotonic()

    def ended(self) -> None:
        self.in_flight -= 1
        self.last = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        """Whether no request is in flight and none has started or ended for ``seconds``."""
        return self.in_flight <= 0 and time.monotonic() - self.last >= seconds

    def wait_quiet(self, quiet: float, patience: float) -> None:
        """Return once the server has been quiet (:meth:`quiet_for`) for ``quiet`` seconds, or after
        ``patience`` seconds."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            left = quiet if self.in_flight > 0 else self.last + quiet - time.monotonic()
            if left <= 0:
                return
            time.sleep(max(min(left, quiet, deadline - time.monotonic()), 0.0))


class ActivityMiddleware:
    """Pure ASGI: notes in ``activity`` when each HTTP request starts and ends."""

    def __init__(self, app, activity: Activity):
        self.app, self.activity = app, activity

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.activity.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.activity.ended()


def _warm(modules: tuple[str, ...], delay: float, tasks, activity: Activity | None, quiet: float,
          patience: float) -> None:
    for task in tasks:
        try:
            task()
        except Exception:  # a request that needs it reports the error itself
            log.warning("warm-up task %s failed", getattr(task, "__name__", task), exc_info=True)
    time.sleep(delay)  # let the first requests (a health probe, the first tiles) go first
    for name in modules:
        if activity is not None:
            activity.wait_quiet(quiet, patience)
        try:
            importlib.import_module(name)
            if name == "pypinyin":
                importlib.import_module("pypinyin").lazy_pinyin("预热")  # loads the phrase dictionaries
        except Exception:  # the request that needs it will raise the real error
            log.warning("warming up %s failed", name, exc_info=True)


def start_warm_up(modules: tuple[str, ...] = WARM_MODULES, delay: float = 3.0,
                  tasks: Iterable[Callable[[], object]] = (), activity: Activity | None = None,
                  quiet: float = 1.0, patience: float = 60.0) -> threading.Thread:
    """Start the daemon thread: run ``tasks`` at once, then import ``modules`` after ``delay`` seconds,
    each once ``activity`` has been quiet for ``quiet`` seconds (or ``patience`` seconds have passed).

    Returns the thread (tests join it).
    """
    thread = threading.Thread(target=_warm, args=(modules, delay, tuple(tasks), activity, quiet, patience),
                              name="riskmap-warm-up", daemon=True)
    thread.start()
    return thread
