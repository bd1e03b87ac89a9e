"""Road network as a sparse graph: travel times and walking distances for coverage work.

A :class:`RoadGraph` is built from the ``roads`` layer (``road_id``, ``class``, ``speed_kmh``,
``oneway``; DESIGN.md "Layers") in a metric CRS. Nodes are line end points merged when they fall
in the same 1 cm cell; each road line is one edge with its length (m) and driving time (s) at the
road's ``speed_kmh`` or, when that is missing, the speed of its class from the ``[coverage]``
table of the rule set. One-way roads are traversable in digitised direction only.

Shortest paths: one :func:`scipy.sparse.csgraph.dijkstra` call on a CSR matrix from many sources
(``indices``, ``limit``, ``min_only``), no Python loop over stations or shelters. The
``[coverage]`` rules (:func:`coverage_rules`) live here: the graph needs the speeds too.

>>> import geopandas
>>> from shapely import LineString
>>> roads = geopandas.GeoDataFrame(
...     {"road_id": ["a", "b"], "class": ["secondary", "secondary"], "speed_kmh": [36.0, 36.0],
...      "oneway": [False, True]},
...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 500)])],
...     crs="EPSG:4549")
>>> g = RoadGraph.from_roads(roads)
>>> g.n_nodes, g.n_edges
(3, 2)
>>> g.travel_times(g.snap(geopandas.GeoSeries.from_xy([0], [0], crs="EPSG:4549"))[0]).round(1)
array([[  0., 100., 150.]])
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import numpy as np
import pandas as pd
import shapely

from geo.crs import require_metric, require_same_crs
from geo.errors import GeometryError, InputError
from layers.catalogue.roads import CLASSES as ROAD_CLASSES
from zoning.errors import RuleSetError
from zoning.rules import get, load_ruleset

if TYPE_CHECKING:  # scipy is imported where a graph is built or searched (about a second: not at server start)
    from scipy import sparse

__all__ = ["RoadGraph", "CoverageRules", "coverage_rules", "NetworkWarning", "representative_points",
           "CAP_STYLES", "WEIGHTS"]

#: Buffer end styles accepted for ``coverage.reach_cap_style`` (shapely names).
CAP_STYLES = ("round", "flat", "square")
#: Edge weights :meth:`RoadGraph.shortest` knows: driving time (s) or length (m).
WEIGHTS = ("time", "length")
_MAX_LISTED = 10


class NetworkWarning(UserWarning):
    """The road network or the points put on it look wrong, but the work can go on."""


@dataclass(frozen=True)
class CoverageRules:
    """Figures of the ``[coverage]`` rule-set table (see ``data/rules/default.toml``).

    ``response_s`` is the GB 51080-2015 §4.1.3 response time (5 min, confirmed), split into
    ``turnout_s`` (1 min) and ``driving_s`` (4 min), split to confirm. ``fallback_radius_m`` is the
    straight-line reach used where there are no roads: speed × driving time / detour factor.
    """

    response_s: float
    turnout_s: float
    driving_s: float
    speed_kmh: Mapping[str, float]
    fallback_speed_kmh: float
    detour_factor: float
    snap_tolerance_m: float
    reach_width_m: float
    reach_cap_style: str = "round"

    @property
    def fallback_radius_m(self) -> float:
        """Straight-line reach in the driving time: ``speed / 3.6 · driving_s / detour``."""
        return self.fallback_speed_kmh / 3.6 * self.driving_s / self.detour_factor


def coverage_rules(ruleset=None) -> CoverageRules:
    """Parse the ``[coverage]`` table of a rule set (default: the default rule set).

    Parameters
    ----------
    ruleset : zoning.rules.RuleSet, CoverageRules or None
        A CoverageRules is returned as it is.

    Raises
    ------
    RuleSetError
        Naming the key path; also when turnout + driving exceed the response time, or a road class
        of the ``roads`` catalogue has no speed.

    Examples
    --------
    >>> r = coverage_rules()
    >>> r.response_s, r.turnout_s + r.driving_s
    (300.0, 300.0)
    >>> round(r.fallback_radius_m)
    1429
    """
    if isinstance(ruleset, CoverageRules):
        return ruleset
    rs = load_ruleset() if ruleset is None else ruleset
    t = rs.table("coverage")
    root = "coverage"
    response = get(t, "response_min", float, minimum=0.0, root=root) * 60.0
    turnout = get(t, "turnout_min", float, minimum=0.0, root=root) * 60.0
    driving = get(t, "driving_min", float, minimum=0.0, root=root) * 60.0
    if turnout + driving > response + 1e-9:
        raise RuleSetError(f"coverage: turnout_min + driving_min = {(turnout + driving) / 60:g} "
                           f"exceeds response_min = {response / 60:g}")
    speeds_t = get(t, "speed_kmh", dict, root=root)
    speeds = {k: get(speeds_t, k, float, minimum=1e-9, root=f"{root}.speed_kmh") for k in speeds_t}
    missing = [c.value for c in ROAD_CLASSES if c.value not in speeds]
    if missing:
        raise RuleSetError(f"coverage.speed_kmh: no speed for road classes {', '.join(missing)}")
    cap = get(t, "reach_cap_style", str, default="round", root=root)
    if cap not in CAP_STYLES:
        raise RuleSetError(f"coverage.reach_cap_style: {cap!r} is not one of {', '.join(CAP_STYLES)}")
    return CoverageRules(
        response_s=response, turnout_s=turnout, driving_s=driving, speed_kmh=speeds,
        fallback_speed_kmh=get(t, "fallback_speed_kmh", float, minimum=1e-9, root=root),
        detour_factor=get(t, "detour_factor", float, minimum=1.0, root=root),
        snap_tolerance_m=get(t, "snap_tolerance_m", float, minimum=0.0, root=root),
        reach_width_m=get(t, "reach_width_m", float, minimum=1e-9, root=root),
        reach_cap_style=cap,
    )


def representative_points(geoms) -> np.ndarray:
    """Points as they are, other geometries by a point on their surface (shapely array).

    >>> from shapely import Point, box
    >>> [p.wkt for p in representative_points([Point(1, 2), box(0, 0, 2, 2)])]
    ['POINT (1 2)', 'POINT (1 1)']
    """
    if hasattr(geoms, "geometry"):  # GeoSeries or GeoDataFrame
        geoms = geoms.geometry.to_numpy()
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)  # a new array: safe to fill in place
    notpoint = ~shapely.is_missing(arr) & (shapely.get_type_id(arr) != 0)
    arr[notpoint] = shapely.point_on_surface(arr[notpoint])
    return arr


def _truthy(values: pd.Series) -> np.ndarray:
    """One-way flags as booleans: bools as they are, 'yes'/'true'/'1' text as True, missing False.

    OSM's ``-1``/``reverse`` (one-way against the drawing) is refused: the roads layer's
    ``oneway`` means "as drawn", and the OSM import (:mod:`layers.osm`) turns such ways round.
    """
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype("string").str.strip().str.lower()
    against = text.isin(["-1", "-1.0", "reverse"]).fillna(False).to_numpy(dtype=bool)
    if against.any():
        raise InputError(f"roads: {int(against.sum())} road(s) have oneway {text[against].iloc[0]!r}, one-way "
                         "against the way it is drawn; reverse those lines and set oneway true (riskmap import "
                         "roads does this for OSM data)")
    return text.isin(["true", "yes", "1", "1.0"]).fillna(False).to_numpy(dtype=bool)


class RoadGraph:
    """A directed road graph over a CSR matrix, with nodes at road end points.

    Build it with :meth:`from_roads`. Attributes: ``crs``; ``node_xy`` (n, 2); per edge (one per
    road line part, as digitised): ``edge_u``, ``edge_v``, ``edge_length`` (m), ``edge_time`` (s),
    ``edge_oneway``, ``edge_geometry``, ``edge_road`` (row position in the roads layer).
    """

    def __init__(self, crs, node_xy, edge_u, edge_v, edge_length, edge_time, edge_oneway,
                 edge_geometry, edge_road, snap_tolerance_m: float = np.inf):
        self.crs = crs
        self.node_xy = np.asarray(node_xy, dtype=float).reshape(-1, 2)
        self.edge_u, self.edge_v = np.asarray(edge_u, np.int64), np.asarray(edge_v, np.int64)
        self.edge_length = np.asarray(edge_length, float)
        self.edge_time = np.asarray(edge_time, float)
        self.edge_oneway = np.asarray(edge_oneway, bool)
        self.edge_geometry = np.asarray(edge_geometry, dtype=object)
        self.edge_road = np.asarray(edge_road, np.int64)
        self.snap_tolerance_m = float(snap_tolerance_m)
        self.time_matrix = self._matrix(self.edge_time)
        self.length_matrix = self._matrix(self.edge_length)

    @classmethod
    def from_roads(cls, roads, rules=None, *, precision: float = 0.01) -> "RoadGraph":
        """Build the graph of a ``roads`` layer (GeoDataFrame of lines, metric CRS).

        Parameters
        ----------
        roads : geopandas.GeoDataFrame
            Lines (multi-lines are split into parts) with ``class`` and optionally ``speed_kmh``
            (used where > 0) and ``oneway`` (True: digitised direction only).
        rules : zoning.rules.RuleSet, CoverageRules or None
            Class speeds and snap tolerance (``[coverage]``); default rule set if None.
        precision : float
            End points in the same ``precision``-metre cell are one node.

        Raises
        ------
        CRSError
            Roads not in a projected CRS in metres.
        InputError, GeometryError
            A road with no usable ``speed_kmh`` nor class speed; a geometry that is not a line.

        Warns
        -----
        NetworkWarning
            The network falls into disconnected parts (their sizes are named).
        """
        crs = require_metric(roads.crs, what="a road graph")
        r = coverage_rules(rules)
        geoms = np.asarray(roads.geometry.to_numpy(), dtype=object)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if (~ok).any():
            warnings.warn(f"{int((~ok).sum())} road(s) without geometry ignored", NetworkWarning,
                          stacklevel=2)
        rows = np.flatnonzero(ok)
        if (shapely.get_type_id(geoms[rows]) == 1).all():  # plain lines: no parts to split
            parts, road = geoms[rows], rows
        else:
            parts, where = shapely.get_parts(geoms[rows], return_index=True)
            road = rows[where]
        bad = ~np.isin(shapely.get_type_id(parts), (1, 2))
        if bad.any():
            raise GeometryError(f"roads must be lines; row {int(road[bad][0])} is "
                                f"{shapely.get_type_id(parts[bad][0])!r} (shapely type id)")
        speed = cls._speeds(roads, r).astype(float)[road]
        oneway = (_truthy(roads["oneway"]) if "oneway" in roads else np.zeros(len(roads), bool))[road]
        length = shapely.length(parts)
        xy, count = shapely.get_coordinates(parts), shapely.get_num_coordinates(parts)
        last = np.cumsum(count) - 1
        ends = np.concatenate([xy[last - count + 1], xy[last]])
        node_xy, inverse = cls._merge(ends, precision)
        m = len(parts)
        g = cls(crs, node_xy, inverse[:m], inverse[m:], length, length / (speed / 3.6), oneway,
                parts, road, snap_tolerance_m=r.snap_tolerance_m)
        _, sizes = g.components()
        if len(sizes) > 1:
            listed = ", ".join(map(str, sizes[:_MAX_LISTED]))
            more = f" and {len(sizes) - _MAX_LISTED} more" if len(sizes) > _MAX_LISTED else ""
            warnings.warn(f"road network is in {len(sizes)} disconnected parts (nodes: {listed}{more});"
                          " a station or shelter reaches only its own part", NetworkWarning, stacklevel=2)
        return g

    @staticmethod
    def _speeds(roads, r: CoverageRules) -> np.ndarray:
        n = len(roads)
        given = (pd.to_numeric(roads["speed_kmh"], errors="coerce").to_numpy(float)
                 if "speed_kmh" in roads else np.full(n, np.nan))
        given = np.where(given > 0, given, np.nan)
        by_class = np.full(n, np.nan)
        if "class" in roads:
            codes, names = pd.factorize(roads["class"])
            lookup = np.array([r.speed_kmh.get(c, np.nan) for c in names] + [np.nan], dtype=float)
            by_class = lookup[codes]  # code -1 (missing class) picks the trailing NaN
        speed = np.where(np.isnan(given), by_class, given)
        missing = np.isnan(speed) & ~(shapely.is_missing(roads.geometry.to_numpy()))
        if missing.any():
            cls_ = roads["class"].to_numpy()[missing] if "class" in roads else ["(no class column)"]
            raise InputError(f"{int(missing.sum())} road(s) have no speed_kmh and no class with a speed "
                             f"(e.g. class {cls_[0]!r}); known classes: {', '.join(r.speed_kmh)}")
        return speed

    @staticmethod
    def _merge(xy: np.ndarray, precision: float) -> tuple[np.ndarray, np.ndarray]:
        """Merge points in the same ``precision`` cell; (node coordinates, node of each point)."""
        if len(xy) == 0:
            return np.empty((0, 2)), np.empty(0, np.int64)
        cells = np.round(xy / precision).astype(np.int64)
        cells -= cells.min(axis=0)
        span = cells.max(axis=0) + 1
        if (span >= 2**31).any():
            raise InputError(f"roads span {span.max() * precision / 1000:.0f} km: not one city")
        key = cells[:, 0] * span[1] + cells[:, 1]  # one int64 key per cell: a fast 1-D unique
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return xy[first], inverse.ravel()

    def _matrix(self, weight: np.ndarray) -> sparse.csr_array:
        """CSR adjacency, both ways unless one-way; parallel edges keep the smallest weight."""
        n = len(self.node_xy)
        fwd = self.edge_u != self.edge_v
        back = fwd & ~self.edge_oneway
        src = np.concatenate([self.edge_u[fwd], self.edge_v[back]])
        dst = np.concatenate([self.edge_v[fwd], self.edge_u[back]])
        w = np.concatenate([weight[fwd], weight[back]])
        key = src.astype(np.int64) * n + dst  # one int64 per (from, to): a single fast sort
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.int64)
        smallest = np.minimum.reduceat(w[order], starts) if len(starts) else w[:0]
        from scipy import sparse

        return sparse.csr_array((smallest, (key[starts] // n, key[starts] % n)), shape=(n, n))

    n_nodes = property(lambda self: len(self.node_xy), doc="Number of nodes.")
    n_edges = property(lambda self: len(self.edge_u), doc="Number of edges (road line parts).")

    @cached_property
    def nodes(self) -> np.ndarray:
        """Node points (shapely array)."""
        return shapely.points(self.node_xy)

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.nodes)

    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """Weakly connected parts: (part of each node, 0 = largest; node count of each part, descending).

        >>> g = RoadGraph(None, [(0, 0), (1, 0), (5, 5), (6, 5)], [0, 2], [1, 3], [1, 1], [1, 1],
        ...               [False, False], [None, None], [0, 1])
        >>> labels, sizes = g.components()
        >>> labels.tolist(), sizes.tolist()
        ([0, 0, 1, 1], [2, 2])
        """
        if self.n_nodes == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        from scipy.sparse import csgraph

        _, labels = csgraph.connected_components(self.length_matrix, directed=True, connection="weak")
        sizes = np.bincount(labels)
        order = np.argsort(-sizes, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[labels], sizes[order]

    def snap(self, points, tolerance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point and the snap distance (m).

        Parameters
        ----------
        points : GeoSeries, GeoDataFrame or array of geometries
            Non-point geometries use a point on their surface. A GeoSeries/GeoDataFrame must be in
            the graph's CRS.
        tolerance : float, optional
            Snap distance above which a :class:`NetworkWarning` names the points (default: the
            rule set's ``coverage.snap_tolerance_m``).

        Returns
        -------
        nodes : numpy.ndarray of int
            Node index, -1 for an empty point or an empty graph.
        distance : numpy.ndarray of float
            Snap distance in metres, inf where ``nodes`` is -1.
        """
        if getattr(points, "crs", None) is not None and self.crs is not None:
            require_same_crs(self.crs, points.crs, names=("roads", "points"))
        pts = representative_points(points)
        nodes = np.full(len(pts), -1, np.int64)
        dist = np.full(len(pts), np.inf)
        if self.n_nodes and len(pts):
            (which, node), d = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
            nodes[which], dist[which] = node, d
        tol = self.snap_tolerance_m if tolerance is None else float(tolerance)
        far = np.flatnonzero(dist > tol)
        if len(far) and self.n_nodes:
            labels = getattr(points, "index", np.arange(len(pts)))
            named = ", ".join(str(labels[i]) for i in far[:_MAX_LISTED])
            warnings.warn(f"{len(far)} point(s) lie more than {tol:g} m from the road network "
                          f"(worst {dist[far].max():.0f} m): {named}", NetworkWarning, stacklevel=2)
        return nodes, dist

    def shortest(self, sources, *, weight: str = "time", limit: float | None = None,
                 min_only: bool = False, directed: bool = True):
        """Shortest-path costs from many source nodes in one Dijkstra call.

        Parameters
        ----------
        sources : array_like of int
            Source node indices.
        weight : {"time", "length"}
            Driving time (s) or length (m).
        limit : float, optional
            Stop searching beyond this cost (nodes further away get inf).
        min_only : bool
            Return the cost to the nearest source only, with that source.
        directed : bool
            False ignores one-way restrictions (walking).

        Returns
        -------
        numpy.ndarray (len(sources), n_nodes), inf where unreached; with ``min_only`` a tuple
        (cost (n_nodes,), nearest source node (n_nodes,), -1 where unreached).
        """
        if weight not in WEIGHTS:
            raise InputError(f"unknown weight {weight!r}; accepted: {', '.join(WEIGHTS)}")
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        bad = src[(src < 0) | (src >= self.n_nodes)]
        if len(bad):
            raise InputError(f"source nodes must be in 0..{self.n_nodes - 1}; got {bad[:5].tolist()}")
        matrix = self.time_matrix if weight == "time" else self.length_matrix
        lim = np.inf if limit is None else float(limit)
        from scipy.sparse import csgraph

        if min_only:
            dist, _, nearest = csgraph.dijkstra(matrix, directed=directed, indices=src, limit=lim,
                                                min_only=True, return_predecessors=True)
            return dist, np.where(nearest < 0, -1, nearest).astype(np.int64)
        return csgraph.dijkstra(matrix, directed=directed, indices=src, limit=lim)

    def travel_times(self, sources, limit_s: float | None = None, min_only: bool = False):
        """Driving times (s) from source nodes, one-way respected (see :meth:`shortest`)."""
        return self.shortest(sources, weight="time", limit=limit_s, min_only=min_only)

    def walking_distances(self, sources, limit_m: float | None = None, min_only: bool = False):
        """Walking distances (m) from source nodes, one-way ignored (see :meth:`shortest`)."""
        return self.shortest(sources, weight="length", limit=limit_m, min_only=min_only,
                             directed=False)
