"""The zoning of many partitions on Dask: the task graph, and the merge into one :class:`ZoningResult`.

:func:`zone_partitions` takes one input future per partition (a dict of metric frames whose index is
the row number in the whole province; :func:`split_inputs` makes them from frames in memory,
:func:`zoning.province.run.city_futures` lets the workers read a generated province city by city)
and chains the stages of :mod:`zoning.province.stages`:

1. per partition, the point stage (plots, sites, QRA), its people found among the neighbours'
   targets within a site's farthest reach (``qra.max_distance_m``) and in the population window;
2. the driver gathers only bounds and reaches (a few numbers a partition), lays the zone grid and
   the risk-surface raster of the whole province (the in-process frames) and gives each cell to a
   partition;
3. per partition, the area stage, lent the neighbours' rows that reach its box (halo tasks);
4. the individual-risk clusters, found from the sites' reaches as
   :func:`~zoning.hazards.qra.contours.ir_contours` finds them, traced in batches.

The merged layers come out in the in-process order (rows sorted by province row, cells by grid
position, contours by level then cluster), except ``separation_violations`` whose rows are grouped by
partition: the same rows and values, in another order. Warnings are the same lines, grouped by
partition. The layers are handed to a sink (:mod:`zoning.province.sink`) one partition at a time, so
that a run whose sink writes them as they come never holds the whole province's rows on the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS

from geo.crs import metric_crs_for
from geo.errors import InputError
from layers.errors import LayerNotFound
from zoning.hazards.qra.assess import contour_layer
from zoning.hazards.qra.contours import _clusters
from zoning.hazards.qra.individual import Window
from zoning.hazards.qra.rules import parse_qra_rules
from zoning.hazards.separation import find_violations, parse_separation_rules
from zoning.pipeline import ZONE_COLUMNS, zones_frame
from zoning.province.partition import EMPTY_BOUNDS, expand, lattice_window, meets, merged, owners, total_bounds
from zoning.province.population import population_window
from zoning.province.sink import Gathered
from zoning.province.stages import (
    Context,
    area_stage,
    contour_batch,
    halo,
    people_near,
    point_meta,
    point_stage,
    risk_tile,
)
from zoning.rules import RuleSet
from zoning.wall.classify import level_names, plot_areas, summarise_areas
from zoning.wall.surface import _grid_frame, grid_cells

__all__ = ["ZONE_COLUMNS", "context_for", "ir_grid", "regions_of", "split_inputs", "zone_partitions"]

_SURFACE_MAX_CELLS = 25_000_000      # risk_surface's own limit, kept for the whole province
_CONTOUR_BATCH = 64                  # clusters per contour task


def context_for(ruleset: RuleSet, crs, has, *, palette=None, grid_cell_m: float = 500.0,
                surface_cell_m: float = 100.0) -> Context:
    """The :class:`~zoning.province.stages.Context` of a run (``has``: the layers the province holds)."""
    return Context(ruleset, CRS(crs), palette, float(grid_cell_m), float(surface_cell_m), frozenset(has))


def regions_of(admin: gpd.GeoDataFrame) -> tuple[np.ndarray, list[str]]:
    """Partition regions of an ``admin_areas`` layer: its districts (else towns, else everything as one)."""
    for level in ("district", "town"):
        rows = admin[admin["level"] == level]
        if len(rows) > 1:
            return np.asarray(rows.geometry.array, dtype=object), rows["code"].astype(str).tolist()
    return np.array([admin.geometry.union_all()], dtype=object), ["all"]


def split_inputs(inputs: dict[str, gpd.GeoDataFrame], regions) -> list[dict[str, gpd.GeoDataFrame]]:
    """Cut metric input frames into one dict per region (:func:`~zoning.province.partition.owners`).

    Each row keeps its row number in the whole frame as its index.
    """
    parts: list[dict] = [{} for _ in range(len(regions))]
    for name, frame in inputs.items():
        if frame is None:
            continue
        frame = frame.reset_index(drop=True)
        owner = owners(frame.geometry.to_numpy(), regions)
        for k in range(len(regions)):
            parts[k][name] = frame[owner == k]
    return parts


def _surface_frame(metas: list[dict], cell: float):
    bounds = total_bounds(*(m["surface"] for m in metas))
    if not np.isfinite(bounds[0]):
        raise InputError("risk_surface: no plot or buffer geometry and no bounds to size the raster")
    return _grid_frame(bounds, cell, _SURFACE_MAX_CELLS)


def _cell_owners(cells, regions_by_part: list) -> np.ndarray:
    flat = [(k, g) for k, geoms in enumerate(regions_by_part) for g in geoms]
    if not flat:
        return np.zeros(len(cells), dtype=np.int64)
    part = np.array([k for k, _ in flat])
    return part[owners(cells, np.array([g for _, g in flat], dtype=object))]


def _clusters_of(metas: list[dict], cell_m: float) -> list[np.ndarray]:
    """Province rows of the members of each IR cluster, in :func:`ir_contours`' own cluster order."""
    qra = pd.concat([m["qra"] for m in metas], ignore_index=True).sort_values("row", kind="stable")
    qra = qra[qra["reach_low"] > 0]
    if not len(qra):
        return []
    rows = qra["row"].to_numpy()
    centres = [SimpleNamespace(x=x, y=y) for x, y in zip(qra["x"], qra["y"])]
    groups = _clusters(centres, qra["reach_low"].to_numpy() + cell_m)
    return [rows[groups == g] for g in np.unique(groups)]


def zone_partitions(client, parts: list, ctx: Context, *, population=None,
                    regions: list | None = None, progress: Callable[[str], None] | None = None,
                    sink=None):
    """Run the zoning of every partition on the Dask ``client``; the merged result (see the module docstring).

    Parameters
    ----------
    client : distributed.Client
    parts : list of futures
        One per partition: dict of metric input frames indexed by province row.
    ctx : Context
    population : optional
        ``(values, transform, crs)`` or a GeoTIFF path on the lattice of the province
        (:func:`zoning.province.population.population_window` cuts each partition's window).
    regions : list of arrays of geometries, optional
        Per partition, the polygons whose cells of the zone grid it colours (default: its districts).
    progress : callable, optional
        Called with the name of each phase as it starts.
    sink : optional
        Where the layers go, one partition at a time (:mod:`zoning.province.sink`): by default
        :class:`~zoning.province.sink.Gathered`, and the :class:`ZoningResult` is returned; a
        :class:`~zoning.province.sink.FolderSink` writes them and returns what it wrote. ``parts``
        is emptied as partitions are merged, so that the workers can let each one go.
    """
    say = progress or (lambda _: None)
    # a task, not scattered data: a worker restarted for memory loses scattered data for good, a task's result is recomputed
    ctx_f = client.submit(_same, ctx, pure=False)
    n = len(parts)
    say("bounds")
    admins = client.gather([client.submit(_layer, p, "admin_areas", pure=False) for p in parts])
    targets = [client.submit(_layer, p, "protected_targets", pure=False) for p in parts]
    described = client.gather([client.submit(_describe, p, pure=False) for p in parts])
    if not sum(d["plots"] for d in described):
        raise LayerNotFound("the engine needs a non-empty industrial_plots layer; import it first")
    sites_b = [d["sites"] for d in described]
    reach = ctx.qra_reach()
    say("plots and sites")
    points = []
    for k, p in enumerate(parts):
        box = expand(sites_b[k], reach + 1.0) if np.isfinite(sites_b[k][0]) else None
        near = client.submit(people_near, targets, box, pure=False) if box is not None and ctx.qra else None
        pop = client.submit(population_window, population, box, pure=False) \
            if box is not None and population is not None and ctx.qra else None
        points.append(client.submit(point_stage, p, near, pop, ctx_f, pure=False))
    metas = client.gather([client.submit(point_meta, r, ctx_f, pure=False) for r in points])

    say("grid and surface")
    admin = merged([a for a in admins if a is not None and len(a)])
    cells_by_part: list = [None] * n
    if admin is not None and len(admin):
        extent = admin[admin["level"] == "district"] if (admin["level"] == "district").any() else admin
        boxes, row, col, _ = grid_cells(extent, ctx.grid_cell_m, ctx.crs)
        if regions is None:
            regions = [np.asarray(a[a["level"] == "district"].geometry.array, dtype=object)
                       if a is not None else np.empty(0, dtype=object) for a in admins]
        owner = _cell_owners(boxes, regions)
        position = np.arange(len(boxes))
        cells_by_part = [(boxes[owner == k], row[owner == k], col[owner == k], position[owner == k])
                         for k in range(n)]
    (x0, y0, nx, ny), transform = _surface_frame(metas, ctx.surface_cell_m)
    cell = ctx.surface_cell_m
    windows, boxes_p = [], []
    for k in range(n):
        win = lattice_window(expand(metas[k]["surface"], cell), (x0, y0, nx, ny), cell) \
            if np.isfinite(metas[k]["surface"][0]) else None
        window = None
        box = metas[k]["wall"]
        if win is not None:
            r0, c0, r1, c1 = win
            wb = (x0 + c0 * cell, y0 + (ny - r1) * cell, x0 + c1 * cell, y0 + (ny - r0) * cell)
            window = (r0, c0, wb)
            box = total_bounds(box, wb)
        if admins[k] is not None and len(admins[k]):
            box = total_bounds(box, tuple(admins[k][admins[k]["level"] == "town"].total_bounds)
                               if (admins[k]["level"] == "town").any() else EMPTY_BOUNDS)
        if cells_by_part[k] is not None and len(cells_by_part[k][0]):
            box = total_bounds(box, tuple(shapely.total_bounds(cells_by_part[k][0])))
        windows.append(window)
        boxes_p.append(total_bounds(box, described[k]["subjects"]))
    say("areas")
    areas = []
    for k in range(n):
        box = boxes_p[k]
        lent = [client.submit(halo, points[q], box, pure=False) for q in range(n)
                if q != k and (meets(metas[q]["wall"], box) or meets(metas[q]["reach"], box))]
        areas.append(client.submit(area_stage, parts[k], points[k], lent, cells_by_part[k], windows[k], ctx_f,
                                   pure=False))
    say("individual risk")
    contours = []
    if ctx.qra:
        clusters = _clusters_of(metas, parse_qra_rules(ctx.ruleset).grid_cell_m)
        for start in range(0, len(clusters), _CONTOUR_BATCH):
            batch = clusters[start:start + _CONTOUR_BATCH]
            rows = np.concatenate(batch)
            holders = [points[k] for k, m in enumerate(metas) if np.isin(m["qra"]["row"].to_numpy(), rows).any()]
            contours.append(client.submit(contour_batch, holders, batch, ctx_f, pure=False))
    say("merge")
    return _merge(client, parts, points, areas, contours, admin, ctx, (ny, nx), transform,
                  Gathered() if sink is None else sink, say)


def _same(value):
    return value


def _layer(inputs: dict, name: str):
    return inputs.get(name)


def _describe(inputs: dict) -> dict:
    """Rows of plots, bounds of the sites and of every subject of the separation checks."""
    sites = inputs.get("hazard_sites")
    plots = inputs.get("industrial_plots")
    return {"plots": 0 if plots is None else len(plots),
            "sites": tuple(sites.total_bounds) if sites is not None and len(sites) else EMPTY_BOUNDS,
            "subjects": total_bounds(*(tuple(f.total_bounds) for name, f in inputs.items()
                                       if f is not None and len(f) and name != "admin_areas"))}


def find_nothing(ctx: Context) -> gpd.GeoDataFrame:
    """The empty ``separation_violations`` layer (no partition had a site within reach of a subject)."""
    empty = gpd.GeoDataFrame({"site_id": []}, geometry=[], crs=ctx.crs)
    return find_violations(empty.assign(target_id=[], kind=[], gb36894_class=[]),
                           pd.DataFrame(columns=["site_id", "target_class", "distance_m"]), empty,
                           rules=parse_separation_rules(ctx.ruleset))


def _merge(client, parts, points, areas, contours, admin, ctx: Context, shape, transform: Affine, sink, say):
    """Hand the layers to ``sink`` one partition at a time, letting each partition's futures go after it.

    Only the small things of the whole province stay here: towns, grid cells, contours, the raster
    and three columns a plot for the wall's summary.
    """
    has_sites, has_targets = "hazard_sites" in ctx.has, "protected_targets" in ctx.has
    keyed, towns, cells, warnings, names = [], [], [], [], None
    array = np.zeros(shape, dtype=np.uint8)
    for k in range(len(points)):
        done, area = points[k].result(), areas[k].result()
        parts[k] = points[k] = areas[k] = None     # the workers may free this partition once its halos are lent
        warnings += done.warnings
        sink.add("risk_wall", done.wall)
        keyed.append(plot_areas(done.wall))
        names = names or level_names(done.wall, None)
        if has_sites:
            sink.add("major_hazards", done.grades)
            sink.add("safety_buffers", done.buffers)
            if has_targets:
                sink.add("separation_violations", area.violations, ordered=False)
        if ctx.qra:
            sink.add("threat_zones", done.threat)
        towns += [area.towns] if area.towns is not None else []
        cells += [area.cells] if area.cells is not None else []
        if area.surface is not None:
            part, (r0, c0) = area.surface
            array[r0:r0 + part.shape[0], c0:c0 + part.shape[1]] = part
        del done, area
        say(f"merged partition {k + 1} of {len(points)}")
    if has_sites and has_targets and not sink.has("separation_violations"):
        sink.add("separation_violations", find_nothing(ctx), ordered=False)
    if ctx.qra:
        drawn = client.gather(contours)
        if drawn:
            traced = pd.concat([c.assign(batch=i) for i, c in enumerate(drawn)], ignore_index=True)
            traced = traced.sort_values(["level", "batch", "cluster"], ascending=[False, True, True], kind="stable")
            sink.add("ir_contours", gpd.GeoDataFrame(traced.drop(columns=["batch", "cluster"]).reset_index(drop=True),
                                                     geometry="geometry", crs=ctx.crs), ordered=False)
        else:
            sink.add("ir_contours", contour_layer([], parse_qra_rules(ctx.ruleset), ctx.crs), ordered=False)
    if towns or cells:
        sink.add("risk_zones", zones_frame(([merged(towns)] if towns else []) + ([merged(cells)] if cells else []),
                                           ctx.crs), ordered=False)
    keyed = pd.concat(keyed, ignore_index=True)
    summary = summarise_areas(keyed, names, admin if admin is not None and len(admin) else None)
    return sink.finish((array, transform, ctx.crs), summary, warnings)


def ir_grid(client, points: list, metas: list[dict], window: Window, tile: int = 256) -> np.ndarray:
    """The summed IR over ``window`` (a lattice window), computed in ``tile`` × ``tile`` tiles on Dask.

    Each tile gets only the sites whose grid (``qra.max_distance_m``) meets it — the halo — in
    province order; equal, cell for cell, to :func:`~zoning.hazards.qra.individual.risk_window` over
    all the sites at once.
    """
    qra = pd.concat([m["qra"] for m in metas], ignore_index=True)
    holder = np.concatenate([np.full(len(m["qra"]), k) for k, m in enumerate(metas)]) if metas else np.empty(0)
    out = np.zeros((window.ny, window.nx))
    jobs = []
    for r0 in range(0, window.ny, tile):
        for c0 in range(0, window.nx, tile):
            nr, nc = min(tile, window.ny - r0), min(tile, window.nx - c0)
            sub = Window(window.x0 + c0 * window.cell, window.y0 + (window.ny - r0 - nr) * window.cell,
                         window.cell, nc, nr)
            bx0, by0, bx1, by1 = sub.bounds
            r = qra["reach_max"].to_numpy()
            hit = ((qra["x"] + r >= bx0) & (qra["x"] - r <= bx1) & (qra["y"] + r >= by0) & (qra["y"] - r <= by1))
            hit = hit.to_numpy()
            rows = qra["row"].to_numpy()[hit]
            holders = [points[k] for k in np.unique(holder[hit]).astype(int)]
            jobs.append(((r0, c0, nr, nc), client.submit(risk_tile, holders, rows, sub, pure=False)))
    for (r0, c0, nr, nc), fut in jobs:
        out[r0:r0 + nr, c0:c0 + nc] = fut.result()
    return out


def province_crs(bounds) -> CRS:
    """The metric CRS of the whole province (from its EPSG:4490 bounds), as compute_zoning picks it."""
    return metric_crs_for(tuple(bounds))
