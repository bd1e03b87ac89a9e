"""zoning.coverage.reach: reach areas, shares and gaps on hand-built networks with known answers.

The town is a 4 × 4 km square with a road every 1 km both ways (40 segments of 1 km) and one
station in the middle. Roads run at 30 km/h, so the 4-minute driving budget reaches 2 km of road:
exactly the nodes at a grid (L1) distance ≤ 2 km, i.e. 16 whole segments and no partial ones.
"""

from __future__ import annotations

import dataclasses
import tomllib

import geopandas
import numpy as np
import pytest
import shapely
from shapely import LineString, Point

from geo.errors import CRSError
from zoning.coverage.reach import (coverage_figures, coverage_gaps, population_cells, reach_isochrones,
                             uncovered_sites)
from zoning.coverage.network import NetworkWarning, RoadGraph, coverage_rules
from zoning.rules import DEFAULT_RULESET, RuleSet

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_500_000.0


def rules(**changes):
    tables = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
    r = coverage_rules(RuleSet("default", "test", DEFAULT_RULESET, "", tables))
    return dataclasses.replace(r, **changes)


def at(x, y):
    return Point(X0 + x, Y0 + y)


def layer(geoms, crs=GK, **columns):
    geoms = list(geoms)
    return geopandas.GeoDataFrame(columns, geometry=geoms, crs=crs, index=range(len(geoms)))


@pytest.fixture(scope="module")
def grid():
    lines = []
    for i in range(5):
        for j in range(4):
            lines.append(LineString([(X0 + i * 1000, Y0 + j * 1000), (X0 + i * 1000, Y0 + (j + 1) * 1000)]))
            lines.append(LineString([(X0 + j * 1000, Y0 + i * 1000), (X0 + (j + 1) * 1000, Y0 + i * 1000)]))
    roads = layer(lines, road_id=[f"r{i}" for i in range(40)], **{"class": "tertiary"}, speed_kmh=30.0)
    return RoadGraph.from_roads(roads, rules())


@pytest.fixture(scope="module")
def town():
    return layer([shapely.box(X0, Y0, X0 + 4000, Y0 + 4000)], code=["320412100"], name=["Town"])


@pytest.fixture(scope="module")
def station():
    return layer([at(2000, 2000)], station_id=["S1"])


def test_four_minutes_reach_a_diamond_of_whole_roads(grid, town, station):
    # Square ends make the buffered union a union of rectangles, whose area is exact by hand:
    # strips x=2000 and y=2000 (200 × 4000 each), four 2.2 km strips at 1 and 3 km (200 × 2200),
    # minus nine 200 × 200 overlaps = 3.0 km² of the 16 km² town.
    cov = reach_isochrones(grid, station, rules(reach_cap_style="square"))
    assert cov.columns.tolist() == ["station_id", "minutes", "driving_min", "method", "snap_m", "geometry"]
    row = cov.iloc[0]
    assert (row.station_id, row.minutes, row.driving_min, row.method, row.snap_m) == ("S1", 5.0, 4.0, "network", 0.0)
    fig = coverage_figures(cov, town)
    assert fig["code"].tolist() == ["320412100", "city"]
    assert fig["covered_km2"].tolist() == pytest.approx([3.0, 3.0], rel=1e-12)
    assert fig["area_share"].tolist() == pytest.approx([0.1875, 0.1875], rel=1e-12)


def test_a_longer_budget_reaches_the_whole_grid(grid, town, station):
    # All 40 segments reached; inside the town the 100 m buffers cover strips of widths
    # 100, 200, 200, 200, 100 m each way: 2 × 800 × 4000 − 800² = 5.76 km², whatever the caps.
    cov = reach_isochrones(grid, station, rules(driving_s=600.0, response_s=660.0))
    fig = coverage_figures(cov, town)
    assert fig.loc[0, "area_share"] == pytest.approx(0.36, rel=1e-12)
    gaps = coverage_gaps(cov, town)
    assert gaps["gap_km2"].tolist() == pytest.approx([16 - 5.76])
    assert gaps.crs == town.crs


def test_population_and_targets_covered(grid, town, station):
    cov = reach_isochrones(grid, station, rules(reach_cap_style="square"))
    targets = layer([at(2050, 300), at(500, 500), at(1000, 1050), at(3950, 3950), at(9000, 9000)],
                    target_id=list("abcde"), population=[100, 50, 30, 20, 999])
    cell = shapely.box(X0 + 1800, Y0 + 3500, X0 + 2200, Y0 + 3600)  # half of it in the x=2000 strip
    people = layer([cell], population=[400.0])
    fig = coverage_figures(cov, town, population=people, targets=targets)
    assert fig.loc[0, ["population", "covered_population"]].tolist() == [400.0, 200.0]
    assert fig.loc[0, ["targets", "covered_targets", "target_share"]].tolist() == [4.0, 2.0, 0.5]
    by_targets = coverage_figures(cov, town, targets=targets)  # population taken from the targets
    assert by_targets.loc[0, ["population", "covered_population"]].tolist() == [200.0, 130.0]
    built = layer([shapely.box(X0 + 1900, Y0, X0 + 2100, Y0 + 4000), shapely.box(X0, Y0, X0 + 100, Y0 + 100)])
    fig = coverage_figures(cov, town, built_up=built)
    assert fig.loc[0, "built_up_share"] == pytest.approx(800_000 / 810_000)


def test_population_raster_cells(grid, town, station):
    # One person per 100 m cell over the town (north-up, origin at the top-left corner): the
    # 100 m-aligned strips cover 300 of the 1600 cells exactly.
    cells = population_cells(np.ones((40, 40)), (100, 0, X0, 0, -100, Y0 + 4000), GK)
    assert len(cells) == 1600 and cells.total_bounds.tolist() == [X0, Y0, X0 + 4000, Y0 + 4000]
    cov = reach_isochrones(grid, station, rules(reach_cap_style="square"))
    fig = coverage_figures(cov, town, population=cells)
    assert fig.loc[0, ["population", "covered_population"]].tolist() == pytest.approx([1600, 300])


def test_partial_edges_are_cut_at_the_time_left():
    # 36 km/h = 10 m/s: 240 s reach 2400 m along an L-shaped road (1000 m east, then north).
    road = layer([LineString([(X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 + 3000)])], road_id=["r"],
                 **{"class": "primary"}, speed_kmh=36.0)
    g = RoadGraph.from_roads(road, rules())
    cov = reach_isochrones(g, layer([at(0, 0)], station_id=["S"]), rules(reach_cap_style="flat"))
    area = cov.geometry.iloc[0]
    assert area.contains(at(1050, 1395)) and not area.intersects(at(1000, 1405))
    straight = layer([LineString([(X0, Y0), (X0 + 10_000, Y0)])], road_id=["s"], **{"class": "primary"},
                     speed_kmh=36.0)
    g = RoadGraph.from_roads(straight, rules())
    cov = reach_isochrones(g, layer([at(0, 0), at(10_000, 0)], station_id=["A", "B"]),
                           rules(reach_cap_style="flat"))
    assert shapely.area(cov.geometry).tolist() == pytest.approx([2400 * 200, 2400 * 200])


def test_one_way_road_cannot_be_driven_against_its_direction():
    road = layer([LineString([(X0, Y0), (X0 + 5000, Y0)])], road_id=["r"], **{"class": "primary"},
                 speed_kmh=36.0, oneway=[True])
    g = RoadGraph.from_roads(road, rules())
    cov = reach_isochrones(g, layer([at(0, 0), at(5000, 0)], station_id=["with", "against"]),
                           rules(reach_cap_style="flat"))
    assert cov.geometry.iloc[0].area == pytest.approx(2400 * 200)
    assert cov.geometry.iloc[1].area < 200 * 200  # only the station's own node
    assert cov.geometry.iloc[1].contains(at(5000, 0))


def test_station_off_the_network_reports_its_snap_distance(grid, station):
    off = layer([at(2200, 2300)], station_id=["S2"])  # nearest node (2000, 2000)
    cov = reach_isochrones(grid, off, rules())
    assert cov.loc[0, "snap_m"] == pytest.approx(np.hypot(200, 300))
    assert cov.loc[0, "method"] == "network"
    # the 360 m to the road take time at the fallback speed, so it reaches less
    assert cov.geometry.iloc[0].area < reach_isochrones(grid, station, rules()).geometry.iloc[0].area


def test_radius_fallback_without_roads_and_far_from_roads(grid):
    r = rules()
    cov = reach_isochrones(None, layer([at(0, 0)], station_id=["S"]), r)
    assert cov.loc[0, "method"] == "radius fallback" and np.isnan(cov.loc[0, "snap_m"])
    radius = 30 / 3.6 * 240 / 1.4
    assert cov.geometry.iloc[0].area == pytest.approx(np.pi * radius**2, rel=0.01)
    with pytest.warns(NetworkWarning, match="radius fallback: FAR"):
        cov = reach_isochrones(grid, layer([at(2000, 2000), at(20_000, 0)], station_id=["S", "FAR"]), r)
    assert cov["method"].tolist() == ["network", "radius fallback"]
    assert cov.loc[1, "snap_m"] > 15_000


def test_uncovered_sites_major_hazards_first(grid, station):
    cov = reach_isochrones(grid, station, rules(reach_cap_style="square"))
    sites = layer([at(2000, 2500), at(500, 500), at(300, 300), at(3600, 400), at(8000, 0)],
                  site_id=["in", "near", "nearer", "graded", "far"], major_hazard_grade=[1, 0, 0, 3, 0])
    out = uncovered_sites(cov, sites)
    assert out["site_id"].tolist() == ["graded", "far", "nearer", "near"]
    assert out.loc[1, "distance_m"] == pytest.approx(np.hypot(8000 - 4100, 1900))  # square cap of y=2000


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490"])
def test_geographic_crs_is_refused(grid, crs):
    with pytest.raises(CRSError, match="projected CRS in metres"):
        reach_isochrones(grid, layer([Point(120, 31.7)], crs=crs, station_id=["S"]), rules())
    with pytest.raises(CRSError):
        coverage_figures(layer([Point(120, 31.7).buffer(0.01)], crs=crs), layer([shapely.box(119, 31, 121, 32)], crs=crs))


def test_stations_in_another_crs_than_the_roads_are_refused(grid):
    with pytest.raises(CRSError, match="different CRSs"):
        reach_isochrones(grid, layer([Point(500000, 3500000)], crs="EPSG:32650", station_id=["S"]), rules())
