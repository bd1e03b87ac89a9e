"""The individual-risk grid against a naive per-cell Python loop, and the QRA of a set of sites.

Not a unit test: run it by hand and read the figures::

    python benchmarks/bench_qra.py                       # 12 sites, a 6 km window of 25 m cells
    python benchmarks/bench_qra.py --sites 30 --naive-cells 200

1. Builds ``--sites`` hazard sites on the QRA path (chlorine, LPG, ammonia, hydrogen sulphide in turn,
   2–40 t, scattered over a 6 km square) with the default rule set's weather, and times their polar
   risk tables (:func:`zoning.hazards.qra.individual.site_risk`: footprints of every scenario × weather
   class, wind-rose convolution).
2. Times the IR grid of the whole square (:func:`zoning.hazards.qra.individual.risk_window`, 25 m
   cells: 57 600 cells) — bilinear lookups in the tables, vectorised over the window.
3. Times the **naive baseline** on ``--naive-cells`` cells drawn from the same window: for each cell, a
   Python loop over sites × footprints (scenario × weather) × outcomes × the 360 wind-direction bins of
   the rose, reading the same lethality tables one value at a time — the loop a first implementation
   of CPR 18E ch. 6's sum would write. It prints the time per cell of both and the ratio, and checks the
   two agree (the baseline samples the direction at bin centres, so a few per cent apart).

Goal (issue 16): the grid vectorised over grid × scenarios × weather; the ratio shows by how much.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoning.hazards.qra.assess import assess_sites  # noqa: E402
from zoning.hazards.qra.individual import risk_window, window_for  # noqa: E402
from zoning.hazards.qra.scenarios import OUTCOMES  # noqa: E402
from zoning.rules import load_ruleset  # noqa: E402

SUBSTANCES = ("chlorine", "liquefied petroleum gas", "ammonia", "hydrogen sulphide")
X0, Y0, SIDE = 500_000.0, 3_500_000.0, 6000.0


def make_sites(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    critical = {"chlorine": 5.0, "liquefied petroleum gas": 50.0, "ammonia": 10.0, "hydrogen sulphide": 5.0}
    rows, points = [], []
    for i in range(n):
        name = SUBSTANCES[i % len(SUBSTANCES)]
        tonnes = round(float(critical[name] * rng.uniform(1.0, 8.0)), 1)
        rows.append({"site_id": f"B{i:03d}", "inventory": json.dumps([{"name": name, "quantity_t": tonnes}])})
        points.append(shapely.Point(X0 + rng.uniform(0, SIDE), Y0 + rng.uniform(0, SIDE)))
    return gpd.GeoDataFrame(rows, geometry=points, crs="EPSG:4549")


def naive_ir(sites, x: float, y: float, rose: np.ndarray) -> float:
    """IR at one point: Python loops over sites, footprints, outcomes and the rose's direction bins."""
    total = 0.0
    n_theta = rose.size
    for s in sites:
        r = math.hypot(x - s.x, y - s.y)
        grid = s.grid
        if r > grid.r[-1]:
            continue
        ri = min(max((math.log(max(r, grid.r[0])) - math.log(grid.r[0]))
                     / (math.log(grid.r[-1]) - math.log(grid.r[0])) * (grid.r.size - 1), 0.0), grid.r.size - 1.0)
        i0 = min(int(ri), grid.r.size - 2)
        t = ri - i0
        theta = math.degrees(math.atan2(y - s.y, x - s.x))
        for fp in s.footprints:
            for name, p in fp.outcomes:
                if not OUTCOMES[name]:
                    table = fp.radial[name]
                    total += fp.weight * p * (table[i0] * (1 - t) + table[i0 + 1] * t)
                    continue
                table = fp.directional[name]
                for k in range(n_theta):
                    if rose[k] == 0.0:
                        continue
                    alpha = abs((theta - k * 360.0 / n_theta + 180.0) % 360.0 - 180.0)
                    if alpha > 90.0:
                        continue
                    j = int(round(alpha / grid.angle_step_deg))
                    lethal = table[i0, j] * (1 - t) + table[i0 + 1, j] * t
                    total += fp.weight * p * rose[k] * lethal
    return total


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--cell", type=float, default=25.0)
    ap.add_argument("--naive-cells", type=int, default=30)
    args = ap.parse_args(argv)
    rules = load_ruleset()
    frame = make_sites(args.sites)

    t0 = time.perf_counter()
    result = assess_sites(frame, rules)
    t_tables = time.perf_counter() - t0
    sites = [s.risk for s in result.sites.values()]
    window = window_for((X0, Y0, X0 + SIDE, Y0 + SIDE), args.cell)
    t0 = time.perf_counter()
    grid = risk_window(sites, window)
    t_grid = time.perf_counter() - t0
    cells = window.nx * window.ny

    rng = np.random.default_rng(3)
    pick = rng.choice(cells, size=min(args.naive_cells, cells), replace=False)
    xs, ys = window.centres
    rose = result.rules.weather.rose.downwind_weights(sites[0].n_theta)
    t0 = time.perf_counter()
    naive = np.array([naive_ir(sites, xs.flat[c], ys.flat[c], rose) for c in pick])
    t_naive = time.perf_counter() - t0
    fast = grid.flat[pick]
    both = (naive > 1e-9) | (fast > 1e-9)
    rel = np.abs(naive[both] - fast[both]) / np.maximum(naive[both], fast[both]) if both.any() else np.zeros(1)

    per_fast, per_naive = t_grid / cells * 1e6, t_naive / len(pick) * 1e6
    print(f"sites assessed             {len(sites)} ({sum(len(s.footprints) for s in sites)} scenario × weather cases)")
    print(f"risk tables (site_risk)    {t_tables:8.2f} s   ({t_tables / max(len(sites), 1) * 1000:.0f} ms per site,"
          " F-N not included: no population)")
    print(f"IR grid (risk_window)      {t_grid:8.2f} s   {cells:,} cells of {args.cell:g} m: "
          f"{per_fast:,.1f} µs per cell")
    print(f"naive per-cell loop        {t_naive:8.2f} s   {len(pick)} cells: {per_naive:,.0f} µs per cell")
    print(f"ratio naive / vectorised   {per_naive / per_fast:8.0f} ×")
    print(f"agreement on sampled cells median {np.median(rel) * 100:.2f} %, max {rel.max() * 100:.2f} % "
          f"({int(both.sum())} cells with IR > 1e-9)")


if __name__ == "__main__":
    main()
