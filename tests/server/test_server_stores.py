"""The server over any store: a copied .gpkg file alone serves its risk surface; a PostGIS store
by its address serves the same collections, tiles and edits' versions as the GeoPackage it came from."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import pytest
from shapely.geometry import shape

from layers.store import open_store
from layers.store_copy import copy_store
from server.app import create_app
from server_common import PLANNER, TOWN_EAST, TOWN_WEST
from test_server_tiles import Z10, Z14, decode, url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from postgis_server import new_schema_address, postgis_server  # noqa: E402, F401

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_a_copied_gpkg_alone_serves_its_risk_surface(store_path, settings, tmp_path):
    alone = tmp_path / "elsewhere" / "copy.gpkg"
    alone.parent.mkdir()
    shutil.copyfile(store_path, alone)
    assert [p.name for p in alone.parent.iterdir()] == ["copy.gpkg"]
    with TestClient(create_app(str(alone), settings)) as client:
        r = client.get(url("risk_surface", Z14, "png"), headers=PLANNER)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert client.get("/tiles/risk_surface/tilejson.json", headers=PLANNER).json()["bounds"]


@pytest.fixture(scope="module")
def postgis_copy(store_path, postgis_server):  # noqa: F811 - the fixture imported above
    address = new_schema_address(postgis_server)
    copy_store(open_store(store_path), address)
    return address


def test_the_server_over_postgis_answers_as_over_the_geopackage(postgis_copy, client, settings):
    with TestClient(create_app(postgis_copy, settings)) as pg:
        for path in ("/collections", "/collections/risk_wall/items?limit=50", "/collections/shelters/items"):
            a, b = pg.get(path).json(), client.get(path).json()
            a.pop("timeStamp", None), b.pop("timeStamp", None)  # the two requests may fall in different seconds
            assert a == b, path
        a = pg.get(url("risk_surface", Z14, "png"), headers=PLANNER)
        b = client.get(url("risk_surface", Z14, "png"), headers=PLANNER)
        assert a.status_code == b.status_code == 200 and a.content == b.content
        a = pg.get(url("risk_wall", Z14), headers=PLANNER)  # built by PostGIS (ST_AsMVT): same features
        b = client.get(url("risk_wall", Z14), headers=PLANNER)
        assert a.status_code == b.status_code == 200
        got, want = (decode(r.content)["risk_wall"]["features"] for r in (a, b))
        assert [f["properties"] for f in got] == [f["properties"] for f in want]
        assert [shape(f["geometry"]).normalize() for f in got] == [shape(f["geometry"]).normalize() for f in want]


def test_a_town_editors_tiles_over_postgis_are_scoped_as_over_the_geopackage(postgis_copy, client, settings):
    """Tiles PostGIS builds (ST_AsMVT) know no per-row town scope: a town editor's are built like the
    GeoPackage's: its own town's plots whole, the other town's as the public sees them (not at all:
    plots are no public layer)."""
    town = {"Authorization": "Bearer town-token-1234"}
    with TestClient(create_app(postgis_copy, settings)) as pg:
        tiles = {(name, who): (pg if name == "pg" else client).get(url("industrial_plots", Z10), headers=head)
                 for name in ("pg", "gpkg") for who, head in (("town", town), ("planner", PLANNER))}
    assert all(r.status_code == 200 for r in tiles.values()), {k: r.status_code for k, r in tiles.items()}
    props = {k: sorted((f["properties"] for f in decode(r.content)["industrial_plots"]["features"]),
                       key=lambda p: str(sorted(p.items())))
             for k, r in tiles.items()}
    assert props["pg", "town"] == props["gpkg", "town"]
    assert {p["town"] for p in props["pg", "town"]} == {TOWN_WEST}
    assert {p["town"] for p in props["pg", "planner"]} == {TOWN_WEST, TOWN_EAST}
