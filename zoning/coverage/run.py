"""Run the coverage engine on a store, in three phases: load → compute → write (``riskmap coverage``).

The science lives in :mod:`zoning.coverage.network` (road graph), :mod:`zoning.coverage.reach` (isochrones,
figures, gaps, uncovered sites), :mod:`zoning.coverage.shelters` (nearest shelter, loads) and
:mod:`zoning.coverage.locate` (MCLP / LSCP); this module wires them to a :class:`~layers.store.Store`
the way :mod:`zoning.pipeline` does for zoning. :func:`compute_coverage` takes and returns frames
and is testable without files; :func:`run_coverage` loads, computes and writes every derived
layer in one all-or-nothing step, stamped with the rule set (``name@version``) and a fingerprint
of its inputs (:func:`zoning.pipeline.input_fingerprint` over :data:`COVERAGE_INPUTS`).

Derived layers written
----------------------
``coverage_areas``
    per fire station, the area a crew reaches within the response time (GB 51080-2015 §4.1.3,
    5 min = 1 min turnout + 4 min driving, the split to confirm), with ``method`` "network" or
    "radius fallback" (towns with no roads, stations off the network) and ``snap_m``.
``coverage_gaps``
    the uncovered part of each town.
``shelter_assignments``
    each demand point (population cell, else residential target) with its nearest shelter by
    walking distance and whether it is within the class's service radius (GB 50413-2007).
``shelter_loads``
    each shelter with its capacity, load and ``over_capacity``.

The figures of the ``[coverage_run]`` table (which station kinds count, population cell size,
built-up density, candidate spacing for suggestions) are parsed by :func:`parse_coverage_run_rules`.

>>> from zoning.rules import load_ruleset
>>> parse_coverage_run_rules(load_ruleset()).station_kinds
('special_service', 'standard_1', 'standard_2', 'small')
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORE_CRS, metric_crs_for
from geo.errors import InputError
from layers.catalogue.protected_targets import KINDS as TARGET_KINDS
from layers.catalogue.rescue_stations import KINDS as STATION_KINDS
from layers.errors import LayerNotFound
from layers.store import Store
from zoning.coverage.locate import MaximalCovering, SetCovering, SolverError
from zoning.coverage.network import CoverageRules, RoadGraph, coverage_rules, representative_points
from zoning.coverage.reach import (_town_of, coverage_figures, coverage_gaps, population_cells,
                                   reach_isochrones, uncovered_sites)
from zoning.coverage.shelters import assess_shelters
from zoning.errors import RuleSetError
from zoning.pipeline import for_store, input_fingerprint, read_population
from zoning.rules import RuleSet, get

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["COVERAGE_INPUTS", "COVERAGE_LAYERS", "CoverageRunRules", "CoverageResult", "StationSuggestion",
           "parse_coverage_run_rules", "response_rules", "fire_stations", "towns_of", "load_population",
           "compute_coverage", "run_coverage", "suggest_stations", "station_candidates"]

#: Layers a coverage run reads (all optional but ``rescue_stations`` and ``admin_areas``); their
#: versions go into the fingerprint. ``population`` is the raster.
COVERAGE_INPUTS = ("roads", "rescue_stations", "admin_areas", "shelters", "protected_targets", "hazard_sites",
                   "industrial_plots", "population")
#: Derived layers a coverage run writes.
COVERAGE_LAYERS = ("coverage_areas", "coverage_gaps", "shelter_assignments", "shelter_loads")
#: Entries of the dense (candidates × nodes) time matrix one Dijkstra call may return when building the
#: suggestion's coverage matrix (scipy returns every node, whatever the limit): 20 M floats = 160 MB.
_CHUNK_ENTRIES = 20_000_000


@dataclass(frozen=True)
class CoverageRunRules:
    """The ``[coverage_run]`` table (see ``data/rules/default.toml``)."""

    station_kinds: tuple[str, ...]
    rescue_team_kinds: tuple[str, ...]
    population_cell_m: float
    built_up_min_per_km2: float
    shelter_demand_kinds: tuple[str, ...]
    candidate_spacing_m: float
    solver_time_limit_s: float


def _kinds(t: dict, key: str, valid: tuple[str, ...]) -> tuple[str, ...]:
    values = get(t, key, list, root="coverage_run")
    bad = [v for v in values if v not in valid]
    if not values or bad:
        raise RuleSetError(f"coverage_run.{key}: {values!r} must be a non-empty list among {', '.join(valid)}")
    return tuple(values)


def parse_coverage_run_rules(ruleset: RuleSet) -> CoverageRunRules:
    """Read and check the ``[coverage_run]`` table; RuleSetError names the key path."""
    if isinstance(ruleset, CoverageRunRules):
        return ruleset
    t = ruleset.table("coverage_run")
    stations = tuple(k.value for k in STATION_KINDS)
    return CoverageRunRules(
        station_kinds=_kinds(t, "station_kinds", stations),
        rescue_team_kinds=_kinds(t, "rescue_team_kinds", stations),
        population_cell_m=get(t, "population_cell_m", float, minimum=1.0, root="coverage_run"),
        built_up_min_per_km2=get(t, "built_up_min_per_km2", float, minimum=0.0, root="coverage_run"),
        shelter_demand_kinds=_kinds(t, "shelter_demand_kinds", tuple(k.value for k in TARGET_KINDS)),
        candidate_spacing_m=get(t, "candidate_spacing_m", float, minimum=1.0, root="coverage_run"),
        solver_time_limit_s=get(t, "solver_time_limit_s", float, minimum=0.1, root="coverage_run"),
    )


def response_rules(ruleset, minutes: float | None = None) -> CoverageRules:
    """The ``[coverage]`` rules, with the response time set to ``minutes`` when given.

    The turnout time stays as in the rule set; the driving budget is what is left.

    >>> from zoning.rules import load_ruleset
    >>> r = response_rules(load_ruleset(), minutes=8)
    >>> r.response_s, r.turnout_s, r.driving_s
    (480.0, 60.0, 420.0)
    """
    r = coverage_rules(ruleset)
    if minutes is None:
        return r
    if not np.isfinite(minutes) or minutes * 60.0 <= r.turnout_s:
        raise InputError(f"minutes: {minutes!r} leaves no driving time after the {r.turnout_s / 60:g} min "
                         "turnout (coverage.turnout_min)")
    return dataclasses.replace(r, response_s=minutes * 60.0, driving_s=minutes * 60.0 - r.turnout_s)


def fire_stations(stations: gpd.GeoDataFrame, rules: CoverageRunRules) -> gpd.GeoDataFrame:
    """The stations of the kinds that count for coverage (``coverage_run.station_kinds``).

    A layer without a ``kind`` column counts whole. InputError when none is left.
    """
    if "kind" not in stations:
        return stations
    fire = stations[stations["kind"].isin(rules.station_kinds)]
    if fire.empty:
        raise InputError(f"rescue_stations: no station of the kinds that count for coverage "
                         f"({', '.join(rules.station_kinds)}; coverage_run.station_kinds)")
    return fire


def towns_of(admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The areas figures are given for: towns/streets, else districts, else every area."""
    for level in ("town", "district"):
        if "level" in admin and (admin["level"] == level).any():
            return admin[admin["level"] == level].reset_index(drop=True)
    return admin.reset_index(drop=True)


@dataclass
class StationSuggestion:
    """New station sites (MCLP) and the fewest sites for full coverage (LSCP).

    Weights are persons (population cells or protected targets) not yet covered by the existing
    stations. ``sites`` and ``minimum_sites`` are in EPSG:4490 with ``candidate_id``, ``source``
    ("road node" or "grid") and, for ``sites``, ``covers`` (weight newly covered by that site
    alone). ``status`` / ``minimum_status`` are "optimal" (scipy milp) or "greedy" (the exact
    solver ran out of time, see ``coverage_run.solver_time_limit_s``).
    """

    k: int
    sites: gpd.GeoDataFrame
    newly_covered: float
    uncovered: float
    status: str
    minimum_sites: gpd.GeoDataFrame | None
    minimum_status: str
    uncoverable: float
    candidates: int
    demand: str


@dataclass
class CoverageResult:
    """What one coverage run produced.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        The derived layers of :data:`COVERAGE_LAYERS` (EPSG:4490) that could be made.
    figures : pandas.DataFrame
        :func:`zoning.coverage.reach.coverage_figures` per town and a last ``city`` row.
    uncovered_sites : GeoDataFrame or None
        Hazard sites out of reach, major hazard sources first.
    stations : pandas.DataFrame
        Per fire station: ``station_id``, ``town``, ``method``, ``snap_m``.
    roadless_towns : pandas.DataFrame
        ``code``, ``name`` of the towns with no road in the store (their stations use the radius).
    towns_without_team : pandas.DataFrame
        ``code``, ``name`` of the towns with no rescue station or team of any listed kind.
    over_capacity : pandas.DataFrame
        Shelters whose load exceeds capacity, worst first.
    beyond_reach : dict
        ``points`` and ``population`` with no shelter within their class's service radius.
    suggestion : StationSuggestion or None
    """

    layers: dict[str, gpd.GeoDataFrame]
    figures: pd.DataFrame
    uncovered_sites: gpd.GeoDataFrame | None
    stations: pd.DataFrame
    roadless_towns: pd.DataFrame
    towns_without_team: pd.DataFrame
    over_capacity: pd.DataFrame
    beyond_reach: dict
    rules: CoverageRules
    population_source: str | None
    suggestion: StationSuggestion | None = None
    warnings: list[str] = field(default_factory=list)
    ruleset_version: str = ""
    fingerprint: str = ""


def _empty(frame) -> bool:
    return frame is None or len(frame) == 0


def load_population(store: Store, cell_m: float) -> gpd.GeoDataFrame | None:
    """Population raster of the store summed into ``cell_m`` cells (None when there is none).

    The factor is ``cell_m`` over the raster's cell size, rounded (1 keeps the raster's cells);
    nodata and negative cells count as nobody.
    """
    raster = read_population(store)
    if raster is None:
        return None
    values, transform, crs = raster
    f = max(1, int(round(cell_m / abs(transform.a))))
    if f > 1:
        rows, cols = -(-values.shape[0] // f) * f, -(-values.shape[1] // f) * f
        padded = np.zeros((rows, cols))
        padded[:values.shape[0], :values.shape[1]] = values
        values = padded.reshape(rows // f, f, cols // f, f).sum(axis=(1, 3))
        transform = transform @ transform.scale(f, f)
    return population_cells(values, transform, crs)


def _built_up(cells, plots, min_per_km2: float):
    """Built-up polygons: dense population cells and industrial plots (None without either)."""
    parts = []
    if cells is not None and len(cells):
        density = cells["population"].to_numpy(float) / (cells.area.to_numpy() / 1e6)
        parts.append(cells.geometry[density >= min_per_km2])
    if not _empty(plots):
        parts.append(plots.geometry)
    if not parts:
        return None
    return gpd.GeoDataFrame(geometry=pd.concat(parts, ignore_index=True), crs=parts[0].crs)


def _roadless(towns: gpd.GeoDataFrame, roads) -> np.ndarray:
    """Mask of the towns with no road inside them (a road along the boundary, within 1 m, does not count)."""
    if _empty(roads):
        return np.ones(len(towns), bool)
    inner = shapely.buffer(towns.geometry.to_numpy(), -1.0)
    town, _ = shapely.STRtree(roads.geometry.to_numpy()).query(inner, predicate="intersects")
    out = np.ones(len(towns), bool)
    out[town] = False
    return out


def _isochrones(graph, stations, town_row, roadless, r) -> gpd.GeoDataFrame:
    """Coverage areas: the network for stations in towns with roads, the radius in the others."""
    off = (town_row >= 0) & roadless[np.maximum(town_row, 0)]
    parts = []
    for mask, g in ((~off, graph), (off, None)):
        if mask.any():
            part = reach_isochrones(g, stations[mask], r)
            parts.append(part.set_axis(np.flatnonzero(mask)))
    areas = pd.concat(parts).sort_index() if len(parts) > 1 else parts[0]
    return gpd.GeoDataFrame(areas, geometry="geometry", crs=stations.crs).reset_index(drop=True)


def _collect(caught) -> list[str]:
    return list(dict.fromkeys(str(w.message) for w in caught))


def compute_coverage(inputs: dict[str, gpd.GeoDataFrame], ruleset: RuleSet, *, population=None,
                     minutes: float | None = None, suggest: int | None = None) -> CoverageResult:
    """Compute every coverage layer and figure from input frames (any CRS; one metric CRS inside).

    Parameters
    ----------
    inputs : dict of str to GeoDataFrame
        Source layers by catalogue name; ``rescue_stations`` and ``admin_areas`` are required,
        ``roads``, ``shelters``, ``protected_targets``, ``hazard_sites``, ``industrial_plots``
        are used when present.
    ruleset : RuleSet
        Tables ``[coverage]``, ``[shelters]``, ``[coverage_run]``.
    population : GeoDataFrame, optional
        Population cells (:func:`load_population`); without them, protected-target populations.
    minutes : float, optional
        Response time (default ``coverage.response_min``); turnout stays as in the rule set.
    suggest : int, optional
        Propose this many new station sites (MCLP) and the fewest for full coverage (LSCP).
    """
    stations, admin = inputs.get("rescue_stations"), inputs.get("admin_areas")
    if _empty(stations) or _empty(admin):
        raise LayerNotFound("coverage needs non-empty rescue_stations and admin_areas layers; import them first")
    r = response_rules(ruleset, minutes)
    run = parse_coverage_run_rules(ruleset)
    crs = metric_crs_for(admin)
    metric = {k: v.to_crs(crs) for k, v in inputs.items() if not _empty(v)}
    cells = population.to_crs(crs) if population is not None and len(population) else None
    towns = towns_of(metric["admin_areas"])
    town_geoms = towns.geometry.to_numpy()
    code = towns["code"].to_numpy() if "code" in towns else towns.index.to_numpy()
    name = towns["name"].to_numpy() if "name" in towns else code
    fire = fire_stations(metric["rescue_stations"], run).reset_index(drop=True)
    roads = metric.get("roads")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = RoadGraph.from_roads(roads, r) if not _empty(roads) else None
        roadless = _roadless(towns, roads)
        town_row = _town_of(representative_points(fire), town_geoms)
        areas = _isochrones(graph, fire, town_row, roadless, r)
        areas["town"] = np.where(town_row >= 0, code[np.maximum(town_row, 0)], None)
        targets = metric.get("protected_targets")
        figures = coverage_figures(areas, towns, _built_up(cells, metric.get("industrial_plots"),
                                                           run.built_up_min_per_km2), cells, targets)
        gaps = coverage_gaps(areas, towns)
        sites = metric.get("hazard_sites")
        uncovered = uncovered_sites(areas, sites) if not _empty(sites) else None
        shelters = metric.get("shelters")
        demand = cells
        if demand is None and not _empty(targets) and "kind" in targets:
            demand = targets[targets["kind"].isin(run.shelter_demand_kinds)]
        layers = {"coverage_areas": areas, "coverage_gaps": gaps}
        over, beyond = pd.DataFrame(), {"points": 0, "population": 0.0}
        if not _empty(shelters) and not _empty(demand):
            assessed = assess_shelters(demand, shelters, ruleset, graph)
            # people with no shelter at all have an infinite distance, which a GeoPackage cannot hold
            layers["shelter_assignments"] = assessed.assignments.replace([np.inf, -np.inf], np.nan)
            layers["shelter_loads"] = assessed.loads
            over = pd.DataFrame(assessed.over_capacity.drop(columns="geometry"))
            beyond = {"points": len(assessed.beyond_reach),
                      "population": float(pd.to_numeric(assessed.beyond_reach["population"],
                                                         errors="coerce").fillna(0).sum())}
        suggestion = None
        if suggest is not None:
            weights_from = cells if cells is not None else targets
            suggestion = suggest_stations(
                graph, areas, weights_from, towns[roadless], r, run, suggest,
                demand_label="population cells" if cells is not None else "protected targets")
    teams = metric["rescue_stations"]
    if "kind" in teams:
        teams = teams[teams["kind"].isin(run.rescue_team_kinds)]
    has_team = np.zeros(len(towns), bool)
    team_town = _town_of(representative_points(teams), town_geoms)
    has_team[team_town[team_town >= 0]] = True
    return CoverageResult(
        layers={k: for_store(v) for k, v in layers.items()},
        figures=figures,
        uncovered_sites=None if uncovered is None else uncovered.to_crs(STORE_CRS),
        stations=pd.DataFrame(areas.drop(columns="geometry")),
        roadless_towns=pd.DataFrame({"code": code[roadless], "name": name[roadless]}),
        towns_without_team=pd.DataFrame({"code": code[~has_team], "name": name[~has_team]}),
        over_capacity=over, beyond_reach=beyond, rules=r,
        population_source="raster" if cells is not None else (
            "protected_targets" if not _empty(targets) and "population" in targets else None),
        suggestion=suggestion, warnings=_collect(caught))


def _fingerprint(store: Store, ruleset: RuleSet, rules: CoverageRules) -> str:
    """Inputs and rules; a response time other than the rule set's is folded in too."""
    base = input_fingerprint(store, ruleset, names=COVERAGE_INPUTS)
    if abs(rules.response_s - coverage_rules(ruleset).response_s) < 1e-9:
        return base
    return hashlib.sha256(f"{base}|response_s={rules.response_s:g}".encode()).hexdigest()[:16]


def run_coverage(store: Store, ruleset: RuleSet, *, minutes: float | None = None, suggest: int | None = None,
                 actor: str = "engine") -> CoverageResult:
    """Load the inputs from ``store``, compute, and write the coverage layers in one step.

    The layers are stamped with ``ruleset.label`` and the fingerprint of :data:`COVERAGE_INPUTS`
    (with the response time folded in when ``minutes`` differs from the rule set, so such a run
    never passes for the rule set's).
    """
    fingerprint = _fingerprint(store, ruleset, response_rules(ruleset, minutes))
    run = parse_coverage_run_rules(ruleset)
    inputs = {name: store.read(name) for name in COVERAGE_INPUTS if name != "population" and store.exists(name)}
    result = compute_coverage(inputs, ruleset, population=load_population(store, run.population_cell_m),
                              minutes=minutes, suggest=suggest)
    store.write_many(result.layers, derived=True, ruleset_version=ruleset.label, fingerprint=fingerprint,
                     actor=actor, action="derive",
                     detail=f"coverage run, {result.rules.response_s / 60:g} min, rules {ruleset.label}")
    result.ruleset_version, result.fingerprint = ruleset.label, fingerprint
    return result


# --- new station sites -------------------------------------------------------------------------

def station_candidates(graph: RoadGraph | None, grid_areas: gpd.GeoDataFrame, spacing_m: float,
                       crs) -> gpd.GeoDataFrame:
    """Candidate station sites: one road node per ``spacing_m`` square, plus grid centres in ``grid_areas``.

    The road node kept in a square is the one nearest its centre. ``grid_areas`` (towns with no
    roads, or every town when there is no graph) get the centres of a ``spacing_m`` grid.

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` (``n<node>`` or ``g<i>``), ``source`` ("road node" / "grid"), ``node``
        (-1 for grid points), point geometry in ``crs``.
    """
    xy_parts, node_parts, source = [], [], []
    if graph is not None and graph.n_nodes:
        cell = np.floor(graph.node_xy / spacing_m)
        off = np.hypot(*(graph.node_xy - (cell + 0.5) * spacing_m).T)
        key = cell[:, 0] * 1e7 + cell[:, 1]
        order = np.lexsort((off, key))
        _, first = np.unique(key[order], return_index=True)
        nodes = order[first]
        xy_parts.append(graph.node_xy[nodes])
        node_parts.append(nodes)
        source += ["road node"] * len(nodes)
    if not _empty(grid_areas):
        union = shapely.union_all(grid_areas.geometry.to_numpy())
        x0, y0, x1, y1 = union.bounds
        gx, gy = np.meshgrid(np.arange(np.floor(x0 / spacing_m), np.ceil(x1 / spacing_m)) * spacing_m + spacing_m / 2,
                             np.arange(np.floor(y0 / spacing_m), np.ceil(y1 / spacing_m)) * spacing_m + spacing_m / 2)
        pts = shapely.points(gx.ravel(), gy.ravel())
        inside = shapely.contains(union, pts)
        xy_parts.append(np.c_[gx.ravel()[inside], gy.ravel()[inside]])
        node_parts.append(np.full(int(inside.sum()), -1))
        source += ["grid"] * int(inside.sum())
    xy = np.concatenate(xy_parts) if xy_parts else np.empty((0, 2))
    node = np.concatenate(node_parts).astype(np.int64) if node_parts else np.empty(0, np.int64)
    ids = np.where(node >= 0, np.char.add("n", node.astype(str)), np.char.add("g", np.arange(len(node)).astype(str)))
    return gpd.GeoDataFrame({"candidate_id": ids, "source": source, "node": node},
                            geometry=shapely.points(xy) if len(xy) else [], crs=crs)


def _candidate_cover(graph, candidates, demand_pts, r: CoverageRules) -> sparse.csr_array:
    """Demand × candidate coverage: node reached within the driving budget, else the straight radius.

    A demand point within ``coverage.snap_tolerance_m`` of the network counts covered by a
    candidate road node when its nearest node is reached within the driving budget, the stretch
    from the node to it driven at ``coverage.fallback_speed_kmh`` (as :func:`reach_isochrones`
    does for a station off the road). Other demand points (and grid candidates) use the straight
    radius ``coverage.fallback_radius_m``.
    """
    n, m = len(demand_pts), len(candidates)
    rows, cols = [], []
    cand_node = candidates["node"].to_numpy()
    on_net = np.zeros(n, bool)
    if graph is not None and graph.n_nodes and n:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # far demand is expected: it uses the radius
            d_node, d_snap = graph.snap(demand_pts)
        on_net = d_snap <= r.snap_tolerance_m
        net_rows = np.flatnonzero(on_net)
        left = r.driving_s - d_snap[net_rows] / (r.fallback_speed_kmh / 3.6)
        net_cols = np.flatnonzero(cand_node >= 0)
        step = max(1, _CHUNK_ENTRIES // graph.n_nodes)
        for start in range(0, len(net_cols), step):
            chunk = net_cols[start:start + step]
            times = graph.travel_times(cand_node[chunk], limit_s=r.driving_s)[:, d_node[net_rows]]
            c, d = np.nonzero(times <= left[None, :])
            rows.append(net_rows[d])
            cols.append(chunk[c])
    radius_rows = np.flatnonzero(~on_net)
    pts = candidates.geometry.to_numpy()
    if len(radius_rows) and m:
        d, c = shapely.STRtree(pts).query(demand_pts[radius_rows], predicate="dwithin", distance=r.fallback_radius_m)
        rows.append(radius_rows[d])
        cols.append(c)
    grid = np.flatnonzero(cand_node < 0)  # grid candidates reach on-network demand by radius too
    if len(grid) and on_net.any():
        c, d = shapely.STRtree(demand_pts[on_net]).query(pts[grid], predicate="dwithin", distance=r.fallback_radius_m)
        rows.append(np.flatnonzero(on_net)[d])
        cols.append(grid[c])
    rows = np.concatenate(rows) if rows else np.empty(0, np.int64)
    cols = np.concatenate(cols) if cols else np.empty(0, np.int64)
    from scipy import sparse  # scipy loads in about a second: imported when used, not when the rule set is checked

    return sparse.csr_array((np.ones(len(rows), bool), (rows, cols)), shape=(n, m))


def _solve(model, time_limit: float):
    try:
        return model.solve("exact", time_limit=time_limit)
    except SolverError:
        return model.solve("greedy")


def suggest_stations(graph: RoadGraph | None, coverage_areas: gpd.GeoDataFrame, demand: gpd.GeoDataFrame | None,
                     grid_areas: gpd.GeoDataFrame, rules: CoverageRules, run: CoverageRunRules, k: int, *,
                     demand_label: str = "population cells") -> StationSuggestion:
    """Propose ``k`` new station sites covering the most uncovered people, and the LSCP minimum.

    Demand: the points (population cells or protected targets, a point on each) not inside any
    coverage area, weighted by ``population``. Candidates: :func:`station_candidates`. The
    coverage of a candidate is :func:`_candidate_cover`. MCLP and LSCP are solved exactly
    (:mod:`zoning.coverage.locate`, scipy milp) within ``coverage_run.solver_time_limit_s``, greedily beyond.
    Demand no candidate can reach is left out of the LSCP and reported as ``uncoverable``.
    """
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise InputError(f"suggest: expected a whole number of new sites ≥ 0, got {k!r}")
    crs = coverage_areas.crs
    candidates = station_candidates(graph, grid_areas, run.candidate_spacing_m, crs)
    if _empty(demand) or "population" not in demand:
        raise InputError("suggest: no population raster and no protected_targets with population to weigh sites by")
    pts = representative_points(demand)
    people = pd.to_numeric(demand["population"], errors="coerce").fillna(0).to_numpy(float)
    cover = shapely.union_all(coverage_areas.geometry.to_numpy())
    open_ = (people > 0) & ~shapely.intersects(cover, pts)
    pts, people = pts[open_], people[open_]
    a = _candidate_cover(graph, candidates, pts, rules)
    useful = np.flatnonzero(a.sum(axis=0) > 0)
    coverable = np.asarray(a.sum(axis=1)).ravel() > 0
    a = a[coverable][:, useful]
    w = people[coverable]
    k_eff = min(int(k), len(useful))
    sub = candidates.iloc[useful].reset_index(drop=True)
    chosen, minimum = sub.iloc[:0].copy(), None
    status, minimum_status, newly = "nothing to cover", "nothing to cover", 0.0
    if len(w) and k_eff:
        mclp = _solve(MaximalCovering(a, w, k_eff), run.solver_time_limit_s)
        chosen = sub.iloc[mclp.selected].copy()
        chosen["covers"] = a[:, mclp.selected].astype(float).T @ w
        status, newly = mclp.status, mclp.covered_weight
    if len(w):
        lscp = _solve(SetCovering(a), run.solver_time_limit_s)
        minimum, minimum_status = sub.iloc[lscp.selected].to_crs(STORE_CRS), lscp.status
    if "covers" not in chosen:
        chosen["covers"] = pd.Series(dtype=float)
    return StationSuggestion(
        k=k_eff, sites=chosen.to_crs(STORE_CRS), newly_covered=float(newly), uncovered=float(people.sum()),
        status=status, minimum_sites=minimum, minimum_status=minimum_status,
        uncoverable=float(people[~coverable].sum()), candidates=len(candidates), demand=demand_label,
    )
