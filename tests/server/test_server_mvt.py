"""The vectorised MVT writer and the tile geometry pipeline, checked against an independent decoder."""

from __future__ import annotations

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, box

from geo.tiles import tile_bounds
from server.mvt import encode_layers, encode_table_layer, encode_table_layers
from server.mvt_attributes import AttributeTable
from server.protobuf import varint, varints as _varints
from server.vector_tiles import MIN_FEATURE_UNITS, buffered_lonlat_bounds, tile_features, tile_geometries

HOLED = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(20, 20), (20, 40), (40, 40), (40, 20)]])
GEOMETRIES = [
    Point(5, 7),
    MultiPoint([(1, 2), (300, 400)]),
    LineString([(0, 0), (10, 0), (10, 10)]),
    MultiLineString([[(0, 0), (5, 5)], [(100, 100), (50, 120), (10, 4000)]]),
    shapely.orient_polygons(HOLED),
    shapely.orient_polygons(MultiPolygon([box(0, 0, 10, 10), box(200, 200, 260, 300)])),
]


def decoded(data: bytes, layer: str = "l"):
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[layer]["features"]


def test_every_geometry_kind_round_trips():
    props = pd.DataFrame({"i": range(len(GEOMETRIES))})
    features = decoded(encode_layers({"l": (GEOMETRIES, props)}))
    assert len(features) == len(GEOMETRIES)
    for feature in features:
        original = GEOMETRIES[feature["properties"]["i"]]
        got = shapely.geometry.shape(feature["geometry"])
        assert got.equals(original), (original.wkt, got.wkt)


def test_polygon_rings_have_the_orientation_the_specification_requires():
    (feature,) = decoded(encode_layers({"l": ([GEOMETRIES[4]], pd.DataFrame(index=[0]))}))
    outer, inner = (np.array(r) for r in feature["geometry"]["coordinates"])
    signed = lambda ring: np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1]) / 2  # noqa: E731
    assert signed(outer) > 0 > signed(inner)  # positive area in tile coordinates = exterior


def test_property_values_of_every_type_and_nulls():
    props = pd.DataFrame({
        "s": ["红色", None, "蓝色"], "n": pd.array([1, None, -5], dtype="Int64"), "f": [0.5, np.nan, 2.0],
        "b": pd.array([True, False, None], dtype="boolean"),
        "d": pd.to_datetime(["2026-03-01", None, "2025-12-31"]),
    })
    features = decoded(encode_layers({"l": ([Point(i, i) for i in range(3)], props)}))
    assert [f["properties"] for f in features] == [
        {"s": "红色", "n": 1, "f": 0.5, "b": True, "d": "2026-03-01"},
        {"b": False},
        {"s": "蓝色", "n": -5, "f": 2.0, "d": "2025-12-31"},
    ]


def test_several_layers_and_empty_ones():
    data = encode_layers({"a": ([Point(1, 1)], pd.DataFrame({"k": ["x"]})), "empty": ([], pd.DataFrame()),
                          "b": ([box(0, 0, 9, 9)], pd.DataFrame({"k": ["y"]}))}, extent=512)
    tile = mapbox_vector_tile.decode(data)
    assert list(tile) == ["a", "b"] and tile["a"]["extent"] == 512
    assert encode_layers({"empty": ([], pd.DataFrame())}) == b""


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16383, 16384, 2**32 - 1, 2**40])
def test_varints(value):
    data, offsets = _varints(np.array([value]))
    expected = bytearray()
    v = value
    while True:
        expected.append((v & 0x7F) | (0x80 if v >> 7 else 0))
        v >>= 7
        if not v:
            break
    assert data.tobytes() == bytes(expected) and offsets.tolist() == [0, len(expected)]


# ------------------------------------------------------------------ tile geometry pipeline
Z, X, Y = 14, 13650, 6656
WEST, SOUTH, EAST, NORTH = tile_bounds(Z, X, Y).lonlat
W, H = EAST - WEST, NORTH - SOUTH


def frame(*geoms, **columns):
    return gpd.GeoDataFrame(columns or {"k": list(range(len(geoms)))}, geometry=list(geoms), crs="EPSG:4490")


def test_features_are_clipped_to_the_buffered_tile():
    big = box(WEST - W, SOUTH - H, EAST + W, NORTH + H)  # covers the tile and its neighbours
    geoms, _ = tile_features(frame(big), Z, X, Y, buffer=64)
    assert geoms[0].bounds == (-64.0, -64.0, 4160.0, 4160.0)


def test_tiny_polygons_are_skipped_but_points_kept():
    tiny = box(WEST + W / 2, SOUTH + H / 2, WEST + W / 2 + W * 4 / 4096, SOUTH + H / 2 + H * 4 / 4096)
    geoms, props = tile_features(frame(tiny, Point(WEST + W / 3, SOUTH + H / 3)), Z, X, Y)
    assert [g.geom_type for g in geoms] == ["Point"] and props["k"].tolist() == [1]
    assert MIN_FEATURE_UNITS > 4


def test_points_outside_the_buffer_are_left_out_and_nulls_survive():
    inside, outside = Point(WEST + W / 2, SOUTH + H / 2), Point(EAST + W, NORTH)
    geoms, props = tile_features(frame(inside, outside, None), Z, X, Y)
    assert len(geoms) == 1 and geoms[0].equals(Point(2048, 2048))


def test_snapping_keeps_polygons_valid_and_integer():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(WEST, EAST, 200), rng.uniform(SOUTH, NORTH, 200)
    stars = [shapely.Point(a, b).buffer(W / 300, quad_segs=2) for a, b in zip(x, y)]
    geoms, _ = tile_features(frame(*stars), Z, X, Y)
    assert len(geoms) > 150 and shapely.is_valid(geoms).all()
    coords = shapely.get_coordinates(geoms)
    assert np.array_equal(coords, np.round(coords))


def test_simplification_keeps_polygons_valid_and_thins_circles():
    """Douglas-Peucker drops the shell's top vertex (3.5 units off its neighbours' line, under the
    4-unit tolerance), and the edge left would cross the hole reaching into the bump: the polygon
    must come out valid all the same. A 129-vertex circle comes out with a few dozen at most."""
    shell = [(0, 0), (1000, 0), (1000, 1000), (500, 1003.5), (0, 1000)]
    polygon = Polygon(shell, [[(450, 500), (550, 500), (550, 1002), (450, 1002)]])
    circle = Point(2000, 2000).buffer(300, quad_segs=32)
    assert polygon.is_valid and shapely.get_num_coordinates(circle) == 129
    geoms, rows = tile_geometries(np.array([polygon, circle], dtype=object), Z, X, Y, project=lambda c: c)
    assert rows.tolist() == [0, 1] and shapely.is_valid(geoms).all()
    assert shapely.get_num_coordinates(geoms[1]) <= 40


def test_buffered_bounds_grow_the_tile():
    west, south, east, north = buffered_lonlat_bounds(Z, X, Y, 0.5)
    assert west == pytest.approx(WEST - W / 2) and east == pytest.approx(EAST + W / 2)
    assert south < SOUTH and north > NORTH


@pytest.mark.parametrize("values", [[], [0, 5, 127], [0, 128, 1, 2**35, 300, 2**64 - 1], list(range(0, 70000, 97))])
def test_varints_of_arrays_are_the_varints_one_by_one(values):
    data, offsets = _varints(np.array(values, dtype=np.uint64))
    one_by_one = [varint(v) for v in values]
    assert data.tobytes() == b"".join(one_by_one)
    assert offsets.tolist() == np.cumsum([0] + [len(b) for b in one_by_one]).tolist()


def test_layers_encoded_together_are_the_layers_encoded_one_by_one():
    """A tile's layers go through the encoder in one pass (server.mvt._layers): each layer's bytes
    must be those it has on its own, empty layers and all three geometry families included."""
    table = AttributeTable(pd.DataFrame({"k": ["a", "b", None, "a"], "n": [1, 2, 3, 4]}))
    lines = [LineString([(0, 0), (5, 9), (20, 3)]), LineString([(9, 9), (1, 1)])]
    items = [("points", [Point(1, 2), Point(7, 7)], table, [3, 0]),
             ("empty", [], table, []),
             ("mixed", [box(0, 0, 9, 9), lines[0], Point(3, 3), box(10, 10, 30, 40)], table, [1, 2, 0, 3]),
             ("lines", lines, AttributeTable(pd.DataFrame({"other": [True, False]})), [0, 1])]
    together = encode_table_layers(items, extent=512)
    assert together == [encode_table_layer(*item, extent=512) for item in items]
    assert together[1] == b"" and all(together[i] for i in (0, 2, 3))
    tile = mapbox_vector_tile.decode(b"".join(together))
    # written family by family (points, lines, polygons), each feature with its own row's attributes
    assert [f["properties"] for f in tile["mixed"]["features"]] == [{"k": "a", "n": 1}, {"n": 3}, {"k": "b", "n": 2},
                                                                   {"k": "a", "n": 4}]
