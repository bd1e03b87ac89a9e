"""Grids (网格): the cells a town is divided into, each walked by its grid officer (网格员).

Where the store's ``admin_areas`` holds polygons of level ``grid`` (each with its town as
``parent``), a town's wall, lists and editors' scope also work per grid. A row's grid is not
stored: it is computed here from the polygons, so that an edited plot outline or a redrawn grid
takes effect at once.

The rule (:func:`assign_grids`): a feature belongs to the grid its representative point
(``point_on_surface``, taken in a metric CRS) falls in, among the grids of its own town (the
row's ``town``, where it has one). A point on the boundary shared by two grids (within
:data:`BOUNDARY_TOLERANCE_M`) goes to the grid of the lowest code, so every point has at most one
grid; a point outside every grid of its town belongs to no grid (None).

>>> import geopandas as gpd, shapely
>>> grids = gpd.GeoDataFrame({"code": ["G2", "G1"], "parent": ["T", "T"], "level": "grid"},
...     geometry=[shapely.box(500_040, 0, 500_100, 100), shapely.box(500_000, 0, 500_040, 100)], crs=4549)
>>> plots = gpd.GeoDataFrame({"town": ["T", "T", "T", "U"]}, geometry=[
...     shapely.box(500_000, 0, 500_100, 20),   # centre x = 500 050: in G2
...     shapely.box(500_020, 0, 500_060, 20),   # centre x = 500 040: on the shared edge → G1
...     shapely.box(500_200, 0, 500_220, 20),   # outside both
...     shapely.box(500_000, 0, 500_010, 10)],  # inside G1, but of town U: none
...     crs=4549)
>>> assign_grids(plots, grids).tolist()
['G2', 'G1', None, None]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from zoning._shared import metric_crs
from zoning.rules import LEVELS

__all__ = ["BOUNDARY_TOLERANCE_M", "GRID_COLUMNS", "grid_areas", "assign_grids", "grid_counts"]

#: A representative point this close to two grids (metres) is on their shared boundary: lowest code wins.
BOUNDARY_TOLERANCE_M = 0.001
#: Columns of a grid table (:func:`grid_areas`), besides its geometry.
GRID_COLUMNS = ("code", "name", "parent", "officer", "officer_phone")


def grid_areas(admin_areas: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The grids of ``admin_areas`` (rows of level ``grid``), sorted by code, with :data:`GRID_COLUMNS`.

    Columns absent from the layer (``officer`` in a store written before grids had officers) are
    None. Empty (no rows) when there is no layer or it holds no grid.
    """
    if admin_areas is None or "level" not in admin_areas.columns:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in GRID_COLUMNS}, geometry=[], crs=4490)
    rows = admin_areas[admin_areas["level"].astype(str) == "grid"]
    out = gpd.GeoDataFrame({c: (rows[c].astype(object).where(rows[c].notna(), None) if c in rows.columns
                                else pd.Series(None, index=rows.index, dtype=object)) for c in GRID_COLUMNS},
                           geometry=rows.geometry.values if len(rows) else [], crs=admin_areas.crs)
    for column in GRID_COLUMNS[1:]:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    out["code"] = out["code"].astype(str)
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def assign_grids(features: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """The grid code of each feature (None where none), by the rule of the module docstring.

    Parameters
    ----------
    features : GeoDataFrame
        Rows with geometry and a CRS; an optional ``town`` column restricts each row to the grids
        whose ``parent`` is that town (rows without a town may fall in any grid).
    grids : GeoDataFrame
        Grid polygons with ``code`` and ``parent`` (:func:`grid_areas`).

    Returns
    -------
    Series of str or None, aligned with ``features``.
    """
    out = pd.Series([None] * len(features), index=features.index, dtype=object)
    if not len(features) or not len(grids):
        return out
    if features.crs is None or grids.crs is None:
        raise InputError("assign_grids: features and grids need a CRS (to measure in metres)")
    metric = metric_crs(grids)
    geoms = np.asarray(features.geometry.to_crs(metric).values, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = np.full(len(geoms), None, dtype=object)
    points[usable] = shapely.point_on_surface(geoms[usable])
    polys = np.asarray(grids.geometry.to_crs(metric).values, dtype=object)
    rows, cells = shapely.STRtree(polys).query(points, predicate="dwithin", distance=BOUNDARY_TOLERANCE_M)
    if "town" in features.columns:  # only the grids of the row's own town
        town = features["town"].astype(object).to_numpy()[rows]
        parent = grids["parent"].astype(object).to_numpy()[cells]
        keep = pd.isna(town) | (town == parent)
        rows, cells = rows[keep], cells[keep]
    codes = grids["code"].astype(str).to_numpy()[cells]
    pairs = pd.DataFrame({"row": rows, "code": codes}).sort_values(["row", "code"]).drop_duplicates("row")
    out.iloc[pairs["row"].to_numpy()] = pairs["code"].to_numpy()
    return out


def grid_counts(levels: pd.Series, grid: pd.Series, grids: pd.DataFrame) -> pd.DataFrame:
    """Plots per colour level in each grid of ``grids`` (empty grids too), and a last row for plots in none.

    Parameters
    ----------
    levels, grid : Series
        Each plot's level (1-4) and grid code (None outside every grid), aligned.
    grids : DataFrame
        The grids to list (:func:`grid_areas`), in order.

    Returns
    -------
    DataFrame: the :data:`GRID_COLUMNS` of each grid, ``count_1`` … ``count_4`` and ``count_total``;
    plots in no grid follow as a row whose ``code`` is None (left out when there are none).

    >>> grids = pd.DataFrame({"code": ["G1", "G2"], "name": ["一", "二"], "parent": "T", "officer": ["王", None],
    ...                       "officer_phone": None})
    >>> t = grid_counts(pd.Series([1, 3, 3, 4]), pd.Series(["G1", "G1", None, "G1"]), grids)
    >>> t[["code", "count_1", "count_3", "count_4", "count_total"]].values.tolist()
    [['G1', 1, 1, 1, 3], ['G2', 0, 0, 0, 0], [None, 0, 1, 0, 1]]
    """
    level = pd.to_numeric(pd.Series(np.asarray(levels)), errors="coerce")
    code = pd.Series(np.asarray(grid, dtype=object)).where(lambda c: c.notna(), "")
    table = pd.crosstab(code, level).reindex(columns=list(LEVELS), fill_value=0)
    order = [*grids["code"].astype(str), *([""] if (code == "").any() else [])]
    table = table.reindex(order, fill_value=0).astype(np.int64)
    extra = [None] * (len(order) - len(grids))
    out = pd.DataFrame({c: pd.Series((list(grids[c]) if c in grids.columns else [None] * len(grids)) + extra,
                                     dtype=object) for c in GRID_COLUMNS})
    out["code"] = pd.Series([c or None for c in order], dtype=object)
    for lv in LEVELS:
        out[f"count_{lv}"] = table[lv].to_numpy()
    out["count_total"] = table.sum(axis=1).to_numpy()
    return out
