"""Spatial partitions of a province: who owns a row, which rows a partition must see, lattice windows.

A partitioned run gives every input row to exactly one partition (its *owner*): the partition that
computes the row's own results (a plot's colour, a site's distances, a target's violations). What a
partition must *see* is wider: the rows of its neighbours whose effect reaches into it (a site
across the border whose safety distance covers a school of this city; a plot of the next city lying
in a grid cell of this one). Every such selection keeps the rows in the order of the whole
province (their index is their row number there), so that sums over them run in the same order as
in the in-process run and give the same floats.

>>> import shapely
>>> regions = shapely.box([0, 10], 0, [10, 20], 10)
>>> owners(shapely.points([1, 15, 30], [1, 1, 1]), regions).tolist()
[0, 1, 1]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "EMPTY_BOUNDS",
    "expand",
    "lattice_window",
    "meets",
    "merged",
    "owners",
    "rows_meeting",
    "split_by_owner",
    "total_bounds",
]

#: Bounds of nothing (min > max), the neutral element of :func:`total_bounds`.
EMPTY_BOUNDS = (np.inf, np.inf, -np.inf, -np.inf)


def owners(geoms, regions) -> np.ndarray:
    """Index of the region owning each geometry: the first holding its representative point, else
    the nearest (a point just outside every region, or on a shared edge, still has one owner)."""
    geoms = np.asarray(geoms, dtype=object)
    regions = np.asarray(regions, dtype=object)
    out = np.full(len(geoms), -1, dtype=np.int64)
    if not len(geoms):
        return out
    points = shapely.point_on_surface(geoms)
    tree = shapely.STRtree(regions)
    g, r = tree.query(points, predicate="within")
    first = pd.DataFrame({"g": g, "r": r}).groupby("g")["r"].min()
    out[first.index.to_numpy()] = first.to_numpy()
    miss = np.flatnonzero(out < 0)
    if miss.size:
        _, nearest = tree.query_nearest(points[miss], all_matches=False)
        out[miss] = nearest
    return out


def split_by_owner(frame: gpd.GeoDataFrame, regions) -> list[gpd.GeoDataFrame]:
    """``frame`` cut into one frame per region (rows keep their index and their order)."""
    owner = owners(frame.geometry.to_numpy(), regions)
    return [frame[owner == k] for k in range(len(regions))]


def expand(bounds, distance: float) -> tuple[float, float, float, float]:
    """Bounds widened by ``distance`` on every side.

    >>> expand((0, 0, 10, 10), 5)
    (-5.0, -5.0, 15.0, 15.0)
    """
    x0, y0, x1, y1 = (float(v) for v in bounds)
    return x0 - distance, y0 - distance, x1 + distance, y1 + distance


def total_bounds(*bounds) -> tuple[float, float, float, float]:
    """The smallest box holding all the given bounds (:data:`EMPTY_BOUNDS` for none).

    >>> total_bounds((0, 0, 1, 1), (2, -1, 3, 0), EMPTY_BOUNDS)
    (0.0, -1.0, 3.0, 1.0)
    """
    b = np.array([EMPTY_BOUNDS, *bounds], dtype=float)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def meets(a, b) -> bool:
    """Whether two closed boxes meet.

    >>> meets((0, 0, 1, 1), (1, 1, 2, 2)), meets((0, 0, 1, 1), (1.5, 0, 2, 1))
    (True, False)
    """
    return bool(a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3])


def rows_meeting(frame: gpd.GeoDataFrame | None, box, reach=None):
    """Rows of ``frame`` whose envelope, widened by ``reach`` (one per row, or none), meets ``box``."""
    if frame is None or not len(frame):
        return frame
    b = shapely.bounds(np.asarray(frame.geometry.array, dtype=object))
    r = np.zeros(len(frame)) if reach is None else np.nan_to_num(np.asarray(reach, dtype=float), nan=0.0)
    hit = ((b[:, 0] - r <= box[2]) & (box[0] <= b[:, 2] + r) & (b[:, 1] - r <= box[3]) & (box[1] <= b[:, 3] + r))
    return frame[hit]


def merged(frames: list) -> gpd.GeoDataFrame | None:
    """Frames of one layer from several partitions, back in the order of the whole province.

    Rows are sorted by their index (their row number in the province), stably: the rows of one
    source that share an index (a site's buffers) keep their own order.
    """
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    # empty frames are left out: their columns are often of another dtype (object for no strings)
    frames = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(frames) if len(frames) > 1 else frames[0]
    out = out.sort_index(kind="stable")
    return gpd.GeoDataFrame(out, geometry=frames[0].geometry.name, crs=frames[0].crs)


def lattice_window(bounds, frame: tuple[float, float, int, int], cell: float) -> tuple[int, int, int, int] | None:
    """The rows and columns ``(r0, c0, r1, c1)`` of a lattice raster that cover ``bounds``.

    ``frame`` is the raster's ``(x0, y0, nx, ny)`` (lower-left corner, cells of ``cell``), row 0 at
    the top; the window is cut to the raster, None when it misses it.

    >>> lattice_window((150, 50, 260, 90), (0.0, 0.0, 10, 4), 100.0)
    (3, 1, 4, 3)
    """
    x0, y0, nx, ny = frame
    c0 = max(int(np.floor((bounds[0] - x0) / cell)), 0)
    c1 = min(int(np.ceil((bounds[2] - x0) / cell)), nx)
    r0 = max(int(np.floor((y0 + ny * cell - bounds[3]) / cell)), 0)
    r1 = min(int(np.ceil((y0 + ny * cell - bounds[1]) / cell)), ny)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, c0, r1, c1
