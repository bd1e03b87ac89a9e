"""Benchmark: maximal covering (MCLP), riskmap against spopt on the same cost matrix.

Run ``python benchmarks/bench_mclp.py [--demand 4000] [--candidates 400] [--k 25] [--service 1500]``
(spopt is an optional dependency: ``pip install spopt``; it solves with PuLP's bundled CBC).

A city-like synthetic problem: ``demand`` points (weights 1-500 people, clustered around 12
centres in a 30 km × 30 km square, metres) and ``candidates`` sites drawn from the same mixture;
the cost is the straight-line distance matrix, a point is covered within ``service`` metres, and
``k`` sites are chosen. Timed, each from the same dense matrix:

* riskmap: :meth:`zoning.coverage.locate.MaximalCovering.from_cost_matrix` + ``solve("exact")``
  (``scipy.optimize.milp``, HiGHS), and the greedy heuristic for reference;
* spopt: ``spopt.locate.MCLP.from_cost_matrix`` + ``solve(pulp.PULP_CBC_CMD(msg=False))``.

Both are exact, so the covered weight must be the same (checked: the run fails otherwise).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.optimize  # noqa: F401 - imported before timing (riskmap imports it on first solve)

from zoning.coverage.locate import MaximalCovering


def problem(demand: int, candidates: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(cost matrix demand × candidates in metres, demand weights)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 30_000, (12, 2))

    def points(n: int) -> np.ndarray:
        return centres[rng.integers(0, len(centres), n)] + rng.normal(0, 3_000, (n, 2))

    d, c = points(demand), points(candidates)
    cost = np.sqrt(((d[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    return cost, rng.integers(1, 501, demand).astype(float)


def best_of(repeat: int, run):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demand", type=int, default=4000)
    ap.add_argument("--candidates", type=int, default=400)
    ap.add_argument("--k", type=int, default=25)
    ap.add_argument("--service", type=float, default=1500.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    cost, weights = problem(args.demand, args.candidates)
    print(f"MCLP: {args.demand:,} demand points, {args.candidates:,} candidates, k={args.k}, "
          f"service {args.service:g} m, total weight {weights.sum():,.0f}")

    exact = lambda: MaximalCovering.from_cost_matrix(cost, weights, args.service, args.k).solve("exact")
    greedy = lambda: MaximalCovering.from_cost_matrix(cost, weights, args.service, args.k).solve("greedy")
    ours, model = best_of(args.repeat, exact)
    print(f"riskmap MCLP exact (scipy milp): {ours:.3f} s, covered {model.covered_weight:,.0f}, {model.status}")
    g_time, g_model = best_of(args.repeat, greedy)
    print(f"riskmap MCLP greedy: {g_time:.3f} s, covered {g_model.covered_weight:,.0f}")
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError:
        print("spopt MCLP: not run (pip install spopt)")
        return

    def spopt_run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MCLP.from_cost_matrix(cost, weights, args.service, args.k).solve(pulp.PULP_CBC_CMD(msg=False))

    theirs, solved = best_of(args.repeat, spopt_run)
    chosen = [j for j, var in enumerate(solved.fac_vars) if var.value() > 0.5]
    covered = float(weights[(cost[:, chosen] <= args.service).any(axis=1)].sum())
    print(f"spopt MCLP (PuLP CBC): {theirs:.3f} s, covered {covered:,.0f}")
    if abs(covered - model.covered_weight) > 1e-6:
        raise SystemExit(f"covered weights differ: riskmap {model.covered_weight:,.0f}, spopt {covered:,.0f}")
    print(f"ratio (spopt / riskmap): {theirs / ours:.2f}")


if __name__ == "__main__":
    main()
