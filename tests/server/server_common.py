"""A small Changzhou store for the server tests, built in code (no network, no demo builder).

Two towns of 武进区 side by side (lon 119.90-120.10, lat 31.68-31.80), 16 industrial plots of
every risk level, three hazardous-chemical sites with inventories, protected targets, shelters,
stations and roads; then the zoning engine adds the derived layers and the risk surface.

Private values are made easy to spot: every enterprise name, contact, site name and target
name starts with a marker from :data:`SECRET_MARKERS`, so a test can look for them in any body.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from pathlib import Path

import uvicorn

import geopandas as gpd
import numpy as np
import shapely
from shapely import LineString, Point, box

from layers.store import Store, create_store
from layers.validate import validate_layer
from zoning.pipeline import run_zoning
from zoning.rules import load_ruleset

CRS = "EPSG:4490"
WEST, SOUTH, EAST, NORTH = 119.90, 31.68, 120.10, 31.80
TOWN_WEST, TOWN_EAST = "320412001", "320412002"
#: Every private text value in the fixture store starts with one of these.
SECRET_MARKERS = ("机密企业", "秘密联系人", "保密危化场所", "保密目标", "secret-")
TOKENS = {"planner-token-123": "planner", "town-token-1234": f"town_editor:{TOWN_WEST}",
          "admin-token-1234": "admin"}
PLANNER = {"Authorization": "Bearer planner-token-123"}


def session_cookie(app, token: str) -> str:
    """The session id a browser gets for signing in to ``app`` with ``token`` (a client of its own)."""
    from fastapi.testclient import TestClient
    from server.pages.session import COOKIE

    with TestClient(app) as c:
        r = c.post("/login", json={"token": token})
        assert r.status_code == 200, r.text
        return r.cookies[COOKIE]


def plot_geometry(i: int) -> shapely.Polygon:
    """Plot ``i`` of a 4 × 4 grid, each about 300 m square."""
    col, row = i % 4, i // 4
    x, y = 119.92 + 0.045 * col, 31.70 + 0.022 * row
    return box(x, y, x + 0.003, y + 0.0027)


def admin_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["320412", TOWN_WEST, TOWN_EAST], "name": ["武进区", "西镇", "东镇"],
         "level": ["district", "town", "town"], "parent": [None, "320412", "320412"],
         "source": ["test"] * 3},
        geometry=[box(WEST, SOUTH, EAST, NORTH), box(WEST, SOUTH, 120.0, NORTH), box(120.0, SOUTH, EAST, NORTH)],
        crs=CRS)


def industrial_plots(n: int = 16) -> gpd.GeoDataFrame:
    i = np.arange(n)
    return gpd.GeoDataFrame(
        {"plot_id": [f"P{k:03d}" for k in i + 1],
         "town": [TOWN_WEST if plot_geometry(k).centroid.x < 120.0 else TOWN_EAST for k in i],
         "enterprise": [f"机密企业{k}号" for k in i], "contact": [f"秘密联系人 1390000{k:04d}" for k in i],
         "land_use": ["M2"] * n,
         "risk_major": (i % 4 == 0).astype(int), "risk_large": (i % 4 == 1).astype(int),
         "risk_general": (i % 4 == 2).astype(int), "risk_low": np.ones(n, int),
         "workers": 37 + 11 * i, "open_major_dangers": (i == 7).astype(int),
         "supervision_grade": ["B"] * n, "last_inspection": ["2026-03-01"] * n, "generated": [False] * n},
        geometry=[plot_geometry(k) for k in i], crs=CRS)


def hazard_sites() -> gpd.GeoDataFrame:
    # HS1 is on the QRA path (GB/T 37243-2019 §4): 20 t of chlorine reach the 3×10⁻⁶/a individual risk
    # of high-sensitivity targets about 300 m out, so the school T1 (≈ 220 m) stands inside its distance.
    inventories = [[{"name": "液氯", "cas": "7782-50-5", "quantity_t": 20.0}],
                   [{"name": "甲苯", "cas": "108-88-3", "quantity_t": 800.0}],
                   [{"name": "氯", "cas": "7782-50-5", "quantity_t": 3.0}]]
    plots = (0, 5, 10)
    return gpd.GeoDataFrame(
        {"site_id": ["HS1", "HS2", "HS3"], "plot_id": [f"P{k + 1:03d}" for k in plots],
         "name": [f"保密危化场所{k}" for k in range(3)],
         "inventory": [json.dumps(inv, ensure_ascii=False) for inv in inventories],
         "major_hazard_grade": [2, 3, 0], "processes": ["secret-nitration", "", ""],
         "people_500m": [120, 40, 0]},
        geometry=[plot_geometry(k).centroid for k in plots], crs=CRS)


def protected_targets() -> gpd.GeoDataFrame:
    near = [plot_geometry(0).centroid, plot_geometry(5).centroid, plot_geometry(15).centroid]
    return gpd.GeoDataFrame(
        {"target_id": ["T1", "T2", "T3"], "name": [f"保密目标{k}" for k in range(3)],
         "kind": ["school", "residential", "hospital"],
         "gb36894_class": ["high_sensitivity", "general_1", "high_sensitivity"],
         "population": [800, 300, 200], "town": [TOWN_WEST, TOWN_EAST, TOWN_EAST]},
        geometry=[Point(p.x + 0.002, p.y + 0.001) for p in near], crs=CRS)


def shelters() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"shelter_id": ["SH1", "SH2"], "name": ["西镇广场", "东镇公园"], "class": ["emergency", "fixed_short"],
         "effective_area_m2": [5000.0, 20000.0], "capacity": [2500, 10000],
         "address": ["西镇人民路1号", "东镇公园路2号"], "town": [TOWN_WEST, TOWN_EAST]},
        geometry=[box(119.95, 31.76, 119.952, 31.762), Point(120.05, 31.77)], crs=CRS)


def rescue_stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"station_id": ["F1", "F2"], "name": ["西镇消防站", "东镇微型站"], "kind": ["standard_1", "micro"],
         "vehicles": [6, 1], "staff": [45, 6], "town": [TOWN_WEST, TOWN_EAST]},
        geometry=[Point(119.96, 31.73), Point(120.06, 31.74)], crs=CRS)


def roads() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": ["R1", "R2", "R3"], "name": ["人民路", "长江路", None],
         "class": ["primary", "secondary", "tertiary"], "speed_kmh": [50.0, 40.0, 30.0],
         "oneway": [False, False, True]},
        geometry=[LineString([(WEST, 31.75), (EAST, 31.75)]), LineString([(119.99, SOUTH), (119.99, NORTH)]),
                  LineString([(120.03, 31.70), (120.07, 31.78)])], crs=CRS)


SOURCES = {"admin_areas": admin_areas, "industrial_plots": industrial_plots, "hazard_sites": hazard_sites,
           "protected_targets": protected_targets, "shelters": shelters, "rescue_stations": rescue_stations,
           "roads": roads}


def build_store(path: Path) -> Store:
    """Create the fixture store at ``path`` and run the zoning engine on it."""
    store = create_store(path)
    store.write_many({name: validate_layer(name, make()) for name, make in SOURCES.items()},
                     actor="test", detail="server test fixture")
    run_zoning(store, load_ruleset(), grid_cell_m=1000.0, surface_cell_m=100.0)
    return store


@contextlib.contextmanager
def serving(asgi_app):
    """Serve ``asgi_app`` with uvicorn on a free loopback port in a thread; yields the base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def recording(app):
    """``(asgi_app, seen)``: ``app`` that notes the (path, status) of every HTTP answer in ``seen``."""
    seen: list[tuple[str, int]] = []

    async def recorded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def spy(message):
            if message["type"] == "http.response.start":
                seen.append((scope["path"], message["status"]))
            await send(message)

        await app(scope, receive, spy)

    return recorded, seen


def page_config(html: str) -> dict:
    """The JSON a page hands its script (its ``#riskmap-config`` block)."""
    found = re.search(r'<script type="application/json" id="riskmap-config">(.*?)</script>', html, re.S)
    assert found, "the page carries its config"
    return json.loads(found.group(1))
