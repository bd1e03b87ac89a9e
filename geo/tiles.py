"""XYZ web-map tile maths (Web Mercator, EPSG:3857).

The XYZ scheme used by OpenStreetMap, Leaflet and most tile servers: at zoom ``z`` the square
Web Mercator world is cut into ``2**z × 2**z`` tiles, ``x`` counted eastwards from 180°W and ``y``
southwards from the top edge (about 85.0511°N). Web Mercator is EPSG:3857 ("WGS 84 /
Pseudo-Mercator", EPSG method 1024 "Popular Visualisation Pseudo Mercator"): a spherical Mercator
on the WGS 84 semi-major axis R = 6 378 137 m, so the world spans ±π·R = ±20 037 508.342789244 m.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from geo.errors import InputError

__all__ = [
    "EARTH_RADIUS", "ORIGIN_SHIFT", "MAX_LATITUDE", "TileBounds", "validate_tile", "tile_bounds",
    "tile_containing", "tiles_covering",
]

#: WGS 84 semi-major axis in metres, the sphere radius of EPSG:3857.
EARTH_RADIUS = 6378137.0
#: Half the width of the Web Mercator world in metres (π·R).
ORIGIN_SHIFT = np.pi * EARTH_RADIUS
#: Latitude of the top edge of tile 0/0/0 in degrees (atan(sinh(π))).
MAX_LATITUDE = float(np.degrees(np.arctan(np.sinh(np.pi))))


class TileBounds(NamedTuple):
    """Bounds of one tile (or arrays of tiles), each as ``(minx, miny, maxx, maxy)``."""

    mercator: tuple
    """In EPSG:3857 metres."""
    lonlat: tuple
    """In longitude/latitude degrees (west, south, east, north)."""


def _integers(value, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer)
        or (np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0))
    ):
        raise InputError(f"tile {name} must be a whole number, got {value!r}")
    return arr.astype(np.int64)


def validate_tile(z, x, y, max_zoom: int = 22) -> None:
    """Raise :class:`InputError` unless ``z/x/y`` names an existing XYZ tile.

    Parameters
    ----------
    z, x, y : int or array_like of int
        Zoom (0..``max_zoom``) and column/row (0..2**z - 1). Arrays are checked element-wise.
    max_zoom : int, default 22

    Raises
    ------
    InputError
        Naming the first offending tile and the valid range.

    Examples
    --------
    >>> validate_tile(10, 853, 416)
    >>> validate_tile(3, 8, 0)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: tile 3/8/0 does not exist: x must be in 0..7 at zoom 3
    """
    z, x, y = np.broadcast_arrays(_integers(z, "z"), _integers(x, "x"), _integers(y, "y"))
    bad_z = (z < 0) | (z > max_zoom)
    if np.any(bad_z):
        i = np.flatnonzero(bad_z.ravel())[0]
        tile = f"{z.ravel()[i]}/{x.ravel()[i]}/{y.ravel()[i]}"
        raise InputError(f"tile {tile} does not exist: zoom must be in 0..{max_zoom}")
    n = np.left_shift(1, z)
    for name, value in (("x", x), ("y", y)):
        bad = (value < 0) | (value >= n)
        if np.any(bad):
            i = np.flatnonzero(bad.ravel())[0]
            zi = z.ravel()[i]
            tile = f"{zi}/{x.ravel()[i]}/{y.ravel()[i]}"
            last = (1 << int(zi)) - 1
            raise InputError(
                f"tile {tile} does not exist: {name} must be in 0..{last} at zoom {zi}")


def _scalar(*arrays):
    return tuple(float(a) if np.ndim(a) == 0 else a for a in arrays)


def tile_bounds(z, x, y) -> TileBounds:
    """Return the bounds of XYZ tile(s) in EPSG:3857 metres and in longitude/latitude.

    Parameters
    ----------
    z, x, y : int or array_like of int
        An existing tile (checked by :func:`validate_tile`, zoom up to 30); arrays broadcast.

    Returns
    -------
    TileBounds
        ``mercator=(minx, miny, maxx, maxy)`` in metres and ``lonlat=(west, south, east, north)``
        in degrees; floats for scalar input, arrays otherwise.

    Examples
    --------
    >>> tile_bounds(0, 0, 0).mercator
    (-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244)
    >>> [round(v, 4) for v in tile_bounds(10, 853, 416).lonlat]   # over Changzhou
    [119.8828, 31.6534, 120.2344, 31.9522]
    """
    validate_tile(z, x, y, max_zoom=30)
    z, x, y = (np.asarray(v, dtype=np.int64) for v in (z, x, y))
    n = np.exp2(z)
    # every edge is computed from its own index, so neighbouring tiles share edges exactly
    minx, maxx = (2.0 * x / n - 1.0) * ORIGIN_SHIFT, (2.0 * (x + 1) / n - 1.0) * ORIGIN_SHIFT
    maxy, miny = (1.0 - 2.0 * y / n) * ORIGIN_SHIFT, (1.0 - 2.0 * (y + 1) / n) * ORIGIN_SHIFT
    west, east = 360.0 * x / n - 180.0, 360.0 * (x + 1) / n - 180.0
    north = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * y / n))))
    south = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * (y + 1) / n))))
    return TileBounds(_scalar(minx, miny, maxx, maxy), _scalar(west, south, east, north))


def _fractional(lon, lat, z) -> tuple[np.ndarray, np.ndarray]:
    n = np.exp2(z)
    lat = np.clip(lat, -MAX_LATITUDE, MAX_LATITUDE)
    y_m = EARTH_RADIUS * np.log(np.tan(np.pi / 4.0 + np.radians(lat) / 2.0))
    return (lon + 180.0) / 360.0 * n, (ORIGIN_SHIFT - y_m) / (2.0 * ORIGIN_SHIFT) * n


def _check_lonlat(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    if not (np.all(np.abs(lon) <= 180.0) and np.all(np.abs(lat) <= 90.0)):
        raise InputError("longitude must be in -180..180 and latitude in -90..90 degrees "
                         "(and not NaN); are the coordinates projected, or swapped?")
    return lon, lat


def tile_containing(lon, lat, z):
    """Return the ``(x, y)`` of the zoom-``z`` tile containing each longitude/latitude.

    A point on a tile edge belongs to the tile east / south of it; latitudes beyond ±85.0511° are
    clamped to the top or bottom row, longitude 180 to the last column.

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees.
    z : int
        Zoom.

    Returns
    -------
    x, y : int or numpy.ndarray of int

    Examples
    --------
    >>> tile_containing(119.97, 31.81, 10)
    (853, 416)
    """
    validate_tile(z, 0, 0, max_zoom=30)
    lon, lat = _check_lonlat(lon, lat)
    n = 1 << int(z)
    fx, fy = _fractional(lon, lat, z)
    x = np.clip(np.floor(fx), 0, n - 1).astype(np.int64)
    y = np.clip(np.floor(fy), 0, n - 1).astype(np.int64)
    return (int(x), int(y)) if x.ndim == 0 else (x, y)


def tiles_covering(bounds_lonlat, z, max_tiles: int = 1_000_000) -> np.ndarray:
    """Return every zoom-``z`` tile that overlaps a longitude/latitude box.

    A box edge lying exactly on a tile edge does not pull in the neighbouring tile; a box of zero
    width or height still gets the tile that contains it.

    Parameters
    ----------
    bounds_lonlat : tuple of 4 floats
        ``(west, south, east, north)`` in degrees, west <= east (no antimeridian crossing).
    z : int
        Zoom, 0..30.
    max_tiles : int, default 1 000 000
        Refuse (InputError) rather than build a larger list.

    Returns
    -------
    numpy.ndarray of int, shape (n, 3)
        Rows ``(z, x, y)``, row by row from the north-west.

    Examples
    --------
    >>> tiles_covering((119.5, 31.2, 120.2, 32.0), 9).tolist()   # Changzhou
    [[9, 425, 207], [9, 426, 207], [9, 425, 208], [9, 426, 208], [9, 425, 209], [9, 426, 209]]
    """
    try:
        west, south, east, north = (float(v) for v in bounds_lonlat)
    except (TypeError, ValueError):
        raise InputError(
            f"bounds must be (west, south, east, north), got {bounds_lonlat!r}") from None
    _check_lonlat([west, east], [south, north])
    if west > east or south > north:
        raise InputError(f"bounds must have west <= east and south <= north, got {bounds_lonlat!r}")
    validate_tile(z, 0, 0, max_zoom=30)
    n = 1 << int(z)
    (fx0, fx1), (fy0, fy1) = _fractional(np.array([west, east]), np.array([north, south]), z)
    x0 = int(np.clip(np.floor(fx0), 0, n - 1))
    x1 = int(np.clip(max(np.ceil(fx1) - 1, x0), 0, n - 1))
    y0 = int(np.clip(np.floor(fy0), 0, n - 1))
    y1 = int(np.clip(max(np.ceil(fy1) - 1, y0), 0, n - 1))
    count = (x1 - x0 + 1) * (y1 - y0 + 1)
    if count > max_tiles:
        raise InputError(
            f"{count} tiles at zoom {z} cover {bounds_lonlat!r}, more than max_tiles={max_tiles}; "
            "use a lower zoom or a smaller area"
        )
    ys, xs = np.meshgrid(np.arange(y0, y1 + 1), np.arange(x0, x1 + 1), indexing="ij")
    return np.column_stack([np.full(count, int(z)), xs.ravel(), ys.ravel()]).astype(np.int64)
