"""Benchmark: 5-minute fire coverage of 43 stations on the Changzhou demo road network, riskmap vs networkx.

Run ``python benchmarks/bench_coverage_demo.py [--scale 10] [--store out/changzhou.gpkg]``.

The roads are the demo store's (:func:`layers.demo.build.build_demo`, ``--scale 10``: ≥ 200 000 road
edges), built into a temporary folder unless ``--store`` names one already built; if the demo
builder is missing or fails, the benchmark says so and stops (exit 0). The 43 stations are fire
stations of the store (``coverage_run.station_kinds``), taken evenly by id (scale 1 holds exactly
43; scale 10 holds 430). The budget is the 4 minutes of driving of the GB 51080-2015 §4.1.3 five
minutes (1 min turnout, rule set). Timed in the same run, best of ``--repeat``:

* riskmap: :meth:`RoadGraph.from_roads` from the layer + snapping the stations + one multi-source
  ``csgraph.dijkstra`` call limited to the budget (the science of ``riskmap coverage``);
  then, not in the ratio, the ``coverage_areas`` polygons (:func:`reach_isochrones`);
* networkx: a DiGraph built from the layer row by row (``bench_coverage.networkx_from_roads``) and,
  as a lower bound, from riskmap's edge arrays; then ``single_source_dijkstra_path_length`` with the
  same cutoff, one call per station.

Both answers are checked to agree: same reached nodes, times within 1e-6 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_coverage import compare, report
from geo.crs import metric_crs_for
from layers.store import open_store
from zoning.coverage.run import fire_stations, parse_coverage_run_rules
from zoning.coverage.network import coverage_rules
from zoning.rules import load_ruleset

MIN_EDGES = 200_000


def demo_store(scale: float, store: str | None, tmp: str) -> Path | None:
    """Path of the demo store (given, or built into ``tmp``); None, with a message, if it cannot be had."""
    if store:
        return Path(store)
    try:
        from layers.demo.build import build_demo
    except ImportError as exc:
        print(f"skipped: the demo builder is not ready ({exc})")
        return None
    t = time.perf_counter()
    try:
        path = build_demo(tmp, scale=scale)
    except Exception as exc:  # the builder is another engineer's work in progress: report, do not crash
        print(f"skipped: build_demo(scale={scale:g}) failed: {type(exc).__name__}: {exc}")
        return None
    print(f"demo store built at scale {scale:g} in {time.perf_counter() - t:.1f} s")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=10.0)
    ap.add_argument("--store", help="an already built demo store (skips building)")
    ap.add_argument("--stations", type=int, default=43)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs for each step")
    args = ap.parse_args(argv)
    ruleset = load_ruleset()
    rules = coverage_rules(ruleset)
    with tempfile.TemporaryDirectory() as tmp:
        path = demo_store(args.scale, args.store, tmp)
        if path is None:
            return 0
        store = open_store(path)
        roads = store.read("roads")
        crs = metric_crs_for(roads)
        roads = roads.to_crs(crs)
        fire = fire_stations(store.read("rescue_stations"), parse_coverage_run_rules(ruleset))
        fire = fire.sort_values("station_id").to_crs(crs)
    pick = np.unique(np.linspace(0, len(fire) - 1, min(args.stations, len(fire))).round().astype(int))
    stations = fire.iloc[pick].reset_index(drop=True)
    budget, n = rules.driving_s, args.repeat
    print(f"roads: {len(roads):,} edges ({crs.name}); {len(stations)} of {len(fire)} fire stations; "
          f"driving budget {budget:.0f} s; best of {n}")
    if len(roads) < MIN_EDGES:
        print(f"note: fewer than {MIN_EDGES:,} road edges; use --scale 10 for the reference figure")

    report(compare(stations=stations, roads=roads, rules=rules, repeat=n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
