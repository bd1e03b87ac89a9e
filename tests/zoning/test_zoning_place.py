"""zoning.coverage.place: the shelters for one place, checked by hand on toy networks (metres, EPSG:4549).

Walking distances are the snaps plus the path (GB 50413-2007's 500 m ≈ 10 minutes gives the rule
set's 3 km/h, 50 m a minute); for a chemical release no shelter near a disclosed plot is offered,
and one whose way passes a plot ranks after the others.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, box

from geo.errors import CRSError, InputError
from zoning.coverage.network import RoadGraph
from zoning.coverage.place import HAZARD_KEYS, shelters_for_place

CRS = "EPSG:4549"
EVERYTHING = "earthquake,fire,chemical,flood"


def shelters(points, hazards=None, capacity=None):
    n = len(points)
    return gpd.GeoDataFrame({"shelter_id": [f"S{i}" for i in range(n)], "class": ["emergency"] * n,
                             "effective_area_m2": [1000.0] * n, "capacity": capacity or [500] * n,
                             "hazards": hazards or [EVERYTHING] * n},
                            geometry=[Point(p) for p in points], crs=CRS)


def l_shaped_roads() -> RoadGraph:
    roads = gpd.GeoDataFrame({"road_id": ["a", "b"], "class": ["secondary", "secondary"], "oneway": [True, True]},
                             geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 800), (1000, 0)])], crs=CRS)
    return RoadGraph.from_roads(roads)


def test_walking_distance_is_the_snaps_plus_the_path_and_the_time_is_at_three_km_an_hour():
    found = shelters_for_place(Point(0, 5), shelters([(1000, 810)]), graph=l_shaped_roads())
    row = found.shelters.iloc[0]
    assert row["method"] == "network"
    assert row["distance_m"] == pytest.approx(5 + 1000 + 800 + 10)  # one-way ignored on foot
    assert row["minutes"] == pytest.approx(1815 / 50.0)  # 3 km/h = 50 m a minute
    assert row["route"].tolist() == [[0, 5], [0, 0], [1000, 0], [1000, 800], [1000, 810]]


def test_off_the_roads_it_is_the_straight_line_times_the_detour_factor():
    found = shelters_for_place(Point(0, 5000), shelters([(3000, 9000)]), graph=l_shaped_roads())
    row = found.shelters.iloc[0]
    assert row["method"] == "straight line" and row["distance_m"] == pytest.approx(5000 * 1.3)
    assert row["route"].tolist() == [[0, 5000], [3000, 9000]]


@pytest.mark.parametrize("hazard, expected", [
    (None, ["S0", "S1", "S2"]), ("earthquake", ["S0", "S1", "S2"]), ("fire", ["S0", "S1"]),
    ("flood", ["S2"]), ("chemical", []),
])
def test_only_shelters_fit_for_the_hazard_are_offered_and_an_empty_record_means_earthquake_and_fire(hazard, expected):
    s = shelters([(100, 0), (200, 0), (300, 0)], hazards=[None, "fire,earthquake", "earthquake,flood"])
    found = shelters_for_place(Point(0, 0), s, hazard=hazard)
    assert found.shelters["shelter_id"].tolist() == expected
    assert found.left_out["not_fit"] == 3 - len(expected)
    if expected and expected[0] == "S0":
        assert found.shelters["hazards_fit"].iloc[0] == ("earthquake", "fire")
        assert not found.shelters["hazards_declared"].iloc[0]


def test_unknown_hazard_is_refused_with_the_list():
    with pytest.raises(InputError, match="hazards are " + ", ".join(HAZARD_KEYS)):
        shelters_for_place(Point(0, 0), shelters([(100, 0)]), hazard="tsunami")


def test_shelters_without_capacity_are_left_out():
    found = shelters_for_place(Point(0, 0), shelters([(100, 0), (200, 0)], capacity=[0, 10]))
    assert found.shelters["shelter_id"].tolist() == ["S1"] and found.left_out["no_capacity"] == 1


def test_a_chemical_release_never_sends_people_towards_a_disclosed_plot():
    plot = box(450, -50, 550, 50)  # 450 m east of the point; the rule set's margin is 200 m
    s = shelters([(700, 0), (1000, 0), (0, -1200), (500, 400)])
    found = shelters_for_place(Point(0, 0), s, hazard="chemical", zones=[plot])
    # S0 is 150 m from the plot's east edge, within the margin: left out;
    # S3 is 350 m north of the plot: offered; S1's straight line passes through the plot: last.
    assert found.left_out["in_zone"] == 1
    assert found.shelters["shelter_id"].tolist() == ["S3", "S2", "S1"]
    assert found.shelters["towards_zone"].tolist() == [False, False, True]
    assert found.zone_distance_m == pytest.approx(450) and not found.in_zone
    anyhow = shelters_for_place(Point(0, 0), s, zones=[plot])  # other hazards: nearest first, flagged only
    assert anyhow.shelters["shelter_id"].tolist()[:2] == ["S3", "S0"]


def test_from_inside_the_margin_people_are_sent_away_from_the_plot():
    plot = box(100, -50, 200, 50)  # 100 m east
    s = shelters([(900, 0), (-1500, 0)])
    found = shelters_for_place(Point(0, 0), s, hazard="chemical", zones=[plot])
    assert found.in_zone and found.shelters["shelter_id"].tolist() == ["S1", "S0"]


def test_distances_in_degrees_are_refused():
    with pytest.raises(CRSError):
        shelters_for_place(Point(120, 31), shelters([(120.01, 31.0)]).set_crs("EPSG:4490", allow_override=True))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-5000, 5000), st.floats(-5000, 5000)), min_size=1, max_size=12),
       st.integers(1, 5))
def test_without_roads_the_answer_is_the_n_nearest_by_straight_line_in_order(points, n):
    s = shelters(points)
    found = shelters_for_place(Point(0, 0), s, n=n)
    d = found.shelters["distance_m"].to_numpy()
    expected = np.sort(np.hypot(*np.array(points).T))[:n] * 1.3
    assert len(d) == min(n, len(points)) and np.allclose(d, expected)
    assert np.all(np.diff(d) >= 0)
