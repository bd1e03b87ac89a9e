"""Small helpers shared by :mod:`zoning.wall.classify` and :mod:`zoning.wall.surface` (private).

Palette choice, required columns, and the CRS guards of :mod:`geo.crs` (same CRS for layers
combined; metres for areas).
"""

from __future__ import annotations

from typing import Mapping

import geopandas as gpd
from pyproj import CRS

from geo.crs import metric_crs_for, require_metric, require_same_crs
from geo.errors import CRSError, InputError
from zoning.errors import RuleSetError
from zoning.rules import Palette

__all__ = ["resolve_palette", "metric_crs", "same_crs", "require_columns", "zh_colour"]


def resolve_palette(palette: str | Palette | None, palettes: Mapping[str, Palette], default: str) -> Palette:
    """The palette object for ``palette`` (a key of ``palettes``, a Palette, or None for ``default``)."""
    if isinstance(palette, Palette):
        return palette
    key = palette or default
    if key not in palettes:
        raise RuleSetError(f"palettes.{key}: unknown palette; known: {', '.join(sorted(palettes))}")
    return palettes[key]


def zh_colour(palette: Palette, level: int) -> str:
    """The Chinese colour word of a level, e.g. ``红色`` from ``红色(重大风险)``."""
    return palette.labels_zh[level - 1].split("(")[0].split("\uff08")[0]


def require_columns(frame, columns: tuple[str, ...], layer: str, hint: str = "") -> None:
    """InputError naming the layer and the missing columns (and what was there)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "(none)"
        raise InputError(f"{layer}: required column(s) {', '.join(missing)} missing; columns present: {have}"
                         + (f". {hint}" if hint else ""))


def same_crs(first: gpd.GeoDataFrame, first_name: str, other: gpd.GeoDataFrame | None, other_name: str) -> None:
    """CRSError unless ``other`` is None or in the CRS of ``first`` (both must have one)."""
    if other is not None:
        require_same_crs(first, other, names=(first_name, other_name))
    elif first.crs is None:
        raise CRSError(f"{first_name} has no CRS; set the CRS it is in with .set_crs(...) (e.g. EPSG:4490)")


def metric_crs(frame: gpd.GeoDataFrame) -> CRS:
    """A CRS in metres for measuring ``frame``: its own if projected in metres, else its Gauss-Krüger zone.

    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(119.8, 31.6, 120.0, 31.8)], crs=4490)
    >>> metric_crs(g).to_epsg()
    4549
    """
    if frame.crs is None:
        raise CRSError("layer has no CRS; set the CRS it is in with .set_crs(...) (e.g. EPSG:4490)")
    crs = CRS(frame.crs)
    if crs.is_projected:
        return require_metric(crs, what="area zoning")
    return metric_crs_for(frame)
