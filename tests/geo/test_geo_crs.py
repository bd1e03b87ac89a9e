"""CRS choice, parsing, guards and reprojection to the store CRS."""

import geopandas
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Point, Polygon

from geo import crs as gcrs
from geo import gcj02
from geo.errors import CRSError, InputError

CHANGZHOU = (119.97, 31.81)  # lon, lat


def central_meridian(code: int) -> float:
    params = pyproj.CRS.from_epsg(code).coordinate_operation.params
    return next(p.value for p in params if p.name == "Longitude of natural origin")


@pytest.mark.parametrize(
    "lon, zone",
    [(73.5, 25), (75.0, 25), (76.4999, 25), (76.5, 26), (119.97, 40), (121.49, 40), (121.5, 41),
     (136.4999, 45)],
)
def test_gauss_kruger_zone(lon, zone):
    assert gcrs.gauss_kruger_zone(lon) == zone


@pytest.mark.parametrize("lon", [73.49, 136.5, 2.35, -120.0, np.nan])
def test_gauss_kruger_zone_outside_china_raises(lon):
    with pytest.raises(CRSError, match="73.5-136.5"):
        gcrs.gauss_kruger_zone(lon)


def test_gauss_kruger_zone_is_vectorised():
    zones = gcrs.gauss_kruger_zone(np.array([[75.0, 120.0], [117.0, 135.0]]))
    assert zones.shape == (2, 2) and zones.tolist() == [[25, 40], [39, 45]]


def test_gk_epsg_for_changzhou_is_4549_and_pyproj_agrees():
    assert gcrs.gk_epsg(120.0) == 4549
    assert gcrs.gk_epsg(CHANGZHOU[0]) == 4549
    assert central_meridian(4549) == 120.0
    assert pyproj.CRS.from_epsg(4549).name == "CGCS2000 / 3-degree Gauss-Kruger CM 120E"


@pytest.mark.parametrize("zone", range(25, 46))
def test_gk_epsg_every_zone_has_the_right_central_meridian(zone):
    code = gcrs.gk_epsg(3.0 * zone)
    crs = pyproj.CRS.from_epsg(code)
    assert central_meridian(code) == 3.0 * zone
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {3 * zone}E"
    assert crs.geodetic_crs.to_epsg() == 4490


@settings(max_examples=100, deadline=None)
@given(st.floats(73.5, 136.4999))
def test_chosen_zone_is_within_1_5_degrees_of_its_central_meridian(lon):
    assert abs(lon - central_meridian(int(gcrs.gk_epsg(lon)))) <= 1.5


@pytest.mark.parametrize(
    "bounds, crs, epsg",
    [
        ((119.1, 31.1, 120.2, 32.1), None, 4549),  # Changzhou, lon/lat
        ((87.3, 43.6, 87.9, 44.0), "EPSG:4326", 4538),  # Urumqi, CM 87E
        ((2.2, 48.8, 2.5, 48.9), None, 32631),  # Paris: UTM 31N
        ((151.1, -34.0, 151.3, -33.8), "EPSG:4326", 32756),  # Sydney: UTM 56S
        ((-74.1, 40.6, -73.8, 40.9), None, 32618),  # New York: UTM 18N
    ],
)
def test_metric_crs_for_bounds(bounds, crs, epsg):
    assert gcrs.metric_crs_for(bounds, crs=crs).to_epsg() == epsg


def test_metric_crs_for_reprojects_projected_bounds_first():
    # Changzhou given in Web Mercator metres: must still pick the zone of 120E
    plots = geopandas.GeoSeries([Point(*CHANGZHOU).buffer(0.05)], crs="EPSG:4326").to_crs(3857)
    assert gcrs.metric_crs_for(plots).to_epsg() == 4549
    in_gk = plots.to_crs(4549)
    assert gcrs.metric_crs_for(in_gk).to_epsg() == 4549
    assert gcrs.metric_crs_for(in_gk.total_bounds, crs=4549).to_epsg() == 4549


def test_metric_crs_for_geodataframe_and_antimeridian():
    gdf = geopandas.GeoDataFrame(
        {"id": [1, 2]}, geometry=[Point(178.2, -17.0), Point(178.6, -18.0)], crs=4326)
    assert gcrs.metric_crs_for(gdf).to_epsg() == 32760  # Fiji: UTM 60S
    # a box given west > east crosses the antimeridian: its centre is near 180, not 0
    assert gcrs.metric_crs_for((179.5, -17.0, -179.5, -16.0), crs="EPSG:4326").to_epsg() in (
        32760, 32701)


def test_metric_crs_for_refuses_missing_crs_and_empty_data():
    with pytest.raises(CRSError, match="no CRS"):
        gcrs.metric_crs_for(geopandas.GeoSeries([Point(*CHANGZHOU)]))
    with pytest.raises(InputError, match="no usable bounds"):
        gcrs.metric_crs_for(geopandas.GeoSeries([], crs=4490))
    with pytest.raises(InputError):
        gcrs.metric_crs_for((1.0, 2.0, 3.0))


def test_metric_crs_gives_true_distances():
    # 1 km due east of Changzhou measured in the chosen CRS equals the geodesic distance
    geod = pyproj.Geod(ellps="GRS80")
    lon2, lat2, _ = geod.fwd(*CHANGZHOU, 90.0, 1000.0)
    pts = geopandas.GeoSeries([Point(*CHANGZHOU), Point(lon2, lat2)], crs=4490)
    projected = pts.to_crs(gcrs.metric_crs_for(pts))
    assert projected.iloc[0].distance(projected.iloc[1]) == pytest.approx(1000.0, abs=0.05)


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4326", 4490, pyproj.CRS.from_epsg(4326)])
def test_require_metric_refuses_geographic_crs_and_names_it(crs):
    with pytest.raises(CRSError) as err:
        gcrs.require_metric(crs, what="safety distance")
    message = str(err.value)
    code = pyproj.CRS.from_user_input(crs).to_epsg()
    assert f"EPSG:{code}" in message and "safety distance" in message
    assert "geo.crs.metric_crs_for" in message and "EPSG:4549" in message


def test_require_metric_refuses_none_and_feet():
    with pytest.raises(CRSError, match="no CRS"):
        gcrs.require_metric(None)
    with pytest.raises(CRSError, match="foot"):
        gcrs.require_metric("EPSG:2263")  # NAD83 / New York Long Island (ftUS)


@pytest.mark.parametrize("crs", ["EPSG:4549", 32650, "EPSG:3857"])
def test_require_metric_accepts_metre_crs(crs):
    assert gcrs.require_metric(crs).is_projected


def test_require_same_crs_names_both():
    plots = geopandas.GeoSeries([Point(0, 0)], crs=4549)
    schools = geopandas.GeoSeries([Point(0, 0)], crs=4490)
    with pytest.raises(CRSError) as err:
        gcrs.require_same_crs(plots, schools, names=("plots", "schools"))
    message = str(err.value)
    assert "plots EPSG:4549" in message and "schools EPSG:4490" in message
    assert "to_crs" in message
    assert gcrs.require_same_crs(plots, plots.to_crs(4549)).to_epsg() == 4549


def test_require_same_crs_ignores_axis_order_but_not_missing_crs():
    assert gcrs.require_same_crs("EPSG:4326", "OGC:CRS84")
    with pytest.raises(CRSError, match="right has no CRS"):
        gcrs.require_same_crs("EPSG:4490", geopandas.GeoSeries([Point(0, 0)]))


@pytest.mark.parametrize(
    "text, epsg, offset",
    [
        ("EPSG:4549", 4549, None),
        ("epsg:4490", 4490, None),
        ("4549", 4549, None),
        (" 4326 ", 4326, None),
        (4549, 4549, None),
        ("gcj02", 4326, "gcj02"),
        ("GCJ-02", 4326, "gcj02"),
        ("bd09", 4326, "bd09"),
        ("BD-09", 4326, "bd09"),
        ("wgs84", 4326, None),
        ("WGS 84", 4326, None),
        ("cgcs2000", 4490, None),
        ("CGCS2000", 4490, None),
        (pyproj.CRS.from_epsg(4549).to_wkt(), 4549, None),
        ("+proj=utm +zone=50 +datum=WGS84 +units=m +no_defs +type=crs", 32650, None),
    ],
)
def test_parse_crs(text, epsg, offset):
    crs, got_offset = gcrs.parse_crs(text)
    assert isinstance(crs, pyproj.CRS)
    assert crs.to_epsg() == epsg and got_offset == offset


@pytest.mark.parametrize("text", ["mars", "", "EPSG:999999", None, 3.5, "gcj03"])
def test_parse_crs_unknown_lists_accepted_forms(text):
    with pytest.raises(CRSError) as err:
        gcrs.parse_crs(text)
    assert "gcj02" in str(err.value) and "EPSG:<code>" in str(err.value)


def test_parse_crs_gk_projection_declares_northing_first():
    # the axis-order trap the package guards against
    crs, _ = gcrs.parse_crs("EPSG:4549")
    assert crs.axis_info[0].direction == "north"


def test_to_store_crs_reprojects_in_xy_order():
    x, y = pyproj.Transformer.from_crs(4490, 4549, always_xy=True).transform(*CHANGZHOU)
    assert 450_000 < x < 550_000 and 3_400_000 < y < 3_600_000  # easting first
    gdf = geopandas.GeoDataFrame({"name": ["site"]}, geometry=[Point(x, y)], crs=4549)
    out = gcrs.to_store_crs(gdf)
    assert out.crs.to_epsg() == 4490
    assert out.geometry.x.iloc[0] == pytest.approx(CHANGZHOU[0], abs=1e-9)
    assert out.geometry.y.iloc[0] == pytest.approx(CHANGZHOU[1], abs=1e-9)
    assert out["name"].tolist() == ["site"]
    assert gdf.crs.to_epsg() == 4549  # input untouched


@pytest.mark.parametrize("offset, inverse", [("gcj02", gcj02.gcj02_to_wgs84),
                                             ("bd09", gcj02.bd09_to_wgs84)])
def test_to_store_crs_removes_web_map_offset_from_all_coordinates(offset, inverse):
    ring = [(119.9, 31.7), (120.1, 31.7), (120.1, 31.9), (119.9, 31.9)]
    gdf = geopandas.GeoDataFrame(
        {"plot_id": ["p1", "p2"]},
        geometry=[Polygon(ring, [[(119.95, 31.75), (120.0, 31.75), (120.0, 31.8)]]),
                  Point(*CHANGZHOU)],
        crs="EPSG:4326",
    )
    before = shapely.get_coordinates(gdf.geometry).copy()
    out = gcrs.to_store_crs(gdf, source_offset=offset)
    expected = np.column_stack(inverse(before[:, 0], before[:, 1]))
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry), expected, atol=1e-8)
    assert out.crs.to_epsg() == 4490 and out["plot_id"].tolist() == ["p1", "p2"]
    np.testing.assert_array_equal(shapely.get_coordinates(gdf.geometry), before)  # untouched
    shift = pyproj.Geod(ellps="WGS84").inv(before[:, 0], before[:, 1], expected[:, 0],
                                          expected[:, 1])[2]
    assert shift.min() > 100  # the offset really was removed


def test_to_store_crs_with_offset_accepts_series_without_crs():
    out = gcrs.to_store_crs(geopandas.GeoSeries([Point(119.9747, 31.8081)]), "gcj02")
    assert out.crs.to_epsg() == 4490
    assert out.x.iloc[0] == pytest.approx(119.970, abs=1e-3)


def test_to_store_crs_refusals():
    projected = geopandas.GeoSeries([Point(500_000, 3_500_000)], crs=4549)
    with pytest.raises(CRSError, match="longitude/latitude"):
        gcrs.to_store_crs(projected, source_offset="gcj02")
    with pytest.raises(CRSError, match="no CRS"):
        gcrs.to_store_crs(geopandas.GeoSeries([Point(*CHANGZHOU)]))
    with pytest.raises(InputError, match="'gcj02', 'bd09'"):
        gcrs.to_store_crs(projected, source_offset="mars")


def test_constants():
    assert pyproj.CRS(gcrs.STORE_CRS).name == "China Geodetic Coordinate System 2000"
    assert pyproj.CRS(gcrs.WEB_MERCATOR).to_epsg() == 3857
    assert pyproj.CRS(gcrs.WGS84).to_epsg() == 4326
