"""Emergency shelters: nearest shelter by walking, service radius, load against capacity.

GB 50413-2007 (confirmed): an emergency shelter (紧急避难场所) serves a radius of 500 m with at least
1 m² of effective area per person; a fixed shelter (固定避难场所) 2–3 km with at least 2 m²/person.
GB 51143-2015 splits fixed shelters into short / medium / long term and adds central shelters
(中心避难场所); its per-class figures are still to confirm. All of them sit in the ``[shelters]``
table of the rule set, parsed by :func:`shelter_rules`.

:func:`assess_shelters` sends every demand point (residential target or population cell) to its
nearest usable shelter by walking distance on the road network (one multi-source Dijkstra from all
shelters at once, ``min_only=True``, one-way ignored), or by straight line × the walking detour
factor where there is no network near it; then totals each shelter's load against its capacity.

>>> r = shelter_rules()
>>> r.classes["emergency"].service_radius_m, r.classes["fixed_long"].m2_per_person
(500.0, 2.0)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping

import geopandas
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_metric, require_same_crs
from geo.errors import InputError
from layers.catalogue.shelters import CLASSES as SHELTER_CLASSES
from zoning.coverage.network import RoadGraph
from zoning.coverage.network import representative_points as _as_points
from zoning.errors import RuleSetError
from zoning.rules import get, load_ruleset

__all__ = ["ShelterClass", "ShelterRules", "ShelterAssessment", "ShelterWarning", "shelter_rules",
           "shelter_capacity", "assess_shelters"]


class ShelterWarning(UserWarning):
    """A shelter or its data look wrong (e.g. zero capacity), but the assessment goes on."""


@dataclass(frozen=True)
class ShelterClass:
    """Service radius (m) and minimum effective area per person (m²) of one shelter class."""

    service_radius_m: float
    m2_per_person: float


@dataclass(frozen=True)
class ShelterRules:
    """The ``[shelters]`` table: figures per class, walking detour factor and speed, snap tolerance,
    and the margin kept from disclosed risk plots for a chemical release."""

    classes: Mapping[str, ShelterClass]
    walking_detour_factor: float
    snap_tolerance_m: float
    walking_speed_kmh: float = 3.0
    disclosed_zone_margin_m: float = 200.0


def shelter_rules(ruleset=None) -> ShelterRules:
    """Parse the ``[shelters]`` table of a rule set (default: the default rule set).

    Raises
    ------
    RuleSetError
        Naming the key path; also when a class of the ``shelters`` catalogue is missing or an
        unknown class is given.
    """
    if isinstance(ruleset, ShelterRules):
        return ruleset
    rs = load_ruleset() if ruleset is None else ruleset
    t = rs.table("shelters")
    table = get(t, "classes", dict, root="shelters")
    known = [c.value for c in SHELTER_CLASSES]
    unknown = sorted(set(table) - set(known))
    missing = [c for c in known if c not in table]
    if unknown or missing:
        raise RuleSetError(f"shelters.classes: unknown {unknown or 'none'}, missing {missing or 'none'};"
                           f" classes are {', '.join(known)}")
    classes = {
        c: ShelterClass(get(table, f"{c}.service_radius_m", float, minimum=0.0, root="shelters.classes"),
                        get(table, f"{c}.m2_per_person", float, minimum=1e-9, root="shelters.classes"))
        for c in known
    }
    return ShelterRules(classes,
                        get(t, "walking_detour_factor", float, minimum=1.0, root="shelters"),
                        get(t, "snap_tolerance_m", float, minimum=0.0, root="shelters"),
                        get(t, "walking_speed_kmh", float, minimum=0.5, maximum=10.0, root="shelters"),
                        get(t, "disclosed_zone_margin_m", float, minimum=0.0, root="shelters"))


@dataclass
class ShelterAssessment:
    """What :func:`assess_shelters` found.

    Attributes
    ----------
    assignments : geopandas.GeoDataFrame
        The demand rows with ``shelter_id``, ``shelter_class``, ``distance_m``, ``method``
        ("network", "straight line" or "none"), ``snap_m``, ``service_radius_m``,
        ``within_radius``.
    loads : geopandas.GeoDataFrame
        The shelters with ``capacity``, ``load``, ``load_ratio``, ``over_capacity``.
    over_capacity : geopandas.GeoDataFrame
        Rows of ``loads`` whose load exceeds capacity, worst first.
    beyond_reach : geopandas.GeoDataFrame
        Rows of ``assignments`` with no shelter within its class service radius (or none at all).
    """

    assignments: geopandas.GeoDataFrame
    loads: geopandas.GeoDataFrame
    over_capacity: geopandas.GeoDataFrame
    beyond_reach: geopandas.GeoDataFrame


def shelter_capacity(shelters, rules=None) -> np.ndarray:
    """Capacity in persons: the ``capacity`` column where given, else area / m² per person of the class.

    GB 50413-2007: emergency ≥ 1 m²/person, fixed ≥ 2 m²/person (figures from the rule set).

    >>> import geopandas
    >>> s = geopandas.GeoDataFrame({"class": ["emergency", "fixed_short"],
    ...                             "effective_area_m2": [1500.0, 20000.0], "capacity": [None, 800]})
    >>> shelter_capacity(s).tolist()
    [1500.0, 800.0]
    """
    r = shelter_rules(rules)
    per = shelters["class"].map({k: v.m2_per_person for k, v in r.classes.items()})
    if per.isna().any():
        bad = shelters["class"][per.isna()].iloc[0]
        raise InputError(f"unknown shelter class {bad!r}; classes are {', '.join(r.classes)}")
    area = pd.to_numeric(shelters["effective_area_m2"], errors="coerce").fillna(0).to_numpy(float)
    cap = np.floor(area / per.to_numpy(float))
    if "capacity" in shelters:
        given = pd.to_numeric(shelters["capacity"], errors="coerce").to_numpy(float)
        cap = np.where(np.isnan(given), cap, given)
    return cap


def _network_nearest(graph: RoadGraph, d_nodes, d_snap, s_nodes, s_snap):
    """(distance, shelter row) of each demand point, exact with both snap distances included.

    One virtual node per shelter is joined to the shelter's road node by its snap distance; a
    single undirected multi-source Dijkstra from the virtual nodes (``min_only``) then yields the
    nearest shelter of every node without a loop over shelters.
    """
    n, k = graph.n_nodes, len(s_nodes)
    virt = n + np.arange(k)
    base = graph.length_matrix.tocoo()
    rows = np.concatenate([base.row, virt])
    cols = np.concatenate([base.col, s_nodes])
    data = np.concatenate([base.data, s_snap])
    from scipy import sparse  # here, not at import: scipy is slow to load (server start)
    from scipy.sparse import csgraph

    matrix = sparse.csr_array((data, (rows, cols)), shape=(n + k, n + k))
    dist, _, source = csgraph.dijkstra(matrix, directed=False, indices=virt, min_only=True,
                                       return_predecessors=True)
    return dist[d_nodes] + d_snap, np.where(source[d_nodes] < 0, -1, source[d_nodes] - n)


def assess_shelters(demand, shelters, rules=None, graph: RoadGraph | None = None, *,
                    population_field: str = "population", id_field: str = "shelter_id"
                    ) -> ShelterAssessment:
    """Nearest shelter of every demand point, whether it is in reach, and each shelter's load.

    Parameters
    ----------
    demand : geopandas.GeoDataFrame
        Residential ``protected_targets`` or population cells, with ``population_field``.
    shelters : geopandas.GeoDataFrame
        ``shelters`` layer (``shelter_id``, ``class``, ``effective_area_m2``, optional
        ``capacity``), points or polygons, same metric CRS.
    rules : zoning.rules.RuleSet, ShelterRules or None
    graph : RoadGraph, optional
        Walking network (one-way ignored); network distance = demand snap + path + shelter snap.
        Demand farther than ``shelters.snap_tolerance_m`` from it, on a part of it with no
        shelter, or all demand when there is no network, uses straight line ×
        ``shelters.walking_detour_factor`` to the nearest shelter.

    Returns
    -------
    ShelterAssessment

    Warns
    -----
    ShelterWarning
        For shelters of zero capacity: they are listed with their load (always 0) but nobody is
        sent to them.

    Notes
    -----
    Everyone goes to the nearest usable shelter, whatever its class, and loads it even when it is
    beyond that class's service radius (then they are also listed in ``beyond_reach``); people
    with no shelter at all (``method == "none"``) load none.
    """
    r = shelter_rules(rules)
    require_metric(demand.crs, what="assess_shelters")
    require_same_crs(demand, shelters, names=("demand", "shelters"))
    if population_field not in demand:
        raise InputError(f"demand has no {population_field!r} column")
    cap = shelter_capacity(shelters, r)
    usable = cap > 0
    if (~usable).any():
        ids = shelters[id_field].to_numpy()[~usable]
        warnings.warn(f"{len(ids)} shelter(s) have zero capacity and take nobody: "
                      f"{', '.join(map(str, ids[:10]))}", ShelterWarning, stacklevel=2)
    rows = np.flatnonzero(usable)
    d_pts, s_pts = _as_points(demand), _as_points(shelters)[rows]
    nd = len(d_pts)
    dist, which = np.full(nd, np.inf), np.full(nd, -1, np.int64)
    method = np.full(nd, "none", dtype=object)
    snap = np.full(nd, np.nan)
    on_net = np.zeros(nd, bool)
    if len(rows) and graph is not None and graph.n_nodes:
        require_same_crs(graph.crs, demand.crs, names=("roads", "demand"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # far points are expected: they use the straight line
            d_nodes, snap = graph.snap(d_pts)
            s_nodes, s_snap = graph.snap(s_pts)
        on_net = snap <= r.snap_tolerance_m
        if on_net.any():
            dist[on_net], which[on_net] = _network_nearest(graph, d_nodes[on_net], snap[on_net],
                                                           s_nodes, s_snap)
            method[on_net & (which >= 0)] = "network"
    off = (~on_net | (which < 0)) & ~shapely.is_missing(d_pts)  # no network, or none reached
    if len(rows) and off.any():
        (i, j), d = shapely.STRtree(s_pts).query_nearest(d_pts[off], return_distance=True,
                                                         all_matches=False)
        idx = np.flatnonzero(off)[i]
        dist[idx], which[idx] = d * r.walking_detour_factor, j
        method[idx] = "straight line"
    got = which >= 0
    srow = np.where(got, rows[np.maximum(which, 0)] if len(rows) else 0, -1)
    cls = np.where(got, shelters["class"].to_numpy()[np.maximum(srow, 0)], None)
    radius = pd.Series(cls).map({k: v.service_radius_m for k, v in r.classes.items()}).to_numpy(float)
    assignments = demand.copy()
    assignments[id_field] = np.where(got, shelters[id_field].to_numpy()[np.maximum(srow, 0)], None)
    assignments["shelter_class"] = cls
    assignments["distance_m"] = np.where(got, dist, np.inf)
    assignments["method"] = method
    assignments["snap_m"] = np.where(method == "network", snap, np.nan)
    assignments["service_radius_m"] = radius
    assignments["within_radius"] = got & (dist <= radius)
    people = pd.to_numeric(demand[population_field], errors="coerce").fillna(0).to_numpy(float)
    load = np.bincount(srow[got], people[got], minlength=len(shelters))
    loads = shelters.copy()
    loads["capacity"], loads["load"] = cap, load
    with np.errstate(divide="ignore", invalid="ignore"):
        loads["load_ratio"] = np.where(cap > 0, load / cap, np.where(load > 0, np.inf, 0.0))
    loads["over_capacity"] = load > cap
    over = loads[loads["over_capacity"]].sort_values("load_ratio", ascending=False, kind="stable")
    beyond = assignments[~assignments["within_radius"]]
    return ShelterAssessment(assignments, loads, over, beyond)
