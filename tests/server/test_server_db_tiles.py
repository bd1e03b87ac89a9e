"""Tiles built in PostGIS (ST_AsMVT) against the Python tiler on the same data: same features,
same visible fields (redaction), same generalisation rules, geometries within a few tile units."""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape

from geo.tiles import tile_containing
from layers.store import open_store
from layers.store_copy import copy_store
from server.app import create_app
from server.auth import Principal
from server.source import LayerSource
from server_common import PLANNER, SECRET_MARKERS, plot_geometry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from postgis_server import new_schema_address, postgis_server  # noqa: E402, F401

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

P001 = plot_geometry(0).centroid
TILES = [(z, *tile_containing(P001.x, P001.y, z)) for z in (10, 12, 14, 16)] + [
    (13, *tile_containing(119.99, 31.75, 13)), (12, *tile_containing(120.05, 31.77, 12))]


@pytest.fixture(scope="module")
def pair(store_path, postgis_server, settings, tmp_path_factory):  # noqa: F811 - the fixture imported above
    address = new_schema_address(postgis_server)
    copy_store(open_store(store_path), address)
    memory = settings.model_copy(update={"tile_cache": "memory"})
    with TestClient(create_app(address, memory)) as database, TestClient(
            create_app(address, memory.model_copy(update={"database_tiles": False}))) as python:
        yield database, python


def features(response) -> dict[str, list[tuple[tuple, object]]]:
    """Per layer: sorted (properties, geometry in tile units) of a tile answer."""
    if response.status_code == 204:
        return {}
    tile = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})
    return {name: sorted(((tuple(sorted(f["properties"].items())), shape(f["geometry"]))
                          for f in layer["features"]), key=lambda pair: pair[0])
            for name, layer in tile.items()}


@pytest.mark.parametrize("who", [{}, PLANNER], ids=["public", "planner"])
@pytest.mark.parametrize("layer", ["all", "risk_wall", "roads", "industrial_plots", "shelters"])
def test_database_tiles_carry_the_features_of_the_python_tiles(pair, layer, who):
    database, python = pair
    compared = 0
    for z, x, y in TILES:
        path = f"/tiles/{layer}/{z}/{x}/{y}.mvt"
        a, b = database.get(path, headers=who), python.get(path, headers=who)
        assert a.status_code == b.status_code, path
        if a.status_code == 404:  # a private layer, for the public
            assert not who and layer == "industrial_plots"
            continue
        got, want = features(a), features(b)
        assert set(got) == set(want), path
        for name in want:
            assert [p for p, _ in got[name]] == [p for p, _ in want[name]], (path, name)  # fields and values
            for (_, g), (_, w) in zip(got[name], want[name]):
                assert g.geom_type.replace("Multi", "") == w.geom_type.replace("Multi", "")
                assert shapely.hausdorff_distance(g, w) <= 8, (path, name)  # a quarter of a pixel is 4 units
                compared += 1
        if not who:
            assert not any(m in a.content.decode("utf-8", "replace") for m in SECRET_MARKERS)
    assert compared or layer in ("industrial_plots",) and not who


def test_the_database_builds_the_tile(pair, monkeypatch):
    """The database path is the one taken: reading rows in Python is not needed for a Web Mercator tile."""
    database, _ = pair
    source = database.app.state.services.source
    monkeypatch.setattr(source, "read", lambda *a, **k: pytest.fail("read rows in Python"))
    z, x, y = TILES[2]
    assert database.get(f"/tiles/all/{z}/{x}/{y}.mvt", headers=PLANNER).status_code == 200


def test_a_new_server_learns_its_layers_before_answering(store_path, postgis_server, settings,  # noqa: F811
                                                         monkeypatch):
    """Each layer's columns and epoch are learnt at startup (LayerSource.prime): the first tile of a
    new server reads neither (it took 230-300 ms, 100 of them for the columns)."""
    address = new_schema_address(postgis_server)
    copy_store(open_store(store_path), address)
    # prime stops after 1 s (a catalogue of hundreds of layers); a loaded test machine must not run out of it
    monkeypatch.setattr(LayerSource.prime, "__defaults__", (60.0,))
    with TestClient(create_app(address, settings.model_copy(update={"tile_cache": "memory"}))) as client:
        source = client.app.state.services.source
        store, calls = source.store, []
        monkeypatch.setattr(source, "quiet", lambda: False)  # no deferred load in the loader meanwhile
        monkeypatch.setattr(source, "defer_patience", 600.0)
        for name in ("read", "audit"):  # recorded (failing in another thread would not fail the test)
            real = getattr(store, name)
            monkeypatch.setattr(store, name, lambda *a, _n=name, _real=real, **k: calls.append(_n) or _real(*a, **k))
        z, x, y = TILES[2]
        assert client.get(f"/tiles/all/{z}/{x}/{y}.mvt", headers=PLANNER).status_code == 200
        assert calls == [], f"{calls} on the first tile"


def test_a_percent_sign_in_a_value_is_not_a_parameter(pair):
    """The statement is composed once with the tile address as parameters; a literal holding ``%``
    (a notice text) must stay a literal, not be read as a placeholder."""
    from layers.postgis_mvt import MvtLayer

    database, _ = pair
    store = database.app.state.services.source.store
    z, x, y = TILES[2]
    from server.ogc.tilesets import GRIDS, WEB_MERCATOR

    bbox = GRIDS[WEB_MERCATOR].read_bounds(z, y, x, 64 / 4096)
    spec = MvtLayer("risk_wall", (("plot_id", "str"),), rows=("plot_id", "==", "P001"),
                    notice=("notice", "level", {level: f"风险 {level}0%' %s %(z)s" for level in range(1, 5)}))
    tile = mapbox_vector_tile.decode(store.mvt([spec], z, x, y, bbox))
    assert [f["properties"]["plot_id"] for f in tile["risk_wall"]["features"]] == ["P001"]
    notice = tile["risk_wall"]["features"][0]["properties"]["notice"]
    assert notice.startswith("风险 ") and notice.endswith("0%' %s %(z)s")


def test_layers_the_database_tiles_load_in_memory_when_requests_pause(store_path, postgis_server,  # noqa: F811
                                                                      settings):
    """On PostGIS a cold Web Mercator tile is built by the database and its layer is loaded in memory
    only once requests pause (loading during a burst slowed the database's tiles: 104 → 145 tiles/s
    with one client once it waited); a tile of another tile-matrix set, which waits for its layer,
    has it loaded at once even while requests keep coming."""
    from server.ogc.tilesets import GRIDS
    from server.tile_layers import TileLayer

    address = new_schema_address(postgis_server)
    copy_store(open_store(store_path), address)
    with TestClient(create_app(address, settings.model_copy(update={"tile_cache": "memory"}))) as client:
        services = client.app.state.services
        source = services.source
        source.quiet, source.defer_patience = (lambda: False), 60.0  # requests keep coming
        z, x, y = TILES[2]
        assert client.get(f"/tiles/industrial_plots/{z}/{x}/{y}.mvt", headers=PLANNER).status_code == 200
        (view, info), = services.tiles.layers("industrial_plots", Principal("planner"), "vector")
        time.sleep(0.3)
        assert source.prepared(view, info, "tiles", None, defer=True) is None  # deferred: nothing loaded
        assert not source.wait_loaded(0.2)
        # a tile of another tile-matrix set waits for its layer: loaded at once, busy or not
        grid = next(g for gid, g in GRIDS.items() if gid != "WebMercatorQuad")
        lon, lat = P001.coords[0]
        tile = grid.tms.tile(lon, lat, 12)
        services.tiles.vector_tile([(view, info)], 12, tile.x, tile.y, grid)
        assert isinstance(source.prepared(view, info, "tiles", None), TileLayer)
        # and a deferred load runs once requests pause
        (other, oinfo), = services.tiles.layers("shelters", Principal("planner"), "vector")
        services.tiles.vector_tile([(other, oinfo)], z, x, y)
        assert source.prepared(other, oinfo, "tiles", None, defer=True) is None
        source.quiet = lambda: True
        assert source.wait_loaded(30)
        assert isinstance(source.prepared(other, oinfo, "tiles", None), TileLayer)
