"""Grids (网格, issue 13 item 8): walls, lists and scope per grid, as per town, with the grid officer.

The fixture store's west town (119.90–120.00 °E) gets three grids, the east town one:

* G1 ``320412001001`` box 119.900–119.966 °E: the plots of column 0, P001 P005 P009 P013 — all
  red (each reports a major risk, ``risk_major`` = 1 for i % 4 == 0);
* G2 ``320412001002`` box 119.966–119.990 °E, 31.68–31.76 °N: column 1 plots span 119.965–119.968,
  across G1's edge; their representative point (the middle, 119.9665) is in G2, so P002 P006 P010
  are G2's — all yellow (``risk_large`` = 1). P014 (31.766–31.769 °N) is above G2: in no grid;
* G3 ``320412001003`` box 119.990–120.000 °E: no plot — an empty grid;
* E1 ``320412002001``: the whole east town.
"""

from __future__ import annotations

import io

import geopandas as gpd
import mapbox_vector_tile
import pandas as pd
import pytest
from server_common import CRS, NORTH, SOUTH, TOKENS, TOWN_EAST, TOWN_WEST, admin_areas, industrial_plots
from shapely import box
from typer.testing import CliRunner

from geo.tiles import tiles_covering
from layers.store import open_store
from layers.validate import validate_layer
from server.app import create_app
from server.cli.main import app as cli_app

G1, G2, G3, E1 = "320412001001", "320412001002", "320412001003", "320412002001"
GRID_TOKENS = {**TOKENS, "grid-one-token": f"town_editor:{G1}", "east-token-123": f"town_editor:{TOWN_EAST}"}
GRID1 = {"Authorization": "Bearer grid-one-token"}
TOWN = {"Authorization": "Bearer town-token-1234"}  # the west town's editor
EAST = {"Authorization": "Bearer east-token-123"}
PLANNER = {"Authorization": "Bearer planner-token-123"}
PLOTS = industrial_plots().set_index("plot_id")
IN_G1, IN_G2, IN_NONE = ["P001", "P005", "P009", "P013"], ["P002", "P006", "P010"], ["P014"]


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [G1, G2, G3, E1], "name": ["西一网格", "西二网格", "西三网格", "东一网格"], "level": "grid",
         "parent": [TOWN_WEST, TOWN_WEST, TOWN_WEST, TOWN_EAST], "officer": ["王网格", "李网格", None, "赵网格"],
         "officer_phone": ["0519-5550001", "0519-5550002", None, "0519-5550004"], "source": "test"},
        geometry=[box(119.90, SOUTH, 119.966, NORTH), box(119.966, SOUTH, 119.99, 31.76),
                  box(119.99, SOUTH, 120.0, NORTH), box(120.0, SOUTH, 120.10, NORTH)], crs=CRS)


@pytest.fixture
def gridded(writable_store):
    areas = pd.concat([admin_areas(), grids()], ignore_index=True)
    writable_store.write("admin_areas", validate_layer("admin_areas", gpd.GeoDataFrame(areas, crs=CRS)), actor="test")
    return writable_store


@pytest.fixture
def client(gridded, settings):
    """A client over the gridded store; the grid's and the east town's editors among the tokens."""
    from fastapi.testclient import TestClient

    with TestClient(create_app(gridded, settings.model_copy(update={"tokens": GRID_TOKENS}))) as c:
        yield c


def secret(plot_id: str) -> str:
    return PLOTS.loc[plot_id, "enterprise"]


def test_grid_wall_shows_its_plots_and_officer(client):
    page = client.get(f"/grids/{G1}/wall", headers=GRID1)
    assert page.status_code == 200
    text = page.text
    assert "西一网格四色安全风险墙" in text and "王网格" in text and "0519-5550001" in text
    assert all(secret(p) in text for p in IN_G1)
    assert not any(secret(p) in text for p in IN_G2 + IN_NONE)
    assert f'/grids/{G1}/lists/risk.csv' in text and "4 块地块" in text


@pytest.mark.parametrize(("headers", "code", "status"), [
    (GRID1, G2, 403), (GRID1, E1, 403), ({}, G1, 401), (EAST, G1, 403),
    (TOWN, G2, 200), (TOWN, G3, 200), (PLANNER, E1, 200)])
def test_who_opens_a_grid_wall(client, headers, code, status):
    assert client.get(f"/grids/{code}/wall", headers=headers).status_code == status


def test_a_grid_editor_may_not_open_its_town_wall(client):
    assert client.get(f"/towns/{TOWN_WEST}/wall", headers=GRID1).status_code == 403
    assert client.get(f"/towns/{TOWN_WEST}/lists/risk.csv", headers=GRID1).status_code == 403


def test_unknown_grid_is_404_listing_the_grids(client):
    r = client.get("/grids/999/wall", headers=PLANNER)
    assert r.status_code == 404
    assert "unknown grid code '999'" in r.text and G1 in r.text and E1 in r.text
    assert client.get(f"/grids/{TOWN_WEST}/wall", headers=PLANNER).status_code == 404  # a town is not a grid


def test_empty_grid_has_an_empty_wall_and_lists(client):
    page = client.get(f"/grids/{G3}/wall", headers=TOWN).text
    assert "No plots in this grid" in page and "未指定" in page  # G3 names no officer
    risk = pd.read_csv(io.BytesIO(client.get(f"/grids/{G3}/lists/risk.csv", headers=TOWN).content),
                       encoding="utf-8-sig")
    assert len(risk) == 0


def test_town_wall_lists_its_grids_with_counts_and_officers(client):
    page = client.get(f"/towns/{TOWN_WEST}/wall", headers=TOWN).text
    table = page.split('class="rm-list rm-grid-list"')[1].split("</table>")[0]
    rows = [r.split("</tr>")[0] for r in table.split("<tr>")[2:]]
    cells = [[c.split("</td>")[0] for c in r.split("<td")[1:]] for r in rows]
    counts = [[c.split(">")[-1] for c in row[3:]] for row in cells]
    # red, yellow, blue, green, total — G1: 4 red; G2: 3 yellow; G3 none; P014 in no grid
    assert counts == [["4", "0", "0", "0", "4"], ["0", "3", "0", "0", "3"], ["0"] * 5, ["0", "1", "0", "0", "1"]]
    assert G1 in rows[0] and "王网格" in rows[0] and "李网格" in rows[1] and "in no grid" in rows[3]
    assert E1 not in table


def test_grid_lists_hold_only_the_grids_plots(client):
    risk = pd.read_csv(io.BytesIO(client.get(f"/grids/{G2}/lists/risk.csv", headers=TOWN).content),
                       encoding="utf-8-sig")
    assert sorted(risk["地块 plot"]) == IN_G2
    assert client.get(f"/grids/{G2}/lists/risk.csv", headers=GRID1).status_code == 403
    assert client.get(f"/grids/{G1}/lists/dangers.xlsx", headers=GRID1).status_code == 200


def test_grid_editor_reads_private_rows_of_its_grid_only(client):
    body = client.get("/collections/industrial_plots/items?limit=50", headers=GRID1).text
    assert all(secret(p) in body for p in IN_G1)
    assert not any(secret(p) in body for p in IN_G2 + IN_NONE)
    wall = client.get("/collections/risk_wall/items?limit=50&f=json", headers=GRID1).json()["features"]
    props = {f["properties"]["plot_id"]: f["properties"] for f in wall}
    assert props["P001"]["enterprise"] == secret("P001") and props["P002"].get("enterprise") is None  # as public
    sites = client.get("/collections/hazard_sites/items?limit=50", headers=GRID1).text
    assert "保密危化场所0" in sites and "保密危化场所1" not in sites  # HS1 on P001 (G1); HS2 on P006 (G2)
    targets = client.get("/collections/protected_targets/items?limit=50", headers=GRID1).text
    assert "保密目标0" in targets and "保密目标1" not in targets  # T1 stands in G1 by its own point; T2 in the east
    town = client.get("/collections/industrial_plots/items?limit=50", headers=TOWN).text
    assert all(secret(p) in town for p in IN_G1 + IN_G2 + IN_NONE)  # the town's editor covers all its grids


def _feature(client, plot_id):
    r = client.get(f"/api/edit/industrial_plots/{plot_id}", headers=PLANNER)
    return r.json(), r.headers["ETag"]


def test_grid_editor_edits_only_rows_of_its_grid(client):
    assert client.get("/api/edit/industrial_plots/P002", headers=GRID1).status_code == 403
    feature, etag = _feature(client, "P002")
    r = client.put("/api/edit/industrial_plots/P002", headers={**GRID1, "If-Match": etag},
                   json={"feature": feature, "reason": "not mine"})
    assert r.status_code == 403 and G2 in r.text
    feature, etag = _feature(client, "P001")
    feature["properties"]["workers"] = 99
    r = client.put("/api/edit/industrial_plots/P001", headers={**GRID1, "If-Match": etag},
                   json={"feature": feature, "reason": "headcount"})
    assert r.status_code == 200, r.text
    moved, etag = _feature(client, "P001")  # moved into G2 (east by 0.046°): the edit would leave the grid
    ring = moved["geometry"]["coordinates"][0]
    moved["geometry"]["coordinates"][0] = [[x + 0.046, y] for x, y in ring]
    r = client.put("/api/edit/industrial_plots/P001", headers={**GRID1, "If-Match": etag},
                   json={"feature": moved, "reason": "redrawn"})
    assert r.status_code == 403
    assert client.put("/api/edit/industrial_plots/P001", headers={**TOWN, "If-Match": etag},
                      json={"feature": moved, "reason": "redrawn"}).status_code == 200


@pytest.mark.parametrize(("plot_id", "status"), [("P001", 200), ("P002", 403), ("P014", 403)])
def test_grid_editor_records_dangers_on_its_grids_plots_only(client, plot_id, status):
    centre = PLOTS.loc[plot_id, "geometry"].centroid
    feature = {"type": "Feature", "id": "D9", "geometry": {"type": "Point", "coordinates": [centre.x, centre.y]},
               "properties": {"plot_id": plot_id, "town": TOWN_WEST, "description": "消防通道堵塞",
                              "level": "general", "status": "found", "found_on": "2026-12-01"}}
    r = client.post("/api/edit/hidden_dangers", headers=GRID1, json={"feature": feature, "reason": "巡查发现"})
    assert r.status_code == status, r.text


def test_plot_history_per_grid(client):
    assert client.get(f"/grids/{G2}/plots/P002/history?f=json", headers=TOWN).json()["grid"] == G2
    assert client.get(f"/grids/{G1}/plots/P002/history", headers=PLANNER).status_code == 404
    assert client.get(f"/grids/{G2}/plots/P002/history", headers=GRID1).status_code == 403


def test_users_add_takes_grid_codes(gridded):
    runner = CliRunner()
    store = str(gridded.address)
    r = runner.invoke(cli_app, ["users", "add", "wang", "--role", "town_editor", "--grid", G1, "--store", store])
    assert r.exit_code == 0, r.output
    assert open_store(store).accounts(name="wang")[0]["towns"] == [G1]
    r = runner.invoke(cli_app, ["users", "add", "li", "--role", "town_editor", "--grid", TOWN_WEST, "--store", store])
    assert r.exit_code == 1 and "unknown grid code(s) 320412001" in r.output and G1 in r.output


def test_grid_editor_tiles_show_private_values_of_its_grid_only(client):
    values = []
    for z, x, y in tiles_covering((119.90, 31.68, 120.0, 31.80), 12).tolist():
        r = client.get(f"/tiles/industrial_plots/{z}/{x}/{y}.mvt", headers=GRID1)
        assert r.status_code in (200, 204)
        layers = mapbox_vector_tile.decode(r.content) if r.content else {}
        values += [f["properties"].get("enterprise") for layer in layers.values() for f in layer["features"]]
    assert {secret(p) for p in IN_G1} <= set(values)
    assert not {secret(p) for p in IN_G2 + IN_NONE} & set(values)
