"""Fire and rescue coverage: where a crew gets in time, what that covers, and the gaps.

GB 51080-2015 §4.1.3 (confirmed): stations are laid out so a crew reaches the edge of its district
within 5 minutes of dispatch; the rule set splits it into 1 min turnout and 4 min driving (to
confirm). :func:`reach_isochrones` turns the driving budget into a ``coverage_areas`` layer: the
roads each station reaches (whole, or the part reachable in the time left) buffered by
``coverage.reach_width_m``. A station with no road near it (a town without roads, or farther than
``coverage.snap_tolerance_m``) gets a circle of ``speed × time / detour factor`` instead, said in
the ``method`` column. :func:`coverage_figures` gives the share of area, population and protected
targets covered per town and city-wide; :func:`coverage_gaps` the uncovered part of each town;
:func:`uncovered_sites` the hazard sites out of reach, major hazard sources first.

The rules are parsed by :func:`zoning.coverage.network.coverage_rules` (``[coverage]`` table).
"""

from __future__ import annotations

import warnings

import geopandas
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_metric, require_same_crs
from geo.errors import InputError
from geo.overlay import covered_area
from zoning.coverage.network import CoverageRules, NetworkWarning, RoadGraph, coverage_rules
from zoning.coverage.network import representative_points as _as_points

__all__ = ["reach_isochrones", "coverage_figures", "coverage_gaps", "uncovered_sites", "population_cells",
           "METHODS", "CoverageRules", "coverage_rules"]

#: Values of the ``method`` column of ``coverage_areas``.
METHODS = ("network", "radius fallback")
_EPS_S = 1e-6  # remaining time below which nothing more of an edge counts as reached (s)


def reach_isochrones(graph: RoadGraph | None, stations, rules=None, *,
                     id_field: str = "station_id") -> geopandas.GeoDataFrame:
    """Areas each station reaches within the driving budget (layer ``coverage_areas``).

    Driving budget = ``coverage.driving_min`` (4 min of the GB 51080-2015 §4.1.3 5 minutes; the
    split is to confirm). A station off the road first covers its snap distance in a straight line
    at ``coverage.fallback_speed_kmh``. Every edge is reached whole when the time at one end plus
    its driving time fits the budget, else in part: the fraction ``time left / edge time`` from each
    end it can be entered from (one-way roads only from their start). The reached lines of each
    station are buffered by ``coverage.reach_width_m`` and unioned per station.

    Parameters
    ----------
    graph : RoadGraph or None
        None (or an empty graph) for a town with no roads: every station uses the radius fallback.
    stations : geopandas.GeoDataFrame
        ``rescue_stations`` layer (points) in the graph's metric CRS.
    rules : zoning.rules.RuleSet, CoverageRules or None
    id_field : str

    Returns
    -------
    geopandas.GeoDataFrame
        ``station_id``, ``minutes`` (response time the area stands for), ``driving_min``,
        ``method`` ("network" or "radius fallback", :data:`METHODS`), ``snap_m`` (distance from
        the station to the road node it starts from; NaN for the fallback without roads), geometry.

    Raises
    ------
    CRSError
        Stations not in a metric CRS, or not in the graph's CRS.
    """
    r = coverage_rules(rules)
    require_metric(stations.crs, what="reach_isochrones")
    pts = _as_points(stations)
    n = len(pts)
    usable = graph is not None and graph.n_nodes > 0
    if usable:
        require_same_crs(graph.crs, stations.crs, names=("roads", "stations"))
        nodes, snap_m = graph.snap(stations, tolerance=np.inf)  # far ones are warned about below
    else:
        nodes, snap_m = np.full(n, -1), np.full(n, np.nan)
    on_net = (nodes >= 0) & (snap_m <= r.snap_tolerance_m)
    geoms = np.empty(n, dtype=object)
    if on_net.any():
        budget = r.driving_s - snap_m[on_net] / (r.fallback_speed_kmh / 3.6)
        geoms[on_net] = _network_reach(graph, nodes[on_net], budget, r)
    geoms[~on_net] = shapely.buffer(pts[~on_net], r.fallback_radius_m)
    if usable and (~on_net).any():
        warnings.warn(f"{int((~on_net).sum())} station(s) more than {r.snap_tolerance_m:g} m from the "
                      "road network use the radius fallback: "
                      f"{', '.join(map(str, stations[id_field].to_numpy()[~on_net][:10]))}",
                      NetworkWarning, stacklevel=2)
    return geopandas.GeoDataFrame({
        id_field: stations[id_field].to_numpy(),
        "minutes": r.response_s / 60.0,
        "driving_min": r.driving_s / 60.0,
        "method": np.where(on_net, METHODS[0], METHODS[1]),
        "snap_m": np.where(usable, snap_m, np.nan),
    }, geometry=geoms, crs=stations.crs)


def _network_reach(graph: RoadGraph, sources: np.ndarray, budget: np.ndarray,
                   r: CoverageRules) -> np.ndarray:
    """Buffered reached lines, one geometry per source (vectorised over sources and edges)."""
    k, m = len(sources), graph.n_edges
    times = graph.travel_times(sources, limit_s=max(float(budget.max()), 0.0))  # (k, n_nodes)
    s_idx, node = np.nonzero(times < budget[:, None] - _EPS_S)
    # Candidate (source, edge) pairs: edges leaving a reached node, or entering it if two-way.
    by_u = np.argsort(graph.edge_u, kind="stable")
    by_v = np.argsort(graph.edge_v, kind="stable")
    ptr_u = np.searchsorted(graph.edge_u[by_u], np.arange(graph.n_nodes + 1))
    ptr_v = np.searchsorted(graph.edge_v[by_v], np.arange(graph.n_nodes + 1))
    wu, eu = _expand(ptr_u, node)
    wv, ev = _expand(ptr_v, node)
    keys = np.unique(np.concatenate([s_idx[wu] * m + by_u[eu], s_idx[wv] * m + by_v[ev]]))
    s, e = keys // m, keys % m
    w = graph.edge_time[e]
    left_u = budget[s] - times[s, graph.edge_u[e]]
    left_v = np.where(graph.edge_oneway[e], -np.inf, budget[s] - times[s, graph.edge_v[e]])
    with np.errstate(divide="ignore", invalid="ignore"):
        fu = np.where(left_u > _EPS_S, np.clip(left_u / w, 0.0, 1.0), 0.0)
        fv = np.where(left_v > _EPS_S, np.clip(left_v / w, 0.0, 1.0), 0.0)
    fu[(w == 0) & (left_u > _EPS_S)] = 1.0
    whole = fu + fv >= 1.0
    head = ~whole & (fu > 0)
    tail = ~whole & (fv > 0)
    starts = np.concatenate([np.zeros(head.sum()), 1.0 - fv[tail]])
    ends = np.concatenate([fu[head], np.ones(tail.sum())])
    part_e = np.concatenate([e[head], e[tail]])
    lines = np.concatenate([graph.edge_geometry[e[whole]],
                            _substrings(graph.edge_geometry[part_e], starts, ends)])
    owner = np.concatenate([s[whole], s[head], s[tail]])
    order = np.argsort(owner, kind="stable")
    # Buffer every piece at once, then one cascaded union per station (GEOS's union of many small
    # polygons is ~2.5× faster than buffering one multi-line; 43 calls, not a per-feature loop).
    pieces = shapely.buffer(lines[order], r.reach_width_m, cap_style=r.reach_cap_style)
    cuts = np.searchsorted(owner[order], np.arange(1, k))
    out = np.array([shapely.union_all(group) if len(group) else None
                    for group in np.split(pieces, cuts)], dtype=object)
    empty = shapely.is_missing(out)  # nothing reached beyond the station's own node
    out[empty] = shapely.buffer(graph.nodes[sources[empty]], r.reach_width_m)
    return out


def _expand(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR pointers ``ptr`` and row ids ``rows``: (position in rows, entry index) of every entry."""
    counts = ptr[rows + 1] - ptr[rows]
    which = np.repeat(np.arange(len(rows)), counts)
    starts = np.repeat(ptr[rows] - (np.cumsum(counts) - counts), counts)
    return which, starts + np.arange(counts.sum())


def _substrings(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Part of each line between normalised positions ``start`` < ``end`` (vectorised substring)."""
    if len(lines) == 0:
        return np.empty(0, dtype=object)
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    step = np.hypot(*np.diff(xy, axis=0, prepend=xy[:1]).T)
    first = np.r_[True, idx[1:] != idx[:-1]]
    step[first] = 0.0
    cum = np.cumsum(step)
    cum -= np.maximum.accumulate(np.where(first, cum, 0.0))
    total = shapely.length(lines)[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(total > 0, cum / total, 0.0)
    inner = (pos > start[idx]) & (pos < end[idx])
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, start, normalized=True))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, end, normalized=True))
    rows = np.arange(len(lines))
    coords = np.concatenate([a, xy[inner], b])
    piece = np.concatenate([rows, idx[inner], rows])
    key = np.concatenate([start, pos[inner], end])
    order = np.lexsort((key, piece))
    return shapely.linestrings(coords[order], indices=piece[order])


def _area_ids(areas) -> tuple[np.ndarray, np.ndarray]:
    code = areas["code"].to_numpy() if "code" in areas else areas.index.to_numpy()
    name = areas["name"].to_numpy() if "name" in areas else code
    return code, name


def _union(layer) -> shapely.Geometry:
    geoms = layer.geometry.to_numpy() if layer is not None and len(layer) else np.empty(0, object)
    u = shapely.union_all(geoms)
    shapely.prepare(u)
    return u


def _share(num, den):
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _town_of(points: np.ndarray, towns: np.ndarray) -> np.ndarray:
    """Row of the town each point lies in (-1 outside every town; the first town if several)."""
    town = np.full(len(points), -1, np.int64)
    which, area = shapely.STRtree(towns).query(points, predicate="intersects")
    first = np.unique(which, return_index=True)[1]
    town[which[first]] = area[first]
    return town


def population_cells(values, transform, crs) -> geopandas.GeoDataFrame:
    """Cells of a north-up population raster as polygons with ``population`` (empty cells dropped).

    Feed the result to :func:`coverage_figures` (``population=``) or
    :func:`zoning.coverage.shelters.assess_shelters` (``demand=``).

    Parameters
    ----------
    values : 2-D array_like
        Persons per cell (NaN or ≤ 0: no one).
    transform : tuple of 6 floats or affine.Affine
        ``(a, b, c, d, e, f)`` as in rasterio: x = a·col + b·row + c, y = d·col + e·row + f;
        ``b`` and ``d`` must be 0 (no rotation).
    crs : CRS-like
        Metric CRS of the raster.

    >>> cells = population_cells([[0, 5], [2, 0]], (100, 0, 0, 0, -100, 200), "EPSG:4549")
    >>> cells["population"].tolist(), cells.total_bounds.tolist()
    ([5.0, 2.0], [0.0, 0.0, 200.0, 200.0])
    """
    require_metric(crs, what="population_cells")
    a, b, c, d, e, f = tuple(transform)[:6]
    if b != 0 or d != 0:
        raise InputError("population_cells: rotated rasters are not supported (b and d must be 0)")
    grid = np.asarray(values, dtype=float)
    rows, cols = np.nonzero(np.nan_to_num(grid) > 0)
    x0, y0 = c + a * cols, f + e * rows
    boxes = shapely.box(np.minimum(x0, x0 + a), np.minimum(y0, y0 + e), np.maximum(x0, x0 + a),
                        np.maximum(y0, y0 + e))
    return geopandas.GeoDataFrame({"row": rows, "col": cols, "population": grid[rows, cols]},
                                  geometry=boxes, crs=crs)


def coverage_figures(coverage_areas, areas, built_up=None, population=None, targets=None,
                     *, population_field: str = "population") -> pd.DataFrame:
    """Share of area, built-up area, population and protected targets covered, per town and city.

    Parameters
    ----------
    coverage_areas : geopandas.GeoDataFrame
        From :func:`reach_isochrones` (their union is what counts as covered).
    areas : geopandas.GeoDataFrame
        Towns (``admin_areas`` with ``code``, ``name``) in the same metric CRS.
    built_up : geopandas.GeoDataFrame, optional
        Built-up polygons: adds the covered share of each town's built-up area.
    population : geopandas.GeoDataFrame, optional
        Population points, or cells (a raster via :func:`population_cells`), with
        ``population_field``.
        A cell counts by the covered fraction of its area, in the town holding a point on its
        surface. Defaults to ``targets`` when those carry population.
    targets : geopandas.GeoDataFrame, optional
        ``protected_targets``: counted covered when any part of them is covered.

    Returns
    -------
    pandas.DataFrame
        One row per town and a last row ``code = "city"``: ``area_km2``, ``covered_km2``,
        ``area_share``, ``built_up_km2``, ``built_up_share``, ``population``,
        ``covered_population``, ``population_share``, ``targets``, ``covered_targets``,
        ``target_share`` (NaN where the input was not given or the total is zero).
    """
    require_metric(areas.crs, what="coverage_figures")
    for other, what in ((coverage_areas, "coverage_areas"), (built_up, "built_up"),
                        (population, "population"), (targets, "targets")):
        if other is not None:
            require_same_crs(areas, other, names=("areas", what))
    if population is None and targets is not None and population_field in targets:
        population = targets
    cover = _union(coverage_areas)
    towns = areas.geometry.to_numpy()
    code, name = _area_ids(areas)
    nt = len(towns)
    out = pd.DataFrame({"code": code, "name": name})
    area = shapely.area(towns)
    covered = covered_area(towns, np.asarray(coverage_areas.geometry.to_numpy(), dtype=object))
    out["area_km2"], out["covered_km2"] = area / 1e6, covered / 1e6
    bu_tot = bu_cov = np.full(nt, np.nan)
    if built_up is not None:
        bu = shapely.intersection(towns, _union(built_up))
        bu_tot, bu_cov = shapely.area(bu), shapely.area(shapely.intersection(bu, cover))
    out["built_up_km2"], out["built_up_covered_km2"] = bu_tot / 1e6, bu_cov / 1e6
    pop_tot = pop_cov = np.full(nt, np.nan)
    if population is not None:
        if population_field not in population:
            raise InputError(f"population has no {population_field!r} column")
        geoms = population.geometry.to_numpy()
        people = pd.to_numeric(population[population_field], errors="coerce").fillna(0).to_numpy(float)
        cells = shapely.area(geoms) > 0
        frac = shapely.intersects(cover, geoms).astype(float)
        frac[cells] = _share(covered_area(geoms[cells], np.asarray(coverage_areas.geometry.to_numpy(),
                                                                    dtype=object)), shapely.area(geoms[cells]))
        town = _town_of(_as_points(geoms), towns)
        inside = town >= 0
        pop_tot = np.bincount(town[inside], people[inside], minlength=nt)
        pop_cov = np.bincount(town[inside], (people * frac)[inside], minlength=nt)
    out["population"], out["covered_population"] = pop_tot, pop_cov
    tg_tot = tg_cov = np.full(nt, np.nan)
    if targets is not None:
        geoms = targets.geometry.to_numpy()
        town = _town_of(_as_points(geoms), towns)
        inside = town >= 0
        tg_tot = np.bincount(town[inside], minlength=nt).astype(float)
        tg_cov = np.bincount(town[inside], shapely.intersects(cover, geoms)[inside], minlength=nt)
    out["targets"], out["covered_targets"] = tg_tot, tg_cov
    city = out.drop(columns=["code", "name"]).sum(min_count=1)
    out = pd.concat([out, pd.DataFrame([{"code": "city", "name": "city", **city}])], ignore_index=True)
    out["area_share"] = _share(out["covered_km2"], out["area_km2"])
    out["built_up_share"] = _share(out["built_up_covered_km2"], out["built_up_km2"])
    out["population_share"] = _share(out["covered_population"], out["population"])
    out["target_share"] = _share(out["covered_targets"], out["targets"])
    return out


def coverage_gaps(coverage_areas, areas, *, min_area_m2: float = 0.0) -> geopandas.GeoDataFrame:
    """Uncovered part of each town (layer ``coverage_gaps``).

    Parameters
    ----------
    coverage_areas, areas : geopandas.GeoDataFrame
        As for :func:`coverage_figures`.
    min_area_m2 : float
        Towns whose gap is no larger than this are left out.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code``, ``name``, ``gap_km2``, ``gap_share`` (of the town's area), geometry; largest gap
        first.
    """
    require_metric(areas.crs, what="coverage_gaps")
    require_same_crs(areas, coverage_areas, names=("areas", "coverage_areas"))
    towns = areas.geometry.to_numpy()
    gaps = shapely.difference(towns, _union(coverage_areas))
    code, name = _area_ids(areas)
    size = shapely.area(gaps)
    out = geopandas.GeoDataFrame({"code": code, "name": name, "gap_km2": size / 1e6,
                                  "gap_share": _share(size, shapely.area(towns))},
                                 geometry=gaps, crs=areas.crs)
    out = out[(size > min_area_m2) & ~shapely.is_empty(gaps)]
    return out.sort_values("gap_km2", ascending=False, kind="stable").reset_index(drop=True)


def uncovered_sites(coverage_areas, sites, *, id_field: str = "site_id") -> geopandas.GeoDataFrame:
    """Hazard sites outside every coverage area (table ``uncovered_sites``), major hazards first.

    A site counts covered when any part of it lies in a coverage area. Order: major hazard sources
    by grade (GB 18218-2018: 一级 = 1 first), then other sites, each farthest from coverage first.

    Parameters
    ----------
    coverage_areas : geopandas.GeoDataFrame
    sites : geopandas.GeoDataFrame
        ``hazard_sites`` (``site_id``, optional ``name``, ``major_hazard_grade``, 0 = none).

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``name``, ``major_hazard_grade``, ``distance_m`` (to the nearest coverage
        area; inf when there is none), geometry.
    """
    require_metric(sites.crs, what="uncovered_sites")
    require_same_crs(sites, coverage_areas, names=("sites", "coverage_areas"))
    cover = _union(coverage_areas)
    geoms = sites.geometry.to_numpy()
    out = geopandas.GeoDataFrame({
        id_field: sites[id_field].to_numpy(),
        "name": sites["name"].to_numpy() if "name" in sites else None,
        "major_hazard_grade": (pd.to_numeric(sites["major_hazard_grade"], errors="coerce").fillna(0)
                               .astype(int).to_numpy() if "major_hazard_grade" in sites else 0),
        "distance_m": shapely.distance(geoms, cover) if not shapely.is_empty(cover) else np.inf,
    }, geometry=geoms, crs=sites.crs)
    out = out[~shapely.intersects(cover, geoms)]
    rank = np.where(out["major_hazard_grade"] > 0, out["major_hazard_grade"], 99)
    order = np.lexsort((-out["distance_m"].to_numpy(float), rank))
    return out.iloc[order].reset_index(drop=True)
