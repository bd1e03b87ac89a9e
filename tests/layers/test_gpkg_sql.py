"""GeoPackage geometry blobs, the R-tree functions and the bulk-loaded R-tree, on edge cases."""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.gpkg_sql import bulk_load_rtree, gpkg_blobs, register_functions, wkb_of

coordinate = st.floats(min_value=-180, max_value=180, allow_nan=False, allow_infinity=False)
size = st.floats(min_value=0, max_value=5, allow_nan=False, allow_infinity=False)


@st.composite
def geometries(draw):
    kind = draw(st.sampled_from(["point", "box", "line", "empty-polygon", "empty-point", "none"]))
    x, y = draw(coordinate), draw(st.floats(min_value=-90, max_value=90, allow_nan=False))
    if kind == "point":
        return shapely.Point(x, y)
    if kind == "box":
        return shapely.box(x, y, x + draw(size), y + draw(size))
    if kind == "line":
        return shapely.LineString([(x, y), (x + draw(size), y - draw(size))])
    return {"empty-polygon": shapely.Polygon(), "empty-point": shapely.Point(), "none": None}[kind]


def _blobs(geoms):
    array = np.array(geoms, dtype=object)
    present = ~shapely.is_missing(array)
    wkb = np.full(len(array), None, dtype=object)
    wkb[present] = shapely.to_wkb(array[present], byte_order=1, flavor="iso")
    bounds = np.full((len(array), 4), np.nan)
    bounds[present] = shapely.bounds(array[present])
    return wkb.tolist(), gpkg_blobs(wkb.tolist(), bounds)


@settings(max_examples=60, deadline=None)
@given(st.lists(geometries(), min_size=1, max_size=12))
def test_blobs_round_trip_and_answer_the_r_tree_functions(geoms):
    wkb, blobs = _blobs(geoms)
    assert wkb_of(blobs) == wkb
    con = sqlite3.connect(":memory:")
    register_functions(con)
    for geometry, blob in zip(geoms, blobs):
        got = con.execute("SELECT ST_IsEmpty(?), ST_MinX(?), ST_MaxX(?), ST_MinY(?), ST_MaxY(?)", (blob,) * 5).fetchone()
        if geometry is None:
            assert got == (None,) * 5
        elif geometry.is_empty:
            assert got[0] == 1 and got[1:] == (None,) * 4
        else:
            minx, miny, maxx, maxy = geometry.bounds
            assert got == (0, minx, maxx, miny, maxy)


def test_functions_read_blobs_written_by_gdal_without_an_envelope():
    """GDAL writes points with no envelope (flags 0x01): the functions parse the WKB instead."""
    blob = struct.pack("<2sBBi", b"GP", 0, 0b00000001, 4490) + shapely.to_wkb(shapely.Point(119.97, 31.81),
                                                                              byte_order=1)
    con = sqlite3.connect(":memory:")
    register_functions(con)
    assert con.execute("SELECT ST_IsEmpty(?), ST_MinX(?), ST_MaxY(?)", (blob,) * 3).fetchone() == (0, 119.97, 31.81)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=3000), st.integers(min_value=0, max_value=2**31 - 1),
       st.tuples(coordinate, coordinate, size, size))
def test_a_bulk_loaded_r_tree_is_sqlites_own_tree_for_every_query(n, seed, window):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-180, 179, n), rng.uniform(-90, 89, n)
    w = rng.uniform(0, 0.5, n) * (rng.random(n) < 0.8)  # points among the boxes
    bounds = np.column_stack([x, y, x + w, y + w])
    ids = np.sort(rng.choice(10 * n, n, replace=False)) + 1
    bulk, inserted = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    for con in (bulk, inserted):
        con.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    bulk_load_rtree(bulk, "r", ids, bounds)
    inserted.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)",
                         zip(ids.tolist(), bounds[:, 0].tolist(), bounds[:, 2].tolist(), bounds[:, 1].tolist(),
                             bounds[:, 3].tolist()))
    assert bulk.execute("SELECT rtreecheck('r')").fetchone() == ("ok",)
    boxes = "SELECT id, minx, maxx, miny, maxy FROM r ORDER BY id"
    assert bulk.execute(boxes).fetchall() == inserted.execute(boxes).fetchall()  # same float32 rounding
    qx, qy, qw, qh = window
    query = "SELECT id FROM r WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? ORDER BY id"
    params = (qx + qw, qx, (qy / 2) + qh, qy / 2)
    assert bulk.execute(query, params).fetchall() == inserted.execute(query, params).fetchall()
    bulk.execute("DELETE FROM r WHERE id = ?", (int(ids[0]),))  # and it goes on like any other tree
    bulk.execute("INSERT INTO r VALUES (?, 0, 1, 0, 1)", (int(10 * n + 5),))
    assert bulk.execute("SELECT rtreecheck('r')").fetchone() == ("ok",)
