"""Area zoning: four-colour areas (layer ``risk_zones``), grids, and the risk surface (GeoTIFF).

* :func:`zone_areas` colours any polygons (towns, streets, planning units) from the classified
  plots, the safety buffers and the hazard sites in them, by the rule of
  :mod:`zoning.wall.area_rules` (table ``[zoning]`` of the rule set).
* :func:`grid_zones` does the same for a regular grid of square cells laid over an extent.
* :func:`risk_surface` burns the plots and buffers into a raster of levels (worst level wins) and
  :func:`write_risk_surface` writes it as a tiled, compressed GeoTIFF with the palette as its
  colour table.

Everything is computed in metres: the areas' (or ``crs``) metric CRS, else a CGCS2000
Gauss-Krüger zone (EPSG:4549 for Changzhou). Layers that are combined must share a CRS.

>>> import geopandas as gpd, shapely
>>> from zoning.rules import load_ruleset
>>> rs = load_ruleset()
>>> plots = gpd.GeoDataFrame({"plot_id": ["P1"], "level": [1]}, geometry=[shapely.box(0, 0, 100, 100)], crs=4549)
>>> towns = gpd.GeoDataFrame({"code": ["T1", "T2"]}, geometry=[shapely.box(-500, -500, 500, 500),
...                          shapely.box(500, -500, 1500, 500)], crs=4549)
>>> zone_areas(towns, plots, rules=rs)[["code", "level", "colour_name"]].to_dict("records")
[{'code': 'T1', 'level': 1, 'colour_name': 'red'}, {'code': 'T2', 'level': 4, 'colour_name': 'green'}]
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS

from geo.crs import require_metric
from geo.errors import InputError
from zoning._shared import metric_crs, require_columns, resolve_palette, same_crs
from zoning.rules import LEVELS, Palette, RuleSet, load_ruleset
from zoning.wall.area_rules import AreaRule, ZoningRules, largest_per_site, parse_zoning_rules, zone_geometries
from zoning.wall.plot_rules import text

__all__ = ["zone_areas", "grid_zones", "grid_cells", "zone_cells", "risk_surface", "write_risk_surface", "parse_zoning_rules",
           "ZoningRules", "AreaRule"]


def _as_rules(rules: RuleSet | ZoningRules | None) -> ZoningRules:
    if isinstance(rules, ZoningRules):
        return rules
    if rules is None:
        rules = load_ruleset()
    if isinstance(rules, RuleSet):
        return parse_zoning_rules(rules)
    raise InputError(f"rules: expected a RuleSet or ZoningRules, got {type(rules).__name__}")


def _inputs(base: gpd.GeoDataFrame, base_name: str, plots, buffers, sites):
    same_crs(base, base_name, plots, "classified_plots")
    same_crs(base, base_name, buffers, "buffers")
    same_crs(base, base_name, sites, "sites")
    require_columns(plots, ("level",), "classified_plots", "Run zoning.wall.classify.classify_plots first.")
    levels = plots["level"]
    if len(levels) and (levels.isna().any() or not levels.isin(LEVELS).all()):
        raise InputError("classified_plots.level: expected levels 1-4 on every plot (run classify_plots)")


def _project(frame: gpd.GeoDataFrame | None, crs: CRS) -> gpd.GeoDataFrame | None:
    if frame is None:
        return None
    return frame if CRS(frame.crs).equals(crs) else frame.to_crs(crs)


def _finish(out: gpd.GeoDataFrame, zoned: dict, zr: ZoningRules, palette) -> gpd.GeoDataFrame:
    pal = resolve_palette(palette, zr.palettes, zr.default_palette)
    level = zoned["level"]
    out["level"] = level
    out["colour"] = np.asarray(pal.colours, dtype=object)[level - 1]
    out["colour_name"] = np.asarray(pal.names, dtype=object)[level - 1]
    out["colour_zh"] = np.asarray(pal.labels_zh, dtype=object)[level - 1]
    out["n_plots"] = zoned["n_plots"]
    out["reasons"] = zoned["reasons"]
    out.attrs.update({"layer": "risk_zones", "ruleset": zr.label, "palette": pal.key})
    return out


def zone_areas(areas: gpd.GeoDataFrame, classified_plots: gpd.GeoDataFrame,
               buffers: gpd.GeoDataFrame | None = None, sites: gpd.GeoDataFrame | None = None, *,
               rules: RuleSet | ZoningRules, palette: str | Palette | None = None) -> gpd.GeoDataFrame:
    """Colour each polygon of ``areas`` from the plots, buffers and sites in it (layer ``risk_zones``).

    Parameters
    ----------
    areas : GeoDataFrame
        Polygons to colour (towns from ``admin_areas``, or any others); their columns are kept.
    classified_plots : GeoDataFrame
        Output of :func:`zoning.wall.classify.classify_plots` (needs ``level``), in the CRS of ``areas``.
    buffers : GeoDataFrame, optional
        Layer ``safety_buffers`` (external safety distances), in the CRS of ``areas``.
    sites : GeoDataFrame, optional
        Layer ``hazard_sites`` (``major_hazard_grade`` read if present), in the CRS of ``areas``.
    rules : RuleSet or ZoningRules
        Table ``[zoning]`` (see :mod:`zoning.wall.area_rules` for the rule).
    palette : str or Palette, optional
        Default: the rule set's ``default_palette``.

    Returns
    -------
    GeoDataFrame, a copy of ``areas`` with ``level``, ``colour``, ``colour_name``, ``colour_zh``,
    ``n_plots`` (plots counted in the area) and ``reasons``.
    """
    zr = _as_rules(rules)
    _inputs(areas, "areas", classified_plots, buffers, sites)
    crs = metric_crs(areas)
    geoms = np.asarray(_project(areas, crs).geometry.to_numpy(), dtype=object)
    zoned = zone_geometries(geoms, _project(classified_plots, crs), _project(buffers, crs), _project(sites, crs),
                            zr, resolve_palette(palette, zr.palettes, zr.default_palette))
    return _finish(areas.copy(), zoned, zr, palette)


def grid_zones(extent_gdf: gpd.GeoDataFrame, classified_plots: gpd.GeoDataFrame,
               buffers: gpd.GeoDataFrame | None = None, cell_size: float = 500, crs=None, *,
               rules: RuleSet | ZoningRules, sites: gpd.GeoDataFrame | None = None,
               palette: str | Palette | None = None, max_cells: int = 1_000_000) -> gpd.GeoDataFrame:
    """Colour a regular grid of square cells laid over an extent, by the rule of :func:`zone_areas`.

    The grid is aligned on multiples of ``cell_size`` in the metric CRS (so two runs over
    neighbouring extents share their cells) and keeps only cells whose interior meets the extent.

    Parameters
    ----------
    extent_gdf : GeoDataFrame
        The area to cover (e.g. a town from ``admin_areas``); its union is used.
    classified_plots, buffers, sites : GeoDataFrame
        As for :func:`zone_areas`, in the CRS of ``extent_gdf``.
    cell_size : float
        Cell side in metres.
    crs : CRS-like, optional
        Metric CRS of the grid; default: the extent's own if metric, else its Gauss-Krüger zone.
    max_cells : int
        Refuse grids with more cells than this (InputError) rather than exhaust memory.

    Returns
    -------
    GeoDataFrame in the grid's CRS: ``cell_id`` (``r<row>c<col>``, row 0 at the north), ``row``,
    ``col`` and the columns of :func:`zone_areas`.
    """
    zr = _as_rules(rules)
    _inputs(extent_gdf, "extent_gdf", classified_plots, buffers, sites)
    cells, row, col, target = grid_cells(extent_gdf, cell_size, crs, max_cells=max_cells)
    return zone_cells(cells, row, col, target, classified_plots, buffers, sites, rules=zr, palette=palette)


def grid_cells(extent_gdf: gpd.GeoDataFrame, cell_size: float, crs=None, *, max_cells: int = 1_000_000):
    """The cells of :func:`grid_zones`: ``(cells, row, col, crs)``, cells as a numpy array of boxes.

    Kept apart so that a partitioned run (:mod:`zoning.province`) lays the same grid once and
    colours its cells in pieces.
    """
    if not np.isfinite(cell_size) or cell_size <= 0:
        raise InputError(f"cell_size: expected a positive number of metres, got {cell_size!r}")
    target = require_metric(crs, what="the grid") if crs is not None else metric_crs(extent_gdf)
    union = shapely.union_all(shapely.make_valid(np.asarray(_project(extent_gdf, target).geometry.to_numpy())))
    if union.is_empty:
        raise InputError("extent_gdf: no non-empty geometry to lay a grid over")
    (x0, y0, nx, ny), _ = _grid_frame(union.bounds, cell_size, max_cells)
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
    cells = shapely.box(x0 + ix * cell_size, y0 + iy * cell_size, x0 + (ix + 1) * cell_size, y0 + (iy + 1) * cell_size)
    shapely.prepare(union)
    keep = shapely.intersects(union, cells) & ~shapely.touches(union, cells)
    return cells[keep], (ny - 1 - iy)[keep], ix[keep], target


def zone_cells(cells: np.ndarray, row: np.ndarray, col: np.ndarray, crs, classified_plots: gpd.GeoDataFrame,
               buffers: gpd.GeoDataFrame | None = None, sites: gpd.GeoDataFrame | None = None, *,
               rules: RuleSet | ZoningRules, palette: str | Palette | None = None) -> gpd.GeoDataFrame:
    """Colour grid cells (from :func:`grid_cells`) by the rule of :func:`zone_areas`; as :func:`grid_zones`.

    A cell's colour depends only on the plots, buffers and sites meeting it, so any subset of the
    cells gets the values it has in the whole grid.
    """
    zr = _as_rules(rules)
    zoned = zone_geometries(cells, _project(classified_plots, crs), _project(buffers, crs),
                            _project(sites, crs), zr, resolve_palette(palette, zr.palettes, zr.default_palette))
    out = gpd.GeoDataFrame({"cell_id": text("r", row, "c", col).astype(str), "row": row, "col": col},
                           geometry=cells, crs=crs)
    return _finish(out, zoned, zr, palette)


def _grid_frame(bounds, cell_size: float, max_cells: int):
    """Origin and shape of a grid aligned on ``cell_size`` covering ``bounds``; top-left transform."""
    minx, miny, maxx, maxy = bounds
    x0, y0 = np.floor(minx / cell_size) * cell_size, np.floor(miny / cell_size) * cell_size
    nx = max(1, int(np.ceil((maxx - x0) / cell_size - 1e-9)))
    ny = max(1, int(np.ceil((maxy - y0) / cell_size - 1e-9)))
    if nx * ny > max_cells:
        raise InputError(f"a {cell_size:g} m grid over this extent has {nx} × {ny} = {nx * ny} cells, more than "
                         f"max_cells = {max_cells}; use larger cells or a smaller extent")
    return (x0, y0, nx, ny), Affine(cell_size, 0.0, x0, 0.0, -cell_size, y0 + ny * cell_size)


def risk_surface(classified_plots: gpd.GeoDataFrame, buffers: gpd.GeoDataFrame | None = None,
                 cell_size: float = 100, bounds: tuple[float, float, float, float] | None = None, crs=None, *,
                 rules: RuleSet | ZoningRules | None = None, all_touched: bool = True,
                 max_cells: int = 25_000_000) -> tuple[np.ndarray, Affine, CRS]:
    """Rasterise the plots' levels and the buffers into a grid of levels, worst level winning.

    Shapes are burnt from level 4 (green) to level 1 (red), so a cell takes the highest risk of
    all shapes touching it. With ``all_touched`` (default) every cell a shape touches is burnt: a
    conservative choice, so no plot smaller than a cell disappears. Buffers without a ``level``
    column get ``[zoning.buffers] level`` of the rule set.

    Parameters
    ----------
    classified_plots : GeoDataFrame
        Output of :func:`zoning.wall.classify.classify_plots` (needs ``level``).
    buffers : GeoDataFrame, optional
        Layer ``safety_buffers``, in the CRS of the plots.
    cell_size : float
        Cell side in metres.
    bounds : (minx, miny, maxx, maxy), optional
        Extent in the output CRS; default: the plots and buffers. Snapped outwards to the grid.
    crs : CRS-like, optional
        Metric output CRS; default: the plots' own if metric, else their Gauss-Krüger zone.
    rules : RuleSet or ZoningRules, optional
        Default: the default rule set.

    Returns
    -------
    (array, transform, crs)
        ``uint8`` array of levels 1-4 with 0 for no data, its affine transform, its pyproj CRS.
    """
    _inputs(classified_plots, "classified_plots", classified_plots, buffers, None)
    if not np.isfinite(cell_size) or cell_size <= 0:
        raise InputError(f"cell_size: expected a positive number of metres, got {cell_size!r}")
    target = require_metric(crs, what="the grid") if crs is not None else metric_crs(classified_plots)
    plots = _project(classified_plots, target)
    geoms = [np.asarray(plots.geometry.to_numpy(), dtype=object)]
    levels = [plots["level"].to_numpy(dtype=np.int64)]
    if buffers is not None and len(buffers):
        buf = _project(buffers, target)
        if "level" in buf.columns:
            buffer_levels = buf["level"].to_numpy(dtype=np.int64)
        else:
            zr = _as_rules(rules)
            if zr.buffer_level is None:
                raise InputError("buffers have no level column and the rule set has no [zoning.buffers] level")
            buffer_levels = np.full(len(buf), zr.buffer_level, dtype=np.int64)
        widest = largest_per_site(buf)  # a site's buffers are concentric and share one level
        geoms.append(np.asarray(buf.geometry.to_numpy(), dtype=object)[widest])
        levels.append(buffer_levels[widest])
    geoms, levels = np.concatenate(geoms), np.concatenate(levels)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms, levels = geoms[usable], levels[usable]
    if bounds is None:
        if not len(geoms):
            raise InputError("risk_surface: no plot or buffer geometry and no bounds to size the raster")
        bounds = tuple(shapely.total_bounds(geoms))
    (_, _, nx, ny), transform = _grid_frame(bounds, cell_size, max_cells)
    order = np.argsort(-levels, kind="stable")  # green first, red last: the worst level wins
    if not len(order):
        return np.zeros((ny, nx), dtype=np.uint8), transform, target
    from rasterio.features import rasterize  # rasterio is imported when a surface is drawn, not with the rules

    array = rasterize(zip(polygon_mappings(geoms[order]), levels[order].tolist()), out_shape=(ny, nx),
                      transform=transform,
                      fill=0, all_touched=all_touched, dtype="uint8")
    return array, transform, target


def polygon_mappings(geoms: np.ndarray) -> list[dict]:
    """GeoJSON-like mappings of polygons, built from the coordinate arrays in bulk.

    rasterio reads ``__geo_interface__`` otherwise, a Python loop over every vertex (most of the
    time of a city's surface); here the coordinates leave GEOS once, as one array.
    """
    if not len(geoms):
        return []
    try:
        kind, coords, offsets = shapely.to_ragged_array(geoms)
    except ValueError:  # not all polygonal (e.g. a collection): let rasterio read them one by one
        return list(geoms)
    points = coords.tolist()
    rings = [points[a:b] for a, b in zip(offsets[0][:-1], offsets[0][1:])]
    polygons = [rings[a:b] for a, b in zip(offsets[1][:-1], offsets[1][1:])]
    if kind == shapely.GeometryType.POLYGON:
        return [{"type": "Polygon", "coordinates": p} for p in polygons]
    return [{"type": "MultiPolygon", "coordinates": polygons[a:b]} for a, b in zip(offsets[2][:-1], offsets[2][1:])]


def _rgba(hex_colour: str) -> tuple[int, int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 255


def write_risk_surface(path: str | Path, array: np.ndarray, transform: Affine, crs,
                       palette: str | Palette | None = None, *, ruleset_label: str | None = None) -> Path:
    """Write a risk surface as a GeoTIFF: uint8 levels, 0 = no data, palette colour table.

    Deflate-compressed, tiled 256 × 256. Tags record the palette, its level names and the rule set.

    Parameters
    ----------
    path : str or Path
    array, transform, crs
        As returned by :func:`risk_surface`.
    palette : str or Palette, optional
        Colour table; default: the default rule set's ``default_palette``.
    ruleset_label : str, optional
        ``name@version`` of the rule set the levels came from, written as a tag.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(f"array: expected a 2-D grid of levels, got shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() > 4):
        raise InputError(f"array: expected levels 0-4 (0 = no data), got values {array.min()}-{array.max()}")
    if not isinstance(palette, Palette):
        palette = load_ruleset().palette(palette)
    import rasterio
    import rasterio.crs

    colormap = {0: (0, 0, 0, 0), **{lv: _rgba(palette.colour(lv)) for lv in LEVELS}}
    path = Path(path)
    profile = {"driver": "GTiff", "height": array.shape[0], "width": array.shape[1], "count": 1, "dtype": "uint8",
               "crs": rasterio.crs.CRS.from_wkt(CRS(crs).to_wkt()), "transform": transform, "nodata": 0,
               "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype(np.uint8), 1)
        dst.write_colormap(1, colormap)
        dst.set_band_description(1, "risk level: 1 重大 … 4 低, 0 no data")
        dst.update_tags(palette=palette.key, levels=", ".join(f"{lv}={palette.name_of(lv)}" for lv in LEVELS),
                        **({"ruleset": ruleset_label} if ruleset_label else {}))
    return path
