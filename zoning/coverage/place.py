"""Shelters for one place: the nearest ones fit for a hazard, on foot, never towards a disclosed risk.

:func:`shelters_for_place` answers a resident's question "where do I go from here": the ``n``
nearest shelters with capacity that are fit for the hazard (the ``hazards`` field, or the
catalogue's default, :func:`layers.catalogue.shelters.shelter_hazards`), by walking distance
along the roads, with the walking time at the rule set's walking speed and the route.

Walking distance: one Dijkstra from the point's nearest road node (one-way ignored, at most
``limit_m``), plus the snaps of the point and of each shelter; a point or a shelter farther than
``shelters.snap_tolerance_m`` from the roads, or on a part of the network the point cannot
reach, uses the straight line × ``shelters.walking_detour_factor`` (the same rules as
:func:`zoning.coverage.shelters.assess_shelters`). The route runs through the road graph's nodes
(straight between two crossings).

Disclosed risk plots (公示较大以上安全风险: the risk wall's levels 1-2, the public's view) and a
chemical release: shelters within ``shelters.disclosed_zone_margin_m`` of such a plot are left
out, and a shelter whose straight line from the point passes within that margin of one ranks after
every shelter whose line does not (it stays listed, flagged, for when nothing else is in reach).
A point already within the margin is sent away: a shelter in the direction of the nearest plot
(less than 90° off) ranks last. For the other hazards the plots only add a flag.

>>> import geopandas, shapely
>>> s = geopandas.GeoDataFrame({"shelter_id": ["A", "B"], "class": ["emergency", "emergency"],
...     "effective_area_m2": [500.0, 500.0], "capacity": [100, 100], "hazards": ["earthquake,fire,chemical", "earthquake,fire,chemical"]},
...     geometry=[shapely.Point(1000, 0), shapely.Point(-1500, 0)], crs="EPSG:4549")
>>> plot = [shapely.box(400, -50, 500, 50)]  # a disclosed plot between the point and A
>>> found = shelters_for_place(shapely.Point(0, 0), s, hazard="chemical", zones=plot)
>>> found.shelters["shelter_id"].tolist(), found.shelters["towards_zone"].tolist()
(['B', 'A'], [False, True])
>>> found.shelters["distance_m"].round(0).tolist(), found.shelters["minutes"].round(0).tolist()
([1950.0, 1300.0], [39.0, 26.0])
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import geopandas
import numpy as np
import shapely

from geo.crs import require_metric, require_same_crs
from geo.errors import InputError
from layers.catalogue.shelters import HAZARDS, shelter_hazards
from zoning.coverage.network import RoadGraph
from zoning.coverage.network import representative_points as _as_points
from zoning.coverage.shelters import ShelterRules, shelter_capacity, shelter_rules

__all__ = ["HAZARD_KEYS", "PlaceShelters", "check_hazard", "shelters_for_place"]

#: The hazards a shelter can be looked up for.
HAZARD_KEYS: tuple[str, ...] = tuple(c.value for c in HAZARDS)
_CHEMICAL = "chemical"


def check_hazard(hazard: str | None) -> str | None:
    """``hazard`` if it is one of :data:`HAZARD_KEYS` (or None / ""), else an InputError listing them.

    >>> check_hazard("flood"), check_hazard("")
    ('flood', None)
    >>> check_hazard("tsunami")
    Traceback (most recent call last):
    ...
    geo.errors.InputError: unknown hazard 'tsunami'; hazards are earthquake, fire, chemical, flood
    """
    if hazard is None or hazard == "":
        return None
    if hazard not in HAZARD_KEYS:
        raise InputError(f"unknown hazard {hazard!r}; hazards are {', '.join(HAZARD_KEYS)}")
    return hazard


@dataclass
class PlaceShelters:
    """What :func:`shelters_for_place` found.

    Attributes
    ----------
    shelters : geopandas.GeoDataFrame
        The chosen shelters in ranking order, with ``hazards_fit`` (tuple of codes),
        ``hazards_declared``, ``capacity``, ``distance_m``, ``method`` ("network" or "straight
        line"), ``minutes``, ``towards_zone`` (its straight line passes a disclosed plot, or it
        lies the way of the nearest one), ``route`` (x, y array, metric: point → roads → shelter).
    left_out : dict
        How many shelters were not considered, by reason: ``not_fit`` (not for this hazard),
        ``no_capacity``, ``in_zone`` (chemical release: within the margin of a disclosed plot).
    zone_distance_m : float
        Distance from the point to the nearest disclosed plot (inf when there is none).
    in_zone : bool
        The point is within the margin of a disclosed plot.
    """

    shelters: geopandas.GeoDataFrame
    left_out: dict = field(default_factory=dict)
    zone_distance_m: float = np.inf
    in_zone: bool = False


def _zone_tree(zones) -> shapely.STRtree | None:
    if zones is None:
        return None
    if isinstance(zones, shapely.STRtree):
        return zones if len(zones.geometries) else None
    geoms = np.asarray(getattr(zones, "geometry", zones), dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))] if len(geoms) else geoms
    return shapely.STRtree(geoms) if len(geoms) else None


def _towards(point, targets: np.ndarray, tree: shapely.STRtree | None, margin: float, in_zone: bool):
    """Whether the way from ``point`` to each target passes near a disclosed plot (see module doc)."""
    towards = np.zeros(len(targets), bool)
    if tree is None or not len(targets):
        return towards
    if in_zone:  # already near one: anything lying its way is "towards"
        nearest = np.atleast_1d(tree.query_nearest(point, all_matches=False))[0]
        near_pt = shapely.shortest_line(point, tree.geometries[nearest])
        zx, zy = shapely.get_coordinates(near_pt)[-1] - shapely.get_coordinates(point)[0]
        tx = shapely.get_x(targets) - shapely.get_x(point)
        ty = shapely.get_y(targets) - shapely.get_y(point)
        return (tx * zx + ty * zy) > 0
    lines = shapely.linestrings(np.stack([
        np.column_stack([np.full(len(targets), shapely.get_x(point)), shapely.get_x(targets)]),
        np.column_stack([np.full(len(targets), shapely.get_y(point)), shapely.get_y(targets)])], axis=-1))
    hit, _ = tree.query(lines, predicate="dwithin", distance=margin)
    towards[hit] = True
    return towards


def _rank(point, targets, dist, tree, margin: float, in_zone: bool, n: int, avoid: bool):
    """The ``n`` best targets (positions) and the ``towards`` flag of every target (False where unchecked).

    Nearest first; with ``avoid`` those whose way passes a disclosed plot go last. The (costly) check
    of the way runs on the nearest candidates only, in growing batches, until ``n`` clear ones are
    found or none is left.
    """
    order = np.argsort(dist, kind="stable")
    towards = np.zeros(len(dist), bool)
    if not avoid:
        chosen = order[:n]
        towards[chosen] = _towards(point, targets[chosen], tree, margin, in_zone)
        return chosen, towards
    k = max(4 * n, 16)
    while True:
        batch = order[:k]
        towards[batch] = _towards(point, targets[batch], tree, margin, in_zone)
        clear = batch[~towards[batch]]
        if len(clear) >= n or k >= len(order):
            return np.concatenate([clear, batch[towards[batch]]])[:n], towards
        k *= 4


def _network(graph: RoadGraph, point, targets: np.ndarray, tolerance: float, limit_m: float):
    """(distance or inf, target node, predecessors, point node) of each target from ``point``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # far points are expected: they use the straight line
        (p_node,), (p_snap,) = graph.snap(np.array([point], dtype=object))
        t_node, t_snap = graph.snap(targets)
    dist = np.full(len(targets), np.inf)
    if p_node < 0 or p_snap > tolerance:
        return dist, t_node, None, -1
    from scipy.sparse import csgraph  # here, not at import: scipy is slow to load (server start)

    reach, pred = csgraph.dijkstra(graph.length_matrix, directed=False, indices=int(p_node), limit=limit_m,
                                   return_predecessors=True)
    ok = (t_node >= 0) & (t_snap <= tolerance)
    dist[ok] = p_snap + reach[t_node[ok]] + t_snap[ok]
    return dist, t_node, pred, int(p_node)


def _route(graph: RoadGraph | None, pred, p_node: int, t_node: int, start, end) -> np.ndarray:
    """Coordinates point → road nodes → target (straight from point to target without a path)."""
    xy = [shapely.get_coordinates(start)[0]]
    if pred is not None and t_node >= 0:
        nodes, k = [], int(t_node)
        while k >= 0 and k != p_node and len(nodes) <= graph.n_nodes:
            nodes.append(k)
            k = int(pred[k])
        if k == p_node:
            xy.extend(graph.node_xy[[p_node, *nodes[::-1]]])
    xy.append(shapely.get_coordinates(end)[0])
    return np.asarray(xy, float)


def shelters_for_place(point, shelters, rules=None, graph: RoadGraph | None = None, *, hazard: str | None = None,
                       zones=None, n: int = 3, limit_m: float = 30_000.0) -> PlaceShelters:
    """The ``n`` shelters to walk to from ``point`` for ``hazard``, best first (see the module doc).

    Parameters
    ----------
    point : shapely.Point
        In the metric CRS of ``shelters``.
    shelters : geopandas.GeoDataFrame
        ``shelter_id``, ``class``, ``effective_area_m2`` or ``capacity``, optional ``hazards``;
        points or polygons, metric CRS.
    rules : RuleSet, ShelterRules or None
    graph : RoadGraph, optional
        The walking network in the same CRS.
    hazard : str, optional
        One of :data:`HAZARD_KEYS`; None: any shelter.
    zones : array of geometries or STRtree, optional
        Disclosed risk plots, same CRS.
    n : int
    limit_m : float
        Walking search limit along the roads; beyond it, the straight-line estimate.
    """
    r: ShelterRules = shelter_rules(rules)
    hazard = check_hazard(hazard)
    require_metric(shelters.crs, what="shelters_for_place")
    if graph is not None:
        require_same_crs(graph.crs, shelters.crs, names=("roads", "shelters"))
    if point is None or shapely.is_empty(point):
        raise InputError("shelters_for_place needs a point")
    fits = shelter_hazards(shelters["hazards"] if "hazards" in shelters else [None] * len(shelters))
    declared = shelter_hazards(shelters["hazards"] if "hazards" in shelters else [None] * len(shelters),
                               declared_only=True).map(bool).to_numpy()
    cap = shelter_capacity(shelters, r) if len(shelters) else np.zeros(0)
    fit = np.array([hazard is None or hazard in f for f in fits], bool)
    usable = fit & (cap > 0)
    left_out = {"not_fit": int((~fit).sum()), "no_capacity": int((fit & ~(cap > 0)).sum()), "in_zone": 0}
    tree = _zone_tree(zones)
    margin = r.disclosed_zone_margin_m
    zone_distance = np.inf
    if tree is not None:
        _, d = tree.query_nearest(point, return_distance=True, all_matches=False)
        zone_distance = float(d[0]) if len(d) else np.inf
    in_zone = zone_distance <= margin
    pts = _as_points(shelters)
    if hazard == _CHEMICAL and tree is not None and usable.any():
        near, _ = tree.query(np.asarray(shelters.geometry.values, dtype=object), predicate="dwithin", distance=margin)
        inside = np.zeros(len(shelters), bool)
        inside[near] = True
        left_out["in_zone"] = int((usable & inside).sum())
        usable &= ~inside
    rows = np.flatnonzero(usable)
    straight = shapely.distance(point, pts[rows]) * r.walking_detour_factor
    dist, method = straight.copy(), np.full(len(rows), "straight line", dtype=object)
    t_node, pred, p_node = np.full(len(rows), -1), None, -1
    if graph is not None and graph.n_nodes and len(rows):
        net, t_node, pred, p_node = _network(graph, point, pts[rows], r.snap_tolerance_m, limit_m)
        on = np.isfinite(net)
        dist[on], method[on] = net[on], "network"
    ranked, towards = _rank(point, pts[rows], dist, tree, margin, in_zone, n, hazard == _CHEMICAL)
    chosen = shelters.iloc[rows[ranked]].copy()
    chosen["hazards_fit"] = [tuple(f) for f in fits.to_numpy()[rows[ranked]]]
    chosen["hazards_declared"] = declared[rows[ranked]]
    chosen["capacity"] = cap[rows[ranked]]
    chosen["distance_m"] = dist[ranked]
    chosen["method"] = method[ranked]
    chosen["minutes"] = dist[ranked] / (r.walking_speed_kmh / 0.06)
    chosen["towards_zone"] = towards[ranked]
    chosen["route"] = [_route(graph, pred if m == "network" else None, p_node, int(t_node[k]), point, pts[rows[k]])
                       for k, m in zip(ranked, method[ranked])]
    return PlaceShelters(chosen, left_out, zone_distance, bool(in_zone))
