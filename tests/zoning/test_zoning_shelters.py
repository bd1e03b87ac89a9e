"""zoning.coverage.shelters: nearest shelter by walking, service radius, load against capacity."""

from __future__ import annotations

import tomllib
import warnings

import geopandas
import numpy as np
import pytest
import shapely
from shapely import LineString, Point

from geo.errors import CRSError, InputError
from zoning.errors import RuleSetError
from zoning.coverage.network import RoadGraph, coverage_rules
from zoning.rules import DEFAULT_RULESET, RuleSet
from zoning.coverage.shelters import ShelterWarning, assess_shelters, shelter_capacity, shelter_rules

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_500_000.0


def ruleset(**shelters) -> RuleSet:
    tables = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
    tables["shelters"].update(shelters)
    return RuleSet("default", "test", DEFAULT_RULESET, "", tables)


def at(x, y):
    return Point(X0 + x, Y0 + y)


def layer(geoms, crs=GK, **columns):
    geoms = list(geoms)
    return geopandas.GeoDataFrame(columns, geometry=geoms, crs=crs, index=range(len(geoms)))


def graph_of(*polylines):
    lines = [LineString([(X0 + x, Y0 + y) for x, y in p]) for p in polylines]
    roads = layer(lines, road_id=[f"r{i}" for i in range(len(lines))], **{"class": "residential"})
    return RoadGraph.from_roads(roads, coverage_rules(ruleset()))


@pytest.fixture()
def town():
    """A road east along y=0 (nodes every 500 m to 3 km) and north along x=3000 (to 2 km)."""
    xs = range(0, 3000, 500)
    graph = graph_of(*[[(x, 0), (x + 500, 0)] for x in xs], [(3000, 0), (3000, 1000)], [(3000, 1000), (3000, 2000)])
    shelters = layer([at(0, 10), at(3000, 2000), at(1500, 0)], shelter_id=["E1", "F1", "Z"],
                     **{"class": ["emergency", "fixed_short", "emergency"]},
                     effective_area_m2=[100.0, 20_000.0, 0.0])
    demand = layer([at(0, -30), at(1000, 0), at(3000, 1900), at(5000, 2000)], target_id=list("abcd"),
                   population=[80, 50, 500, 7])
    return graph, shelters, demand


def test_nearest_shelter_by_walking_with_radius_and_load(town):
    graph, shelters, demand = town
    with pytest.warns(ShelterWarning, match="zero capacity and take nobody: Z"):
        out = assess_shelters(demand, shelters, ruleset(), graph)
    a = out.assignments
    assert a["shelter_id"].tolist() == ["E1", "E1", "F1", "F1"]
    assert a["method"].tolist() == ["network", "network", "network", "straight line"]
    assert a["distance_m"].tolist() == pytest.approx([40.0, 1010.0, 100.0, 2000 * 1.3])
    assert a["snap_m"].tolist()[:3] == pytest.approx([30.0, 0.0, 100.0])
    assert a["service_radius_m"].tolist() == [500.0, 500.0, 2000.0, 2000.0]
    assert a["within_radius"].tolist() == [True, False, True, False]
    assert out.beyond_reach["target_id"].tolist() == ["b", "d"]
    loads = out.loads.set_index("shelter_id")
    assert loads["capacity"].tolist() == [100.0, 10_000.0, 0.0]  # 100 m² at 1 m²/person, 20 000 at 2
    assert loads["load"].tolist() == [130.0, 507.0, 0.0]
    assert out.over_capacity["shelter_id"].tolist() == ["E1"]
    assert out.over_capacity["load_ratio"].tolist() == [1.3]


def test_straight_line_times_detour_without_a_network(town):
    _, shelters, demand = town
    with pytest.warns(ShelterWarning):
        out = assess_shelters(demand, shelters, ruleset(walking_detour_factor=1.5))
    assert out.assignments["method"].eq("straight line").all()
    assert out.assignments["distance_m"].iloc[1] == pytest.approx(np.hypot(1000, 10) * 1.5)


def test_network_part_without_shelters_falls_back_to_straight_line(town):
    graph, shelters, _ = town
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = graph_of([(0, 0), (500, 0)], [(0, 300), (500, 300)])
        out = assess_shelters(layer([at(400, 300)], population=[1]), shelters.iloc[:1], ruleset(), split)
    assert out.assignments["method"].tolist() == ["straight line"]
    assert out.assignments["distance_m"].iloc[0] == pytest.approx(np.hypot(400, 290) * 1.3)


def test_network_distances_match_a_brute_force_minimum():
    rng = np.random.default_rng(3)
    lines = [[(i * 100, j * 100), (i * 100 + 100, j * 100)] for i in range(9) for j in range(10)]
    lines += [[(i * 100, j * 100), (i * 100, j * 100 + 100)] for i in range(10) for j in range(9)]
    graph = graph_of(*lines)
    s_xy, d_xy = rng.uniform(0, 900, (6, 2)), rng.uniform(0, 900, (40, 2))
    shelters = layer([at(*p) for p in s_xy], shelter_id=[f"s{i}" for i in range(6)],
                     **{"class": "fixed_long"}, effective_area_m2=1e5)
    demand = layer([at(*p) for p in d_xy], population=1)
    out = assess_shelters(demand, shelters, ruleset(), graph).assignments
    s_nodes, s_snap = graph.snap(shelters)
    d_nodes, d_snap = graph.snap(demand)
    every = graph.walking_distances(s_nodes)[:, d_nodes] + s_snap[:, None] + d_snap[None, :]
    assert out["distance_m"].to_numpy() == pytest.approx(every.min(axis=0), abs=1e-9)
    chosen = every[out["shelter_id"].str[1:].astype(int).to_numpy(), np.arange(40)]
    assert chosen == pytest.approx(every.min(axis=0), abs=1e-9)


def test_all_shelters_without_capacity_warns_and_reaches_nobody(town):
    graph, shelters, demand = town
    empty = shelters.assign(effective_area_m2=0.0)
    with pytest.warns(ShelterWarning, match="3 shelter"):
        out = assess_shelters(demand, empty, ruleset(), graph)
    assert out.assignments["shelter_id"].isna().all()
    assert np.isinf(out.assignments["distance_m"]).all()
    assert len(out.beyond_reach) == 4 and out.loads["load"].eq(0).all()


def test_capacity_column_wins_and_unknown_class_is_refused():
    s = geopandas.GeoDataFrame({"class": ["emergency", "central"], "effective_area_m2": [10.0, 500.0],
                                "capacity": [None, 7]})
    assert shelter_capacity(s, ruleset()).tolist() == [10.0, 7.0]
    with pytest.raises(InputError, match="unknown shelter class 'tent'"):
        shelter_capacity(s.assign(**{"class": ["tent", "central"]}), ruleset())


def test_rules_cite_gb50413_figures_and_check_classes():
    r = shelter_rules(ruleset())
    assert r.classes["emergency"].service_radius_m == 500.0
    assert r.classes["emergency"].m2_per_person == 1.0
    assert {r.classes[c].m2_per_person for c in ("fixed_short", "fixed_medium", "fixed_long")} == {2.0}
    bad = ruleset()
    del bad.tables["shelters"]["classes"]["central"]
    with pytest.raises(RuleSetError, match="missing \\['central'\\]"):
        shelter_rules(bad)


def test_geographic_crs_is_refused(town):
    _, shelters, _ = town
    demand = layer([Point(120, 31.7)], crs="EPSG:4490", population=[1])
    with pytest.raises(CRSError, match="projected CRS in metres"):
        assess_shelters(demand, shelters.to_crs("EPSG:4490"), ruleset())
    with pytest.raises(CRSError, match="different CRSs"):
        assess_shelters(demand.to_crs(GK), shelters.to_crs("EPSG:32650"), ruleset())


def test_polygon_shelters_and_demand_cells(town):
    graph, _, _ = town
    shelters = layer([shapely.box(X0 - 20, Y0 - 20, X0 + 20, Y0 + 20)], shelter_id=["P"],
                     **{"class": "emergency"}, effective_area_m2=1600.0)
    cells = layer([shapely.box(X0 + 900, Y0 - 50, X0 + 1100, Y0 + 50)], population=[10.0])
    out = assess_shelters(cells, shelters, ruleset(), graph)
    assert out.assignments["distance_m"].iloc[0] == pytest.approx(1000.0)
