"""Mapbox Vector Tiles (MVT 2.1) from redacted frames: project, clip, simplify, quantise, encode.

Coordinates go straight from longitude/latitude to tile units with the spherical Web Mercator
formulas of EPSG:3857 (the store's CGCS2000 longitude/latitude are taken as WGS 84, a few
centimetres apart): ``extent`` units across the tile, x to the east and **y downwards** from the
tile's top edge, as the MVT specification has it. Then, vectorised with shapely:

1. clip to the tile grown by ``buffer`` units on each side (so strokes join across tiles);
2. drop lines and polygons smaller than :data:`MIN_FEATURE_UNITS` both ways (tiny features at
   low zooms: a 100 m plot is under half a pixel below zoom 11);
3. simplify lines and polygons with a tolerance of :data:`SIMPLIFY_UNITS` tile units (a constant
   on screen, so the ground tolerance halves at each zoom: zoom-dependent simplification;
   Douglas-Peucker, which GEOS keeps valid);
4. snap to the integer grid (``shapely.set_precision``, which keeps polygons valid and drops
   those that collapse).

Polygons are oriented as the specification requires (exteriors with a positive area in tile
coordinates) and :func:`server.mvt.encode_layers` writes the protobuf.

>>> import geopandas, shapely
>>> from geo.tiles import tile_bounds
>>> w, s, e, n = tile_bounds(14, 13650, 6656).lonlat
>>> plots = geopandas.GeoDataFrame({"plot_id": ["P1"]}, crs="EPSG:4490",
...     geometry=[shapely.box(w + (e - w) / 4, s + (n - s) / 4, w + (e - w) / 2, s + (n - s) / 2)])
>>> geoms, props = tile_features(plots, 14, 13650, 6656)
>>> geoms[0].bounds      # x 1/4..1/2 of the tile, y from the top: 1/2..3/4
(1024.0, 2048.0, 2048.0, 3072.0)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.tiles import MAX_LATITUDE
from server.mvt import encode_layers, geometry_families

__all__ = ["MIN_FEATURE_UNITS", "SIMPLIFY_MIN_COORDINATES", "SIMPLIFY_UNITS", "attribute_rows",
           "buffered_lonlat_bounds", "lonlat_to_tile", "tile_geometries", "tile_features", "encode_tile"]

#: Lines and polygons smaller than this many tile units both ways are left out (4096 units =
#: 256 screen pixels, so 8 units is half a pixel).
MIN_FEATURE_UNITS = 8.0
#: Simplification tolerance in tile units (a quarter of a screen pixel).
SIMPLIFY_UNITS = 4.0
#: Only lines and polygons of at least this many coordinates are simplified. A box (5 coordinates,
#: the ring closed) or a short line has at most a vertex to lose, and at a GEOS call of about a
#: microsecond each, simplifying the plots, targets and road segments of a tile cost more than
#: its circles of hundreds of vertices; what is kept is within the tolerance anyway.
SIMPLIFY_MIN_COORDINATES = 6


def lonlat_to_tile(coords: np.ndarray, z: int, x: int, y: int, extent: int = 4096) -> np.ndarray:
    """Longitude/latitude pairs (N, 2) → tile units of tile z/x/y (y down from the top edge).

    >>> (lonlat_to_tile(np.array([[-180.0, MAX_LATITUDE], [0.0, 0.0]]), 0, 0, 0).round(6) + 0.0).tolist()
    [[0.0, 0.0], [2048.0, 2048.0]]
    """
    n = float(1 << z)
    lon = coords[:, 0]
    lat = np.radians(np.clip(coords[:, 1], -MAX_LATITUDE, MAX_LATITUDE))
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / np.pi) / 2.0 * n
    return np.column_stack([(fx - x) * extent, (fy - y) * extent])


def buffered_lonlat_bounds(z: int, x: int, y: int, fraction: float) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of tile z/x/y grown by ``fraction`` of its size each side."""
    n = float(1 << z)
    fx0, fx1 = (x - fraction) / n, (x + 1 + fraction) / n
    fy0, fy1 = (y - fraction) / n, (y + 1 + fraction) / n
    west, east = fx0 * 360.0 - 180.0, fx1 * 360.0 - 180.0
    north = float(np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * max(fy0, 0.0))))))
    south = float(np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * min(fy1, 1.0))))))
    return max(west, -180.0), south, min(east, 180.0), north


def _single_kind(geom):
    """The main kind of parts of a GeometryCollection a clip left (polygons over lines over points)."""
    parts = [g for g in geom.geoms if not g.is_empty]
    if not parts:
        return None
    kind = max(parts, key=lambda g: (g.area, g.length)).geom_type.replace("Multi", "")
    return shapely.union_all([g for g in parts if g.geom_type.replace("Multi", "") == kind])


def _snap(geoms: np.ndarray) -> np.ndarray:
    """Round to the integer grid; polygons made invalid by rounding are snapped by GEOS instead.

    Rounding is much faster than ``shapely.set_precision`` and gives the same result for the
    great majority of polygons; the few that rounding breaks (a ring touching itself) go through
    ``set_precision``, which keeps them valid. Lines that collapse to a point are dropped.
    """
    rounded = shapely.transform(geoms, np.round)
    families = geometry_families(rounded)
    polygonal = families == 2
    broken = polygonal & ~shapely.is_valid(rounded)
    if broken.any():
        rounded[broken] = shapely.set_precision(geoms[broken], 1.0)
    linear = families == 1
    rounded[linear & ~(shapely.length(rounded) > 0)] = None
    return rounded


def attribute_rows(frame: gpd.GeoDataFrame, rows) -> pd.DataFrame:
    """The attribute columns of ``rows`` of ``frame``, taken by position in one step.

    ``frame.drop(columns=…)`` copied every row of every column and matched labels through pandas'
    Arrow string index (about a millisecond a call): a third of a combined tile's time.
    """
    geometry = frame.geometry.name
    keep = [i for i, column in enumerate(frame.columns) if column != geometry]
    return pd.DataFrame(frame.iloc[rows, keep])


def tile_geometries(geoms: np.ndarray, z: int, x: int, y: int, *, extent: int = 4096, buffer: int = 64,
                    project=None) -> tuple[np.ndarray, np.ndarray]:
    """Geometries (longitude/latitude) → what of them tile z/x/y shows, ready for the encoder.

    Returns the geometries in integer tile units (valid, exteriors with a positive area in tile
    coordinates, no repeated points) and the positions in ``geoms`` they come from (the others
    are outside, too small, or collapsed). ``project`` maps longitude/latitude pairs (N, 2) to
    tile units, for a tile of another tile-matrix set (:class:`server.ogc.tilesets.TileGrid`);
    Web Mercator z/x/y by default.
    """
    geoms = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rows = np.flatnonzero(keep)
    if not len(rows):
        return np.zeros(0, dtype=object), rows
    project = project if project is not None else (lambda c: lonlat_to_tile(c, z, x, y, extent))
    geoms = shapely.transform(geoms[keep], project)
    lo, hi = -float(buffer), float(extent + buffer)
    punctual = geometry_families(geoms) == 0  # Point, MultiPoint
    bounds = shapely.bounds(geoms)
    inside = (bounds[:, 0] >= lo) & (bounds[:, 1] >= lo) & (bounds[:, 2] <= hi) & (bounds[:, 3] <= hi)
    crossing = np.flatnonzero(~punctual & ~inside)  # only these need clipping (most features are inside)
    clipped = geoms.copy()
    clipped[crossing] = shapely.clip_by_rect(geoms[crossing], lo, lo, hi, hi)
    loose = np.flatnonzero(punctual & ~inside)  # points: keep those meeting the buffered tile
    if len(loose):
        clipped[loose[~shapely.intersects(geoms[loose], shapely.box(lo, lo, hi, hi))]] = None
    bounds[crossing] = shapely.bounds(clipped[crossing])
    size = np.fmax(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    clipped[~punctual & ~(size >= MIN_FEATURE_UNITS)] = None
    simplified = clipped.copy()
    detailed = np.flatnonzero(~punctual & (shapely.get_num_coordinates(clipped) >= SIMPLIFY_MIN_COORDINATES))
    # Douglas-Peucker: GEOS's topology-preserving simplifier took 88 µs per 129-vertex circle of the
    # safety buffers (a quarter of a combined tile's time at zoom 12), Douglas-Peucker 6 µs, leaving
    # the same 13 vertices; GEOS repairs a polygon it would make invalid (a ring across a hole)
    simplified[detailed] = shapely.simplify(clipped[detailed], SIMPLIFY_UNITS, preserve_topology=False)
    snapped = _snap(simplified)
    collections = np.flatnonzero(shapely.get_type_id(snapped) == 7)
    for i in collections:  # rare: a clip that left mixed parts
        snapped[i] = _single_kind(snapped[i])
    snapped = shapely.orient_polygons(shapely.remove_repeated_points(snapped, 0.0))
    ok = ~(shapely.is_missing(snapped) | shapely.is_empty(snapped))
    return snapped[ok], rows[ok]


def tile_features(frame: gpd.GeoDataFrame, z: int, x: int, y: int, *, extent: int = 4096,
                  buffer: int = 64, project=None) -> tuple[np.ndarray, pd.DataFrame]:
    """The features of ``frame`` (longitude/latitude) in tile z/x/y, ready for the encoder:
    :func:`tile_geometries` of its geometries and the matching rows of its attribute columns."""
    if len(frame) == 0:
        return np.zeros(0, dtype=object), attribute_rows(frame, slice(None))
    geoms, rows = tile_geometries(np.asarray(frame.geometry.values, dtype=object), z, x, y,
                                  extent=extent, buffer=buffer, project=project)
    return geoms, attribute_rows(frame, rows)


def encode_tile(layers: dict[str, tuple[np.ndarray, pd.DataFrame]], extent: int = 4096) -> bytes:
    """The MVT protobuf of ``{layer name: (geometries, properties)}`` (empty layers left out)."""
    return encode_layers(layers, extent=extent)
