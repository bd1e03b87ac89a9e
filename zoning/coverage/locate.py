"""Where to put new stations or shelters: maximal covering (MCLP) and set covering (LSCP).

The models follow spopt (``spopt/locate/coverage.py``): ``from_cost_matrix`` does the work,
``from_geodataframe`` checks the CRS (metres only, refused otherwise), builds the cost matrix and
calls it, and ``solve()`` returns ``self``; both constructors build with ``cls(...)`` so subclasses
stay subclasses. ``solve(method="exact")`` uses :func:`scipy.optimize.milp`; ``method="greedy"``
adds, one by one, the candidate with the largest marginal gain (one sparse product per step).

A demand point *i* is covered by candidate *j* when ``cost[i, j] <= service`` (metres, or
seconds for a driving-time matrix: 240 s is the GB 51080-2015 §4.1.3 driving share, to confirm).

>>> import numpy as np
>>> cost = np.array([[0, 9, 9], [1, 9, 9], [9, 0, 9], [9, 9, 0]])
>>> m = MaximalCovering.from_cost_matrix(cost, weights=[5, 5, 3, 1], service=2, k=2).solve("exact")
>>> m.selected.tolist(), m.covered_weight, m.status
([0, 1], 13.0, 'optimal')
>>> SetCovering.from_cost_matrix(cost, service=2).solve().selected.tolist()
[0, 1, 2]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo.crs import require_metric, require_same_crs
from geo.errors import InputError, RiskmapError
from zoning.coverage.network import RoadGraph
from zoning.coverage.network import representative_points as _as_points

if TYPE_CHECKING:  # scipy loads in about a second: imported where a model is built or solved
    from scipy import sparse

__all__ = ["MaximalCovering", "SetCovering", "SolverError", "METHODS", "coverage_matrix", "cost_matrix"]

#: Accepted values of ``solve(method=...)``.
METHODS = ("exact", "greedy")


class SolverError(RiskmapError):
    """The solver stopped without an optimum (time limit, numerical trouble)."""


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; accepted: {', '.join(METHODS)}")


def coverage_matrix(cost, service: float) -> sparse.csr_array:
    """Boolean sparse matrix (demand × candidate): ``cost <= service`` (NaN never covers)."""
    cost = np.asarray(cost, dtype=float)
    if cost.ndim != 2:
        raise InputError(f"cost must be a 2-D demand × candidate matrix, got shape {cost.shape}")
    if not np.isfinite(service) or service < 0:
        raise InputError(f"service must be a finite non-negative number, got {service!r}")
    from scipy import sparse

    return sparse.csr_array(np.nan_to_num(cost, nan=np.inf) <= service)


def cost_matrix(demand, candidates, *, graph: RoadGraph | None = None,
                weight: str = "length") -> np.ndarray:
    """Demand × candidate cost: straight-line metres, or network cost (``weight``) from candidates.

    Network costs add the snap distance of both ends (in metres; for ``weight="time"`` they are
    not added). Both layers must share one metric CRS.
    """
    require_metric(demand.crs, what="a location model")
    require_same_crs(demand, candidates, names=("demand", "candidates"))
    d, c = _as_points(demand), _as_points(candidates)
    if graph is None:
        return np.hypot(shapely.get_x(d)[:, None] - shapely.get_x(c)[None, :],
                        shapely.get_y(d)[:, None] - shapely.get_y(c)[None, :])
    require_same_crs(graph.crs, demand.crs, names=("roads", "demand"))
    dn, ds = graph.snap(d)
    cn, cs = graph.snap(c)
    walk = weight == "length"
    costs = graph.shortest(cn, weight=weight, directed=not walk)  # (candidates, nodes)
    out = costs[:, dn].T
    return out + ds[:, None] + cs[None, :] if walk else out


class _CoveringModel:
    """Shared plumbing: coverage matrix, labels, the adapter from GeoDataFrames."""

    name = "covering"

    def __init__(self, coverage: sparse.csr_array, *, demand_labels=None, candidate_labels=None):
        from scipy import sparse

        self.coverage = sparse.csr_array(coverage, dtype=bool)
        n, m = self.coverage.shape
        self.demand_labels = np.arange(n) if demand_labels is None else np.asarray(demand_labels)
        self.candidate_labels = np.arange(m) if candidate_labels is None else np.asarray(candidate_labels)
        self.selected = np.empty(0, np.int64)
        self.covered = np.zeros(n, bool)
        self.status = "not solved"

    @property
    def selected_labels(self) -> np.ndarray:
        """Labels (index values) of the selected candidates."""
        return self.candidate_labels[self.selected]

    def _finish(self, chosen: np.ndarray, status: str):
        self.selected = np.sort(np.flatnonzero(chosen))
        x = np.zeros(self.coverage.shape[1])
        x[self.selected] = 1.0
        self.covered = (self.coverage.astype(float) @ x) > 0
        self.status = status
        return self

    def _solve_milp(self, c, constraints, integrality, time_limit):
        from scipy.optimize import Bounds, milp

        options = {} if time_limit is None else {"time_limit": float(time_limit)}
        res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(0, 1),
                   options=options)
        if res.status != 0 or res.x is None:
            raise SolverError(f"{self.name}: no optimum found ({res.message})")
        return res.x

    def __repr__(self) -> str:
        n, m = self.coverage.shape
        return (f"{type(self).__name__}(demand={n}, candidates={m}, status={self.status!r}, "
                f"selected={self.selected.tolist()})")


class MaximalCovering(_CoveringModel):
    """Maximal covering location problem: ``k`` sites covering the most demand weight.

    Attributes after :meth:`solve`: ``selected`` (candidate positions), ``selected_labels``,
    ``covered`` (bool per demand point), ``covered_weight``, ``status`` ("optimal" or "greedy").
    """

    name = "MCLP"

    def __init__(self, coverage, weights, k: int, **labels):
        super().__init__(coverage, **labels)
        self.weights = np.asarray(weights, dtype=float).ravel()
        n, m = self.coverage.shape
        if self.weights.shape != (n,) or (self.weights < 0).any() or not np.isfinite(self.weights).all():
            raise InputError(f"weights must be {n} finite non-negative numbers (one per demand point)")
        if not 0 <= int(k) <= m:
            raise InputError(f"k must be between 0 and the {m} candidates, got {k}")
        self.k = int(k)

    @property
    def covered_weight(self) -> float:
        """Total weight of the covered demand points."""
        return float(self.weights[self.covered].sum())

    @classmethod
    def from_cost_matrix(cls, cost, weights, service: float, k: int, *, demand_labels=None,
                         candidate_labels=None) -> "MaximalCovering":
        """Model from a demand × candidate cost matrix (m or s) and a service threshold."""
        return cls(coverage_matrix(cost, service), weights, k, demand_labels=demand_labels,
                   candidate_labels=candidate_labels)

    @classmethod
    def from_geodataframe(cls, demand, candidates, service: float, k: int, *,
                          weights: str | None = None, graph: RoadGraph | None = None,
                          weight: str = "length") -> "MaximalCovering":
        """Model from demand and candidate layers in one metric CRS (CRSError otherwise).

        ``weights`` names a demand column (e.g. ``population``); default weight 1 each. With a
        ``graph`` the cost is the network cost (``weight`` "length" m or "time" s), else metres in
        a straight line.
        """
        cost = cost_matrix(demand, candidates, graph=graph, weight=weight)
        w = np.ones(len(demand)) if weights is None else demand[weights].to_numpy(float)
        return cls.from_cost_matrix(cost, w, service, k, demand_labels=demand.index.to_numpy(),
                                    candidate_labels=candidates.index.to_numpy())

    def solve(self, method: str = "exact", *, time_limit: float | None = None) -> "MaximalCovering":
        """Choose the sites; returns ``self``.

        ``exact``: max Σ wᵢyᵢ s.t. yᵢ ≤ Σⱼ aᵢⱼxⱼ, Σ xⱼ = k, x binary, 0 ≤ y ≤ 1 (y is integral at
        an optimum). ``greedy``: k steps, each adding the candidate of largest uncovered weight
        (stops early when nothing more can be covered).
        """
        _check_method(method)
        a = self.coverage.astype(float)
        n, m = a.shape
        if method == "greedy":
            chosen, covered = np.zeros(m, bool), np.zeros(n, bool)
            for _ in range(self.k):
                gain = a.T @ (self.weights * ~covered)
                gain[chosen] = -1.0
                j = int(np.argmax(gain))
                if gain[j] <= 0:
                    break
                chosen[j] = True
                covered |= a[:, [j]].toarray().ravel() > 0
            return self._finish(chosen, "greedy")
        from scipy import sparse
        from scipy.optimize import LinearConstraint

        c = np.concatenate([np.zeros(m), -self.weights])
        link = sparse.hstack([-a, sparse.eye_array(n)], format="csr")
        count = sparse.csr_array(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
        cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(count, self.k, self.k)]
        x = self._solve_milp(c, cons, np.concatenate([np.ones(m), np.zeros(n)]), time_limit)
        return self._finish(x[:m] > 0.5, "optimal")


class SetCovering(_CoveringModel):
    """Location set covering problem: the fewest sites that cover every demand point.

    Raises InputError at construction when some demand point is covered by no candidate, naming
    those points. Attributes after :meth:`solve`: ``selected``, ``selected_labels``, ``covered``,
    ``status``.
    """

    name = "LSCP"

    def __init__(self, coverage, **labels):
        super().__init__(coverage, **labels)
        orphans = np.flatnonzero(self.coverage.sum(axis=1) == 0)
        if len(orphans):
            named = ", ".join(map(str, self.demand_labels[orphans][:20]))
            more = f" (and {len(orphans) - 20} more)" if len(orphans) > 20 else ""
            raise InputError(f"{self.name} is infeasible: {len(orphans)} demand point(s) are within "
                             f"the service threshold of no candidate: {named}{more}")

    @classmethod
    def from_cost_matrix(cls, cost, service: float, *, demand_labels=None,
                         candidate_labels=None) -> "SetCovering":
        """Model from a demand × candidate cost matrix (m or s) and a service threshold."""
        return cls(coverage_matrix(cost, service), demand_labels=demand_labels,
                   candidate_labels=candidate_labels)

    @classmethod
    def from_geodataframe(cls, demand, candidates, service: float, *,
                          graph: RoadGraph | None = None, weight: str = "length") -> "SetCovering":
        """Model from demand and candidate layers in one metric CRS (see MaximalCovering)."""
        cost = cost_matrix(demand, candidates, graph=graph, weight=weight)
        return cls.from_cost_matrix(cost, service, demand_labels=demand.index.to_numpy(),
                                    candidate_labels=candidates.index.to_numpy())

    def solve(self, method: str = "exact", *, time_limit: float | None = None) -> "SetCovering":
        """Choose the sites; returns ``self``. ``exact``: min Σ xⱼ s.t. A x ≥ 1, x binary."""
        _check_method(method)
        a = self.coverage.astype(float)
        n, m = a.shape
        if method == "greedy":
            chosen, covered = np.zeros(m, bool), np.zeros(n, bool)
            while not covered.all():
                gain = a.T @ (~covered).astype(float)
                gain[chosen] = -1.0
                j = int(np.argmax(gain))
                chosen[j] = True
                covered |= a[:, [j]].toarray().ravel() > 0
            return self._finish(chosen, "greedy")
        if n == 0:
            return self._finish(np.zeros(m, bool), "optimal")
        from scipy.optimize import LinearConstraint

        x = self._solve_milp(np.ones(m), [LinearConstraint(a, 1.0, np.inf)], np.ones(m), time_limit)
        return self._finish(x > 0.5, "optimal")
