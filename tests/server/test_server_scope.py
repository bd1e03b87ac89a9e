"""Scope everywhere: a town editor of the west town reads the west town's private rows and sees the
east town exactly as the public does, on every route that carries layer data (issue 13 item 2).

The fixture store (server_common) has 8 plots in each town; every enterprise name and contact is a
private value unique to its plot. Hazard sites HS1 and HS2 sit on west plots, HS3 on an east one:
their town comes from their plot (server/scope.py).
"""

from __future__ import annotations

import json

import mapbox_vector_tile
import pytest
from server_common import EAST, NORTH, SOUTH, TOWN_EAST, TOWN_WEST, WEST, industrial_plots, session_cookie

from geo.tiles import tiles_covering
from server.pages.session import COOKIE

TOWN = {"Authorization": "Bearer town-token-1234"}  # town_editor of TOWN_WEST (RISKMAP_TOKENS)
PLOTS = industrial_plots()
WEST_PLOTS = set(PLOTS.loc[PLOTS["town"] == TOWN_WEST, "plot_id"])
EAST_PLOTS = set(PLOTS.loc[PLOTS["town"] == TOWN_EAST, "plot_id"])
#: Private values of the east town's rows (enterprise names, contacts), and of the east site and target.
EAST_SECRETS = [*PLOTS.loc[PLOTS["town"] == TOWN_EAST, "enterprise"], *PLOTS.loc[PLOTS["town"] == TOWN_EAST, "contact"],
                "保密危化场所2", "保密目标1", "保密目标2"]
WEST_SECRETS = [*PLOTS.loc[PLOTS["town"] == TOWN_WEST, "enterprise"], "保密危化场所0", "保密目标0"]
TILES = [t for z in (10, 12) for t in tiles_covering((WEST, SOUTH, EAST, NORTH), z).tolist()]


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def mvt_values(body: bytes) -> str:
    """Every property value of a vector tile, as text (decoded, so no encoding hides one)."""
    layers = mapbox_vector_tile.decode(body) if body else {}
    return json.dumps([f["properties"] for layer in layers.values() for f in layer["features"]], ensure_ascii=False)


def _tiles(client, url: str, headers) -> str:
    """The property values of every tile of :data:`TILES` at ``url`` (``{z} {x} {y}`` filled in)."""
    out = []
    for z, x, y in TILES:
        r = client.get(url.format(z=z, x=x, y=y), headers=headers)
        assert r.status_code in (200, 204, 404), (url, r.status_code)  # 404: a layer hidden from the caller
        out.append(mvt_values(r.content) if r.status_code != 404 else r.text)
    return "".join(out)


def tile_bodies(client, prefix: str, layer: str, headers) -> str:
    return _tiles(client, prefix + f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt", headers)


def ogc_tile_bodies(client, layer: str, headers) -> str:
    return _tiles(client, f"/collections/{layer}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}", headers)


#: Every route that carries private rows: name → (how to fetch it, whether the west rows show in it).
ROUTES = {
    "items plots": lambda c, h: _text(c.get("/collections/industrial_plots/items?limit=50", headers=h).content),
    "items sites": lambda c, h: _text(c.get("/collections/hazard_sites/items?limit=50", headers=h).content),
    "items targets": lambda c, h: _text(c.get("/collections/protected_targets/items?limit=50", headers=h).content),
    "items wall": lambda c, h: _text(c.get("/collections/risk_wall/items?limit=50", headers=h).content),
    "items html": lambda c, h: _text(c.get("/collections/industrial_plots/items?limit=50&f=html", headers=h).content),
    "items filtered": lambda c, h: _text(c.get("/collections/industrial_plots/items?limit=50&land_use=M2",
                                                 headers=h).content),
    "tiles plots": lambda c, h: tile_bodies(c, "", "industrial_plots", h),
    "tiles sites": lambda c, h: tile_bodies(c, "", "hazard_sites", h),
    "tiles all": lambda c, h: tile_bodies(c, "", "all", h),
    "web tiles": lambda c, h: tile_bodies(c, "/web", "industrial_plots", h),
    "ogc tiles": lambda c, h: ogc_tile_bodies(c, "industrial_plots", h),
    "wall page": lambda c, h: _text(c.get(f"/towns/{TOWN_WEST}/wall", headers=h).content),
}


@pytest.fixture(scope="module")
def bodies(client):
    """Each route's body as the west town's editor sees it (fetched once)."""
    return {name: fetch(client, TOWN) for name, fetch in ROUTES.items()}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_town_editor_reads_no_private_value_of_another_town(bodies, route):
    body = bodies[route]
    leaked = [s for s in EAST_SECRETS if s in body]
    assert not leaked, (route, leaked)


@pytest.mark.parametrize("route", ["items plots", "items sites", "items targets", "items html", "items filtered",
                                   "tiles plots", "tiles sites", "tiles all", "web tiles", "ogc tiles"])
def test_a_town_editor_reads_the_private_values_of_its_own_town(bodies, route):
    body = bodies[route]
    found = [s for s in WEST_SECRETS if s in body]
    assert found, route  # the same body that must not hold the east's secrets does hold the west's


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_the_public_reaches_no_private_value_of_any_town(client, route):
    body = ROUTES[route](client, {}) if route != "wall page" else ""
    assert not [s for s in [*EAST_SECRETS, *WEST_SECRETS] if s in body], route


def test_items_hold_exactly_the_own_towns_private_rows(client):
    plots = client.get("/collections/industrial_plots/items?limit=50", headers=TOWN).json()["features"]
    assert {f["properties"]["plot_id"] for f in plots} == WEST_PLOTS
    sites = client.get("/collections/hazard_sites/items?limit=50", headers=TOWN).json()["features"]
    assert {f["properties"]["site_id"] for f in sites} == {"HS1", "HS2"}  # by their plots' town


def test_other_towns_rows_are_seen_as_the_public_sees_them(client):
    """The east rows of the risk wall: exactly the public's rows, with exactly the public's values."""
    public = {f["properties"]["plot_id"]: f["properties"]
              for f in client.get("/collections/risk_wall/items?limit=50").json()["features"]}
    mine = {f["properties"]["plot_id"]: f["properties"]
            for f in client.get("/collections/risk_wall/items?limit=50", headers=TOWN).json()["features"]}
    east_public = {k: v for k, v in public.items() if k in EAST_PLOTS}
    east_mine = {k: {n: v for n, v in props.items() if v is not None} for k, props in mine.items() if k in EAST_PLOTS}
    assert east_public and east_mine == east_public
    assert {k for k in mine if k in WEST_PLOTS} == WEST_PLOTS  # every west plot, whatever its level
    public_fields = set(next(iter(east_public.values())))
    assert set(mine["P001"]) > public_fields - {"notice"}  # the own rows carry the private columns too


@pytest.mark.parametrize("url", [
    "/collections/industrial_plots/items/{east_plot}",
    "/collections/hazard_sites/items/HS3",
    "/collections/protected_targets/items/T2",
])
def test_a_single_private_item_of_another_town_is_not_found(client, url):
    east_plot = min(EAST_PLOTS)
    r = client.get(url.format(east_plot=east_plot), headers=TOWN)
    assert r.status_code == 404 and not [s for s in EAST_SECRETS if s in r.text]
    own = client.get("/collections/industrial_plots/items/P001", headers=TOWN)
    assert own.status_code == 200 and own.json()["properties"]["enterprise"] == PLOTS["enterprise"][0]


@pytest.mark.parametrize("path, status", [
    (f"/towns/{TOWN_EAST}/wall", 403),
    (f"/towns/{TOWN_WEST}/wall", 200),
])
def test_wall_pages_open_for_the_own_town_only(client, path, status):
    assert client.get(path, headers=TOWN).status_code == status


def test_the_siting_api_is_refused_to_a_town_editor(client):
    body = {"geometry": {"type": "Point", "coordinates": [119.95, 31.75]}, "kind": "school"}
    r = client.post("/api/siting", json=body, headers=TOWN)
    assert r.status_code == 403 and r.json()["code"] == "Forbidden"


def test_tilejson_bounds_cover_only_what_the_editor_sees(client):
    mine = client.get("/tiles/hazard_sites/tilejson.json", headers=TOWN).json()
    planner = client.get("/tiles/hazard_sites/tilejson.json",
                         headers={"Authorization": "Bearer planner-token-123"}).json()
    assert mine["bounds"][2] < 120.0 <= planner["bounds"][2]  # HS3, the east site, is left out
    fields = mine["vector_layers"][0]["fields"]
    assert "inventory" in fields  # the own town's private columns are described


def test_tiles_are_cached_apart_per_scope(client):
    z, x, y = TILES[0]
    url = f"/tiles/industrial_plots/{z}/{x}/{y}.mvt"
    town = client.get(url, headers=TOWN)
    planner = client.get(url, headers={"Authorization": "Bearer planner-token-123"})
    assert town.headers["etag"] != planner.headers["etag"]
    assert any(s in mvt_values(planner.content) for s in EAST_SECRETS)
    assert not any(s in mvt_values(town.content) for s in EAST_SECRETS)


def test_the_session_cookie_carries_the_same_scope(app, client):
    session = {"Cookie": f"{COOKIE}={session_cookie(app, 'town-token-1234')}"}
    body = tile_bodies(client, "/web", "industrial_plots", session)
    assert not [s for s in EAST_SECRETS if s in body] and [s for s in WEST_SECRETS if s in body]
    assert client.get(f"/towns/{TOWN_EAST}/wall", headers=session).status_code == 403
