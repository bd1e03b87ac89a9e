"""zoning.siting.review: one verdict per case on the tiny city (tests/zoning/zoning_world.py), every reason checked.

Hand figures (default rule set): hazard site H1 at (2000, 2000) holds 2 t of chlorine, below its
5 t critical quantity, so its external safety distances are the specialist-code table's:
high-sensitivity and important 300 m, general I 200 m, II 150 m, III 100 m; consultation zone
300 m beyond. Fire station S1 at (1000, 1000), roads every 500 m at 10 m/s, 1 min turnout;
emergency shelter E1 at (1000, 1300), 200 m from its road node, service radius 500 m.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import shapely
from shapely import LineString, Point, Polygon

from geo.errors import GeometryError, InputError
from layers.errors import LayerNotFound
from zoning.errors import RuleSetError
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset
from zoning.siting.context import SitingContext
from zoning.siting.review import proposal_geometry, render_siting_report, review_site
from zoning.siting.rules import parse_siting_rules
from zoning_world import build_store, copy_store, layers, lonlat

RS = load_ruleset()
CHLORINE = [{"name": "chlorine", "quantity_t": 2}]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("siting"))


@pytest.fixture(scope="module")
def context(store):
    return SitingContext.from_store(store, RS)


def review(context, x, y, kind, **kw):
    return review_site(lonlat(Point(x, y)), kind, context=context, ruleset=RS, **kw)


def reasons(verdict) -> dict:
    return {r.rule: r for r in verdict.reasons}


def test_veto_a_school_inside_the_distance_of_its_class(context):
    v = review(context, 2250, 2000, "school", population=600)
    assert (v.verdict, v.zone, v.gb36894_class, v.sensitivity) == ("veto", "inner", "high_sensitivity", 3)
    why = reasons(v)
    veto = why["veto_own_class"]
    assert veto.verdict == "veto" and veto.figures["site_id"] == "H1"
    assert veto.figures["required_m"] == 300.0
    assert veto.figures["actual_m"] == pytest.approx(250.0, abs=0.01)
    assert veto.figures["shortfall_m"] == pytest.approx(50.0, abs=0.01)
    assert "一票否决" in veto.zh and "H1" in veto.en and "short by 50.0 m" in veto.en
    assert why["zone"].verdict == "advise_against"          # level 3, inner
    assert why["zone_colour"].figures["level"] == 1            # P1 is red: its grid cell is red
    assert {(b["site_id"], b["target_class"], b["own_class"]) for b in v.buffers} == {
        ("H1", "high_sensitivity", True), ("H1", "important", False)}
    assert [t["target_id"] for t in v.nearby["targets"]] == ["PT1"]
    assert [s["site_id"] for s in v.nearby["sites"]] == ["H1"]
    assert v.nearby["plots"][0]["plot_id"] == "P1" and v.nearby["plots"][0]["colour_name"] == "red"


def test_advise_against_large_housing_in_the_middle_zone(context):
    # 150 residents: general class I (≥ 100), sensitivity 3; 250 m from H1 is inside its 300 m
    # high-sensitivity distance but outside the 200 m of general I: the middle zone.
    v = review(context, 1750, 2000, "housing", population=150)
    assert (v.verdict, v.zone, v.gb36894_class, v.sensitivity) == ("advise_against", "middle", "general_1", 3)
    why = reasons(v)
    assert why["zone"].verdict == "advise_against"
    assert why["zone"].figures["target_class"] == "high_sensitivity"
    assert why["zone"].figures["actual_m"] == pytest.approx(250.0, abs=0.01)
    assert "veto_own_class" not in why and "veto_crowded" not in why
    assert why["zone_colour"].verdict == "advise_against" and why["zone_colour"].figures["colour_name"] == "red"
    assert why["fire"].verdict == "permitted" and why["fire"].figures["station_id"] == "S1"


def test_conditional_an_office_in_the_middle_zone(context):
    v = review(context, 1740, 2000, "office", population=50)
    assert (v.verdict, v.zone, v.gb36894_class, v.sensitivity) == ("conditional", "middle", "general_2", 1)
    why = reasons(v)
    assert why["zone"].verdict == "conditional" and why["zone"].figures["site_id"] == "H1"
    assert why["zone_colour"].verdict == "conditional"       # red zone, sensitivity 1
    shelter = why["shelter"]
    assert shelter.verdict == "conditional" and shelter.figures["shelter_id"] == "E1"
    # 240 m to node (1500, 2000), 1000 m of road to (1000, 1500), 200 m to E1.
    assert shelter.figures["distance_m"] == pytest.approx(1440.0, abs=0.5)
    assert not shelter.figures["within"] and "beyond its 500 m service radius" in shelter.en


def test_permitted_an_office_far_from_every_hazard(context):
    v = review(context, 1100, 1400, "office", population=50)
    assert (v.verdict, v.zone) == ("permitted", "none")
    assert {r.verdict for r in v.reasons} == {"permitted"}
    why = reasons(v)
    assert why["zone_colour"].figures["colour_name"] == "green"
    fire = why["fire"].figures
    # S1 → node (1000, 1500): 500 m at 10 m/s; the last 141.4 m off the road at 30 km/h; 1 min turnout.
    assert (fire["station_id"], fire["method"], fire["within"]) == ("S1", "network", True)
    assert fire["response_min"] == pytest.approx((60 + 50 + 141.421 / (30 / 3.6)) / 60, abs=1e-3)
    shelter = why["shelter"].figures
    assert (shelter["shelter_id"], shelter["method"], shelter["within"]) == ("E1", "network", True)
    assert shelter["distance_m"] == pytest.approx(141.421 + 200.0, abs=0.5)
    assert v.buffers == [] and v.warnings == []


def test_on_the_edge_of_a_distance_is_outside_it(context):
    # The east side of these homes is exactly 200 m (the general I distance) from H1: not inside it,
    # though the lon/lat round trip of the stored layers leaves it a hair short.
    v = review_site(lonlat(shapely.box(1700, 1950, 1800, 2050)), "housing", context=context, population=150)
    assert (v.verdict, v.zone) == ("advise_against", "middle") and "veto_own_class" not in reasons(v)
    assert {b["target_class"] for b in v.buffers} == {"high_sensitivity", "important"}


def test_veto_a_crowded_place_inside_any_distance(context):
    # A crowded place is general class I (200 m from H1): at 240 m it is outside that, but crowded
    # places may not stand inside any external safety distance (H1's largest is 300 m).
    v = review(context, 1760, 2000, "crowded_place", population=800)
    why = reasons(v)
    assert v.verdict == "veto" and "veto_own_class" not in why
    assert why["veto_crowded"].figures == pytest.approx({"site_id": "H1", "required_m": 300.0, "actual_m": 240.0},
                                                        abs=0.01)


def test_veto_a_hazardous_plant_that_would_swallow_a_school(context):
    v = review(context, 2450, 2000, "hazardous_plant", inventory=CHLORINE, population=40)
    why = reasons(v)
    assert v.verdict == "veto" and why["plant_swallows"].verdict == "veto"
    assert "PT1" in why["plant_swallows"].en and "实验小学" in why["plant_swallows"].zh
    assert why["plant_swallows"].figures["subjects"] == ["PT1"]
    assert v.plant["grade"] == 0 and v.plant["ratio_sum"] == pytest.approx(0.4)
    assert {d["target_class"]: d["distance_m"] for d in v.plant["distances"]}["high_sensitivity"] == 300.0
    school = next(s for s in v.plant["swallowed"] if s["subject_id"] == "PT1")
    assert school["rule"] == "class_buffer" and school["actual_m"] == pytest.approx(180.0, abs=0.01)
    assert why["zone"].verdict == "permitted" and v.zone == "outer"   # the plant itself: people at work
    assert any(f["layer"] == "plant_buffer" for f in v.features)


def test_a_plant_far_from_everyone_is_not_vetoed(context):
    v = review(context, 3000, 3800, "hazardous_plant", inventory=[{"name": "methanol", "quantity_t": 10}])
    assert v.verdict != "veto" and "plant_swallows" not in reasons(v)
    assert v.plant["swallowed"] == []


@pytest.mark.parametrize("geometry, kind, kw, error, message", [
    (Polygon([(119.95, 31.70), (119.96, 31.71), (119.96, 31.70), (119.95, 31.71)]), "school", {}, GeometryError,
     "Self-intersection"),
    (Polygon(), "school", {}, InputError, "empty"),
    (None, "school", {}, InputError, "expected a shapely geometry"),
    (LineString([(120.0, 31.6), (120.01, 31.61)]), "school", {}, GeometryError, "a point or a polygon"),
    (Point(500_100.0, 3_500_100.0), "school", {}, InputError, "not longitude/latitude"),
    (Point(120.01, 31.62), "zoo", {}, InputError, "unknown kind 'zoo'; kinds: school, kindergarten"),
    (Point(120.01, 31.62), "school", {"population": -3}, InputError, "whole number of persons"),
    (Point(120.01, 31.62), "school", {"population": "many"}, InputError, "number of persons"),
    (Point(120.01, 31.62), "hazardous_plant", {}, InputError, "needs an inventory"),
    (Point(120.01, 31.62), "school", {"inventory": CHLORINE}, InputError, "only for kind hazardous_plant"),
    (Point(120.01, 31.62), "hazardous_plant", {"inventory": [{"name": "unobtainium", "quantity_t": 1}]},
     InputError, "no substance the rule set knows"),
    (Point(120.01, 31.62), "hazardous_plant", {"inventory": [{"name": "chlorine", "quantity_t": "lots"}]},
     InputError, "quantity_t"),
    (Point(120.01, 31.62), "hazardous_plant", {"inventory": "{not json"}, InputError, "not valid JSON"),
    (Point(116.40, 39.90), "school", {}, InputError, "outside the data area"),
])
def test_bad_input_is_refused_with_a_clear_error(context, geometry, kind, kw, error, message):
    with pytest.raises(error, match=re.escape(message)):
        review_site(geometry, kind, context=context, **kw)


def test_just_outside_the_data_area_is_conditional_with_a_warning(context):
    v = review(context, -1000, 1400, "office", population=50)
    why = reasons(v)
    assert v.verdict == "conditional" and why["outside_data_area"].figures["outside_m"] == pytest.approx(1000, abs=1)
    assert any("outside the data area" in w for w in v.warnings)


def test_proposal_geometry_from_geojson():
    point = {"type": "Point", "coordinates": [120.01, 31.62]}
    assert proposal_geometry(point).wkt == "POINT (120.01 31.62)"
    square = lambda x: {"type": "Polygon", "coordinates": [[[x, 31.6], [x + .001, 31.6], [x + .001, 31.601],  # noqa: E731
                                                           [x, 31.601], [x, 31.6]]]}
    both = proposal_geometry({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": square(120.0)},
        {"type": "Feature", "properties": {}, "geometry": square(120.01)}]})
    assert both.geom_type == "MultiPolygon"
    for bad, message in (([1, 2], "GeoJSON object"), ({"type": "FeatureCollection", "features": []}, "no features"),
                         ({"type": "Feature", "geometry": None}, "no geometry"),
                         ({"type": "Point", "coordinates": "x"}, "cannot be read"),
                         ({**point, "crs": {"type": "name", "properties": {"name": "EPSG:4549"}}}, "lon/lat")):
        with pytest.raises((InputError, GeometryError), match=message):
            proposal_geometry(bad)


def test_a_store_without_zoning_is_refused(tmp_path):
    bare = build_store(tmp_path, population=False, zone=False)
    with pytest.raises(LayerNotFound, match="run `riskmap zone --store"):
        SitingContext.from_store(bare, RS)


def test_stale_derived_layers_give_a_warning(store, tmp_path):
    copy = copy_store(store, tmp_path)
    copy.write("protected_targets", copy.read("protected_targets"))
    v = review(SitingContext.from_store(copy, RS), 1100, 1400, "office", population=50)
    assert any("re-run `riskmap zone`" in w for w in v.warnings)


def test_without_roads_the_fire_station_is_reached_by_the_radius_fallback(store):
    frames = {name: store.read(name) for name in ("risk_wall", "safety_buffers", "risk_zones", "hazard_sites",
                                                   "protected_targets", "rescue_stations", "shelters", "admin_areas")}
    v = review(SitingContext.from_frames(frames, RS), 1100, 1400, "office", population=50)
    fire = v.fire
    assert fire["method"] == "radius fallback" and fire["station_id"] == "S1"
    assert fire["response_min"] == pytest.approx((60 + 412.311 * 1.4 / (30 / 3.6)) / 60, abs=1e-3)
    assert v.shelter["method"] == "straight line"


def test_the_verdict_is_json_and_the_report_is_self_contained(context):
    v = review(context, 2250, 2000, "school", population=600)
    d = json.loads(json.dumps(v.to_dict(), ensure_ascii=False, allow_nan=False))  # strict JSON, as a web API sends
    assert d["verdict"] == "veto" and d["verdict_zh"] == "一票否决" and d["geometry"]["type"] == "Point"
    layers_drawn = {f["properties"]["layer"] for f in d["map"]["features"]}
    assert {"proposal", "safety_buffer", "hazard_site", "target", "plot", "risk_zone"} <= layers_drawn
    html = render_siting_report(v)
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "</html>" in html
    assert "一票否决" in html and "veto" in html and "H1" in html and "实验小学" in html
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?\s*http""", html, flags=re.I)
    assert "http" not in html and "<script" not in html and "<link" not in html
    assert render_siting_report(d).split("生成 generated")[0] == html.split("生成 generated")[0]


def _rules(**changes) -> RuleSet:
    tables = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
    for path, value in changes.items():
        node = tables["siting"]
        *head, last = path.split("__")
        for key in head:
            node = node[key]
        node[last] = value
    return RuleSet("test", "0", Path("test.toml"), "", tables)


@pytest.mark.parametrize("change, message", [
    ({"matrix__level_2__inner": "maybe"}, "siting.matrix.level_2.inner: 'maybe' is not one of permitted"),
    ({"colour__level_1": ["veto"]}, "siting.colour.level_1: expected 4 verdicts"),
    ({"kinds__school__target_kind": "castle"}, "siting.kinds.school.target_kind: 'castle'"),
    ({"kinds__school__sensitivity": [{"min_population": 10, "level": 3}]}, "must start at 0"),
    ({"veto_classes": ["vip"]}, "siting.veto_classes"),
])
def test_rule_set_errors_name_the_key(change, message):
    with pytest.raises(RuleSetError, match=re.escape(message)):
        parse_siting_rules(_rules(**change))


def test_layers_fixture_is_valid():
    assert set(layers()) >= {"roads", "rescue_stations", "hazard_sites", "protected_targets", "shelters"}
