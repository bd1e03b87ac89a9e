"""Geometry validity repair and geometry-type checks, with a report a person can read.

Invalid polygons (self-intersections, bow-ties, rings that touch) break overlays and areas
silently. :func:`repair_geometries` fixes only what is invalid, with :func:`shapely.make_valid`, and
says for each feature what was wrong and what changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.errors import InputError

__all__ = ["GEOMETRY_TYPES", "repair_geometries", "geometry_type_problems"]

#: Geometry type names, indexed by :func:`shapely.get_type_id`.
GEOMETRY_TYPES = (
    "Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
    "MultiPolygon", "GeometryCollection",
)
_TYPE_NAMES = np.array(GEOMETRY_TYPES + ("None",), dtype=object)  # id -1 (missing) -> last
_POLYGONAL = (3, 6)
_LINEAL = (1, 2, 5)


def _split(geoms):
    """Return (object array, index, crs, as_series) for a GeoSeries or an array of geometries."""
    if hasattr(geoms, "index") and hasattr(geoms, "array"):
        return np.asarray(geoms.array, dtype=object), geoms.index, getattr(geoms, "crs", None), True
    values = np.asarray(geoms, dtype=object)
    if values.ndim != 1:
        values = values.reshape(-1)
    return values, pd.RangeIndex(len(values)), None, False


def _unit(crs) -> str:
    if crs is None:
        return "square units of the CRS"
    names = {axis.unit_name for axis in CRS.from_user_input(crs).axis_info}
    return f"square {names.pop()}" if len(names) == 1 else "square units of the CRS"


def _names(type_ids: np.ndarray) -> np.ndarray:
    return _TYPE_NAMES[type_ids]


def _guarded(operation, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``operation(geoms)`` vectorised; where GEOS throws (a TopologyException on some inputs that
    hypothesis found, e.g. a self-crossing shell with a hole), element by element, with None for
    the geometries it cannot handle. Returns (results, failed mask)."""
    try:
        return operation(geoms), np.zeros(len(geoms), dtype=bool)
    except shapely.errors.GEOSException:
        out = np.empty(len(geoms), dtype=object)
        failed = np.zeros(len(geoms), dtype=bool)
        for i, geom in enumerate(geoms):  # the rare error path only: the vectorised call failed
            try:
                out[i] = operation(np.array([geom], dtype=object))[0]
            except shapely.errors.GEOSException:
                out[i], failed[i] = shapely.Polygon(), True
        return out, failed


def _polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only polygons: GEOS may leave line slivers, or (rarely) return only a line."""
    geoms = geoms.copy()
    type_ids = shapely.get_type_id(geoms)
    geoms[~np.isin(type_ids, _POLYGONAL + (7,))] = shapely.Polygon()
    mixed = np.flatnonzero(type_ids == 7)
    if mixed.size == 0:
        return geoms
    parts, owner = shapely.get_parts(geoms[mixed], return_index=True)
    keep = np.isin(shapely.get_type_id(parts), _POLYGONAL)
    polygons, sub = shapely.get_parts(parts[keep], return_index=True)
    merged = np.full(mixed.size, shapely.Polygon(), dtype=object)
    if polygons.size:
        shapely.multipolygons(polygons, indices=owner[keep][sub], out=merged)
    single = shapely.get_num_geometries(merged) == 1
    merged[single] = shapely.get_geometry(merged[single], 0)
    geoms[mixed] = merged
    return geoms


def repair_geometries(geoms):
    """Make invalid geometries valid, leave valid ones untouched, and report what was done.

    Validity is tested for all geometries at once (:func:`shapely.is_valid`); only the invalid ones
    go through :func:`shapely.make_valid`: polygons with the ``"structure"`` method, kept polygonal
    (line or point slivers GEOS leaves beside the polygons are dropped, a polygon that collapses
    entirely becomes an empty Polygon, and a result GEOS still leaves invalid, such as parts sharing
    an edge, gets a second pass, then ``buffer(0)``); other types with the ``"linework"`` method
    (collapsed parts kept). Missing (None) and empty geometries are reported as ``"empty geometry"``
    and returned as they are.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or array_like of shapely geometries

    Returns
    -------
    repaired : geopandas.GeoSeries
        Same index (a RangeIndex for an array) and CRS as the input.
    report : pandas.DataFrame
        One row per invalid, missing or empty geometry, in input order, with columns ``index``
        (the input's index label), ``reason`` (:func:`shapely.is_valid_reason`, or ``"empty
        geometry"``) and ``action`` (what changed: geometry type, and area or length before and
        after, in the units of the CRS).

    Examples
    --------
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> repaired, report = repair_geometries([bowtie, Polygon([(0, 0), (1, 0), (1, 1)]), None])
    >>> repaired.geom_type.iloc[:2].tolist(), repaired.iloc[2] is None
    (['MultiPolygon', 'Polygon'], True)
    >>> report[["index", "reason"]].values.tolist()
    [[0, 'Self-intersection[1 1]'], [2, 'empty geometry']]
    >>> report["action"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['made valid: Polygon -> MultiPolygon, area 0.0 -> 2.0 (square units of the CRS)',
     'not repaired: no geometry']
    """
    import geopandas

    values, index, crs, _ = _split(geoms)
    missing = shapely.is_missing(values)
    empty = missing | shapely.is_empty(values)
    invalid = ~empty & ~shapely.is_valid(values)
    out = values.copy()

    bad = values[invalid]
    polygonal = np.isin(shapely.get_type_id(bad), _POLYGONAL)
    fixed = np.empty(len(bad), dtype=object)
    unrepairable = np.zeros(len(bad), dtype=bool)
    fixed[polygonal], unrepairable[polygonal] = _guarded(
        lambda g: _polygonal_parts(shapely.make_valid(g, method="structure", keep_collapsed=False)), bad[polygonal])
    fixed[~polygonal], unrepairable[~polygonal] = _guarded(
        lambda g: shapely.make_valid(g, method="linework", keep_collapsed=True), bad[~polygonal])
    # GEOS can return polygons that share an edge (an invalid MultiPolygon), or a line sliver
    # beside the polygons; slivers are dropped above, a second pass then buffer(0) dissolves shared
    # edges without changing the area.
    for fallback in (lambda g: shapely.make_valid(g, method="structure", keep_collapsed=False),
                     lambda g: shapely.buffer(g, 0)):
        again = polygonal & ~shapely.is_valid(fixed)
        if again.any():
            fixed[again], failed = _guarded(fallback, fixed[again])
            unrepairable[np.flatnonzero(again)[failed]] = True
    out[invalid] = fixed

    before_ids, after_ids = shapely.get_type_id(bad), shapely.get_type_id(fixed)
    action = "made valid: " + _names(before_ids) + " -> " + _names(after_ids)
    action = np.where(shapely.is_empty(fixed), action + " (collapsed to empty)", action)
    unit = _unit(crs)
    area = np.char.mod("%.1f", np.stack([shapely.area(bad), shapely.area(fixed)]))
    length = np.char.mod("%.1f", np.stack([shapely.length(bad), shapely.length(fixed)]))
    action = np.where(
        polygonal, action + ", area " + area[0].astype(object) + " -> " + area[1].astype(object)
        + f" ({unit})", action,
    )
    lineal = np.isin(before_ids, _LINEAL)
    unit_1d = unit.removeprefix("square ")
    action = np.where(
        lineal, action + ", length " + length[0].astype(object) + " -> "
        + length[1].astype(object) + f" ({unit_1d})", action,
    )
    still_bad = ~shapely.is_valid(fixed)
    action = np.where(still_bad, "could not be made valid: " + action, action)
    action = np.where(unrepairable, "could not be made valid (GEOS topology error); dropped: " + action, action)

    n_empty = int(empty.sum())
    empty_action = np.where(
        missing[empty], "not repaired: no geometry",
        "not repaired: empty " + _names(shapely.get_type_id(values[empty])),
    )
    positions = np.concatenate([np.flatnonzero(invalid), np.flatnonzero(empty)])
    reasons = np.concatenate([
        np.asarray(shapely.is_valid_reason(bad), dtype=object),
        np.full(n_empty, "empty geometry", dtype=object),
    ])
    actions = np.concatenate([np.asarray(action, dtype=object), empty_action.astype(object)])
    order = np.argsort(positions, kind="stable")
    report = pd.DataFrame(
        {
            "index": np.asarray(index[positions[order]], dtype=object),
            "reason": reasons[order],
            "action": actions[order],
        },
        columns=["index", "reason", "action"],
    )
    repaired = geopandas.GeoSeries(out, index=index, crs=crs, name=getattr(geoms, "name", None))
    return repaired, report


def geometry_type_problems(geoms, allowed):
    """Flag geometries whose type is not among the allowed ones.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or array_like of shapely geometries
    allowed : set of str
        Allowed type names, from :data:`GEOMETRY_TYPES` (e.g. ``{"Polygon", "MultiPolygon"}``).
        A missing geometry (None) is always a problem; an empty one is judged by its type.

    Returns
    -------
    mask : pandas.Series or numpy.ndarray of bool
        True where the type is wrong. A Series with the input's index for a GeoSeries.
    messages : pandas.Series or numpy.ndarray of str
        ``"geometry type Point, expected Polygon or MultiPolygon"`` (``"no geometry, expected …"``
        for None), or ``""`` where all is well.

    Raises
    ------
    InputError
        If ``allowed`` names an unknown type; the message lists the valid names.

    Examples
    --------
    >>> from shapely import Point, Polygon
    >>> mask, messages = geometry_type_problems(
    ...     [Point(0, 0), Polygon([(0, 0), (1, 0), (1, 1)])], {"Polygon", "MultiPolygon"})
    >>> mask.tolist()
    [True, False]
    >>> messages.tolist()
    ['geometry type Point, expected Polygon or MultiPolygon', '']
    """
    if isinstance(allowed, str):
        allowed = {allowed}
    allowed = set(allowed)
    unknown = allowed - set(GEOMETRY_TYPES)
    if unknown or not allowed:
        raise InputError(
            f"unknown geometry type(s) {sorted(unknown)} in allowed; valid names: "
            + ", ".join(GEOMETRY_TYPES)
        )
    values, index, _, as_series = _split(geoms)
    ordered = [name for name in GEOMETRY_TYPES if name in allowed]
    expected = " or ".join(ordered) if len(ordered) < 3 else (
        ", ".join(ordered[:-1]) + " or " + ordered[-1])
    names = _names(shapely.get_type_id(values))
    mask = ~np.isin(names, ordered)
    described = np.where(names == "None", "no geometry", "geometry type " + names)
    messages = np.where(mask, described + f", expected {expected}", "")
    messages = messages.astype(str)
    if as_series:
        return pd.Series(mask, index=index), pd.Series(messages, index=index, dtype=object)
    return mask, messages
