"""Swapped lat/lon and out-of-area detection."""

import geopandas
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Point, Polygon

from geo.checks import (CHINA_BOUNDS, JIANGSU_BOUNDS, check_coordinates, looks_swapped,
                        outside_bounds)
from geo.errors import InputError

jiangsu_lon = st.floats(JIANGSU_BOUNDS[0], JIANGSU_BOUNDS[2])
jiangsu_lat = st.floats(JIANGSU_BOUNDS[1], JIANGSU_BOUNDS[3])


@settings(max_examples=100, deadline=None)
@given(jiangsu_lon, jiangsu_lat)
def test_a_point_in_jiangsu_is_fine_and_its_swap_is_detected(lon, lat):
    assert not outside_bounds(lon, lat, JIANGSU_BOUNDS)
    assert not looks_swapped(lon, lat, JIANGSU_BOUNDS)
    assert outside_bounds(lat, lon, JIANGSU_BOUNDS)
    assert looks_swapped(lat, lon, JIANGSU_BOUNDS)


@pytest.mark.parametrize(
    "x, y, outside, swapped",
    [
        (119.97, 31.81, False, False),  # Changzhou
        (31.81, 119.97, True, True),  # Changzhou swapped
        (2.35, 48.86, True, False),  # Paris: far, but not a swap
        (48.86, 2.35, True, False),  # swapped Paris is still not in Jiangsu
        (116.3, 30.7, False, False),  # corner counts as inside
        (np.nan, 31.0, True, False),
    ],
)
def test_outside_and_swapped_cases(x, y, outside, swapped):
    assert outside_bounds(x, y, JIANGSU_BOUNDS) is outside
    assert looks_swapped(x, y, JIANGSU_BOUNDS) is swapped


def test_vectorised_shapes():
    x = np.array([[119.97, 31.81], [2.35, 119.0]])
    y = np.array([[31.81, 119.97], [48.86, 32.0]])
    assert outside_bounds(x, y, JIANGSU_BOUNDS).tolist() == [[False, True], [True, False]]
    assert looks_swapped(x, y, JIANGSU_BOUNDS).tolist() == [[False, True], [False, False]]


@pytest.mark.parametrize("bounds", [(1, 2, 3), (121.9, 30.7, 116.3, 35.2), "china", None])
def test_bad_bounds_are_refused(bounds):
    with pytest.raises(InputError, match="west, south, east, north"):
        outside_bounds(119.0, 31.0, bounds)


def test_bounds_constants_are_ordered_and_nested():
    for west, south, east, north in (JIANGSU_BOUNDS, CHINA_BOUNDS):
        assert west < east and south < north
    assert not outside_bounds([JIANGSU_BOUNDS[0], JIANGSU_BOUNDS[2]],
                              [JIANGSU_BOUNDS[1], JIANGSU_BOUNDS[3]], CHINA_BOUNDS).any()


def sites():
    return geopandas.GeoDataFrame(
        {"site_id": ["ok", "swapped", "paris", "missing", "empty", "plot"]},
        geometry=[
            Point(119.97, 31.81),
            Point(31.81, 119.97),
            Point(2.35, 48.86),
            None,
            Point(),
            Polygon([(31.7, 119.9), (31.9, 119.9), (31.9, 120.1), (31.7, 120.1)]),
        ],
        index=[10, 11, 12, 13, 14, 15],
        crs="EPSG:4490",
    )


def test_check_coordinates_reports_one_row_per_offending_feature():
    report = check_coordinates(sites(), JIANGSU_BOUNDS)
    assert list(report.columns) == ["index", "problem", "detail"]
    assert report["index"].tolist() == [11, 12, 15]
    assert report["problem"].tolist() == ["lat/lon swapped", "outside expected area",
                                          "lat/lon swapped"]
    assert "(31.810000, 119.970000)" in report["detail"].iloc[0]
    assert "(119.970000, 31.810000) is inside" in report["detail"].iloc[0]
    assert "2.350000, 48.860000" in report["detail"].iloc[1]
    assert "expected area (116.3, 30.7, 121.9, 35.2)" in report["detail"].iloc[1]


def test_check_coordinates_clean_data_gives_empty_report_with_columns():
    report = check_coordinates(sites().iloc[[0, 3, 4]], JIANGSU_BOUNDS)
    assert report.empty and list(report.columns) == ["index", "problem", "detail"]


def test_check_coordinates_reprojects_projected_data():
    projected = sites().iloc[[0, 2]].to_crs(4549)
    report = check_coordinates(projected, JIANGSU_BOUNDS)
    assert report["index"].tolist() == [12]
    assert "as lon/lat 2.350000, 48.860000" in report["detail"].iloc[0]


def test_check_coordinates_accepts_geoseries_without_crs_as_lonlat():
    series = geopandas.GeoSeries([Point(121.0, 32.0), Point(32.0, 121.0)], index=["a", "b"])
    report = check_coordinates(series, JIANGSU_BOUNDS)
    assert report[["index", "problem"]].values.tolist() == [["b", "lat/lon swapped"]]


def test_check_coordinates_default_area_is_china():
    report = check_coordinates(sites())
    assert report["index"].tolist() == [11, 12, 15]
    assert report["problem"].tolist() == ["lat/lon swapped", "outside expected area",
                                          "lat/lon swapped"]
