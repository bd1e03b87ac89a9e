"""The public map's search, "my place", shelter card and basemap, over a small 雪堰镇 / 前黄镇 town.

Every answer comes from public views: the walk at the end goes through every JSON answer and every
basemap and overlay tile these routes give for the town and finds no private field name and no
private value (the fixture's private values all carry a marker, :data:`server_common.SECRET_MARKERS`).
"""

from __future__ import annotations

import doctest
import importlib
import warnings

import mapbox_vector_tile
import pytest
from pyproj import Geod

from geo.gcj02 import wgs84_to_gcj02
from geo.tiles import tile_containing
from layers.gpkg import GeoPackageStore
from server.app import create_app
from server.settings import Settings
from public_city import EW_NAMES, NS_NAMES, build_public_city
from server_common import EAST, NORTH, PLANNER, SOUTH, TOKENS, WEST, page_config
from test_pages_public import PRIVATE_FIELDS, assert_public

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SEARCH, PLACE = "/api/public/search", "/api/public/place"
GEOD = Geod(ellps="GRS80")
HERE = {"lon": 119.955, "lat": 31.735}  # 雪堰镇, between the plots


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    store = build_public_city(tmp_path_factory.mktemp("public") / "city.gpkg")
    with TestClient(create_app(GeoPackageStore(store.path), Settings(tokens=TOKENS))) as c:
        yield c


def names(client, q, **params):
    r = client.get(SEARCH, params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [(x["kind"], x["name"]) for x in r.json()["results"]]


# ------------------------------------------------------------------ search
@pytest.mark.parametrize("q", ["雪堰", "xueyan", "XueYan", "xue yan", "xyz"])
def test_a_town_is_found_by_chinese_pinyin_or_initials_first(client, q):
    assert names(client, q)[0] == ("town", "雪堰镇")


def test_search_lists_towns_roads_and_shelters_best_first(client):
    assert names(client, "雪堰") == [("town", "雪堰镇"), ("road", "雪堰路"), ("shelter", "雪堰广场"),
                                     ("shelter", "雪堰中学")]
    assert names(client, "武进") == [("district", "武进区")]
    assert names(client, "消防") == [("station", "西镇消防站")]


def test_a_road_is_one_result_over_all_its_segments(client):
    r = client.get(SEARCH, params={"q": "太湖路"}).json()["results"]
    assert [(x["kind"], x["name"], x["detail"]) for x in r] == [("road", "太湖路", "次干路")]
    w, s, e, n = r[0]["bbox"]
    assert e - w > 0.15 and n - s < 1e-6  # the whole west-east road, not one segment
    assert w <= r[0]["lon"] <= e
    assert names(client, "hbl") == [("road", "湖滨路"), ("shelter", "湖滨绿地")]


def test_pasted_coordinates_are_read_as_gcj02_first_and_wgs84_in_either_order(client):
    glon, glat = wgs84_to_gcj02(120.09471, 31.51006)
    for q in (f"{glon:.6f},{glat:.6f}", f"{glat:.6f}, {glon:.6f}", f"{glat:.6f}N {glon:.6f}E"):
        r = client.get(SEARCH, params={"q": q}).json()["results"]
        assert [x["crs"] for x in r] == ["GCJ-02", "WGS84"]
        assert r[0]["lon"] == pytest.approx(120.09471, abs=1e-6) and r[0]["lat"] == pytest.approx(31.51006, abs=1e-6)
        assert r[1]["lon"] == pytest.approx(glon, abs=1e-6) and r[1]["lat"] == pytest.approx(glat, abs=1e-6)


def test_search_finds_nothing_private_and_nothing_for_nonsense(client):
    assert names(client, "保密") == [] and names(client, "机密企业") == [] and names(client, "zzzzqqq") == []
    assert names(client, "雪堰", limit=1) == [("town", "雪堰镇")]
    assert client.get(SEARCH, params={"q": ""}).status_code == 400


# ------------------------------------------------------------------ my place
def test_my_place_says_the_town_its_colour_the_nearest_disclosed_plot_and_what_to_do(client):
    r = client.get(PLACE, params={**HERE, "hazard": "earthquake"})
    assert r.status_code == 200
    d = r.json()
    assert d["town"] == {"code": "320412001", "name": "雪堰镇", "district": "武进区"}
    assert d["zone"]["colour"].startswith("#") and d["zone"]["level"] in (1, 2, 3, 4)
    assert d["disclosed"]["margin_m"] == 200.0 and not d["disclosed"]["within_margin"]
    assert d["disclosed"]["nearest_m"] > 200
    kinds = [s["kind"] for s in d["sentences"]]
    assert kinds[:2] == ["where", "risk"] and kinds[-2:] == ["advice", "advice"]
    assert d["sentences"][0]["zh"].startswith("您在武进区雪堰镇") and "four-colour zone" in d["sentences"][0]["en"]
    assert "地震" in d["sentences"][-2]["zh"] and "119" in d["sentences"][-1]["zh"]
    assert d["share"] == "/public/shelters?lon=119.955000&lat=31.735000&hazard=earthquake"


def test_each_shelter_comes_with_its_walk_route_time_and_hazards(client):
    d = client.get(PLACE, params={**HERE, "n": 4}).json()
    found = d["shelters"]
    assert len(found) == 4 and [s["distance_m"] for s in found] == sorted(s["distance_m"] for s in found)
    for s in found:
        straight = GEOD.inv(HERE["lon"], HERE["lat"], s["lon"], s["lat"])[2]
        assert s["distance_m"] >= 0.99 * straight
        assert s["minutes"] == pytest.approx(s["distance_m"] / 50.0, abs=0.06)  # 3 km/h
        assert s["route"][0] == [HERE["lon"], HERE["lat"]]
        assert s["route"][-1] == pytest.approx([s["lon"], s["lat"]], abs=1e-6)
    by_id = {s["shelter_id"]: s for s in found}
    assert by_id["SH4"]["hazards"] == ["earthquake", "fire"] and not by_id["SH4"]["hazards_declared"]
    assert by_id["SH2"]["hazards_zh"] == ["地震", "火灾", "危化品泄漏", "洪涝"] and by_id["SH2"]["hazards_declared"]


@pytest.mark.parametrize("hazard, expected", [
    ("flood", {"SH2", "SH3"}), ("chemical", {"SH2"}), ("fire", {"SH1", "SH2", "SH4"}),
    ("earthquake", {"SH1", "SH2", "SH3", "SH4"}),
])
def test_only_shelters_fit_for_the_hazard_are_offered(client, hazard, expected):
    d = client.get(PLACE, params={**HERE, "hazard": hazard, "n": 10}).json()
    assert {s["shelter_id"] for s in d["shelters"]} == expected
    assert d["left_out"]["not_fit"] == 4 - len(expected)


def test_an_unknown_hazard_is_a_400_listing_the_hazards(client):
    r = client.get(PLACE, params={**HERE, "hazard": "tsunami"})
    assert r.status_code == 400 and "earthquake, fire, chemical, flood" in r.json()["description"]


def test_my_place_is_the_same_for_a_planner(client):
    assert client.get(PLACE, params=HERE).json() == client.get(PLACE, params=HERE, headers=PLANNER).json()


# ------------------------------------------------------------------ card, page, basemap
def test_a_shelter_card_prints_on_a5_with_the_walk_from_the_place(client):
    r = client.get("/public/shelters/SH2/card", params=HERE)
    assert r.status_code == 200 and "前黄公园" in r.text and "危化品泄漏" in r.text and "10,000 人" in r.text
    assert "GCJ-02" in r.text and "/public/shelters?lon=119.955000&amp;lat=31.735000" in r.text
    assert "步行约" in r.text and "riskmap.css" in r.text
    css = client.get("/static/riskmap/riskmap.css").text
    assert "@page card { size: A5 portrait" in css and "page: card" in css
    assert client.get("/public/shelters/NOPE/card").status_code == 404
    assert_public(r.text)


def test_the_page_hands_its_script_the_routes_and_the_hazards(client):
    cfg = page_config(client.get("/public/shelters").text)
    assert (cfg["place"], cfg["search"]) == (PLACE, SEARCH)
    assert [h["key"] for h in cfg["hazards"]] == ["earthquake", "fire", "chemical", "flood"]
    assert cfg["card"] == "/public/shelters/{id}/card"


def decoded(client, url):
    r = client.get(url)
    assert r.status_code in (200, 204), (url, r.status_code)
    if r.status_code == 204:
        return {}
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert_public(r.content.decode("utf-8", "replace"))
    return mapbox_vector_tile.decode(r.content)


def tiles_over_the_town(z):
    (x0, y0), (x1, y1) = tile_containing(WEST, NORTH, z), tile_containing(EAST, SOUTH, z)
    return [(int(x), int(y)) for x in range(int(x0), int(x1) + 1) for y in range(int(y0), int(y1) + 1)]


def test_the_basemap_has_named_roads_boundaries_and_place_names(client):
    roads, places, levels = set(), set(), set()
    for x, y in tiles_over_the_town(13):
        tile = decoded(client, f"/public/basemap/13/{x}/{y}.mvt")
        roads |= {f["properties"].get("name") for f in tile.get("roads", {}).get("features", [])}
        places |= {(f["properties"]["kind"], f["properties"]["name"]) for f in tile.get("places", {}).get("features", [])}
        levels |= {f["properties"]["level"] for f in tile.get("boundaries", {}).get("features", [])}
    assert set(EW_NAMES) | set(NS_NAMES) <= roads
    assert {("town", "雪堰镇"), ("town", "前黄镇"), ("shelter", "前黄公园"), ("station", "西镇消防站")} <= places
    assert levels == {"district", "town"}
    x, y = tile_containing(119.955, 31.735, 11)
    small = decoded(client, f"/public/basemap/11/{int(x)}/{int(y)}.mvt")  # city zoom: main roads only
    assert {f["properties"]["class"] for f in small["roads"]["features"]} == {"primary"}
    r = client.get(f"/public/basemap/13/{tiles_over_the_town(13)[0][0]}/{tiles_over_the_town(13)[0][1]}.mvt")
    again = client.get(r.request.url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/public/basemap/40/0/0.mvt").status_code == 400


# ------------------------------------------------------------------ nothing private, anywhere
def keys_of(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from keys_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from keys_of(v)


def test_no_private_field_in_any_answer_of_the_public_routes(client):
    answers = [client.get(SEARCH, params={"q": q}) for q in ("雪堰", "xy", "路", "站", "场", "31.7,119.95")]
    answers += [client.get(PLACE, params={"lon": lon, "lat": lat, "hazard": h, "n": 10})
                for lon, lat in ((119.955, 31.735), (119.921, 31.701), (120.05, 31.77)) for h in ("", "chemical", "flood")]
    answers += [client.get("/api/public/shelters/nearest", params={**HERE, "n": 10})]
    for r in answers:
        assert r.status_code == 200
        assert_public(r.text)
        assert not set(keys_of(r.json())) & set(PRIVATE_FIELDS), r.url
    layers = set()
    for z in (10, 12, 13):  # every tile over the town at city, district and street zooms
        for x, y in tiles_over_the_town(z):
            for url in (f"/public/basemap/{z}/{x}/{y}.mvt", f"/tiles/risk_wall/{z}/{x}/{y}.mvt",
                        f"/tiles/shelters/{z}/{x}/{y}.mvt"):
                for name, layer in decoded(client, url).items():
                    layers.add(name)
                    for f in layer["features"]:
                        assert not set(f["properties"]) & set(PRIVATE_FIELDS), (url, name, f["properties"])
    assert layers == {"roads", "boundaries", "places", "risk_wall", "shelters"}


@pytest.mark.parametrize("name", ["server.pages.search", "server.pages.place", "server.basemap"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0, result


def test_a_point_the_maps_crs_cannot_project_is_a_400_not_a_500(client):
    """Schemathesis found it: (21° E, 0° N) is far outside the Gauss-Krüger zone of a Changzhou map."""
    r = client.get("/api/public/shelters/nearest", params={"lat": 0.0, "lon": 21.0})
    assert r.status_code == 400 and "outside the area this map covers" in r.json()["description"]
