"""Load benchmark of vector tiles, z12-z16, over the demo store at 100 000+ plots.

Not a unit test: run it by hand and read the figures::

    python benchmarks/bench_tiles.py                                 # scale-100 demo in /tmp/riskmap-bench
    python benchmarks/bench_tiles.py --store out/changzhou.gpkg --seconds 15 --threads 4
    python benchmarks/bench_tiles.py --layer all --token            # combined tiles, planner's view

It starts the real server (``riskmap serve STORE``, one uvicorn worker) in a subprocess on a free
loopback port, picks tiles at zooms 12-16 where the plots are (the tiles holding a random sample
of plots), then measures with a pool of client threads (httpx, keep-alive):

1. **uncached**: each tile requested once (the server's tile cache is empty for them);
2. **cached**: the same tiles again, round and round, for the same time.

Each phase stops after ``--seconds``. It prints p50 / p90 / p99 latency and tiles per second per
phase and, for the uncached phase, per zoom. Goals (issue 5): p99 under 50 ms cached and under
250 ms uncached. Building and zoning the scale-100 demo the first time takes about 8 minutes.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.tiles import tile_containing  # noqa: E402
from layers.store import Store, open_store  # noqa: E402

TOKEN = "bench-planner-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_tiles(store: Store, zooms, per_zoom: int, seed: int = 7) -> list[tuple[int, int, int]]:
    """Up to ``per_zoom`` distinct tiles per zoom, each holding at least one plot, shuffled."""
    plots = store.read("industrial_plots", columns=["plot_id"])
    rng = np.random.default_rng(seed)
    sample = plots.geometry.representative_point().iloc[rng.choice(len(plots), min(len(plots), 20 * per_zoom), replace=False)]
    tiles = []
    for z in zooms:
        xs, ys = tile_containing(sample.x.to_numpy(), sample.y.to_numpy(), z)
        unique = sorted(set(zip(xs.tolist(), ys.tolist())))
        chosen = rng.permutation(len(unique))[:per_zoom]
        tiles += [(z, *unique[i]) for i in chosen]
    rng.shuffle(tiles)
    return tiles


def start_server(store: Path, port: int, token: bool, workers: int) -> subprocess.Popen:
    env = dict(os.environ)
    if token:
        env["RISKMAP_TOKENS"] = f'{{"{TOKEN}": "planner"}}'
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli.main", "serve", "--store", str(store), "--port", str(port),
         "--log-level", "warning", "--workers", str(workers)], env=env, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/conformance", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
    process.terminate()
    raise SystemExit("the server did not start within 120 s")


def run_phase(base: str, urls: list[str], seconds: float, threads: int, headers: dict, cycle: bool):
    """Request ``urls`` (once each, or round and round if ``cycle``) for at most ``seconds``."""
    results, lock, local = [], threading.Lock(), threading.local()
    counter = iter(range(10**9))
    stop_at = time.monotonic() + seconds

    def worker():
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base, headers=headers, timeout=60)
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter)
            if i >= len(urls) and not cycle:
                return
            url = urls[i % len(urls)]
            start = time.perf_counter()
            r = client.get(url)
            elapsed = time.perf_counter() - start
            with lock:
                results.append((url, elapsed, r.status_code, len(r.content), r.headers.get("x-cache", "")))

    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    return results, time.monotonic() - start


def summarise(name: str, results, wall: float) -> None:
    ms = np.array([r[1] for r in results]) * 1000
    statuses = {s: sum(1 for r in results if r[2] == s) for s in sorted({r[2] for r in results})}
    hits = sum(1 for r in results if r[4] == "HIT")
    size = np.mean([r[3] for r in results]) / 1024 if results else 0
    print(f"{name:<9} {len(results):>6} tiles in {wall:5.1f} s = {len(results) / wall:7.1f} tiles/s | "
          f"p50 {np.percentile(ms, 50):6.1f} ms  p90 {np.percentile(ms, 90):6.1f} ms  "
          f"p99 {np.percentile(ms, 99):6.1f} ms  max {ms.max():6.1f} ms | mean {size:5.1f} KiB | "
          f"cache hits {hits}/{len(results)} | status {statuses}")


def by_zoom(results) -> None:
    for z in sorted({int(r[0].split("/")[3]) for r in results}):
        ms = np.array([r[1] for r in results if int(r[0].split("/")[3]) == z]) * 1000
        print(f"   z{z}: {len(ms):>5} tiles  p50 {np.percentile(ms, 50):6.1f} ms  "
              f"p99 {np.percentile(ms, 99):6.1f} ms  max {ms.max():6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="A zoned store (default: build the demo).")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "riskmap-bench",
                        help="Where to build the demo store when --store is not given.")
    parser.add_argument("--scale", type=float, default=100, help="Demo scale (100 → 120 000 plots).")
    parser.add_argument("--layer", default="risk_wall", help="Tile layer (or 'all').")
    parser.add_argument("--zooms", default="12-16", help="Zoom range, e.g. 12-16.")
    parser.add_argument("--per-zoom", type=int, default=200, help="Distinct tiles per zoom.")
    parser.add_argument("--threads", type=int, default=4, help="Client threads.")
    parser.add_argument("--seconds", type=float, default=20, help="Time limit of each phase.")
    parser.add_argument("--token", action="store_true", help="Request as a planner (full view).")
    parser.add_argument("--workers", type=int, default=1, help="Server worker processes.")
    args = parser.parse_args()

    if args.store is None:
        from server.cli.serve_cmd import prepare_demo

        args.out.mkdir(parents=True, exist_ok=True)
        args.store = prepare_demo(args.out, args.scale)
    store = open_store(args.store)
    low, high = (int(v) for v in args.zooms.split("-"))
    tiles = pick_tiles(store, range(low, high + 1), args.per_zoom)
    urls = [f"/tiles/{args.layer}/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    plots = store.info("industrial_plots").rows
    print(f"store {args.store}: {plots:,} plots; layer {args.layer!r}, {len(urls)} tiles at z{args.zooms}, "
          f"{args.threads} client threads, {args.workers} server worker(s), {os.cpu_count()} CPUs, "
          f"view: {'planner' if args.token else 'public'}")

    port = free_port()
    server = start_server(args.store, port, args.token, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {TOKEN}"} if args.token else {}
        start = time.perf_counter()  # warm-up: TileJSON, and a tile far away (loads the layer index)
        httpx.get(f"{base}/tiles/{args.layer}/tilejson.json", headers=headers, timeout=300)
        for _ in range(2 * args.workers):  # each worker process loads its own copy
            httpx.get(f"{base}/tiles/{args.layer}/{low}/0/0.mvt", headers=headers, timeout=300)
        print(f"warm-up (TileJSON extent, layer loaded into memory): {time.perf_counter() - start:.1f} s")
        uncached, wall = run_phase(base, urls, args.seconds, args.threads, headers, cycle=False)
        summarise("uncached", uncached, wall)
        by_zoom(uncached)
        seen = sorted({r[0] for r in uncached})
        cached, wall = run_phase(base, seen, args.seconds, args.threads, headers, cycle=True)
        summarise("cached", cached, wall)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
