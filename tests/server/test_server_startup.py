"""Starting the server loads no slow library it does not need for its first answer (issue 14: < 3 s).

pypinyin (public search), folium and branca (map pages) and scipy (place finder, siting, zoning)
each take about a second to import; the app imports them where they are used and
:mod:`server.warmup` loads them in the background once the server answers.
"""

from __future__ import annotations

import json
import subprocess
import sys

from server.warmup import WARM_MODULES, start_warm_up

SLOW = ("pypinyin", "folium", "branca", "scipy")


def test_building_the_app_imports_no_slow_library():
    code = ("import sys, server.app; "
            f"print(__import__('json').dumps(sorted(m for m in {list(SLOW)!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_warm_up_imports_them_in_the_background():
    code = ("import sys, server.warmup as w; w.start_warm_up(delay=0).join(120); "
            f"print(__import__('json').dumps(sorted(m for m in {list(SLOW)!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == sorted(SLOW)


def test_a_module_that_fails_to_import_only_logs(caplog):
    thread = start_warm_up(("riskmap_no_such_module",), delay=0)
    thread.join(30)
    assert not thread.is_alive()
    assert "riskmap_no_such_module" in caplog.text
    assert "pypinyin" in WARM_MODULES


def test_imports_wait_for_a_pause_in_requests():
    import time

    from server.warmup import Activity

    activity = Activity()
    started = time.monotonic()
    stop = started + 0.6
    thread = start_warm_up(("json",), delay=0, activity=activity, quiet=0.3, patience=5)
    while time.monotonic() < stop:  # a request every 0.1 s for 0.6 s
        activity.touch()
        time.sleep(0.1)
    thread.join(10)
    assert time.monotonic() - started >= 0.8  # 0.6 s busy + 0.3 s quiet (minus a tick)


def test_patience_bounds_the_wait():
    import time

    from server.warmup import Activity

    activity = Activity()
    activity.last = time.monotonic() + 100  # "busy" for ever
    started = time.monotonic()
    start_warm_up(("json",), delay=0, activity=activity, quiet=0.3, patience=0.5).join(10)
    assert 0.4 <= time.monotonic() - started < 5


def test_a_request_in_flight_is_not_a_pause():
    """A server whose clients all wait on slow requests starts none for seconds while it is busiest:
    the warm-up must not take that for a pause (it imported under load, starved, holding import locks)."""
    import time

    from server.warmup import Activity

    activity = Activity()
    activity.started()  # one slow request; nothing else starts
    thread = start_warm_up(("json",), delay=0, activity=activity, quiet=0.2, patience=10)
    time.sleep(0.8)
    assert thread.is_alive()  # still waiting for the pause
    activity.ended()
    thread.join(5)
    assert not thread.is_alive()


def test_the_middleware_counts_requests_in_flight_even_when_they_fail():
    import asyncio

    import pytest

    from server.warmup import Activity, ActivityMiddleware

    activity, seen = Activity(), []

    async def app(scope, receive, send):
        seen.append(activity.in_flight)
        if scope.get("path") == "/fail":
            raise RuntimeError("boom")

    middleware = ActivityMiddleware(app, activity)
    asyncio.run(middleware({"type": "http", "path": "/"}, None, None))
    with pytest.raises(RuntimeError):
        asyncio.run(middleware({"type": "http", "path": "/fail"}, None, None))
    asyncio.run(middleware({"type": "lifespan"}, None, None))
    assert seen == [1, 1, 0] and activity.in_flight == 0


def test_a_worker_runs_at_most_request_threads_handlers_at_once(store_path, settings):
    """The thread pool of the handlers is bounded by the setting (server.app.request_threads): the
    requests beyond it wait in the pool's queue, and all are answered."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from server.app import ROUTERS, create_app, request_threads
    from server.settings import Settings

    running, most, guard = [0], [0], threading.Lock()

    def probe_router(services):
        router = APIRouter()

        @router.get("/probe")
        def probe():
            with guard:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with guard:
                running[0] -= 1
            return {"ok": True}

        return router

    assert request_threads(Settings()) >= 4 and request_threads(Settings(request_threads=3)) == 3
    app = create_app(store_path, settings.model_copy(update={"request_threads": 3}), routers=(*ROUTERS, probe_router))
    with TestClient(app) as client, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: client.get("/probe").status_code, range(24)))
    assert answers == [200] * 24 and most[0] == 3
