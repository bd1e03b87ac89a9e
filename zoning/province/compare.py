"""Are two zoning results the same? Row for row, value for value, cell for cell (no tolerance).

Used to hold the distributed run to the in-process one (tests, ``benchmarks/bench_province.py``).
``separation_violations`` is compared as a set of rows (both sorted the same way): the distributed
run groups its rows by partition.

>>> import geopandas as gpd, numpy as np, shapely
>>> from zoning.pipeline import ZoningResult
>>> a = gpd.GeoDataFrame({"v": [1.0]}, geometry=[shapely.Point(0, 0)], crs=4490)
>>> r = ZoningResult({"x": a}, (np.zeros((1, 1)), None, None), a.drop(columns="geometry"))
>>> s = ZoningResult({"x": a.assign(v=1.0 + 1e-15)}, r.surface, r.wall_summary)
>>> differences(r, r), differences(r, s)
([], ['x: values differ'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zoning.pipeline import ZoningResult

__all__ = ["VIOLATION_KEY", "differences"]

VIOLATION_KEY = ["rule", "subject_layer", "subject_id", "site_id", "target_class"]


def _frame_differs(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if list(a.columns) != list(b.columns):
        return f"columns {list(a.columns)} != {list(b.columns)}"
    if len(a) != len(b):
        return f"{len(a)} rows != {len(b)} rows"
    geometry = [c for c in a.columns if getattr(a[c], "geom_type", None) is not None]
    try:
        pd.testing.assert_frame_equal(a.drop(columns=geometry), b.drop(columns=geometry), check_exact=True)
    except AssertionError:
        return "values differ"
    for c in geometry:
        if not np.array_equal(a[c].to_wkb().to_numpy(), b[c].to_wkb().to_numpy()):
            return f"geometries differ ({c})"
    return None


def differences(a: ZoningResult, b: ZoningResult) -> list[str]:
    """What differs between two results (empty when they are the same); one line per difference."""
    out = []
    if list(a.layers) != list(b.layers):
        out.append(f"layers {list(a.layers)} != {list(b.layers)}")
    for name in a.layers.keys() & b.layers.keys():
        x, y = a.layers[name], b.layers[name]
        if name == "separation_violations":
            key = [c for c in VIOLATION_KEY if c in x.columns]
            x, y = x.sort_values(key, kind="stable"), y.sort_values(key, kind="stable")
        why = _frame_differs(x, y)
        if why:
            out.append(f"{name}: {why}")
    (sa, ta, _), (sb, tb, _) = a.surface, b.surface
    if sa.shape != sb.shape or not np.array_equal(sa, sb) or ta != tb:
        out.append(f"risk_surface: {sa.shape} vs {sb.shape}, {int((sa != sb).sum()) if sa.shape == sb.shape else '-'} "
                   "cells differ")
    why = _frame_differs(a.wall_summary, b.wall_summary)
    if why:
        out.append(f"wall_summary: {why}")
    if sorted(a.warnings) != sorted(b.warnings):
        out.append("warnings differ")
    return out
