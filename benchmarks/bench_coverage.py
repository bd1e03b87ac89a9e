"""Benchmark: 5-minute fire coverage on a synthetic road grid, riskmap vs networkx.

Run ``python benchmarks/bench_coverage.py [--side 317] [--stations 43] [--seed 0]``.

The grid has ``side × side`` nodes 100 m apart (2·side·(side−1) edges: 200 344 for the default
317), in CGCS2000 / 3-degree Gauss-Krüger CM 120E; every 10th street is ``primary`` (40 km/h), the
rest ``residential`` (20 km/h), and every 7th east-west street is one-way. Stations are drawn at
random. Timed:

* riskmap: :meth:`RoadGraph.from_roads` + one multi-source ``csgraph.dijkstra`` for all stations
  limited to the 4-minute driving budget; then, separately, the ``coverage_areas`` polygons
  (:func:`reach_isochrones`).
* networkx: building the DiGraph from the roads layer row by row (ends rounded to 1 cm, as
  riskmap does), and, as a lower bound, from riskmap's own edge arrays (no geometry work); then
  ``single_source_dijkstra_path_length(cutoff=240 s)`` per station.

The reached node sets and times of both are checked to agree.
"""

from __future__ import annotations

import argparse
import time
import warnings

import geopandas
import networkx as nx
import numpy as np
import shapely

from zoning.coverage.reach import reach_isochrones
from zoning.coverage.network import RoadGraph, coverage_rules

X0, Y0, STEP = 500_000.0, 3_500_000.0, 100.0


def grid_roads(side: int) -> geopandas.GeoDataFrame:
    """Road layer of a side × side grid (one 2-point line per block edge)."""
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    i, j = i.ravel(), j.ravel()
    east = i < side - 1  # edge (i, j) -> (i + 1, j): along x, on street y = j
    north = j < side - 1  # edge (i, j) -> (i, j + 1): along y, on street x = i
    start = np.concatenate([np.c_[i[east], j[east]], np.c_[i[north], j[north]]]) * STEP
    end = np.concatenate([np.c_[i[east] + 1, j[east]], np.c_[i[north], j[north] + 1]]) * STEP
    street = np.concatenate([j[east], i[north]])
    along_x = np.r_[np.ones(east.sum(), bool), np.zeros(north.sum(), bool)]
    coords = np.stack([start, end], axis=1) + [X0, Y0]
    lines = shapely.linestrings(coords)
    return geopandas.GeoDataFrame({
        "road_id": np.arange(len(lines)).astype(str),
        "class": np.where(street % 10 == 0, "primary", "residential"),
        "oneway": along_x & (street % 7 == 3),
    }, geometry=lines, crs="EPSG:4549")


def networkx_from_roads(roads, rules) -> nx.DiGraph:
    """A DiGraph from the roads layer the plain way: one row at a time, ends rounded to 1 cm."""
    speeds = rules.speed_kmh
    digraph = nx.DiGraph()
    for geom, cls, oneway in zip(roads.geometry, roads["class"], roads["oneway"]):
        coords = geom.coords
        u = (round(coords[0][0], 2), round(coords[0][1], 2))
        v = (round(coords[-1][0], 2), round(coords[-1][1], 2))
        t = geom.length / (speeds[cls] / 3.6)
        digraph.add_edge(u, v, weight=t)
        if not oneway:
            digraph.add_edge(v, u, weight=t)
    return digraph


def timed(fn, repeat: int):
    """(best wall time of ``repeat`` runs, result of the last run)."""
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def compare(roads, stations, rules, repeat: int) -> dict:
    """Time riskmap and networkx on the same roads and stations; check both agree; return figures."""
    budget = rules.driving_s

    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # disconnected bits are reported by the engine elsewhere
            return RoadGraph.from_roads(roads, rules)

    t_build, graph = timed(build, repeat)

    def snap():
        for cached in ("nodes", "_tree"):  # build the node points and the STRtree every time
            graph.__dict__.pop(cached, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return graph.snap(stations)

    t_snap, (nodes, _) = timed(snap, repeat)
    t_search, times = timed(lambda: graph.travel_times(nodes, limit_s=budget), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_areas, areas = timed(lambda: reach_isochrones(graph, stations, rules), 1)
    t_nx_layer, from_layer = timed(lambda: networkx_from_roads(roads, rules), 1)

    def nx_from_arrays():
        digraph = nx.DiGraph()
        fwd = graph.edge_u != graph.edge_v
        back = fwd & ~graph.edge_oneway
        digraph.add_weighted_edges_from(zip(graph.edge_u[fwd], graph.edge_v[fwd], graph.edge_time[fwd]))
        digraph.add_weighted_edges_from(zip(graph.edge_v[back], graph.edge_u[back], graph.edge_time[back]))
        return digraph

    t_nx_arrays, digraph = timed(nx_from_arrays, repeat)
    t_nx_search, reached = timed(lambda: [nx.single_source_dijkstra_path_length(
        digraph, int(s), cutoff=budget) for s in nodes], repeat)
    assert from_layer.number_of_edges() >= digraph.number_of_edges() * 0.99, "networkx graphs differ"
    for row, ref in zip(times, reached):  # same answer
        assert set(np.flatnonzero(np.isfinite(row))) == set(ref), "reached node sets differ"
        assert max(abs(row[i] - t) for i, t in ref.items()) < 1e-6, "times differ"
    return dict(build=t_build, snap=t_snap, search=t_search, areas=t_areas, n_areas=len(areas),
                mean_km2=float(areas.area.mean() / 1e6), nx_layer=t_nx_layer, nx_arrays=t_nx_arrays,
                nx_search=t_nx_search, stations=len(stations), reached=int(np.isfinite(times).sum()))


def report(f: dict) -> None:
    """Print the figures of :func:`compare` and the ratios."""
    ours = f["build"] + f["snap"] + f["search"]
    print(f"riskmap  graph build            {f['build']:8.3f} s  (RoadGraph.from_roads, from the layer)")
    print(f"riskmap  snap                   {f['snap']:8.3f} s  (node points + STRtree + nearest)")
    print(f"riskmap  multi-source Dijkstra  {f['search']:8.3f} s  (one csgraph.dijkstra call, limit)")
    print(f"riskmap  total                  {ours:8.3f} s")
    print(f"networkx build from the layer   {f['nx_layer']:8.3f} s  (row by row, as a networkx user would)")
    print(f"networkx build from arrays      {f['nx_arrays']:8.3f} s  (riskmap's edge arrays: lower bound)")
    print(f"networkx per-station Dijkstra   {f['nx_search']:8.3f} s  ({f['stations']} × single-source, cutoff)")
    print(f"ratio vs layer-built networkx   {(f['nx_layer'] + f['nx_search']) / ours:8.1f} ×")
    print(f"ratio vs array-built networkx   {(f['nx_arrays'] + f['nx_search']) / ours:8.1f} ×")
    print(f"ratio, search only              {f['nx_search'] / f['search']:8.1f} ×")
    print(f"coverage_areas polygons         {f['areas']:8.3f} s  ({f['n_areas']} stations, "
          f"mean {f['mean_km2']:.2f} km²; not part of the comparison)")
    print(f"nodes reached: {f['reached']:,} (station × node pairs), agree with networkx")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=317)
    ap.add_argument("--stations", type=int, default=43)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs for each step")
    args = ap.parse_args(argv)
    rules = coverage_rules()
    roads = grid_roads(args.side)
    rng = np.random.default_rng(args.seed)
    xy = rng.uniform(0, (args.side - 1) * STEP, (args.stations, 2)) + [X0, Y0]
    stations = geopandas.GeoDataFrame({"station_id": [f"S{k:02d}" for k in range(args.stations)]},
                                      geometry=shapely.points(xy), crs=roads.crs)
    print(f"grid {args.side}×{args.side}: {len(roads):,} edges, {args.stations} stations, "
          f"driving budget {rules.driving_s:.0f} s, best of {args.repeat}")
    report(compare(roads, stations, rules, args.repeat))


if __name__ == "__main__":
    main()
