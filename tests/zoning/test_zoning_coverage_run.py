"""zoning.coverage.run: a coverage run on the tiny city (tests/zoning/zoning_world.py), load → compute → write.

Hand figures: roads at 10 m/s, 4 min driving = 2400 m of road; the radius fallback is
30 km/h × 240 s / 1.4 = 1428.6 m; town T1 holds 16 000 people spread evenly (10 per 100 m cell).
"""

from __future__ import annotations

import itertools
import math
import warnings

import geopandas
import numpy as np
import pandas
import pytest
import shapely
from shapely import LineString

from geo.errors import InputError
from layers.errors import LayerNotFound
from zoning.coverage.run import (COVERAGE_INPUTS, COVERAGE_LAYERS, _candidate_cover, compute_coverage,
                                 load_population, run_coverage, station_candidates)
from zoning.coverage.network import RoadGraph, coverage_rules
from zoning.pipeline import input_fingerprint
from zoning.rules import load_ruleset
from zoning_world import GK, X0, Y0, at, build_store, copy_store, layers

RS = load_ruleset()
RADIUS = 30 / 3.6 * 240 / 1.4


def circle_area(r: float) -> float:
    """Area of shapely's default buffer of a point: a 32-gon (quad_segs = 8) of radius r."""
    return 16 * r * r * math.sin(2 * math.pi / 32)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("world"), zone=False)


@pytest.fixture(scope="module")
def result(world, tmp_path_factory):
    store = copy_store(world, tmp_path_factory.mktemp("run"))
    return store, run_coverage(store, RS, suggest=2)


def test_layers_are_written_with_rule_set_and_fingerprint(result):
    store, res = result
    expected = input_fingerprint(store, RS, names=COVERAGE_INPUTS)
    assert res.fingerprint == expected and res.ruleset_version == RS.label
    for name in COVERAGE_LAYERS:
        info = store.info(name)
        assert (info.derived, info.ruleset_version, info.fingerprint) == (True, RS.label, expected)
    assert store.read("coverage_areas")["station_id"].tolist() == ["S1", "S2"]   # the micro station does not count
    assert set(store.read("coverage_gaps")["code"]) == {"T1", "T2"}
    assert store.info("shelter_assignments").rows == len(res.layers["shelter_assignments"]) > 0


def test_a_new_input_version_changes_the_fingerprint(world, tmp_path):
    store = copy_store(world, tmp_path)
    before = input_fingerprint(store, RS, names=COVERAGE_INPUTS)
    store.write("shelters", store.read("shelters"))
    assert input_fingerprint(store, RS, names=COVERAGE_INPUTS) != before


def test_a_town_without_roads_uses_the_radius_and_says_so(result):
    _, res = result
    assert res.roadless_towns.to_dict("records") == [{"code": "T2", "name": "Roadless town"}]
    st = res.stations.set_index("station_id")
    assert st.loc["S1", "method"] == "network" and st.loc["S1", "snap_m"] == 0.0
    assert st.loc["S2", "method"] == "radius fallback"
    circle = res.layers["coverage_areas"].to_crs(GK).set_index("station_id").loc["S2", "geometry"]
    assert circle.area == pytest.approx(circle_area(RADIUS), rel=1e-4)
    assert not any("S2" in w for w in res.warnings)   # expected, not a network problem


def test_uncovered_hazard_sites_come_major_hazards_first(result):
    _, res = result
    # H3 (declared grade 2) is 2.1 km from S2, beyond 1428.6 m; H2 is 3 km of road from S1; H1 is reached.
    assert res.uncovered_sites["site_id"].tolist() == ["H3", "H2"]
    assert res.uncovered_sites["major_hazard_grade"].tolist() == [2, 0]


def test_population_shares_follow_the_covered_area_on_an_even_raster(result):
    _, res = result
    fig = res.figures.set_index("code")
    assert res.population_source == "raster"
    assert fig.loc["T1", "population"] == pytest.approx(16_000)
    assert fig.loc["T2", "population"] == 0 and np.isnan(fig.loc["T2", "population_share"])
    # Evenly spread people: the covered share of people is the covered share of the town.
    assert fig.loc["T1", "population_share"] == pytest.approx(fig.loc["T1", "area_share"], rel=1e-9)
    assert fig.loc["city", "population_share"] == pytest.approx(fig.loc["T1", "population_share"], rel=1e-9)
    assert fig.loc["city", "targets"] == 2 and fig.loc["city", "covered_targets"] == 2


def test_over_capacity_shelters_and_people_beyond_reach(result):
    _, res = result
    loads = res.layers["shelter_loads"].set_index("shelter_id")
    assert loads.loc["E1", "capacity"] == 300 and loads.loc["F1", "capacity"] == 10_000  # GB 50413: 1 and 2 m²/person
    assert loads["load"].sum() == pytest.approx(16_000)
    assert res.over_capacity["shelter_id"].tolist() == ["E1"]
    assert 0 < res.beyond_reach["population"] < 16_000
    assert res.towns_without_team.empty


def test_the_suggestion_matches_brute_force(result):
    store, res = result
    s = res.suggestion
    assert s.status == "optimal" and s.minimum_status == "optimal" and s.k == 2
    # Rebuild the demand and coverage matrix the way suggest_stations does, and try every choice.
    r = coverage_rules(RS)
    frames = {k: v.to_crs(GK) for k, v in layers().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = RoadGraph.from_roads(frames["roads"], r)
    cand = station_candidates(graph, frames["admin_areas"].iloc[[2]], 1000.0, GK)
    cells = load_population(store, 500.0)
    pts = shapely.point_on_surface(cells.geometry.to_numpy())
    cover = shapely.union_all(res.layers["coverage_areas"].to_crs(GK).geometry.to_numpy())
    open_ = ~shapely.intersects(cover, pts) & (cells["population"].to_numpy() > 0)
    a = _candidate_cover(graph, cand, pts[open_], r).toarray()
    w = cells["population"].to_numpy()[open_]
    best = max(w[a[:, list(pair)].any(axis=1)].sum() for pair in itertools.combinations(range(a.shape[1]), 2))
    assert s.newly_covered == pytest.approx(best)
    coverable = a.any(axis=1)
    fewest = next(n for n in range(1, a.shape[1] + 1) if any(
        a[coverable][:, list(c)].any(axis=1).all() for c in itertools.combinations(range(a.shape[1]), n)))
    assert len(s.minimum_sites) == fewest


def test_minutes_change_the_budget_and_the_fingerprint(world, tmp_path):
    store = copy_store(world, tmp_path)
    res = run_coverage(store, RS, minutes=8)
    assert res.rules.driving_s == 420.0
    assert res.fingerprint != input_fingerprint(store, RS, names=COVERAGE_INPUTS)
    circle = res.layers["coverage_areas"].to_crs(GK).set_index("station_id").loc["S2", "geometry"]
    assert circle.area == pytest.approx(circle_area(30 / 3.6 * 420 / 1.4), rel=1e-4)


def test_too_short_a_response_is_refused_and_writes_nothing(world, tmp_path):
    store = copy_store(world, tmp_path)
    with pytest.raises(InputError, match="no driving time after the 1 min turnout"):
        run_coverage(store, RS, minutes=1)
    assert not store.exists("coverage_areas")


def test_without_any_road_every_station_uses_the_radius():
    frames = {k: v for k, v in layers().items() if k != "roads"}
    res = compute_coverage(frames, RS, suggest=1)
    assert set(res.stations["method"]) == {"radius fallback"}
    assert res.roadless_towns["code"].tolist() == ["T1", "T2"]
    assert res.population_source == "protected_targets"
    assert set(res.suggestion.sites["source"]) == {"grid"}


def test_a_station_off_the_network_is_snapped_and_reported():
    frames = layers()
    stations = frames["rescue_stations"].to_crs(GK)
    extra = geopandas.GeoDataFrame({"station_id": ["S9"], "kind": ["small"]}, geometry=[at(-800, 2000)], crs=GK)
    frames["rescue_stations"] = pandas.concat([stations, extra], ignore_index=True).to_crs("EPSG:4490")
    res = compute_coverage(frames, RS)
    row = res.stations.set_index("station_id").loc["S9"]
    assert row["method"] == "radius fallback" and row["snap_m"] == pytest.approx(800, abs=0.01)
    assert any("S9" in w and "radius fallback" in w for w in res.warnings)


def test_a_disconnected_network_and_zero_capacity_shelters_are_warnings():
    frames = layers()
    island = geopandas.GeoDataFrame({"road_id": ["island"], "class": ["tertiary"], "speed_kmh": [36.0]},
                                    geometry=[LineString([(X0 + 3100, Y0 + 3100), (X0 + 3200, Y0 + 3200)])], crs=GK)
    frames["roads"] = pandas.concat([frames["roads"].to_crs(GK), island], ignore_index=True).to_crs("EPSG:4490")
    shelters = frames["shelters"].copy()
    shelters.loc[0, "effective_area_m2"] = 0.0
    frames["shelters"] = shelters
    res = compute_coverage(frames, RS)
    assert any("disconnected parts" in w for w in res.warnings)
    assert any("zero capacity" in w and "E1" in w for w in res.warnings)


@pytest.mark.parametrize("drop, message", [("rescue_stations", "rescue_stations"), ("admin_areas", "admin_areas")])
def test_missing_required_layers(drop, message):
    frames = {k: v for k, v in layers().items() if k != drop}
    with pytest.raises(LayerNotFound, match=message):
        compute_coverage(frames, RS)


def test_no_station_of_a_counted_kind():
    frames = layers()
    frames["rescue_stations"] = frames["rescue_stations"][frames["rescue_stations"]["kind"] == "micro"]
    with pytest.raises(InputError, match="coverage_run.station_kinds"):
        compute_coverage(frames, RS)
