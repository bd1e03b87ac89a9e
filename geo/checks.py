"""Coordinate sanity checks: swapped latitude/longitude and points outside the expected area.

The commonest error in a CSV of sites is latitude and longitude in the wrong columns: the points
then land in the Indian Ocean (or, for Jiangsu, near Somalia). These checks find them before
anything is stored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.errors import InputError

__all__ = ["JIANGSU_BOUNDS", "CHINA_BOUNDS", "outside_bounds", "looks_swapped", "check_coordinates"]

#: (west, south, east, north) of Jiangsu province in degrees, rounded outwards.
JIANGSU_BOUNDS = (116.3, 30.7, 121.9, 35.2)
#: (west, south, east, north) of China (mainland and islands) in degrees, rounded.
CHINA_BOUNDS = (73.5, 3.8, 135.1, 53.6)

_COLUMNS = ["index", "problem", "detail"]


def _bounds(bounds) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise InputError(f"bounds must be (west, south, east, north), got {bounds!r}") from None
    if not (west <= east and south <= north):
        raise InputError(f"bounds must be (west, south, east, north) with west <= east and "
                         f"south <= north, got {bounds!r}")
    return west, south, east, north


def _inside(x, y, bounds) -> np.ndarray:
    west, south, east, north = _bounds(bounds)
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return (x >= west) & (x <= east) & (y >= south) & (y <= north)


def outside_bounds(x, y, bounds):
    """Return True where the point (x, y) lies outside ``bounds`` (edges count as inside).

    Parameters
    ----------
    x, y : float or array_like
        Longitude and latitude (or any x/y in the CRS of ``bounds``). NaN is outside.
    bounds : tuple of 4 floats
        ``(west, south, east, north)``.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    >>> outside_bounds([119.97, 2.35], [31.81, 48.86], JIANGSU_BOUNDS).tolist()
    [False, True]
    """
    out = ~_inside(x, y, bounds)
    return bool(out) if out.ndim == 0 else out


def looks_swapped(x, y, expected_bounds):
    """Return True where (x, y) is outside the expected box but (y, x) is inside it.

    Parameters
    ----------
    x, y : float or array_like
        The coordinates as given (x should be longitude, y latitude).
    expected_bounds : tuple of 4 floats
        ``(west, south, east, north)`` in degrees, e.g. :data:`JIANGSU_BOUNDS`.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    >>> looks_swapped([31.81, 119.97], [119.97, 31.81], JIANGSU_BOUNDS).tolist()
    [True, False]
    """
    swapped = _inside(y, x, expected_bounds) & ~_inside(x, y, expected_bounds)
    return bool(swapped) if swapped.ndim == 0 else swapped


def _fmt(values: np.ndarray) -> np.ndarray:
    return np.char.mod("%.6f", values)


def check_coordinates(gdf, expected_bounds=CHINA_BOUNDS) -> pd.DataFrame:
    """List the features whose position looks wrong: lat/lon swapped, or outside the expected area.

    Each geometry is reduced to a point on its surface (:func:`shapely.point_on_surface`); data
    in a projected CRS are reprojected to CGCS2000 longitude/latitude first (``always_xy``), data
    with no CRS are taken as longitude/latitude. Missing and empty geometries are skipped (see
    :func:`geo.validity.repair_geometries`). A feature that looks swapped is reported only as
    swapped.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
    expected_bounds : tuple of 4 floats, default :data:`CHINA_BOUNDS`
        ``(west, south, east, north)`` in degrees.

    Returns
    -------
    pandas.DataFrame
        Columns ``index`` (the feature's index label), ``problem`` (``"lat/lon swapped"`` or
        ``"outside expected area"``) and ``detail`` (a message quoting the coordinate); one row per
        offending feature, in feature order; no rows if all is well.

    Examples
    --------
    >>> import geopandas
    >>> from shapely import Point
    >>> sites = geopandas.GeoSeries(
    ...     [Point(119.97, 31.81), Point(31.81, 119.97), Point(2.35, 48.86)])
    >>> problems = check_coordinates(sites, JIANGSU_BOUNDS)
    >>> problems[["index", "problem"]].values.tolist()
    [[1, 'lat/lon swapped'], [2, 'outside expected area']]
    >>> problems["detail"].iloc[0].split(" but ")  # doctest: +NORMALIZE_WHITESPACE
    ['point (31.810000, 119.970000) is outside (116.3, 30.7, 121.9, 35.2)',
     '(119.970000, 31.810000) is inside: latitude and longitude look swapped']
    """
    bounds = _bounds(expected_bounds)
    geoms = np.asarray(gdf.geometry.array if hasattr(gdf, "geometry") else gdf, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = shapely.point_on_surface(geoms[present])
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    x[present], y[present] = shapely.get_x(points), shapely.get_y(points)
    crs, label = getattr(gdf, "crs", None), "point ("
    if crs is not None and not CRS.from_user_input(crs).is_geographic:
        label = "point (as lon/lat "
        x, y = Transformer.from_crs(crs, "EPSG:4490", always_xy=True).transform(x, y)
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    swapped = present & looks_swapped(x, y, bounds)
    outside = present & ~swapped & outside_bounds(x, y, bounds)
    rows = np.flatnonzero(swapped | outside)
    xs, ys = _fmt(x[rows]), _fmt(y[rows])
    box = str(tuple(bounds))
    as_given = label + pd.Series(xs, dtype=object) + ", " + pd.Series(ys, dtype=object) + ")"
    flipped = "(" + pd.Series(ys, dtype=object) + ", " + pd.Series(xs, dtype=object) + ")"
    is_swapped = swapped[rows]
    detail = np.where(
        is_swapped,
        as_given + f" is outside {box} but " + flipped
        + " is inside: latitude and longitude look swapped",
        as_given + f" is outside the expected area {box}",
    )
    index = gdf.index[rows] if hasattr(gdf, "index") else rows
    return pd.DataFrame(
        {
            "index": np.asarray(index, dtype=object),
            "problem": np.where(is_swapped, "lat/lon swapped", "outside expected area")
            .astype(object),
            "detail": detail.astype(object),
        },
        columns=_COLUMNS,
    )
