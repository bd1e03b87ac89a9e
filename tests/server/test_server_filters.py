"""OGC API - Features Part 3 on the fixture city: CQL2 filters, queryables, sortby, properties, ids.

Every expected set of features is computed here from the store's own rows with plain pandas /
shapely (the caller's rows: for the public, the disclosed plots of the risk wall), never taken from
the server; CQL2 text and CQL2 JSON of the same filter must agree. Redaction: a private field is
refused in filter, sortby and properties with the very message an absent field gets.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from server_common import PLANNER, TOWN_WEST

WALL = "/collections/risk_wall/items"
PLOTS = "/collections/industrial_plots/items"


def ids(client, url, params, headers=None) -> list[str]:
    r = client.get(url, params={"limit": 50, **params}, headers=headers or {})
    assert r.status_code == 200, r.text
    return [f["id"] for f in r.json()["features"]]


@pytest.fixture(scope="module")
def wall(app) -> pd.DataFrame:
    frame = app.state.services.store.read("risk_wall")
    return frame[frame["level"] <= 2]  # what the public may see (公示较大以上安全风险)


@pytest.fixture(scope="module")
def plots(app):
    return app.state.services.store.read("industrial_plots")


def expected(frame, mask, column="plot_id") -> list[str]:
    return sorted(frame.loc[mask, column].astype(str))


# ------------------------------------------------------------------ CQL2 text and JSON
def test_a_cql2_text_filter_selects_the_rows_pandas_selects(client, wall):
    got = ids(client, WALL, {"filter": f"town = '{TOWN_WEST}' AND level = 1"})
    assert sorted(got) == expected(wall, (wall["town"] == TOWN_WEST) & (wall["level"] == 1))
    assert got  # the fixture has such plots


@pytest.mark.parametrize("text, document, rows", [
    ("level <> 1", {"op": "<>", "args": [{"property": "level"}, 1]}, lambda w: w["level"] != 1),
    ("plot_id LIKE 'P00_'", {"op": "like", "args": [{"property": "plot_id"}, "P00_"]},
     lambda w: w["plot_id"].str.fullmatch(r"P00.")),
    ("plot_id IN ('P001', 'P006', 'P999')", {"op": "in", "args": [{"property": "plot_id"}, ["P001", "P006", "P999"]]},
     lambda w: w["plot_id"].isin(["P001", "P006"])),
    ("level BETWEEN 2 AND 3", {"op": "between", "args": [{"property": "level"}, 2, 3]}, lambda w: w["level"] == 2),
    ("NOT (town = '320412001') OR plot_id = 'P001'",
     {"op": "or", "args": [{"op": "not", "args": [{"op": "=", "args": [{"property": "town"}, "320412001"]}]},
                           {"op": "=", "args": [{"property": "plot_id"}, "P001"]}]},
     lambda w: (w["town"] != "320412001") | (w["plot_id"] == "P001")),
    ("CASEI(colour) = casei('RED')", {"op": "=", "args": [{"op": "casei", "args": [{"property": "colour"}]},
                                                          {"op": "casei", "args": ["RED"]}]},
     lambda w: w["colour"].str.lower() == "red"),
    ("level * 2 + 1 >= 5", {"op": ">=", "args": [{"op": "+", "args": [{"op": "*", "args": [{"property": "level"}, 2]},
                                                                       1]}, 5]},
     lambda w: w["level"] * 2 + 1 >= 5),
])
def test_text_and_json_encodings_agree_with_pandas(client, wall, text, document, rows):
    want = expected(wall, rows(wall))
    assert sorted(ids(client, WALL, {"filter": text})) == want
    assert sorted(ids(client, WALL, {"filter": json.dumps(document), "filter-lang": "cql2-json"})) == want


def test_spatial_predicates_against_shapely(client, wall):
    box = (119.90, 31.68, 120.0, 31.75)
    area = shapely.box(*box)
    within = expected(wall, wall.geometry.within(area).to_numpy())
    intersecting = expected(wall, wall.geometry.intersects(area).to_numpy())
    assert within and intersecting
    assert sorted(ids(client, WALL, {"filter": f"S_WITHIN(geometry, {area.wkt})"})) == within
    assert sorted(ids(client, WALL, {"filter": "S_INTERSECTS(geometry, BBOX({},{},{},{}))".format(*box)})) \
        == intersecting == sorted(ids(client, WALL, {"bbox": ",".join(map(str, box))}))
    disjoint = {"op": "s_disjoint", "args": [{"property": "geometry"}, {"bbox": list(box)}]}
    assert sorted(ids(client, WALL, {"filter": json.dumps(disjoint), "filter-lang": "cql2-json"})) == \
        expected(wall, wall.geometry.disjoint(area).to_numpy())
    inside = wall.geometry.iloc[0].centroid
    contains = {"op": "s_contains", "args": [{"property": "geometry"},
                                             {"type": "Point", "coordinates": [inside.x, inside.y]}]}
    assert ids(client, WALL, {"filter": json.dumps(contains), "filter-lang": "cql2-json"}) == \
        [wall["plot_id"].iloc[0]]


def test_nulls_are_unknown_as_in_sql(client, app):
    roads = app.state.services.store.read("roads")
    named = roads["name"].notna()
    assert not named.all()  # R3 has no name
    people = "人民路"
    not_people = ids(client, "/collections/roads/items", {"filter": f"NOT name = '{people}'"})
    assert sorted(not_people) == sorted(roads.loc[named & (roads["name"] != people), "road_id"])  # no R3
    assert ids(client, "/collections/roads/items", {"filter": "name IS NULL"}) == \
        roads.loc[~named, "road_id"].tolist()


@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), n=st.integers(-10, 250))
def test_numeric_comparisons_match_pandas(client, plots, op, n):
    ops = {"=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
    want = expected(plots, getattr(plots["workers"], ops[op])(n))
    assert sorted(ids(client, PLOTS, {"filter": f"workers {op} {n}"}, PLANNER)) == want


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("params, words", [
    ({"filter": "T_AFTER(town, DATE('2020-01-01'))"}, "T_AFTER is not supported"),
    ({"filter": json.dumps({"op": "t_after", "args": [{"property": "town"}, {"date": "2020-01-01"}]}),
      "filter-lang": "cql2-json"}, "T_AFTER is not supported"),
    ({"filter": json.dumps({"op": "a_contains", "args": [{"property": "town"}, ["x"]]}),
      "filter-lang": "cql2-json"}, "A_CONTAINS is not supported"),
    ({"filter": "town = "}, "not valid CQL2 text"),
    ({"filter": "{not json", "filter-lang": "cql2-json"}, "not valid JSON"),
    ({"filter": "level = 'one'"}, "is a number"),
    ({"filter": "town = 320412001"}, "is text"),
    ({"filter": "S_INTERSECTS(geometry, POINT(13358338 3723000))"}, "CRS84 longitude/latitude"),
    ({"filter": "level = 1", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "filter-crs"),
    ({"filter": "level = 1", "filter-lang": "ecql"}, "filter-lang"),
    ({"sortby": "-nothing"}, "sortby: unknown property 'nothing'"),
    ({"properties": "level,nothing"}, "properties: unknown property 'nothing'"),
])
def test_bad_filters_are_400_naming_the_problem(client, params, words):
    r = client.get(WALL, params=params)
    assert r.status_code == 400 and words in r.json()["description"], r.text


@pytest.mark.parametrize("parameter, private, absent", [
    ("filter", "enterprise = 'x'", "enterprize = 'x'"),
    ("filter", "S_INTERSECTS(geometry, POINT(120 31.7)) AND contact IS NULL",
     "S_INTERSECTS(geometry, POINT(120 31.7)) AND contakt IS NULL"),
    ("sortby", "-enterprise", "-enterprize"),
    ("properties", "level,enterprise", "level,enterprize"),
])
def test_a_private_field_is_refused_exactly_like_an_absent_one(client, parameter, private, absent):
    a, b = client.get(WALL, params={parameter: private}), client.get(WALL, params={parameter: absent})
    assert a.status_code == b.status_code == 400
    name_a, name_b = ("enterprise", "enterprize") if "enterp" in private else ("contact", "contakt")
    assert a.json()["description"] == b.json()["description"].replace(name_b, name_a)
    assert "机密" not in a.text


def test_the_planner_may_filter_on_private_fields(client, plots):
    got = ids(client, PLOTS, {"filter": "enterprise LIKE '机密企业1%'"}, PLANNER)
    assert sorted(got) == expected(plots, plots["enterprise"].str.startswith("机密企业1"))


# ------------------------------------------------------------------ sortby, properties, ids
def test_sortby_orders_like_pandas_with_ties_in_layer_order(client, wall):
    got = ids(client, WALL, {"sortby": "-level,plot_id"})
    want = wall.sort_values(["level", "plot_id"], ascending=[False, True])["plot_id"].tolist()
    assert got == want
    plus = ids(client, WALL, {"sortby": "+level"})  # "+" arrives as a space unless encoded
    assert plus == wall.sort_values("level", kind="mergesort")["plot_id"].tolist()


def test_properties_keep_only_the_named_ones_and_ids_select_features(client):
    doc = client.get(WALL, params={"properties": "level,town", "ids": "P001,P006,P404"}).json()
    assert sorted(f["id"] for f in doc["features"]) == ["P001", "P006"]
    assert all(set(f["properties"]) == {"level", "town"} for f in doc["features"])
    assert all(f["geometry"] for f in doc["features"])
    none = client.get(WALL, params={"properties": "", "ids": "P001"}).json()["features"]
    assert none[0]["properties"] == {}


def test_paging_links_keep_the_filter(client):
    doc = client.get(WALL, params={"filter": "level <= 2", "limit": 2, "sortby": "plot_id"}).json()
    nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"][0]
    assert "filter=level" in nxt and "sortby=plot_id" in nxt


# ------------------------------------------------------------------ queryables
def test_queryables_are_a_json_schema_of_the_callers_view(client, app):
    r = client.get("/collections/risk_wall/queryables")
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    doc = r.json()
    assert doc["$schema"].startswith("https://json-schema.org/draft/2020-12") and doc["type"] == "object"
    props = doc["properties"]
    assert set(props) == {"plot_id", "town", "level", "colour", "colour_name", "colour_zh", "notice", "geometry"}
    assert props["level"]["type"] == "integer" and props["geometry"]["format"] == "geometry-any"
    planner = client.get("/collections/risk_wall/queryables", headers=PLANNER).json()["properties"]
    stored = app.state.services.store.read("risk_wall")
    assert set(planner) == {c for c in stored.columns if c != stored.geometry.name} | {"geometry"}
    assert len(planner) > len(props)  # the full view shows the private columns too


def test_queryables_carry_the_catalogue_titles_ranges_and_enumerations(client):
    props = client.get("/collections/shelters/queryables").json()["properties"]
    assert props["capacity"]["type"] == "integer" and props["capacity"]["minimum"] == 0
    assert props["capacity"]["maximum"] >= 10_000
    assert "emergency" in props["class"]["enum"] and "容纳" in props["capacity"]["title"]


def test_plain_json_clients_get_queryables_as_application_json(client):
    r = client.get("/collections/risk_wall/queryables", headers={"Accept": "application/geo+json, application/json"})
    assert r.headers["content-type"] == "application/json"
    assert {q["id"] for q in r.json()["queryables"]} == set(r.json()["properties"])


def test_a_collection_links_its_queryables(client):
    links = client.get("/collections/risk_wall").json()["links"]
    assert any(link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables" for link in links)
