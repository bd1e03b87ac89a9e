"""OGC API - Features: landing page, conformance, collections, items (bbox, paging, filters), item."""

from __future__ import annotations

import re

import pytest
import shapely

from server.features import CONFORMANCE, GEOJSON
from server_common import PLANNER, TOWN_WEST

#: The public sees plots only through the risk wall (levels 1-2), never as industrial_plots.
PUBLIC_COLLECTIONS = {"admin_areas", "rescue_stations", "roads", "shelters", "risk_wall", "risk_zones"}
PRIVATE_COLLECTIONS = {"industrial_plots", "hazard_sites", "protected_targets", "major_hazards",
                       "safety_buffers", "separation_violations", "ir_contours", "threat_zones"}


def rels(doc) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in doc["links"]}


# ------------------------------------------------------------------ landing, conformance
def test_landing_page_links_to_conformance_data_and_the_api_definition(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    links = rels(r.json())
    assert {"self", "conformance", "data", "service-desc", "service-doc", "alternate"} <= set(links)
    assert links["data"].endswith("/collections")
    spec = client.get(links["service-desc"].replace("http://testserver", ""))
    assert spec.status_code == 200 and "/collections/{collectionId}/items" in spec.json()["paths"]


def test_public_url_setting_makes_the_links(store_path):
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings

    with TestClient(create_app(store_path, Settings(public_url="https://maps.example.cn/riskmap/"))) as c:
        assert rels(c.get("/").json())["data"] == "https://maps.example.cn/riskmap/collections"


def test_conformance_lists_what_is_implemented(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert classes == CONFORMANCE
    features = {c.rsplit("/", 1)[1] for c in classes if "/ogcapi-features-1/" in c}
    assert features == {"core", "geojson", "html", "oas30"}
    filtering = {c.rsplit("/", 1)[1] for c in classes if "/ogcapi-features-3/" in c or "/cql2/" in c}
    assert {"filter", "features-filter", "queryables", "cql2-text", "cql2-json", "basic-cql2",
            "advanced-comparison-operators", "basic-spatial-functions", "spatial-functions"} <= filtering
    not_claimed = ("temporal", "array", "accent", "arithmetic", "property-property")
    assert not any(word in c for c in classes for word in not_claimed)  # not (wholly) implemented
    assert "http://www.opengis.net/spec/cql2/1.0/conf/functions" not in classes
    tiles = {c.rsplit("/", 1)[1] for c in classes if "/ogcapi-tiles-1/" in c}
    assert {"core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt"} <= tiles


@pytest.mark.parametrize("url", ["/", "/conformance", "/collections", "/collections/shelters",
                                 "/collections/shelters/items", "/collections/shelters/items/SH1", "/docs"])
def test_every_resource_has_an_html_form(client, url):
    r = client.get(url, params={"f": "html"} if url != "/docs" else None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>") and "<script" not in r.text


def test_a_browser_accept_header_gets_html(client):
    r = client.get("/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.headers["content-type"].startswith("text/html")
    assert client.get("/collections", headers={"Accept": "application/json"}).json()["collections"]


def test_an_unknown_format_is_refused(client):
    r = client.get("/collections", params={"f": "xml"})
    assert r.status_code == 400 and "f must be 'json' or 'html'" in r.json()["description"]


# ------------------------------------------------------------------ collections
def test_public_collections_are_the_public_layers(client):
    ids = {c["id"] for c in client.get("/collections").json()["collections"]}
    assert ids == PUBLIC_COLLECTIONS


def test_a_planner_sees_every_vector_layer(client):
    ids = {c["id"] for c in client.get("/collections", headers=PLANNER).json()["collections"]}
    assert ids == PUBLIC_COLLECTIONS | PRIVATE_COLLECTIONS  # rasters are tiles, not collections


def test_a_collection_has_its_extent_in_crs84_and_an_items_link(client):
    doc = client.get("/collections/shelters").json()
    (west, south, east, north), = doc["extent"]["spatial"]["bbox"]
    assert 119.9 < west < east < 120.1 and 31.68 < south < north < 31.8
    assert doc["extent"]["spatial"]["crs"].endswith("CRS84")
    items = [link for link in doc["links"] if link["rel"] == "items" and link["type"] == GEOJSON]
    assert items[0]["href"].endswith("/collections/shelters/items")


def test_an_unknown_collection_is_a_404_naming_the_collections(client):
    r = client.get("/collections/plots/items")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "LayerNotFound" and "unknown collection 'plots'" in body["description"]
    assert "risk_wall" in body["description"]
    assert "industrial_plots" not in body["description"] and "hazard_sites" not in body["description"]
    planner = client.get("/collections/plots/items", headers=PLANNER).json()["description"]
    assert "industrial_plots" in planner and "hazard_sites" in planner


def test_a_private_collection_answers_as_an_unknown_one_without_a_credential(client):
    private, unknown = client.get("/collections/hazard_sites/items"), client.get("/collections/hazard_sitez/items")
    assert private.status_code == unknown.status_code == 404
    assert private.json()["description"].replace("hazard_sites", "X") == \
        unknown.json()["description"].replace("hazard_sitez", "X")
    assert "www-authenticate" not in private.headers
    assert client.get("/collections/hazard_sites/items", headers=PLANNER).status_code == 200


# ------------------------------------------------------------------ items
def test_items_are_geojson_with_counts_and_rounded_coordinates(client):
    r = client.get("/collections/industrial_plots/items", headers=PLANNER)
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == 16 and doc["numberReturned"] == 10  # default_limit 10
    feature = doc["features"][0]
    assert feature["id"] == "P001" and feature["geometry"]["type"] == "Polygon"
    decimals = re.findall(r"\d+\.(\d+)", str(feature["geometry"]["coordinates"]))
    assert decimals and max(len(d) for d in decimals) <= 7
    ring = shapely.Polygon(feature["geometry"]["coordinates"][0])
    assert ring.exterior.is_ccw  # RFC 7946 right-hand rule


def test_paging_follows_next_links_to_every_feature(client):
    url, seen, pages = "/collections/risk_zones/items?limit=7", [], 0
    while url:
        doc = client.get(url, headers=PLANNER).json()
        seen += [f["id"] for f in doc["features"]]
        pages += 1
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert len(seen) == len(set(seen)) == doc["numberMatched"] == 282
    assert pages == 41


def test_prev_link_and_offset(client):
    # the public wall holds P001 P002 P005 P006 P008 P009 P010 P013 P014 (levels 1-2); the offset
    # counts those rows only, so P007 (level 3) is skipped between P006 and P008
    doc = client.get("/collections/risk_wall/items?limit=3&offset=3").json()
    links = rels(doc)
    assert "offset=6" in links["next"] and "limit=3" in links["prev"] and "offset" not in links["prev"]
    assert [f["id"] for f in doc["features"]] == ["P006", "P008", "P009"]


def test_a_huge_limit_is_clamped_to_the_maximum(client):
    doc = client.get("/collections/risk_zones/items?limit=1000000000000", headers=PLANNER).json()
    assert doc["numberReturned"] == 50  # max_limit of the test settings
    assert "limit=50" in rels(doc)["self"]


def test_bbox_selects_the_features_that_meet_it(client):
    doc = client.get("/collections/risk_wall/items?bbox=119.9,31.68,120.0,31.8&limit=50").json()
    assert doc["numberMatched"] == 8  # the 8 western plots, all of level 1 or 2
    assert {f["properties"]["town"] for f in doc["features"]} == {TOWN_WEST}
    assert sorted(f["id"] for f in doc["features"]) == ["P001", "P002", "P005", "P006", "P009", "P010",
                                                        "P013", "P014"]
    east = client.get("/collections/risk_wall/items?bbox=120.0,31.68,120.1,31.8&limit=50").json()
    assert [f["id"] for f in east["features"]] == ["P008"]  # the other 7 eastern plots are level 3-4
    far = client.get("/collections/risk_wall/items?bbox=2.3,48.8,2.4,48.9").json()
    assert far["numberMatched"] == 0 and far["features"] == []


@pytest.mark.parametrize("bbox, message", [
    ("1,2,3", "bbox must be 4 comma-separated numbers"),
    ("119.9,31.7,120.1,31.8,0,10", "bbox must be 4 comma-separated numbers"),
    ("a,b,c,d", "bbox values must be numbers"),
    ("120.1,31.7,119.9,31.8", "minlon (120.1) is greater than maxlon"),
    ("119.9,31.8,120.1,31.7", "minlat (31.8) is greater than maxlat"),
    ("440000,3500000,450000,3510000", "longitudes in -180..180"),
    ("nan,31,120,32", "finite"),
    ("", "bbox must be 4"),
])
def test_a_malformed_bbox_is_a_400_saying_what_is_wrong(client, bbox, message):
    r = client.get("/collections/shelters/items", params={"bbox": bbox})
    assert r.status_code == 400
    assert message in r.json()["description"]


@pytest.mark.parametrize("query, message", [
    ("limit=0", "query.limit"), ("limit=-3", "greater than or equal to 1"), ("limit=abc", "valid integer"),
    ("offset=-1", "query.offset"), ("bbox-crs=EPSG:3857", "bbox-crs"),
])
def test_bad_paging_parameters_are_400(client, query, message):
    r = client.get(f"/collections/shelters/items?{query}")
    assert r.status_code == 400 and message in r.json()["description"]


def test_property_filters_on_visible_fields(client):
    doc = client.get(f"/collections/risk_wall/items?town={TOWN_WEST}&level=1").json()
    assert doc["numberMatched"] > 0
    assert all(f["properties"]["town"] == TOWN_WEST and f["properties"]["level"] == 1 for f in doc["features"])
    roads = client.get("/collections/roads/items?oneway=true").json()
    assert [f["id"] for f in roads["features"]] == ["R3"]
    two = client.get("/collections/shelters/items?shelter_id=SH1&shelter_id=SH2").json()
    assert two["numberMatched"] == 2


@pytest.mark.parametrize("query, message", [
    ("enterprise=x", "unknown query parameter(s) 'enterprise'"),
    ("colour_nme=red", "unknown query parameter(s) 'colour_nme'"),
    ("level=high", "filter level takes a number"),
])
def test_bad_filters_are_400_listing_the_filterable_fields(client, query, message):
    r = client.get(f"/collections/risk_wall/items?{query}")
    assert r.status_code == 400
    assert message in r.json()["description"]
    if "unknown" in message:
        assert "plot_id, town, level" in r.json()["description"]


def test_a_planner_may_filter_on_private_fields(client):
    doc = client.get("/collections/industrial_plots/items?enterprise=机密企业3号", headers=PLANNER).json()
    assert [f["id"] for f in doc["features"]] == ["P004"]


# ------------------------------------------------------------------ one item
def test_one_feature_by_id(client):
    r = client.get("/collections/shelters/items/SH1")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    doc = r.json()
    assert doc["type"] == "Feature" and doc["id"] == "SH1" and doc["properties"]["capacity"] == 2500
    assert rels(doc)["collection"].endswith("/collections/shelters")


def test_derived_layers_have_composite_ids(client):
    doc = client.get("/collections/safety_buffers/items?limit=1", headers=PLANNER).json()
    fid = doc["features"][0]["id"]
    assert "~" in fid
    assert client.get(f"/collections/safety_buffers/items/{fid}", headers=PLANNER).json()["id"] == fid


def test_unknown_and_hidden_features_are_404(client):
    r = client.get("/collections/shelters/items/SH99")
    assert r.status_code == 404 and "no feature 'SH99'" in r.json()["description"]
    levels = {f["id"]: f["properties"]["level"]
              for f in client.get("/collections/risk_wall/items?limit=50", headers=PLANNER).json()["features"]}
    hidden = next(fid for fid, level in levels.items() if level > 2)
    assert client.get(f"/collections/risk_wall/items/{hidden}").status_code == 404
    assert client.get(f"/collections/risk_wall/items/{hidden}", headers=PLANNER).status_code == 200
