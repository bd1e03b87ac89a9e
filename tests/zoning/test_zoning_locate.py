"""zoning.coverage.locate: MCLP and LSCP against brute-force enumeration on small random instances."""

from __future__ import annotations

import itertools
import tomllib

import geopandas
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point

from geo.errors import CRSError, InputError
from zoning.coverage.locate import MaximalCovering, SetCovering, coverage_matrix
from zoning.coverage.network import RoadGraph, coverage_rules
from zoning.rules import DEFAULT_RULESET, RuleSet

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_500_000.0


def instance(seed: int):
    """A random instance: 4–10 demand points, 2–7 candidates, costs in a 1 km square."""
    rng = np.random.default_rng(seed)
    n, m = rng.integers(4, 11), rng.integers(2, 8)
    d, c = rng.uniform(0, 1000, (n, 2)), rng.uniform(0, 1000, (m, 2))
    cost = np.hypot(*(d[:, None, :] - c[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 100, n).astype(float)
    return cost, weights, float(rng.uniform(150, 500))


def brute_mclp(cover: np.ndarray, weights: np.ndarray, k: int) -> float:
    return max(weights[cover[:, list(s)].any(axis=1)].sum() for s in itertools.combinations(range(cover.shape[1]), k))


def brute_lscp(cover: np.ndarray) -> int:
    for size in range(1, cover.shape[1] + 1):
        if any(cover[:, list(s)].any(axis=1).all() for s in itertools.combinations(range(cover.shape[1]), size)):
            return size
    raise AssertionError("infeasible")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 7))
def test_mclp_exact_equals_brute_force_and_greedy_is_no_better(seed, k):
    cost, weights, service = instance(seed)
    k = min(k, cost.shape[1])
    exact = MaximalCovering.from_cost_matrix(cost, weights, service, k).solve("exact")
    greedy = MaximalCovering.from_cost_matrix(cost, weights, service, k).solve("greedy")
    best = brute_mclp(cost <= service, weights, k)
    assert exact.status == "optimal" and len(exact.selected) == k
    assert exact.covered_weight == pytest.approx(best)
    assert greedy.covered_weight <= exact.covered_weight + 1e-9
    assert len(greedy.selected) <= k


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_lscp_exact_equals_brute_force(seed):
    cost, _, service = instance(seed)
    service *= 1.5  # feasible more often than not; infeasible draws must raise
    cover = cost <= service
    if not cover.any(axis=1).all():
        with pytest.raises(InputError, match="infeasible"):
            SetCovering.from_cost_matrix(cost, service)
        return
    exact = SetCovering.from_cost_matrix(cost, service).solve("exact")
    greedy = SetCovering.from_cost_matrix(cost, service).solve("greedy")
    assert len(exact.selected) == brute_lscp(cover)
    assert exact.covered.all() and greedy.covered.all()
    assert len(greedy.selected) >= len(exact.selected)


def test_lscp_infeasible_names_the_uncoverable_demand_points():
    cost = np.array([[0.0, 10], [50, 60], [5, 0], [99, 99]])
    with pytest.raises(InputError, match=r"2 demand point\(s\) .*: school-2, home-4"):
        SetCovering.from_cost_matrix(cost, 20, demand_labels=["a", "school-2", "c", "home-4"])


def test_solve_returns_self_and_method_is_checked():
    model = MaximalCovering.from_cost_matrix([[0, 5], [5, 0]], [1, 2], service=1, k=1)
    assert model.solve("greedy") is model
    assert model.selected.tolist() == [1] and model.covered.tolist() == [False, True]
    with pytest.raises(InputError, match="accepted: exact, greedy"):
        model.solve("simplex")
    with pytest.raises(InputError, match="k must be between 0 and the 2 candidates"):
        MaximalCovering.from_cost_matrix([[0, 5], [5, 0]], [1, 2], service=1, k=3)


def test_constructors_build_the_subclass():
    class MyCovering(SetCovering):
        pass

    assert type(MyCovering.from_cost_matrix([[0.0]], 1)) is MyCovering


def test_coverage_matrix_treats_nan_as_uncovered():
    assert coverage_matrix([[0, np.nan], [np.inf, 3]], 3).toarray().tolist() == [[True, False], [False, True]]


def layer(points, crs=GK, **columns):
    return geopandas.GeoDataFrame(columns, geometry=points, crs=crs, index=[f"p{i}" for i in range(len(points))])


def test_from_geodataframe_straight_line_and_network():
    demand = layer([Point(X0 + x, Y0) for x in (0, 100, 900, 1000)], population=[10, 20, 30, 40])
    sites = layer([Point(X0 + 50, Y0), Point(X0 + 950, Y0 + 40), Point(X0 + 500, Y0)])
    m = MaximalCovering.from_geodataframe(demand, sites, service=100, k=1, weights="population").solve()
    assert m.selected_labels.tolist() == ["p1"] and m.covered_weight == 70.0
    s = SetCovering.from_geodataframe(demand, sites, service=100).solve()
    assert s.selected_labels.tolist() == ["p0", "p1"]
    road = geopandas.GeoDataFrame({"road_id": ["r"], "class": ["primary"], "speed_kmh": [36.0]},
                                  geometry=[LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=GK)
    # Network cost = snap of the site + road length + snap of the demand point; the road has
    # nodes at 0 and 1000 m only: site p0 is 50 m from node 0, p1 64 m from node 1000.
    g = RoadGraph.from_roads(road, coverage_rules(RuleSet("d", "t", DEFAULT_RULESET, "",
                                                          tomllib.loads(DEFAULT_RULESET.read_text("utf-8")))))
    net = MaximalCovering.from_geodataframe(demand, sites, service=100, k=1, weights="population", graph=g)
    assert net.solve().selected_labels.tolist() == ["p1"] and net.covered_weight == 40.0
    assert SetCovering.from_geodataframe(demand, sites, service=2000, graph=g).solve().selected.size == 1


def test_from_geodataframe_refuses_degrees():
    demand = layer([Point(120.0, 31.7)], crs="EPSG:4490")
    with pytest.raises(CRSError, match="projected CRS in metres"):
        MaximalCovering.from_geodataframe(demand, demand, service=100, k=1)
    with pytest.raises(CRSError, match="different CRSs"):
        SetCovering.from_geodataframe(demand.to_crs(GK), demand.to_crs("EPSG:32650"), service=100)
