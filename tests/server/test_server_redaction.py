"""No private field name or value leaves the server without a credential.

The walk requests every public resource (landing page, collections, every page of items, every
item, TileJSON, vector tiles of every layer at several zooms, the combined tiles, raster tiles,
the HTML forms) and every private one (which must refuse), and checks each body.
"""

from __future__ import annotations

import json

import mapbox_vector_tile
import pandas as pd
import pytest

from geo.tiles import tile_containing, tiles_covering
from layers.catalogue import CATALOGUE
from server.auth import PUBLIC, Principal
from server.redaction import DERIVED, Redactor
from server_common import EAST, NORTH, PLANNER, SECRET_MARKERS, SOUTH, WEST, plot_geometry

REDACTOR = Redactor()
_COLOURS = {"level", "colour", "colour_name", "colour_zh"}
#: What the public may see, written out here independently of server/redaction.py: the catalogue's
#: own public flags, and for derived layers the disclosure rules of the issue (公示较大以上安全风险).
EXPECTED_PUBLIC = {
    **{name: set(schema.public_fields) for name, schema in CATALOGUE.items() if schema.public_fields},
    "risk_wall": {"plot_id", "town", "notice"} | _COLOURS,
    "risk_zones": {"zone_kind", "zone_id"} | _COLOURS,
}
#: Rows the public may see, by layer.
PUBLIC_ROWS = {"risk_wall": lambda f: f["level"] <= 2, "risk_zones": lambda f: f["zone_kind"] == "town"}


def text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != frame.geometry.name
            and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))]


@pytest.fixture(scope="module")
def secrets(app):
    """Private field names and private text values of the fixture store (none of them public)."""
    store = app.state.services.store
    public_names, private_names, public_values, private_values = set(), set(), set(), set()
    for name in store.layers():
        if store.info(name).kind != "vector":
            continue
        frame = store.read(name)
        columns = [c for c in frame.columns if c != frame.geometry.name]
        fields = EXPECTED_PUBLIC.get(name, set())
        rows = PUBLIC_ROWS.get(name, lambda f: pd.Series(True, index=f.index))(frame)
        visible = frame[rows][[c for c in columns if c in fields] + [frame.geometry.name]]
        for c in text_columns(visible):
            public_values |= set(visible[c].dropna().astype(str))
        public_names |= fields
        private_names |= set(columns) - fields
        hidden_rows = frame[~rows]
        for c in text_columns(frame):
            private_values |= set(hidden_rows[c].dropna().astype(str))
            if c not in fields:
                private_values |= set(frame[c].dropna().astype(str))
    layer_names = set(store.layers())  # named in error messages; not secret
    # codes of a public field's enumeration are public vocabulary (admin_areas' level "grid", in the /grids/ routes)
    public_values |= {c.value for schema in CATALOGUE.values() for f in schema.fields if f.public
                      for c in (f.choices or ())}
    values = {v for v in private_values - public_values - layer_names if len(v) >= 4}
    assert any(v.startswith(SECRET_MARKERS) for v in values)  # the fixture does hold secrets
    return private_names - public_names, values


def json_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in json_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in json_keys(v)}
    return set()


def public_urls(client) -> list[str]:
    urls = ["/", "/conformance", "/collections", "/openapi.json", "/docs", "/?f=html", "/collections?f=html"]
    for c in client.get("/collections").json()["collections"]:
        base = f"/collections/{c['id']}"
        urls += [base, f"{base}?f=html", f"{base}/items?limit=5&f=html"]
        page = f"{base}/items?limit=50"
        while page:
            doc = client.get(page).json()
            urls.append(page)
            urls += [f"{base}/items/{f['id']}" for f in doc["features"]]
            nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
            page = nxt[0].replace("http://testserver", "") if nxt else None
        urls.append(f"/tiles/{c['id']}/tilejson.json")
    urls.append("/tiles/all/tilejson.json")
    return urls


def tile_urls(client) -> list[str]:
    layers = [c["id"] for c in client.get("/collections").json()["collections"]] + ["all"]
    tiles = [t for z in (10, 12, 13) for t in tiles_covering((WEST, SOUTH, EAST, NORTH), z).tolist()]
    return [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for layer in layers for z, x, y in tiles]


def private_urls() -> list[str]:
    private = ["industrial_plots", "hazard_sites", "protected_targets",
               *(d for d in DERIVED if DERIVED[d].public is None)]
    urls = [u for name in private for u in (f"/collections/{name}", f"/collections/{name}/items",
                                            f"/collections/{name}/items/HS1", f"/tiles/{name}/tilejson.json",
                                            f"/tiles/{name}/12/3413/1663.mvt")]
    return urls + ["/tiles/risk_surface/12/3413/1663.png", "/tiles/risk_surface/tilejson.json",
                   "/tiles/population/tilejson.json"]


def test_no_public_response_carries_a_private_field_or_value(client, secrets):
    names, values = secrets
    checked = tiles = 0
    for url in public_urls(client) + tile_urls(client) + private_urls():
        r = client.get(url)
        assert r.status_code in (200, 204, 404), url
        body = r.content
        if r.headers.get("content-type", "").startswith("application/vnd.mapbox-vector-tile"):
            tiles += 1
            decoded = mapbox_vector_tile.decode(body)
            for layer, content in decoded.items():
                allowed = EXPECTED_PUBLIC[layer]
                for feature in content["features"]:
                    assert set(feature["properties"]) <= allowed, (url, layer)
            text = json.dumps(decoded, ensure_ascii=False)
        else:
            text = body.decode("utf-8")
            if r.headers.get("content-type", "").endswith("json"):
                leaked = json_keys(json.loads(text)) & names
                assert not leaked, (url, leaked)
        for marker in SECRET_MARKERS:
            assert marker not in text, (url, marker)
        if "html" not in r.headers.get("content-type", ""):
            found = [v for v in values if v in text]
            assert not found, (url, found[:5])
        checked += 1
    assert tiles > 50 and checked > 200


def test_public_features_carry_only_their_view_fields(client):
    for c in client.get("/collections").json()["collections"]:
        allowed = EXPECTED_PUBLIC[c["id"]]
        doc = client.get(f"/collections/{c['id']}/items?limit=50").json()
        for feature in doc["features"]:
            assert set(feature["properties"]) <= allowed, c["id"]


def test_the_public_wall_discloses_levels_1_and_2_with_a_notice(client):
    features = client.get("/collections/risk_wall/items?limit=50").json()["features"]
    full = client.get("/collections/risk_wall/items?limit=50",
                      headers={"Authorization": "Bearer planner-token-123"}).json()["features"]
    assert {f["properties"]["level"] for f in features} == {1, 2}
    assert len(features) == sum(f["properties"]["level"] <= 2 for f in full) < len(full)
    for f in features:
        assert "公示较大以上安全风险" in f["properties"]["notice"]
    assert "enterprise" in full[0]["properties"] and "reasons" in full[0]["properties"]


def test_public_zones_are_town_zones_without_reasons(client):
    features = client.get("/collections/risk_zones/items?limit=50").json()["features"]
    assert features and {f["properties"]["zone_kind"] for f in features} == {"town"}
    assert all("reasons" not in f["properties"] for f in features)


def test_an_invalid_token_is_the_public_view(client):
    bad = {"Authorization": "Bearer not-a-token"}
    ids = {c["id"] for c in client.get("/collections", headers=bad).json()["collections"]}
    assert "hazard_sites" not in ids
    assert client.get("/collections/hazard_sites/items", headers=bad).status_code == 404
    basic = {"Authorization": "Basic cGxhbm5lcjpwbGFubmVy"}
    assert client.get("/collections/hazard_sites/items", headers=basic).status_code == 404


def test_industrial_plots_are_private_and_reach_the_public_only_through_the_wall(client):
    """Issue 5: the public sees a plot only as a 较大-or-above colour and notice on the risk wall."""
    z, x, y = 14, *tile_containing(plot_geometry(0).centroid.x, plot_geometry(0).centroid.y, 14)
    tile = f"/tiles/industrial_plots/{z}/{x}/{y}.mvt"
    for path in ("/collections/industrial_plots", "/collections/industrial_plots/items",
                 "/collections/industrial_plots/items/P001", "/tiles/industrial_plots/tilejson.json", tile):
        r = client.get(path)
        absent = client.get(path.replace("industrial_plots", "industrial_plotz"))
        assert r.status_code == absent.status_code == 404, path  # private looks like absent
        assert r.json()["description"] == absent.json()["description"].replace("industrial_plotz",
                                                                                "industrial_plots"), path
        assert not any(marker in r.text for marker in SECRET_MARKERS), path
    combined = mapbox_vector_tile.decode(client.get(f"/tiles/all/{z}/{x}/{y}.mvt").content)
    assert "industrial_plots" not in combined
    assert [f["properties"]["plot_id"] for f in combined["risk_wall"]["features"]] == ["P001"]
    # the planner gets the layer itself, private fields included
    doc = client.get("/collections/industrial_plots/items", headers=PLANNER).json()
    assert doc["numberMatched"] == 16 and doc["features"][0]["properties"]["enterprise"] == "机密企业0号"
    r = client.get(tile, headers=PLANNER)
    assert r.status_code == 200
    (feature,) = mapbox_vector_tile.decode(r.content)["industrial_plots"]["features"]
    assert feature["properties"]["plot_id"] == "P001" and feature["properties"]["enterprise"] == "机密企业0号"


@pytest.mark.parametrize("token", ["town-token-1234", "planner-token-123", "admin-token-1234"])
def test_every_role_above_public_gets_the_full_view(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    doc = client.get("/collections/industrial_plots/items?limit=1", headers=headers).json()
    assert doc["features"][0]["properties"]["enterprise"].startswith("机密企业")


# ------------------------------------------------------------------ the split itself
def test_the_redactor_matches_the_expected_split():
    assert {n for n in [*CATALOGUE, *DERIVED, "risk_surface"] if REDACTOR.is_public(n)} == set(EXPECTED_PUBLIC)
    for name, fields in EXPECTED_PUBLIC.items():
        assert set(REDACTOR.view(name, PUBLIC).fields) == fields, name


def test_every_public_catalogue_view_keeps_its_id_field():
    for name, schema in REDACTOR.catalogue.items():
        if REDACTOR.is_public(name):
            assert schema.id_field in REDACTOR.view(name, PUBLIC).fields, name


def test_unknown_layers_are_private_and_full_views_show_everything():
    assert not REDACTOR.is_public("coverage_gaps") and not REDACTOR.is_public("population")
    view = REDACTOR.view("coverage_gaps", Principal("planner"))
    assert view.fields is None and not view.public
    from layers.errors import LayerNotFound

    with pytest.raises(LayerNotFound, match="^unknown layer 'coverage_gaps'$"):  # as if absent
        REDACTOR.view("coverage_gaps", PUBLIC)


def test_a_view_whose_row_column_is_missing_shows_no_row():
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"plot_id": ["P1"]}, geometry=[shapely.Point(120, 31.7)], crs="EPSG:4490")
    assert len(REDACTOR.view("risk_wall", PUBLIC).apply(frame)) == 0


# ------------------------------------------------------------------ the pages and their tiles
BROWSER = {"Accept": "text/html"}
#: Overlays of the planner map that draw private layers (hazard sites, buffers, targets…).
PAGE_PRIVATE = ("hazard_sites", "protected_targets", "safety_buffers", "separation_violations", "risk_surface")


def test_no_public_page_nor_its_tiles_carry_a_private_layer_or_field(client, secrets):
    """The home page, the planner map, the sign-in and shelter pages, without a credential: no
    private layer in their config (so none in the layer control, the legend or a popup), popup
    fields only from the public view, and the cookie-taking tiles of the pages (``/web/tiles``)
    as public as ``/tiles``."""
    from server_common import page_config

    names, values = secrets
    layers = set()
    for url, headers in (("/", BROWSER), ("/map", {}), ("/login", {}), ("/public/shelters", {})):
        r = client.get(url, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), url
        assert not any(marker in r.text for marker in SECRET_MARKERS), url
        if 'id="riskmap-config"' not in r.text:
            continue
        cfg = page_config(r.text)
        for entry in cfg.get("overlays", []) + cfg.get("basemap_layers", []):
            assert REDACTOR.is_public(entry["layer"]), (url, entry["layer"])
            shown = {f["name"] for f in entry["fields"]}
            assert shown <= EXPECTED_PUBLIC[entry["layer"]] and not shown & names, (url, entry["layer"])
            layers.add(entry["layer"])
    assert layers == {"admin_areas", "roads", "risk_zones", "risk_wall", "rescue_stations", "shelters"}
    planner = page_config(client.get("/map", headers=PLANNER).text)  # the same page does carry them for a planner
    assert set(PAGE_PRIVATE) <= {o["layer"] for o in planner["overlays"]}
    tiles = tiles_covering((WEST, SOUTH, EAST, NORTH), 12).tolist()
    for z, x, y in tiles:
        for layer in PAGE_PRIVATE:
            suffix = "png" if layer == "risk_surface" else "mvt"
            assert client.get(f"/web/tiles/{layer}/{z}/{x}/{y}.{suffix}").status_code == 404, layer  # private looks like unknown
        for layer in sorted(layers) + ["all"]:
            r = client.get(f"/web/tiles/{layer}/{z}/{x}/{y}.mvt")
            assert r.status_code in (200, 204), (layer, r.status_code)
            decoded = mapbox_vector_tile.decode(r.content) if r.status_code == 200 else {}
            for name, content in decoded.items():
                assert name in EXPECTED_PUBLIC, name
                for feature in content["features"]:
                    assert set(feature["properties"]) <= EXPECTED_PUBLIC[name], (layer, name)
            text = json.dumps(decoded, ensure_ascii=False)
            assert not [v for v in values if v in text], layer
