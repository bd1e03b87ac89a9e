"""The ``ir_contours`` layer: individual-risk contours at the GB 36894-2018 levels, summed over sites.

Sites whose reach at the lowest level overlap are grouped into clusters (connected components of
their reach boxes); each cluster's window of the global cell lattice (``qra.grid_cell_m``) is
filled with the sum of its sites' IR, as :func:`zoning.hazards.qra.individual.risk_window` makes it
— a pure function, so the same cells get the same values however the province is tiled — and every
level is traced as the polygons of
the cells at or above it (``rasterio.features.shapes``: cell-edge outlines, exact to the cell).

Each polygon names the sites that drive it: those whose own IR reaches 10 % of the level
somewhere inside it (team's choice, so that a far site adding a trace is not listed).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import shapes
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from zoning.hazards.qra.individual import SiteRisk, Window, window_for

__all__ = ["ir_contours", "format_rate", "CONTRIBUTION_SHARE", "CONTOUR_COLUMNS"]

#: A site is named on a contour polygon when its own IR reaches this share of the level inside it.
CONTRIBUTION_SHARE = 0.1
CONTOUR_COLUMNS = ["level", "level_label", "criteria", "site_ids", "max_ir", "area_m2", "geometry"]
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_rate(value: float, digits: int = 1) -> str:
    """``3×10⁻⁷/a`` for 3e-7 (per year), with ``digits`` significant digits.

    >>> format_rate(3e-7), format_rate(1e-5), format_rate(3.49e-6, 2)
    ('3×10⁻⁷/a', '1×10⁻⁵/a', '3.5×10⁻⁶/a')
    """
    if value <= 0:
        return "0/a"
    mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUP)}/a"


def _clusters(sites: list[SiteRisk], reach: np.ndarray) -> np.ndarray:
    boxes = shapely.box(*np.array([[s.x - r, s.y - r, s.x + r, s.y + r] for s, r in zip(sites, reach)]).T)
    a, b = shapely.STRtree(boxes).query(boxes, predicate="intersects")
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(len(sites), len(sites)))
    return connected_components(graph, directed=False)[1]


def _trace(ir: np.ndarray, own: list[np.ndarray], ids: list[str], window: Window, level: float) -> list[dict]:
    mask = ir >= level
    if not mask.any():
        return []
    labels, count = ndimage.label(mask)
    index = np.arange(1, count + 1)
    drivers = [[ids[k] for k in range(len(ids))
                if ndimage.maximum(own[k], labels, i) >= CONTRIBUTION_SHARE * level] for i in index]
    peak = ndimage.maximum(ir, labels, index)
    transform = Affine(window.cell, 0.0, window.x0, 0.0, -window.cell, window.y0 + window.ny * window.cell)
    parts: dict[int, list] = {}
    for geom, value in shapes(labels.astype(np.int32), mask=mask, transform=transform):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    return [{"level": level, "site_ids": "; ".join(drivers[i - 1]), "max_ir": float(peak[i - 1]),
             "geometry": shapely.union_all(parts[i])} for i in index if i in parts]


def ir_contours(sites: list[SiteRisk], levels, cell_m: float, crs, *,
                criteria: dict[float, str] | None = None) -> gpd.GeoDataFrame:
    """Polygons of the summed individual risk at each level (per year), in ``crs`` (metric).

    Parameters
    ----------
    sites : list of SiteRisk
    levels : iterable of float
        IR levels, e.g. :attr:`zoning.hazards.qra.rules.QRARules.levels`.
    cell_m : float
        Cell of the grid, m.
    crs : CRS-like
        The metric CRS the sites' coordinates are in.
    criteria : dict, optional
        Level → text naming the GB 36894 classes it is the criterion of.
    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CONTOUR_COLUMNS`; ``attrs["layer"] == "ir_contours"``.
    """
    levels = sorted({float(v) for v in levels}, reverse=True)
    rows = []
    active = [s for s in sites if levels and s.reach(levels[-1]) > 0]
    if active:
        reach = np.array([s.reach(levels[-1]) + cell_m for s in active])
        groups = _clusters(active, reach)
        for g in np.unique(groups):
            members = [s for s, k in zip(active, groups) if k == g]
            rr = reach[groups == g]
            bounds = (min(s.x - r for s, r in zip(members, rr)), min(s.y - r for s, r in zip(members, rr)),
                      max(s.x + r for s, r in zip(members, rr)), max(s.y + r for s, r in zip(members, rr)))
            window = window_for(bounds, cell_m)
            xs, ys = window.centres
            own = [s.at(xs, ys) for s in members]
            total = np.zeros(xs.shape)
            for v in own:          # the sum risk_window makes, site by site in the same order
                total += v
            ids = [s.site_id for s in members]
            for level in levels:
                rows += _trace(total, own, ids, window, level)
    frame = pd.DataFrame(rows, columns=["level", "site_ids", "max_ir", "geometry"])
    frame["level_label"] = frame["level"].map(format_rate)
    frame["criteria"] = [(criteria or {}).get(v, "") for v in frame["level"]]
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
    out["area_m2"] = out.geometry.area if len(out) else pd.Series(dtype=float)
    out = out[CONTOUR_COLUMNS].sort_values("level", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs["layer"] = "ir_contours"
    return out
