"""One benchmark command: ``python -m benchmarks [--quick]`` prints one table of riskmap against baselines.

Every row is measured in this run, riskmap and its baseline one after the other on the same data:

* **tiles and items against tipg** (the PostGIS OGC API Features/Tiles server, ``pip install tipg``):
  the scale-10 demo (``riskmap demo`` + ``riskmap zone``) is copied into a PostgreSQL + PostGIS
  cluster started here from the Debian binaries (``tests/postgis_server.py``, as the test suite
  does); riskmap (``riskmap serve`` over that PostGIS store, tiles built in the database, planner's
  full view) and tipg (uvicorn, one worker each) serve the same ``industrial_plots`` table.
  Cold: tiles at zooms 12-16 where the plots are, each asked once, right after the server
  started (riskmap's tile cache file is new), in three rounds of other tiles with new servers,
  taking turns at going first (a single pass of 100 tiles lasts under a second: one such pass
  gave ratios of 1.0 to 1.8 over the same day); warm: the last round's tiles again, round and
  round. With 1 and with 16 concurrent clients (keep-alive connections). Start times are the
  rounds' median.
* **start to first answer**: from starting the server process to its first answer (over PostGIS against
  tipg; over the GeoPackage with 2 workers against 1, on the mixed load's first start).
* **mixed load** (tiles, PNG tiles of the risk surface, feature pages, the public shelter map) at
  10 and 100 clients against riskmap over the GeoPackage with 2 workers sharing one tile cache;
  the baseline is the same load on 1 worker. p95, errors. Three times: the first start of a store
  (new tile cache, no prepared layers kept: every layer read from the store while measured); a
  restart with a new tile cache (every tile of the phase rendered while measured) and the layers an
  earlier server prepared kept in files; a restart over a tile cache file an earlier server filled
  by asking every URL once (the steady state of a server whose cache outlives restarts).
* **zoning** against naive geopandas, **travel times** against networkx and **MCLP** against
  spopt (``pip install spopt``): the scripts ``bench_zoning.py``, ``bench_coverage.py`` and
  ``bench_mclp.py``, run as they are (smaller sizes with ``--quick``), their figures read from
  what they print.

Ratios are riskmap's advantage: baseline time / riskmap time, or riskmap rate / baseline rate
(above 1: riskmap is better). ``--quick`` runs a smaller demo (scale 2), shorter phases and the
smaller script sizes: a check that everything runs, not figures to quote.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchmarks.bench_tiles import free_port, pick_tiles  # noqa: E402
from layers.store import open_store  # noqa: E402

TOKEN = "bench-planner-token"
PLANNER = {"Authorization": f"Bearer {TOKEN}"}
SCHEMA = "bench"
LAYER = "industrial_plots"
#: Rounds of cold tiles against tipg, each with other tiles and new servers.
COLD_ROUNDS = 3


@dataclass
class Phase:
    """What one load phase measured."""

    requests: int
    seconds: float
    errors: int
    p50: float
    p95: float
    p99: float
    latencies: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # ms

    @classmethod
    def of(cls, latencies_ms: np.ndarray, seconds: float, errors: int) -> Phase:
        ms = latencies_ms if len(latencies_ms) else np.zeros(1)
        return cls(len(latencies_ms), seconds, errors, *(float(np.percentile(ms, q)) for q in (50, 95, 99)),
                   latencies=latencies_ms)

    @classmethod
    def combined(cls, phases: list[Phase]) -> Phase:
        """Phases run one after the other as one: requests over the seconds of all, percentiles of all."""
        return cls.of(np.concatenate([p.latencies for p in phases]), sum(p.seconds for p in phases),
                      sum(p.errors for p in phases))

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _load(base: str, paths: list[str], clients: int, seconds: float | None, headers: dict) -> Phase:
    """Ask ``paths`` with ``clients`` concurrent clients: once each (``seconds`` None) or round and round."""
    latencies, errors, position, deadline = [], 0, 0, None
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # one for all the clients (each would build its own: ~30 ms)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors, position
        while True:
            if deadline is None and position >= len(paths) or deadline is not None and time.perf_counter() > deadline:
                return
            path = paths[position % len(paths)]
            position += 1
            started = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code >= 500 or response.status_code == 429:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - started)

    # one client (one keep-alive connection) per simulated user: a single httpx pool of 100
    # connections spends its time looking for a free one (a trivial app fell from 160 to 40 req/s)
    async with contextlib.AsyncExitStack() as stack:
        pool = [await stack.enter_async_context(httpx.AsyncClient(base_url=base, headers=headers, timeout=60,
                                                                    limits=limits, verify=tls))
                for _ in range(clients)]
        started = time.perf_counter()
        deadline = None if seconds is None else started + seconds
        await asyncio.gather(*(client_loop(client) for client in pool))
        elapsed = time.perf_counter() - started
    return Phase.of(np.array(latencies) * 1000, elapsed, errors)


def load(base, paths, clients, seconds=None, headers=None) -> Phase:
    return asyncio.run(_load(base, paths, clients, seconds, headers or {}))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far; NaN where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server process on a free port; ``started`` is the time from launch to its first answer and
    ``cpu`` the CPU seconds the process used until then (what the start costs on an idle machine:
    wall time on a loaded one is mostly waiting for a core)."""

    def __init__(self, command: list[str], env: dict, probe: str, cwd: Path = ROOT):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [part.replace("{port}", str(self.port)) for part in command]
        launched = time.perf_counter()
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        while True:
            try:
                httpx.get(self.base + probe, timeout=60)
                break
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise SystemExit(f"{command[:3]} exited: {self.process.stderr.read()[-2000:]}") from None
                if time.perf_counter() - launched > 180:
                    self.stop()
                    raise SystemExit(f"{command[:3]} did not answer within 180 s")
                time.sleep(0.02)
        self.started = time.perf_counter() - launched
        self.cpu = cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def riskmap_server(store: str, work: Path, workers: int = 1, cache: Path | None = None,
                   layers: Path | None = None) -> Server:
    """``riskmap serve`` with a new tile cache file (cold), or with ``cache`` (kept from an earlier server);
    with the prepared layers kept in ``layers`` by an earlier server, or (None) in a new, empty folder."""
    cache = cache or work / f"tiles-{time.time_ns()}.sqlite"
    layers = layers or work / f"layers-{time.time_ns()}"
    env = {"RISKMAP_TOKENS": json.dumps({TOKEN: "planner"}), "RISKMAP_TILE_CACHE": str(cache),
           "RISKMAP_LAYER_CACHE": str(layers), "RISKMAP_RATE_LIMIT_PER_MINUTE": "0"}
    return Server([str(Path(sys.executable).parent / "riskmap"), "serve", "--store", store, "--port", "{port}",
                   "--log-level", "warning", "--workers", str(workers)], env, "/")


def tipg_server(database: str) -> Server:
    env = {"DATABASE_URL": database, "TIPG_DB_SCHEMAS": json.dumps([SCHEMA]), "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    return Server([sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", "{port}", "--log-level", "warning"],
                  env, "/")


# ------------------------------------------------------------------ the rows
Row = tuple[str, str, str, str, float]


def _rate_row(name: str, size: str, ours: Phase, theirs: Phase, unit: str) -> Row:
    figure = lambda p: f"{p.rate:,.0f} {unit}/s, p99 {p.p99:,.0f} ms" + (f", {p.errors} err" if p.errors else "")
    return name, size, figure(ours), figure(theirs), ours.rate / theirs.rate if theirs.rate else float("nan")


def tipg_rows(gpkg: Path, work: Path, quick: bool, seconds: float) -> list[Row]:
    """Tiles and items of riskmap (over PostGIS) and tipg, cold and warm, 1 and 16 clients."""
    from layers.store_copy import copy_store
    from postgis_server import PostgisServer, missing

    reason = missing()
    if reason:
        return [("tiles/items vs tipg", "-", f"not run: {reason}", "-", float("nan"))]
    try:
        import tipg  # noqa: F401
    except ImportError:
        return [("tiles/items vs tipg", "-", "not run: pip install tipg", "-", float("nan"))]
    postgres = PostgisServer()
    database = postgres.start()
    try:
        address = f"{database}?schema={SCHEMA}"
        copy_store(open_store(gpkg), address)
        plots = open_store(address).info(LAYER).rows
        servers = {"riskmap": lambda: riskmap_server(address, work), "tipg": lambda: tipg_server(database)}
        paths = {"riskmap": lambda tiles: [f"/tiles/{LAYER}/{z}/{x}/{y}.mvt" for z, x, y in tiles],
                 "tipg": lambda tiles: [f"/collections/{SCHEMA}.{LAYER}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                                        for z, x, y in tiles]}
        pages = 20 if quick else 100
        items = {"riskmap": [f"/collections/{LAYER}/items?limit=100&offset={100 * k}" for k in range(pages)],
                 "tipg": [f"/collections/{SCHEMA}.{LAYER}/items?limit=100&offset={100 * k}" for k in range(pages)]}
        rounds = 1 if quick else COLD_ROUNDS
        runs = {who: {"start": [], "cpu": [], "cold1": [], "cold16": []} for who in servers}
        measured = {}
        for round_ in range(rounds):
            tiles = pick_tiles(open_store(gpkg), range(12, 17), 8 if quick else 40, seed=7 + round_)
            half = len(tiles) // 2
            for who in (("riskmap", "tipg") if round_ % 2 == 0 else ("tipg", "riskmap")):
                server, run, tile_paths = servers[who](), runs[who], paths[who](tiles)
                try:
                    run["start"].append(server.started)
                    run["cpu"].append(server.cpu)
                    run["cold1"].append(load(server.base, tile_paths[:half], 1, headers=PLANNER))
                    run["cold16"].append(load(server.base, tile_paths[half:], 16, headers=PLANNER))
                    if round_ == rounds - 1:  # warm: the tiles this server has just been asked
                        measured[who] = m = {"start": float(np.median(run["start"])),
                                             "cpu": float(np.median(run["cpu"]))}
                        m["warm1"] = load(server.base, tile_paths, 1, seconds, PLANNER)
                        m["warm16"] = load(server.base, tile_paths, 16, seconds, PLANNER)
                        m["items1"] = load(server.base, items[who], 1, seconds, PLANNER)
                        m["items16"] = load(server.base, items[who], 16, seconds, PLANNER)
                finally:
                    server.stop()
        for who, run in runs.items():
            measured[who].update(cold1=Phase.combined(run["cold1"]), cold16=Phase.combined(run["cold16"]))
        ours, theirs = measured["riskmap"], measured["tipg"]
        size = f"{plots:,} plots, {len(tiles)} tiles z12-16" + (f" × {rounds} rounds" if rounds > 1 else "")
        start = lambda m: f"{m['start']:.1f} s (CPU {m['cpu']:.1f} s)"
        rows = [("start to first answer (PostGIS store)", f"{plots:,} plots", start(ours), start(theirs),
                 theirs["start"] / ours["start"])]
        for key, label in (("cold1", "tiles cold, 1 client"), ("cold16", "tiles cold, 16 clients"),
                           ("warm1", "tiles warm, 1 client"), ("warm16", "tiles warm, 16 clients")):
            rows.append(_rate_row(f"{label} vs tipg", size, ours[key], theirs[key], "tiles"))
        for key, label in (("items1", "items, 1 client"), ("items16", "items, 16 clients")):
            rows.append(_rate_row(f"{label} vs tipg", f"pages of 100 of {plots:,}", ours[key], theirs[key], "pages"))
        return rows
    finally:
        postgres.stop()


def mixed_rows(gpkg: Path, work: Path, quick: bool, seconds: float) -> list[Row]:
    """The mixed load at 10 and 100 clients: 2 workers sharing one tile cache against 1 worker."""
    from geo.tiles import tile_containing

    store = open_store(gpkg)
    tiles = pick_tiles(store, range(12, 17), 10 if quick else 40)
    shelters = store.read("shelters", columns=[])
    rng = np.random.default_rng(3)
    points = shelters.geometry.representative_point().iloc[
        rng.choice(len(shelters), min(len(shelters), 60), replace=False)]
    paths = []
    for i, (z, x, y) in enumerate(tiles):
        sz = 12 + i % 4
        px, py = tile_containing(points.iloc[i % len(points)].x, points.iloc[i % len(points)].y, sz)
        paths += [f"/tiles/all/{z}/{x}/{y}.mvt", f"/tiles/risk_surface/{sz}/{int(px)}/{int(py)}.png",
                  f"/collections/shelters/items?limit=50&offset={50 * (i % 20)}", "/public/shelters"]
    figure = lambda p, w: f"{w} worker{'s' * (w > 1)}: {p.rate:,.0f} req/s, p95 {p.p95:,.0f} ms, {p.errors} err"
    size = f"{len(paths)} URLs, {seconds:g} s"

    def compare(label: str, clients: int, cache: Path | None, layers: Path | None) -> Row:
        """2 workers against 1, each a new server (over ``cache``, or a new tile cache file; with the
        prepared layers kept in ``layers``, or none)."""
        phases = {}
        for workers in (2, 1):
            server = riskmap_server(str(gpkg), work, workers, cache, layers)
            starts.setdefault(workers, server.started)
            try:
                phases[workers] = load(server.base, paths, clients, seconds, PLANNER)
            finally:
                server.stop()
        return (f"mixed load, {clients} clients, {label}", size, figure(phases[2], 2), figure(phases[1], 1),
                phases[2].rate / phases[1].rate)

    # the first start of a store: no tile cache, no prepared layers kept; every layer is read from the
    # store and every tile rendered while measured
    starts: dict[int, float] = {}  # workers → seconds from launch to the first answer, on the first start
    rows = [compare("first start (new tile cache, no layers kept)", 100, None, None)]
    rows.insert(0, ("start to first answer (GeoPackage store), 2 workers vs 1", f"{len(paths)} URLs",
                    f"2 workers: {starts[2]:.1f} s", f"1 worker: {starts[1]:.1f} s", starts[1] / starts[2]))
    # a server that asks every URL once keeps its prepared layers (and fills a tile cache file)
    cache, layers = work / f"tiles-primed-{time.time_ns()}.sqlite", work / f"layers-kept-{time.time_ns()}"
    server = riskmap_server(str(gpkg), work, 1, cache, layers)
    try:
        load(server.base, paths, 16, headers=PLANNER)
    finally:
        server.stop()
    # restarts with a new tile cache each (every tile asked is rendered while measured), the layers kept
    rows += [compare("new tile cache, layers kept", clients, None, layers) for clients in (10, 100)]
    # restarts over the tile cache file the priming server filled: the steady state
    rows += [compare("tile cache kept from a run", clients, cache, layers) for clients in (10, 100)]
    return rows


def _script(name: str, args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600)
    if done.returncode:
        raise RuntimeError(f"{name} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _seconds(text: str, label: str) -> float:
    found = re.search(re.escape(label) + r"[^\n]*?([\d.]+) s", text)
    if not found:
        raise RuntimeError(f"no figure {label!r} in the script's output")
    return float(found.group(1))


def script_rows(gpkg: Path, quick: bool) -> list[Row]:
    """bench_zoning.py (separation: riskmap against naive geopandas), bench_coverage.py (networkx) and
    bench_mclp.py (spopt)."""
    rows = []
    sites, targets = (500, 20_000) if quick else (5_000, 200_000)
    try:
        out = _script("bench_zoning.py", ["--store", str(gpkg), "--sites", str(sites), "--targets", str(targets),
                                          "--repeat", "1" if quick else "3"])
        ours = _seconds(out, "separation search, riskmap class_pairs (class rule):")
        naive = _seconds(out, "separation search, naive buffer + sjoin per class:")
        rows.append(("zoning: separation search vs naive geopandas", f"{sites:,} sites, {targets:,} targets",
                     f"{ours:.2f} s", f"{naive:.2f} s", naive / ours))
    except RuntimeError as exc:
        rows.append(("zoning vs naive geopandas", "-", f"failed: {exc}", "-", float("nan")))
    side = 120 if quick else 317
    try:
        out = _script("bench_coverage.py", ["--side", str(side), "--repeat", "1"])
        ours = _seconds(out, "riskmap  total")
        theirs = _seconds(out, "networkx build from the layer") + _seconds(out, "networkx per-station Dijkstra")
        edges = re.search(r"([\d,]+) edges", out)
        rows.append(("travel times: 5-min coverage vs networkx", f"{edges.group(1) if edges else '?'} edges, 43 stations",
                     f"{ours:.2f} s", f"{theirs:.2f} s", theirs / ours))
    except RuntimeError as exc:
        rows.append(("travel times vs networkx", "-", f"failed: {exc}", "-", float("nan")))
    demand, candidates, k = (1_000, 150, 10) if quick else (4_000, 400, 25)
    try:
        out = _script("bench_mclp.py", ["--demand", str(demand), "--candidates", str(candidates), "--k", str(k),
                                        "--repeat", "1" if quick else "3"])
        size = f"{demand:,} demand, {candidates:,} candidates, k={k}"
        if "spopt MCLP: not run" in out:
            rows.append(("MCLP vs spopt", size, "not run: pip install spopt", "-", float("nan")))
        else:
            ours, theirs = _seconds(out, "riskmap MCLP exact"), _seconds(out, "spopt MCLP")
            rows.append(("MCLP (exact) vs spopt", size, f"{ours:.2f} s", f"{theirs:.2f} s", theirs / ours))
    except RuntimeError as exc:
        rows.append(("MCLP vs spopt", "-", f"failed: {exc}", "-", float("nan")))
    return rows


def print_table(rows: list[tuple[str, str, str, str, float, str]]) -> None:
    """Markdown table of ``rows`` (a row and the load averages while its group ran)."""
    header = ("workload", "size", "riskmap", "baseline", "ratio", "load (1 min)")
    cells = [header] + [(a, b, c, d, "-" if r != r else f"{r:.2f}×", load) for a, b, c, d, r, load in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller demo, shorter phases: checks that all runs")
    ap.add_argument("--scale", type=float, help="demo scale (default 10; 2 with --quick)")
    ap.add_argument("--seconds", type=float, help="length of each timed phase (default 10; 3 with --quick)")
    ap.add_argument("--work", type=Path, help="folder kept between runs (the demo store is built once there)")
    ap.add_argument("--only", choices=("tipg", "mixed", "scripts"), action="append",
                    help="run only these groups of rows (repeatable)")
    args = ap.parse_args(argv)
    scale = args.scale or (2 if args.quick else 10)
    seconds = args.seconds or (3 if args.quick else 10)
    work = args.work or Path(tempfile.mkdtemp(prefix="riskmap-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    from server.cli.serve_cmd import prepare_demo

    gpkg = prepare_demo(work / f"city-s{scale:g}.gpkg", scale)
    groups = args.only or ["tipg", "mixed", "scripts"]
    rows = []
    started = time.perf_counter()
    for group, run in (("tipg", lambda: tipg_rows(gpkg, work, args.quick, seconds)),
                       ("mixed", lambda: mixed_rows(gpkg, work, args.quick, seconds)),
                       ("scripts", lambda: script_rows(gpkg, args.quick))):
        if group in groups:
            before = os.getloadavg()[0]  # other work on the machine: each group's figures beside it
            try:
                done = run()
            except Exception as exc:  # noqa: BLE001 - one group failing must not hide the others' rows
                done = [(f"{group} rows", "-", f"failed: {type(exc).__name__}: {exc}", "-", float("nan"))]
            load = f"{before:.1f} → {os.getloadavg()[0]:.1f}"
            for row in done:
                print("  measured:", " | ".join(map(str, row)), f"| load {load}", file=sys.stderr, flush=True)
            rows += [(*row, load) for row in done]
    print(f"\nriskmap benchmarks, demo scale {scale:g}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s; ratio > 1: riskmap ahead\n")
    print_table(rows)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
