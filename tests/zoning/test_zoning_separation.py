"""Separation checks on hand-built geometry: on / just inside / just outside each distance."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.errors import CRSError, InputError
from zoning.errors import RuleSetError
from zoning.hazards.major_hazard import parse_major_hazard_rules
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset
from zoning.hazards.separation import RULES as RULE_NAMES
from zoning.hazards.separation import find_violations, parse_separation_rules

RAW = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
CRS = "EPSG:4549"


def ruleset(tables: dict) -> RuleSet:
    return RuleSet(name="test", version="0", path=Path("test.toml"), digest="", tables=tables)


RULES = parse_separation_rules(ruleset(RAW))
MH = parse_major_hazard_rules(ruleset(RAW))


def gdf(rows: list[dict], crs=CRS) -> gpd.GeoDataFrame:
    if not rows:   # no targets
        return gpd.GeoDataFrame({"target_id": [], "kind": [], "gb36894_class": []}, geometry=[], crs=crs)
    return gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in rows],
                            geometry=[r["geometry"] for r in rows], crs=crs)


def site(site_id="S", geometry=shapely.Point(0, 0), inventory=(("chlorine", 10),), plot_id="P0"):
    return {"site_id": site_id, "plot_id": plot_id, "geometry": geometry,
            "inventory": json.dumps([{"name": n, "quantity_t": q} for n, q in inventory])}


def target(target_id, x, y, cls="high_sensitivity", kind="school"):
    return {"target_id": target_id, "kind": kind, "gb36894_class": cls, "geometry": shapely.Point(x, y)}


def buffers(site_id="S", **distances) -> pd.DataFrame:
    """A safety_buffers table (figures only): one row per class given."""
    return pd.DataFrame({"site_id": site_id, "target_class": list(distances), "method": "table",
                         "distance_m": list(distances.values())})


def check(targets, bufs, sites, **kw) -> gpd.GeoDataFrame:
    return find_violations(gdf(targets), bufs, gdf(sites), rules=RULES, major_hazard_rules=MH, **kw)


def test_default_ruleset_loads_with_the_separation_table():
    assert parse_separation_rules(load_ruleset()) == RULES


@pytest.mark.parametrize("x, violates", [(500.0, False), (499.99, True), (500.01, False), (0.0, True)])
def test_point_site_on_just_inside_just_outside(x, violates):
    """Site at the origin, 500 m for high-sensitivity targets: a school exactly 500 m away stands on
    the edge and complies (inside means actual < required); 499.99 m is short by 0.01 m."""
    v = check([target("T", x, 0.0)], buffers(high_sensitivity=500.0), [site()])
    assert len(v) == int(violates)
    if violates:
        row = v.iloc[0]
        assert (row["rule"], row["subject_layer"], row["subject_id"], row["site_id"], row["target_class"]) == (
            "class_buffer", "protected_targets", "T", "S", "high_sensitivity")
        assert row["actual_m"] == pytest.approx(x)
        assert row["shortfall_m"] == pytest.approx(500.0 - x)
        assert "short by" in row["reason"]


@pytest.mark.parametrize("x, violates", [(600.0, False), (599.9, True), (600.1, False)])
def test_polygon_site_measures_from_its_edge(x, violates):
    """Site box (0, 0)–(100, 100): a target at (600, 50) is exactly 500 m from its east edge."""
    v = check([target("T", x, 50.0)], buffers(high_sensitivity=500.0),
              [site(geometry=shapely.box(0, 0, 100, 100))])
    assert len(v) == int(violates)


def test_only_the_distance_of_the_targets_own_class_applies():
    # a general-III house at 400 m: inside the 500 m of high-sensitivity targets, outside its own 300 m
    v = check([target("H", 400, 0, cls="general_3", kind="residential"), target("K", 450, 0)],
              buffers(high_sensitivity=500.0, general_3=300.0), [site()])
    assert v["subject_id"].tolist() == ["K"]


def test_crowded_places_may_not_stand_inside_any_distance():
    # crowded place of class general_3 at 400 m: outside its own 300 m, inside the site's largest (500 m)
    v = check([target("C", 400, 0, cls="general_3", kind="crowded_place")],
              buffers(high_sensitivity=500.0, general_3=300.0), [site()])
    assert v["rule"].tolist() == ["crowded_in_any_buffer"]
    assert (v.loc[0, "required_m"], v.loc[0, "target_class"]) == (500.0, "high_sensitivity")
    on_edge = check([target("C", 500, 0, cls="general_3", kind="crowded_place")],
                    buffers(high_sensitivity=500.0, general_3=300.0), [site()])
    assert on_edge.empty


def test_labour_intensive_plots_inside_any_distance():
    plots = gdf([
        {"plot_id": "BUSY", "workers": 30, "geometry": shapely.box(300, -50, 400, 50)},
        {"plot_id": "QUIET", "workers": 29, "geometry": shapely.box(-400, -50, -300, 50)},
        {"plot_id": "P0", "workers": 900, "geometry": shapely.box(-50, -50, 50, 50)},   # the site's own
        {"plot_id": "FAR", "workers": 500, "geometry": shapely.box(500, -50, 600, 50)},  # edge at 500 m
    ])
    v = check([], buffers(high_sensitivity=500.0), [site()], plots=plots)
    assert v["subject_id"].tolist() == ["BUSY"]
    assert v.loc[0, "subject_layer"] == "industrial_plots"
    assert v.loc[0, "actual_m"] == pytest.approx(300.0)


@pytest.mark.parametrize("x, violates", [(1000.0, False), (999.9, True)])
def test_shelters_keep_1000m_from_flammable_or_explosive_sites(x, violates):
    shelters = gdf([{"shelter_id": "H", "geometry": shapely.Point(x, 0)}])
    v = check([], buffers(), [site(inventory=(("methanol", 10),))], shelters=shelters)
    assert len(v) == int(violates)
    if violates:
        assert (v.loc[0, "rule"], v.loc[0, "required_m"]) == ("shelter_near_hazard", 1000.0)
        assert "GB 50413-2007" in v.loc[0, "reason"]


def test_shelters_near_a_toxic_only_site_are_not_flagged_but_ammonia_burns():
    shelters = gdf([{"shelter_id": "H", "geometry": shapely.Point(300, 0)}])
    assert check([], buffers(), [site(inventory=(("chlorine", 10),))], shelters=shelters).empty
    assert len(check([], buffers(), [site(inventory=(("ammonia", 10),))], shelters=shelters)) == 1


@pytest.mark.parametrize("x, violates", [(300.0, False), (299.0, True)])
def test_fire_stations_keep_300m_from_hazardous_chemical_sites(x, violates):
    stations = gdf([{"station_id": "F", "geometry": shapely.Point(x, 0)}])
    v = check([], buffers(), [site()], stations=stations)
    assert len(v) == int(violates)
    if violates:
        assert (v.loc[0, "rule"], v.loc[0, "subject_layer"]) == ("station_near_hazard", "rescue_stations")
        assert "建标152-2017" in v.loc[0, "reason"]


def test_domino_pairs_are_reported_once():
    # A–B 150 m, B–C 200 m (on the threshold: compliant), A–C 350 m
    sites = [site("A", shapely.Point(0, 0)), site("B", shapely.Point(150, 0)), site("C", shapely.Point(350, 0))]
    v = check([], buffers("A"), sites)
    assert v[["rule", "site_id", "subject_id"]].values.tolist() == [["domino", "A", "B"]]
    assert v.loc[0, "shortfall_m"] == pytest.approx(50.0)


def test_all_rules_together_and_the_layer_shape():
    sites = [site("A", shapely.Point(0, 0), inventory=(("hydrogen", 10),)), site("B", shapely.Point(100, 0))]
    v = check([target("T", 50, 300), target("C", -400, 0, cls="general_3", kind="labour_intensive")],
              pd.concat([buffers("A", high_sensitivity=600.0, general_3=100.0), buffers("B", general_3=50.0)]),
              sites, shelters=gdf([{"shelter_id": "H", "geometry": shapely.Point(0, 900)}]),
              stations=gdf([{"station_id": "F", "geometry": shapely.Point(0, -250)}]))
    assert v.attrs["layer"] == "separation_violations"
    assert v.crs.to_epsg() == 4549
    assert v.columns.tolist() == ["rule", "subject_layer", "subject_id", "site_id", "target_class",
                                  "required_m", "actual_m", "shortfall_m", "reason", "geometry"]
    assert sorted(set(v["rule"])) == sorted(RULE_NAMES)
    assert (v["shortfall_m"] > 0).all()


def test_no_violation_gives_an_empty_layer_with_its_columns():
    v = check([target("T", 5000, 0)], buffers(high_sensitivity=500.0), [site()])
    assert v.empty and v.crs.to_epsg() == 4549 and "shortfall_m" in v.columns


def test_layers_in_different_crs_are_refused():
    with pytest.raises(CRSError, match="different CRSs"):
        find_violations(gdf([target("T", 1, 1)], crs="EPSG:32650"), buffers(), gdf([site()]), rules=RULES)


def test_geographic_sites_are_refused():
    with pytest.raises(CRSError, match="EPSG:4490"):
        find_violations(gdf([target("T", 120, 31)], crs="EPSG:4490"), buffers(),
                        gdf([site(geometry=shapely.Point(120, 31))], crs="EPSG:4490"), rules=RULES)


def test_shelters_need_the_substance_table():
    with pytest.raises(InputError, match="major_hazard_rules"):
        find_violations(gdf([target("T", 1, 1)]), buffers(), gdf([site()]),
                        shelters=gdf([{"shelter_id": "H", "geometry": shapely.Point(0, 0)}]), rules=RULES)


def test_missing_columns_and_unknown_buffer_sites_are_refused():
    with pytest.raises(InputError, match="gb36894_class"):
        check([{"target_id": "T", "kind": "school", "geometry": shapely.Point(0, 0)}], buffers(), [site()])
    with pytest.raises(InputError, match="ghost"):
        check([target("T", 1, 1)], buffers("ghost", general_1=10.0), [site()])


@pytest.mark.parametrize("key, value, key_path", [
    ("shelter_min_distance_m", -1.0, r"separation\.shelter_min_distance_m: -1\.0 is below the minimum 0"),
    ("station_min_distance_m", "300 m", r"separation\.station_min_distance_m: expected a number"),
    ("domino_min_distance_m", KeyError, r"separation\.domino_min_distance_m: missing"),
    ("crowded_kinds", ["crowded_place", "stadium"], r"separation\.crowded_kinds: .* must be among"),
    ("labour_intensive_min_workers", 0, r"separation\.labour_intensive_min_workers: 0 is below the minimum 1"),
])
def test_bad_rule_sets_name_the_key_path(key, value, key_path):
    tables = copy.deepcopy(RAW)
    if value is KeyError:
        del tables["separation"][key]
    else:
        tables["separation"][key] = value
    with pytest.raises(RuleSetError, match=key_path):
        parse_separation_rules(ruleset(tables))
