"""The work of one partition, in the three stages a distributed run chains (tasks on Dask workers).

Each stage is a pure function of frames, called on a worker; :mod:`zoning.province.engine` wires
them into a task graph. They call the engine's own functions exactly as
:func:`zoning.pipeline.compute_zoning` does, on the rows a partition owns plus the rows it must
see (:mod:`zoning.province.partition`), always in the order of the whole province, so that every
value comes out as the in-process run makes it.

1. :func:`point_stage` — what belongs to one plot or one site: the plot colours (risk wall), the
   GB 18218 grades, the QRA of each site (its F-N curve from the people within its lethal reach,
   found in the partition's neighbours too), distances, buffers, threat zones.
2. :func:`area_stage` — what needs the neighbours' results: separation violations of the owned
   subjects against every site within reach, the colours of owned towns and grid cells, and the
   partition's window of the risk surface.
3. :func:`contour_batch` and :func:`risk_tile` — the individual-risk grid: a cluster of sites whose
   risk overlaps (:func:`zoning.hazards.qra.contours.ir_contours`) or a tile of a lattice window
   (:func:`zoning.hazards.qra.individual.risk_window`), from the IR tables of sites in any partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from zoning.hazards.distances import parse_distance_rules, safety_buffers, safety_distances
from zoning.hazards.major_hazard import grade_sites, parse_major_hazard_rules
from zoning.hazards.qra.assess import QRAResult, assess_sites, contour_layer
from zoning.hazards.qra.individual import SiteRisk, Window, risk_window
from zoning.hazards.qra.rules import parse_qra_rules
from zoning.hazards.separation import find_violations, parse_separation_rules
from zoning.pipeline import check_geometries
from zoning.province.partition import EMPTY_BOUNDS, merged, rows_meeting, total_bounds
from zoning.rules import RuleSet
from zoning.wall.area_rules import largest_per_site
from zoning.wall.classify import classify_plots
from zoning.wall.surface import risk_surface, zone_areas, zone_cells

__all__ = [
    "AreaResult",
    "Context",
    "Halo",
    "PointResult",
    "area_stage",
    "assess_in_batches",
    "contour_batch",
    "halo",
    "lean_risk",
    "levels_only",
    "people_near",
    "point_meta",
    "point_stage",
    "risk_tile",
]


@dataclass(frozen=True)
class Context:
    """What every task needs, sent to the workers once: rules, the province CRS and the run's options.

    ``has`` tells which input layers the whole province holds (non-empty), so that a partition
    missing one (no target of its own) still computes what the whole run computes.
    """

    ruleset: RuleSet
    crs: CRS
    palette: str | None
    grid_cell_m: float
    surface_cell_m: float
    has: frozenset[str]
    qra_batch: int = 400        # sites a partition assesses at a time (:func:`assess_in_batches`)

    @property
    def qra(self) -> bool:
        return "qra" in self.ruleset.tables and "hazard_sites" in self.has

    def qra_reach(self) -> float:
        """The farthest a site's risk can reach (the end of its polar grid, m), 0 without a QRA."""
        return float(parse_qra_rules(self.ruleset).grid.r[-1]) if self.qra else 0.0


@dataclass
class PointResult:
    """Stage 1 of one partition; frames indexed by province row (buffers and threat zones by their site's)."""

    wall: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None = None
    grades: pd.DataFrame | None = None
    buffers: gpd.GeoDataFrame | None = None
    reach: pd.Series | None = None          # per site: the farthest any of its separation rules looks (m)
    threat: gpd.GeoDataFrame | None = None
    risks: list[SiteRisk] = field(default_factory=list)
    risk_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    warnings: list[str] = field(default_factory=list)


def people_near(frames: list, box) -> gpd.GeoDataFrame | None:
    """Protected targets of several partitions that meet ``box``, in province order (F-N people)."""
    return merged([rows_meeting(f, box) for f in frames if f is not None])


def lean_risk(risk: SiteRisk) -> SiteRisk:
    """A site's IR table without its footprints: all the IR grid and the distances' reasons need, a
    fraction of the bytes (the footprints' places are kept, empty: a reason quotes how many there were)."""
    return SiteRisk(risk.site_id, risk.x, risk.y, risk.grid, [None] * len(risk.footprints), risk.ir,
                    np.empty((0, 0)), np.empty(0))


def assess_in_batches(sites: gpd.GeoDataFrame, ruleset: RuleSet, batch: int, *, population=None,
                      targets=None) -> tuple[QRAResult, gpd.GeoDataFrame]:
    """:func:`assess_sites` ``batch`` sites at a time, and the threat zones of the sites assessed.

    A QRA site's footprints weigh megabytes and a city of a million-plot province has hundreds of
    QRA sites: each batch's threat zones are drawn, then its sites keep only their IR tables
    (:func:`lean_risk`), all the distances and the F-N verdicts need. Each site is assessed on its
    own (the caches it shares with others only save work), so the values are those of one call.
    """
    whole, threat = None, []
    batch = max(1, int(batch))
    for start in range(0, max(len(sites), 1), batch):
        part = assess_sites(sites.iloc[start:start + batch], ruleset, population=population, targets=targets)
        threat.append(part.threat_zones())
        lean = {k: replace(q, risk=lean_risk(q.risk)) for k, q in part.sites.items()}
        if whole is None:
            whole = QRAResult(lean, dict(part.skipped), part.rules, part.crs)
        else:
            whole.sites.update(lean)
            whole.skipped.update(part.skipped)
    kept = [t for t in threat if len(t)] or threat[:1]
    zones = gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), geometry="geometry", crs=kept[0].crs) \
        if len(kept) > 1 else kept[0]
    zones.attrs = dict(threat[0].attrs)
    return whole, zones


def _far_nobody(crs) -> gpd.GeoDataFrame:
    """One target of no people far from everything: keeps the F-N path of a partition without people."""
    return gpd.GeoDataFrame({"target_id": ["~"], "population": [0.0]}, geometry=[shapely.Point(-1e9, -1e9)], crs=crs)


def point_stage(inputs: dict, targets_near: gpd.GeoDataFrame | None, population, ctx: Context) -> PointResult:
    """Stage 1 (see the module docstring): ``inputs`` are the partition's own rows, metric, province-indexed."""
    rs = ctx.ruleset
    for name, frame in inputs.items():
        if frame is not None:
            check_geometries(name, frame)
    plots = inputs["industrial_plots"]
    wall = classify_plots(plots, rs, palette=ctx.palette)
    wall.index = plots.index
    out = PointResult(wall=wall)
    sites = inputs.get("hazard_sites")
    if "hazard_sites" not in ctx.has or sites is None or not len(sites):
        return out
    mh = parse_major_hazard_rules(rs)
    graded = grade_sites(sites, mh)
    out.warnings += list(graded.attrs.get("warnings", []))
    out.grades = sites.drop(columns=["inventory"]).merge(graded, on="site_id", how="left").set_axis(sites.index)
    qra = None
    if ctx.qra:
        if population is None and "protected_targets" in ctx.has and (targets_near is None or not len(targets_near)):
            targets_near = _far_nobody(ctx.crs)
        qra, threat = assess_in_batches(sites, rs, ctx.qra_batch, population=population, targets=targets_near)
        out.warnings += [f"site {k}: {v}" for k, v in qra.skipped.items()]
    distances = safety_distances(sites, parse_distance_rules(rs), mh, qra=qra)
    out.warnings += list(distances.attrs.get("warnings", []))
    row_of = pd.Series(sites.index.to_numpy(), index=sites["site_id"].astype(str).to_numpy())
    buffers = safety_buffers(sites, distances, crs=ctx.crs)
    out.buffers = buffers.set_axis(row_of.reindex(buffers["site_id"].astype(str)).to_numpy())
    out.sites = sites
    sep = parse_separation_rules(rs)
    fixed = max(sep.shelter_min_distance_m, sep.station_min_distance_m, sep.domino_min_distance_m)
    largest = out.buffers.groupby(level=0)["distance_m"].max()
    out.reach = np.maximum(largest.reindex(sites.index).fillna(0.0), fixed)
    if qra is not None:
        out.threat = threat.set_axis(row_of.reindex(threat["site_id"].astype(str)).to_numpy())
        out.risks = [lean_risk(s.risk) for s in qra.sites.values()]
        out.risk_rows = row_of.reindex(list(qra.sites)).to_numpy(dtype=np.int64)
    return out


def point_meta(result: PointResult, ctx: Context) -> dict:
    """The little the driver needs of stage 1: bounds to plan stage 2, each QRA site's reach."""
    wall_b = tuple(shapely.total_bounds(np.asarray(result.wall.geometry.array))) if len(result.wall) else EMPTY_BOUNDS
    surface = [wall_b]
    reach_b = EMPTY_BOUNDS
    if result.buffers is not None and len(result.buffers):
        widest = np.asarray(result.buffers.geometry.array, dtype=object)[largest_per_site(result.buffers)]
        widest = widest[~(shapely.is_missing(widest) | shapely.is_empty(widest))]
        if len(widest):
            surface.append(tuple(shapely.total_bounds(widest)))
        b = shapely.bounds(np.asarray(result.sites.geometry.array, dtype=object))
        r = result.reach.to_numpy()
        reach_b = (float((b[:, 0] - r).min()), float((b[:, 1] - r).min()), float((b[:, 2] + r).max()),
                   float((b[:, 3] + r).max()))
    rules = parse_qra_rules(ctx.ruleset) if result.risks else None
    lowest = min(rules.levels) if rules is not None and len(rules.levels) else None
    qra = pd.DataFrame({
        "row": result.risk_rows, "x": [s.x for s in result.risks], "y": [s.y for s in result.risks],
        "reach_max": [float(s.grid.r[-1]) for s in result.risks],
        "reach_low": [s.reach(lowest) if lowest is not None else 0.0 for s in result.risks]})
    return {"surface": total_bounds(*surface), "wall": wall_b, "reach": reach_b, "qra": qra}


@dataclass
class Halo:
    """What one partition's neighbour lends it: rows that reach into its box."""

    wall: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame | None
    buffers: gpd.GeoDataFrame | None


def levels_only(wall: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The plots' levels and shapes: all the area stage reads of the wall (zones, cells, surface), a
    fraction of its bytes (no reasons, no attributes)."""
    return wall[["level", wall.geometry.name]]


def halo(result: PointResult, box) -> Halo:
    """The rows of ``result`` (another partition's stage 1) whose effect may reach ``box``."""
    wall = rows_meeting(levels_only(result.wall), box)
    if result.sites is None:
        return Halo(wall, None, None)
    sites = rows_meeting(result.sites, box, result.reach.reindex(result.sites.index).to_numpy())
    buffers = result.buffers[result.buffers.index.isin(sites.index)]
    return Halo(wall, sites, buffers)


@dataclass
class AreaResult:
    """Stage 2 of one partition."""

    violations: gpd.GeoDataFrame | None
    towns: gpd.GeoDataFrame | None
    cells: gpd.GeoDataFrame | None
    surface: tuple | None      # (array, (r0, c0)) of the partition's window in the province raster


def _own_violations(inputs, sites, buffers, ctx: Context, own_sites) -> gpd.GeoDataFrame | None:
    if "protected_targets" not in ctx.has or sites is None or not len(sites):
        return None
    targets = inputs.get("protected_targets")
    if targets is None:
        return None
    found = find_violations(targets, buffers, sites, plots=inputs["industrial_plots"],
                            shelters=inputs.get("shelters"), stations=inputs.get("rescue_stations"),
                            rules=parse_separation_rules(ctx.ruleset),
                            major_hazard_rules=parse_major_hazard_rules(ctx.ruleset))
    # a pair of sites is reported under its later site: keep it where that site is owned
    mine = (found["subject_layer"] != "hazard_sites").to_numpy() | found["subject_id"].isin(own_sites).to_numpy()
    return found[mine]


def area_stage(inputs: dict, own: PointResult, halos: list[Halo], cells: tuple | None, window,
               ctx: Context) -> AreaResult:
    """Stage 2 (see the module docstring).

    ``cells`` is ``(boxes, row, col, position)`` of the grid cells this partition colours, ``window``
    ``(r0, c0, bounds)`` of its part of the risk surface (None: nothing of its own to burn).
    """
    rs = ctx.ruleset
    wall = merged([levels_only(own.wall)] + [h.wall for h in halos])
    sites = merged([own.sites] + [h.sites for h in halos])
    buffers = merged([own.buffers] + [h.buffers for h in halos])
    if "hazard_sites" not in ctx.has:
        sites = buffers = None
    own_sites = set(own.sites["site_id"].astype(str)) if own.sites is not None else set()
    violations = _own_violations(inputs, sites, buffers, ctx, own_sites)
    towns = zoned_cells = None
    admin = inputs.get("admin_areas")
    if admin is not None and "admin_areas" in ctx.has:
        mine = admin[admin["level"] == "town"]
        if len(mine):
            towns = zone_areas(mine, wall, buffers, sites, rules=rs, palette=ctx.palette)
            towns["zone_kind"], towns["zone_id"] = "town", towns["code"].astype(str)
    if cells is not None and len(cells[0]):
        boxes, row, col, position = cells
        zoned_cells = zone_cells(boxes, row, col, ctx.crs, wall, buffers, sites, rules=rs, palette=ctx.palette)
        zoned_cells["zone_kind"], zoned_cells["zone_id"] = "grid", zoned_cells["cell_id"].astype(str)
        zoned_cells.index = position
    surface = None
    if window is not None:
        r0, c0, bounds = window
        array, _, _ = risk_surface(wall, buffers, cell_size=ctx.surface_cell_m, bounds=bounds, crs=ctx.crs,
                                   rules=rs, max_cells=np.iinfo(np.int64).max)
        surface = (array, (r0, c0))
    return AreaResult(violations, towns, zoned_cells, surface)


def _by_row(risk_lists: list, rows_lists: list, wanted) -> list[SiteRisk]:
    """The IR tables of the sites with province rows ``wanted``, in province order."""
    table = {int(r): s for risks, rows in zip(risk_lists, rows_lists) for s, r in zip(risks, rows)}
    return [table[int(r)] for r in sorted(wanted)]


def contour_batch(results: list[PointResult], clusters: list[np.ndarray], ctx: Context) -> gpd.GeoDataFrame:
    """``ir_contours`` rows of whole clusters of sites (province rows of each cluster's members).

    Each cluster is traced alone, its members in province order, as the in-process run traces it
    (a cluster is a connected set of overlapping reaches: no site outside it adds to its window
    above the lowest level). Rows carry ``cluster`` (its position in the batch) for ordering.
    """
    rules = parse_qra_rules(ctx.ruleset)
    lists, rows = [r.risks for r in results], [r.risk_rows for r in results]
    frames = []
    for k, members in enumerate(clusters):
        part = contour_layer(_by_row(lists, rows, members), rules, ctx.crs)
        frames.append(part.assign(cluster=k))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=ctx.crs)


def risk_tile(results: list[PointResult], rows, window: Window) -> np.ndarray:
    """Summed IR on one tile: :func:`risk_window` over the given sites (province rows), in province order."""
    return risk_window(_by_row([r.risks for r in results], [r.risk_rows for r in results], rows), window)
