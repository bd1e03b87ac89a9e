"""The public shelter map and ``/api/public/shelters/nearest``: no login, public data only.

Whoever asks, both answer from the public view of each layer: the shelters' public fields, the
plots disclosed as 较大 and above with their colour and notice, never an enterprise, a contact, an
inventory or a hidden danger. Walking distances come from the engine: along the roads when the
point is near them, else the straight line × the walking detour factor, and the answer says which.
"""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from pyproj import Geod

from geo.tiles import tile_containing
from layers.catalogue import CATALOGUE
from layers.validate import validate_layer
from server.app import create_app
from server.pages.public import direction_words
from server.redaction import DERIVED
from server_common import PLANNER, SECRET_MARKERS, plot_geometry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NEAREST = "/api/public/shelters/nearest"
SHELTER_KEYS = {"shelter_id", "name", "class", "class_zh", "class_en", "address", "capacity", "effective_area_m2",
                "distance_m", "method", "method_zh", "method_en", "service_radius_m", "within_service_radius",
                "bearing_deg", "direction_zh", "direction_en", "summary_zh", "summary_en", "lon", "lat",
                "hazards", "hazards_zh", "hazards_en", "hazards_declared", "minutes", "towards_disclosed_plot", "route"}
#: Names of fields that are private wherever they occur (and of the engine's reasons): none may
#: appear in a public answer. (``name``, ``kind``… are public in some layers and stay out.)
_PUBLIC_NAMES = ({f.name for schema in CATALOGUE.values() for f in schema.fields if f.public and schema.public_layer}
                 | {name for d in DERIVED.values() if d.public for name in d.public.fields})
PRIVATE_FIELDS = sorted(({f.name for schema in CATALOGUE.values() for f in schema.fields if not f.public}
                         | {"reasons", "score", "inventory"}) - _PUBLIC_NAMES)
GEOD = Geod(ellps="GRS80")
SH1 = shapely.box(119.95, 31.76, 119.952, 31.762).point_on_surface()
SH2 = shapely.Point(120.05, 31.77)


def geodesic(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def assert_public(text: str) -> None:
    """No private field name (as a JSON key or property) and no private value in ``text``."""
    assert not any(marker in text for marker in SECRET_MARKERS)
    for name in PRIVATE_FIELDS:
        assert f'"{name}"' not in text, f"private field {name!r} in a public answer"


# ------------------------------------------------------------------ nearest shelters
def test_nearest_shelters_come_nearest_first_with_distance_capacity_and_direction(client):
    r = client.get(NEAREST, params={"lon": 119.955, "lat": 31.75, "n": 3})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["point"] == {"lon": 119.955, "lat": 31.75} and body["road_network"] is True
    found = body["shelters"]
    assert [s["shelter_id"] for s in found] == ["SH1", "SH2"]  # only two shelters in the store
    first = found[0]
    assert set(first) == SHELTER_KEYS
    assert first["name"] == "西镇广场" and first["class"] == "emergency" and first["class_zh"] == "紧急避难场所"
    assert first["capacity"] == 2500 and first["effective_area_m2"] == 5000.0
    assert first["method"] in ("network", "straight line") and body["methods"] == sorted({s["method"] for s in found})
    assert first["distance_m"] >= 0.99 * geodesic(119.955, 31.75, SH1.x, SH1.y)
    assert found[1]["distance_m"] >= first["distance_m"]
    assert (first["direction_zh"], first["direction_en"]) == ("北", "north")
    assert (found[1]["direction_zh"], found[1]["direction_en"]) == ("东", "east")
    assert first["summary_zh"].startswith("向北约") and "m to the north" in first["summary_en"]
    assert first["service_radius_m"] == 500.0 and isinstance(first["within_service_radius"], bool)
    assert "绕行系数" in body["method_note"] and "detour factor" in body["method_note"]


def test_n_limits_the_answer(client):
    assert len(client.get(NEAREST, params={"lon": 119.955, "lat": 31.75, "n": 1}).json()["shelters"]) == 1
    assert len(client.get(NEAREST, params={"lon": 119.955, "lat": 31.75}).json()["shelters"]) == 2  # default 3


def test_a_point_far_from_the_city_gets_a_warning(client):
    body = client.get(NEAREST, params={"lon": 116.39, "lat": 39.91}).json()  # Beijing
    assert body["shelters"] and body["warnings"] and "outside the area" in body["warnings"][0]


@pytest.mark.parametrize("params, where", [
    ({"lon": 999, "lat": 31.75}, "lon"), ({"lon": 119.9}, "lat"), ({"lon": "east", "lat": 31.75}, "lon"),
    ({"lon": 119.9, "lat": 31.75, "n": 0}, "n"), ({"lon": 119.9, "lat": 31.75, "n": 11}, "n"),
    ({"lon": 119.9, "lat": -91}, "lat"),
])
def test_bad_coordinates_are_a_400_naming_the_parameter(client, params, where):
    r = client.get(NEAREST, params=params)
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameterValue" and where in r.json()["description"]


def test_nearest_answers_the_same_public_data_to_a_planner(client):
    params = {"lon": 119.955, "lat": 31.75}
    public, planner = client.get(NEAREST, params=params), client.get(NEAREST, params=params, headers=PLANNER)
    assert public.json() == planner.json()
    assert_public(public.text)
    used = {"shelter_id", "name", "class", "address", "capacity", "effective_area_m2"}
    assert used <= set(CATALOGUE["shelters"].public_fields)


def test_without_roads_near_the_walking_distance_is_the_straight_line_times_the_detour(writable_store, settings):
    far_road = gpd.GeoDataFrame({"road_id": ["X1"], "class": ["primary"], "speed_kmh": [50.0], "oneway": [False]},
                                geometry=[shapely.LineString([(121.5, 34.5), (121.6, 34.5)])], crs="EPSG:4490")
    writable_store.write("roads", validate_layer("roads", far_road), actor="test")
    with TestClient(create_app(writable_store, settings)) as c:
        body = c.get(NEAREST, params={"lon": 119.955, "lat": 31.75, "n": 1}).json()
    first = body["shelters"][0]
    assert first["method"] == "straight line" and first["method_zh"] == "直线距离×绕行系数"
    straight = geodesic(119.955, 31.75, SH1.x, SH1.y)
    assert first["distance_m"] == pytest.approx(1.3 * straight, rel=0.01)


@pytest.mark.parametrize("bearing, words", [(0, "北"), (45, "东北"), (90, "东"), (135, "东南"), (180, "南"),
                                            (225, "西南"), (270, "西"), (315, "西北"), (-22, "北"), (359, "北")])
def test_directions_in_words(bearing, words):
    assert direction_words(bearing)[0] == words


# ------------------------------------------------------------------ the page
def _config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="riskmap-config">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_public_page_needs_no_login_and_draws_public_tiles_only(client):
    r = client.get("/public/shelters")
    assert r.status_code == 200 and "应急避难场所" in r.text and "Emergency shelters" in r.text
    cfg = _config(r.text)
    assert {o["id"] for o in cfg["overlays"]} == {"risk_wall", "shelters"}
    assert cfg["basemap"] == "/public/basemap/{z}/{x}/{y}.mvt"  # the offline basemap of the store's own layers
    assert all(o["url"].startswith("/tiles/") for o in cfg["overlays"])
    assert cfg["nearest"] == NEAREST and "navigator.geolocation" in client.get("/static/riskmap/riskmap-public.js").text
    assert "公示较大以上安全风险" in r.text
    wall = next(o for o in cfg["overlays"] if o["id"] == "risk_wall")
    assert {f["name"] for f in wall["fields"]} == {"plot_id", "town", "colour_zh", "notice"}
    assert_public(r.text)


def test_the_public_page_is_the_same_for_a_signed_in_planner(client):
    public, planner = client.get("/public/shelters"), client.get("/public/shelters", headers=PLANNER)
    assert _config(public.text) == _config(planner.text)
    assert "risk_surface" not in planner.text and "safety_buffers" not in planner.text


def test_the_public_page_is_small(client):
    assert len(client.get("/public/shelters").content) < 20_000  # the data come as tiles, on demand


def test_the_plots_on_the_public_map_are_those_disclosed_with_colour_and_notice_only(client):
    z, seen = 11, {}
    for i in range(16):
        c = plot_geometry(i).centroid
        x, y = tile_containing(c.x, c.y, z)
        seen[(int(x), int(y))] = True
    levels, keys = set(), set()
    for x, y in seen:
        r = client.get(f"/tiles/risk_wall/{z}/{x}/{y}.mvt")
        assert r.status_code in (200, 204)
        if r.status_code == 200:
            assert_public(r.content.decode("utf-8", "replace"))
            for f in mapbox_vector_tile.decode(r.content)["risk_wall"]["features"]:
                levels.add(f["properties"]["level"])
                keys |= set(f["properties"])
    assert levels == {1, 2} and keys == {"plot_id", "town", "level", "colour", "colour_name", "colour_zh", "notice"}
