"""XYZ tile maths against pyproj's EPSG:3857 and the scheme's invariants."""

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.tiles import (MAX_LATITUDE, ORIGIN_SHIFT, tile_bounds, tile_containing, tiles_covering,
                       validate_tile)

TO_MERCATOR = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
EPS = 1e-9  # degrees; float rounding at tile edges

lon_st = st.floats(-180.0, 180.0)
lat_st = st.floats(-MAX_LATITUDE, MAX_LATITUDE)
zoom_st = st.integers(0, 22)


def test_origin_shift_matches_pyproj():
    x, _ = TO_MERCATOR.transform(180.0, 0.0)
    assert ORIGIN_SHIFT == pytest.approx(20037508.342789244, abs=1e-8)
    assert x == pytest.approx(ORIGIN_SHIFT, abs=1e-6)
    _, y = TO_MERCATOR.transform(0.0, MAX_LATITUDE)
    assert y == pytest.approx(ORIGIN_SHIFT, abs=1e-3)


def test_world_tile():
    bounds = tile_bounds(0, 0, 0)
    assert bounds.mercator == (-ORIGIN_SHIFT, -ORIGIN_SHIFT, ORIGIN_SHIFT, ORIGIN_SHIFT)
    assert bounds.lonlat == pytest.approx((-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE))


def test_origin_is_top_left():
    west, south, east, north = tile_bounds(1, 0, 0).lonlat
    assert (west, east) == (-180.0, 0.0) and south == pytest.approx(0.0, abs=1e-12) and north > 85


@settings(max_examples=200, deadline=None)
@given(lon_st, lat_st, zoom_st)
def test_tile_bounds_contain_the_points_that_map_into_them(lon, lat, z):
    x, y = tile_containing(lon, lat, z)
    assert 0 <= x < 2**z and 0 <= y < 2**z
    west, south, east, north = tile_bounds(z, x, y).lonlat
    assert west - EPS <= lon <= east + EPS
    assert south - EPS <= lat <= north + EPS


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 22).flatmap(
    lambda z: st.tuples(st.just(z), st.integers(0, 2**z - 1), st.integers(0, 2**z - 1))))
def test_mercator_and_lonlat_bounds_agree_with_pyproj(tile):
    z, x, y = tile
    bounds = tile_bounds(z, x, y)
    west, south, east, north = bounds.lonlat
    minx, miny = TO_MERCATOR.transform(west, south)
    maxx, maxy = TO_MERCATOR.transform(east, north)
    size = 2 * ORIGIN_SHIFT / 2**z
    assert bounds.mercator[2] - bounds.mercator[0] == pytest.approx(size)
    assert bounds.mercator == pytest.approx((minx, miny, maxx, maxy), abs=1e-4)


def test_tile_bounds_is_vectorised_and_neighbours_share_edges():
    z = 12
    x = np.array([3412, 3413, 3412])
    y = np.array([1665, 1665, 1666])
    (minx, miny, maxx, maxy), (west, south, east, north) = tile_bounds(z, x, y)
    assert minx.shape == (3,)
    assert maxx[0] == minx[1] and east[0] == west[1]  # east neighbour
    assert miny[0] == maxy[2] and south[0] == north[2]  # south neighbour


def test_changzhou_tile_matches_pyproj():
    x, y = TO_MERCATOR.transform(119.97, 31.81)
    n = 2**10
    expected = (int((x + ORIGIN_SHIFT) / (2 * ORIGIN_SHIFT) * n),
                int((ORIGIN_SHIFT - y) / (2 * ORIGIN_SHIFT) * n))
    assert tile_containing(119.97, 31.81, 10) == expected == (853, 416)


@settings(max_examples=100, deadline=None)
@given(lon_st, lon_st, lat_st, lat_st, st.integers(0, 10))
def test_tiles_covering_contains_the_corners_and_nothing_outside(lon1, lon2, lat1, lat2, z):
    west, east = sorted((lon1, lon2))
    south, north = sorted((lat1, lat2))
    tiles = tiles_covering((west, south, east, north), z, max_tiles=2**20)
    assert (tiles[:, 0] == z).all()
    xs, ys = tiles[:, 1], tiles[:, 2]
    # a full rectangle of distinct tiles
    width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert len(tiles) == width * height == len(np.unique(xs * 2**z + ys))
    for lon, lat in ((west, south), (east, north), ((west + east) / 2, (south + north) / 2)):
        x, y = tile_containing(lon, lat, z)
        # a corner exactly on a tile edge belongs to the neighbour, which is not needed
        assert ((xs == x) & (ys == y)).any() or lon == east or lat == south
    tw, ts, te, tn = tile_bounds(z, xs, ys).lonlat
    assert (tw <= east + EPS).all() and (te >= west - EPS).all()
    assert (ts <= north + EPS).all() and (tn >= south - EPS).all()


def test_tiles_covering_does_not_pull_in_neighbours_at_exact_edges():
    west, south, east, north = tile_bounds(5, 10, 12).lonlat
    assert tiles_covering((west, south, east, north), 5).tolist() == [[5, 10, 12]]
    assert tiles_covering((west, south, west, south), 5).shape == (1, 3)


def test_tiles_covering_refuses_too_many_and_bad_boxes():
    with pytest.raises(InputError, match="max_tiles"):
        tiles_covering((73.5, 3.8, 135.1, 53.6), 18)
    with pytest.raises(InputError, match="west <= east"):
        tiles_covering((121.9, 30.7, 116.3, 35.2), 8)
    with pytest.raises(InputError, match="projected, or swapped"):
        tiles_covering((500000, 3400000, 510000, 3410000), 8)
    with pytest.raises(InputError, match="west, south, east, north"):
        tiles_covering((1, 2, 3), 8)


@pytest.mark.parametrize(
    "z, x, y, match",
    [
        (-1, 0, 0, "zoom must be in 0..22"),
        (23, 0, 0, "zoom must be in 0..22"),
        (3, 8, 0, "x must be in 0..7 at zoom 3"),
        (3, 0, 8, "y must be in 0..7 at zoom 3"),
        (3, -1, 0, "x must be in 0..7"),
        (2.5, 0, 0, "whole number"),
        ("3", 0, 0, "whole number"),
        (True, 0, 0, "whole number"),
    ],
)
def test_validate_tile_refuses(z, x, y, match):
    with pytest.raises(InputError, match=match):
        validate_tile(z, x, y)


def test_validate_tile_accepts_edges_arrays_and_whole_floats():
    validate_tile(0, 0, 0)
    validate_tile(22, 2**22 - 1, 2**22 - 1)
    validate_tile(3.0, 7, 7)
    validate_tile(np.array([1, 2]), np.array([1, 3]), 0)
    with pytest.raises(InputError, match="tile 2/4/0"):
        validate_tile(np.array([1, 2]), np.array([1, 4]), 0)
    with pytest.raises(InputError, match="zoom must be in 0..14"):
        validate_tile(15, 0, 0, max_zoom=14)


def test_tile_containing_refuses_projected_coordinates():
    with pytest.raises(InputError):
        tile_containing(500000.0, 3500000.0, 10)
