"""The tile cache shared by workers (server.tile_cache): sharing, per-tile invalidation, epochs, failures."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import mapbox_vector_tile
import pytest
import shapely

from geo.tiles import tile_containing
from server.app import create_app
from server.source import LayerSource
from server.tile_cache import SharedTileCache, TileKey
from server_common import PLANNER, TOKENS, TOWN_WEST, plot_geometry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HERE = Path(__file__).resolve().parent
#: z14 tiles holding plot P001 (the one edited) and plot P016, 15 km away.
NEAR = (14, *tile_containing(plot_geometry(0).centroid.x, plot_geometry(0).centroid.y, 14))
FAR = (14, *tile_containing(plot_geometry(15).centroid.x, plot_geometry(15).centroid.y, 14))


def url(layer, tile):
    z, x, y = tile
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


def workers_of(response, plot_id):
    layer = mapbox_vector_tile.decode(response.content)["industrial_plots"]
    return {f["properties"]["plot_id"]: f["properties"]["workers"] for f in layer["features"]}[plot_id]


@pytest.fixture
def cache_file(tmp_path):
    return tmp_path / "cache" / "tiles.sqlite"


@pytest.fixture
def shared_settings(settings, cache_file):
    return settings.model_copy(update={"tile_cache": str(cache_file)})


@pytest.fixture
def app(writable_store, shared_settings):
    return create_app(writable_store, shared_settings)


@pytest.fixture
def web(app):
    with TestClient(app) as c:
        yield c


def edit_workers(store, plot_id: str, workers: int):
    row = store.read("industrial_plots", where={"plot_id": plot_id}, versions=True)
    row["workers"] = workers
    store.edit("industrial_plots", row, actor="test", reason="headcount corrected")
    return tuple(row.total_bounds)


# ------------------------------------------------------------------ edits and whole-layer writes
def test_an_edit_refreshes_the_tiles_over_the_row_and_keeps_the_far_ones(web, app, writable_store):
    cache = app.state.services.tile_cache
    for layer in ("industrial_plots", "all"):
        for tile in (NEAR, FAR):
            assert web.get(url(layer, tile), headers=PLANNER).headers["x-cache"] == "MISS"
    before = web.get(url("industrial_plots", NEAR), headers=PLANNER)
    assert before.headers["x-cache"] == "HIT" and workers_of(before, "P001") == 37
    bounds = edit_workers(writable_store, "P001", 412)
    dropped = app.state.services.tiles.invalidate(["industrial_plots"], bounds)
    assert dropped == 2  # the plots tile and the combined tile over P001, nothing else
    hits = cache.stats()["hits"]
    after = web.get(url("industrial_plots", NEAR), headers=PLANNER)
    assert after.headers["x-cache"] == "MISS" and workers_of(after, "P001") == 412
    assert after.headers["etag"] != before.headers["etag"]
    assert web.get(url("all", NEAR), headers=PLANNER).headers["x-cache"] == "MISS"
    for layer in ("industrial_plots", "all"):  # the edit changed no epoch: far tiles still cached
        assert web.get(url(layer, FAR), headers=PLANNER).headers["x-cache"] == "HIT"
    assert cache.stats()["hits"] == hits + 2
    stale = web.get(url("industrial_plots", NEAR), headers={**PLANNER, "If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200


def test_a_whole_layer_write_invalidates_every_tile_of_the_layer(web, writable_store):
    for tile in (NEAR, FAR):
        web.get(url("industrial_plots", tile), headers=PLANNER)
    plots = writable_store.read("industrial_plots")
    plots["workers"] = plots["workers"] + 1
    writable_store.write("industrial_plots", plots, action="import")
    for tile in (NEAR, FAR):
        assert web.get(url("industrial_plots", tile), headers=PLANNER).headers["x-cache"] == "MISS"
    assert workers_of(web.get(url("industrial_plots", NEAR), headers=PLANNER), "P001") == 38


def test_the_epoch_changes_on_whole_layer_writes_not_on_edits(writable_store):
    source = LayerSource(writable_store)
    first = source.epoch(writable_store.info("industrial_plots"))
    edit_workers(writable_store, "P002", 99)
    edit_workers(writable_store, "P003", 98)
    assert source.epoch(writable_store.info("industrial_plots")) == first
    assert LayerSource(writable_store).epoch(writable_store.info("industrial_plots")) == first  # a new worker
    writable_store.write("industrial_plots", writable_store.read("industrial_plots"), action="import")
    assert source.epoch(writable_store.info("industrial_plots")) != first


def test_a_tile_computed_before_an_edit_is_not_kept_after_it(cache_file):
    cache = SharedTileCache(cache_file, store="city.gpkg")
    key = TileKey("planner:/full", ("industrial_plots",), ("1@t",), "WebMercatorQuad", 14, 1, 2, "mvt")
    area = (119.9, 31.7, 119.95, 31.75)
    cache.invalidate({"industrial_plots": 5}, (119.92, 31.72, 119.93, 31.73))
    assert cache.put(key, b"old rows", versions={"industrial_plots": 4}, bounds=area) is None
    assert cache.get(key) is None and cache.stats()["refused"] == 1
    assert cache.put(key, b"new rows", versions={"industrial_plots": 5}, bounds=area) is not None
    elsewhere = TileKey("planner:/full", ("industrial_plots",), ("1@t",), "WebMercatorQuad", 14, 9, 9, "mvt")
    assert cache.put(elsewhere, b"old rows", versions={"industrial_plots": 4}, bounds=(121, 31, 121.1, 31.1))


# ------------------------------------------------------------------ several workers
CHILD = """
import json, os, sys, warnings
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient
from server.app import create_app
from server.settings import Settings
settings = Settings(tokens=json.loads(os.environ["TOKENS"]), tile_cache=os.environ["CACHE"],
                    rate_limit_per_minute=0)
with TestClient(create_app(sys.argv[1], settings)) as c:
    print(json.dumps([c.get(u, headers={"Authorization": "Bearer planner-token-123"}).headers["x-cache"]
                      for u in sys.argv[2:]]))
"""


def in_another_process(store, cache_file, *urls) -> list[str]:
    env = {**os.environ, "TOKENS": json.dumps(TOKENS), "CACHE": str(cache_file),
           "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CHILD, store.address, *urls], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_processes_share_the_cache_and_its_invalidations(web, app, writable_store, cache_file):
    near, far = url("industrial_plots", NEAR), url("industrial_plots", FAR)
    assert in_another_process(writable_store, cache_file, near, far) == ["MISS", "MISS"]
    assert web.get(near, headers=PLANNER).headers["x-cache"] == "HIT"  # computed by the other process
    assert web.get(far, headers=PLANNER).headers["x-cache"] == "HIT"
    app.state.services.tiles.invalidate(["industrial_plots"], edit_workers(writable_store, "P001", 7))
    assert in_another_process(writable_store, cache_file, near, far) == ["MISS", "HIT"]


# ------------------------------------------------------------------ size and failures
def test_the_cache_stays_under_its_size_dropping_the_oldest(cache_file):
    cache = SharedTileCache(cache_file, store="city.gpkg", max_bytes=20_000)
    keys = [TileKey("public", ("roads",), ("1@t",), "WebMercatorQuad", 14, x, 0, "mvt") for x in range(40)]
    for key in keys:
        cache.put(key, bytes(1000), versions={"roads": 1}, bounds=(0, 0, 1, 1))
    stats = cache.stats()
    assert 0 < stats["bytes"] <= 20_000 and stats["size"] < 40
    assert cache.get(keys[-1]) is not None and cache.get(keys[0]) is None


def test_a_damaged_cache_file_is_set_aside_and_tiles_still_served(writable_store, shared_settings, cache_file):
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes(b"this is not a database" * 100)
    with TestClient(create_app(writable_store, shared_settings)) as web:
        assert web.get(url("industrial_plots", NEAR), headers=PLANNER).status_code == 200
        assert web.get(url("industrial_plots", NEAR), headers=PLANNER).headers["x-cache"] == "HIT"
    assert cache_file.with_name("tiles.sqlite.damaged").read_bytes().startswith(b"this is not")


def test_a_cache_damaged_while_serving_costs_a_computation_not_an_error(web, app, cache_file):
    assert web.get(url("industrial_plots", NEAR), headers=PLANNER).status_code == 200
    app.state.services.tile_cache._local = type(app.state.services.tile_cache._local)()  # reconnect
    for name in (cache_file.name, cache_file.name + "-wal", cache_file.name + "-shm"):
        path = cache_file.with_name(name)
        if path.exists():
            path.write_bytes(b"\xff" * path.stat().st_size)
    for tile in (NEAR, FAR):
        r = web.get(url("industrial_plots", tile), headers=PLANNER)
        assert r.status_code == 200 and r.headers["x-cache"] == "MISS"
        assert "industrial_plots" in mapbox_vector_tile.decode(r.content)
    assert app.state.services.tile_cache.stats()["errors"] >= 2


def test_a_locked_cache_costs_a_computation_not_an_error(web, app, cache_file):
    web.get(url("industrial_plots", FAR), headers=PLANNER)
    other = sqlite3.connect(cache_file, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another worker holding the write lock
    try:
        r = web.get(url("industrial_plots", NEAR), headers=PLANNER)
        assert r.status_code == 200 and r.headers["x-cache"] == "MISS"
        assert web.get(url("industrial_plots", FAR), headers=PLANNER).headers["x-cache"] == "HIT"  # WAL: reads go on
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert app.state.services.tile_cache.stats()["errors"] == 1  # the put that could not wait
    assert web.get(url("industrial_plots", NEAR), headers=PLANNER).headers["x-cache"] == "MISS"
    assert web.get(url("industrial_plots", NEAR), headers=PLANNER).headers["x-cache"] == "HIT"


def test_invalidation_reaches_other_tile_matrix_sets(web, app, writable_store):
    lon, lat = plot_geometry(0).centroid.x, plot_geometry(0).centroid.y
    col, row = int((lon + 180) / 360 * 2 ** 14), int((90 - lat) / 180 * 2 ** 13)  # WorldCRS84Quad level 13
    path = f"/collections/industrial_plots/tiles/WorldCRS84Quad/13/{row}/{col}"
    assert web.get(path, headers=PLANNER).status_code == 200
    assert web.get(path, headers=PLANNER).headers["x-cache"] == "HIT"
    bounds = shapely.box(*edit_workers(writable_store, "P001", 5)).bounds
    assert app.state.services.tiles.invalidate(["industrial_plots"], bounds) == 1
    assert web.get(path, headers=PLANNER).headers["x-cache"] == "MISS"


def test_invalidate_refuses_bounds_that_are_not_a_box(app):
    from geo.errors import InputError

    for bad in ((120.1, 31.7, 120.0, 31.8), (1, 2, 3), "everywhere", (None, 1, 2, 3)):
        with pytest.raises(InputError, match="west, south, east, north"):
            app.state.services.tiles.invalidate(["industrial_plots"], bad)


# ------------------------------------------------------------------ through the editing API
def z15(i: int) -> tuple[int, int, int]:
    """The z15 tile holding plot ``i`` of the fixture grid."""
    point = plot_geometry(i).centroid
    return (15, *tile_containing(point.x, point.y, 15))


def properties(response, layer: str, key: str) -> dict:
    """``{key value: properties}`` of ``layer``'s features in an MVT answer."""
    features = mapbox_vector_tile.decode(response.content).get(layer, {}).get("features", [])
    return {f["properties"][key]: f["properties"] for f in features}


def test_an_edit_through_the_api_drops_its_tiles_from_the_shared_cache_and_keeps_far_ones(web, app):
    near, far = z15(1), z15(15)  # P002 (town west, edited) and P016 (town east, 10 km away)
    town = z15(0)  # P001: town west too, 4 km from P002
    layers = ("risk_wall", "risk_zones", "all")
    for layer in layers:
        for tile in (near, far, town):
            assert web.get(url(layer, tile), headers=PLANNER).headers["x-cache"] == "MISS"
            assert web.get(url(layer, tile), headers=PLANNER).headers["x-cache"] == "HIT"
    before = web.get(url("risk_wall", near), headers=PLANNER)
    assert properties(before, "risk_wall", "plot_id")["P002"]["colour_name"] == "yellow"
    row = web.get("/api/edit/industrial_plots/P002", headers=PLANNER)
    feature = row.json()
    feature["properties"]["risk_major"] = 1  # a major risk reported: 重大, red
    r = web.put("/api/edit/industrial_plots/P002", headers={**PLANNER, "If-Match": row.headers["ETag"]},
                json={"feature": feature, "reason": "risk report 2026"})
    assert r.status_code == 200, r.text
    hits = app.state.services.tile_cache.stats()["hits"]
    after = web.get(url("risk_wall", near), headers=PLANNER)
    assert after.headers["x-cache"] == "MISS" and after.headers["etag"] != before.headers["etag"]
    assert properties(after, "risk_wall", "plot_id")["P002"]["colour_name"] == "red"
    combined = web.get(url("all", near), headers=PLANNER)
    assert combined.headers["x-cache"] == "MISS"
    assert properties(combined, "risk_wall", "plot_id")["P002"]["colour_name"] == "red"
    zones = web.get(url("risk_zones", near), headers=PLANNER)
    assert zones.headers["x-cache"] == "MISS"
    assert properties(zones, "risk_zones", "zone_id")[TOWN_WEST]["level"] == 1  # the town follows its plot
    for layer in layers:  # 10 km away, in the other town: nothing changed there, still cached
        assert web.get(url(layer, far), headers=PLANNER).headers["x-cache"] == "HIT", layer
    # elsewhere in the edited town: its zone (the whole town) was recoloured, its plots' rows were not
    assert web.get(url("risk_wall", town), headers=PLANNER).headers["x-cache"] == "HIT"
    for layer in ("risk_zones", "all"):
        assert web.get(url(layer, town), headers=PLANNER).headers["x-cache"] == "MISS", layer
    assert app.state.services.tile_cache.stats()["hits"] == hits + len(layers) + 1
