"""A generated province (13 Jiangsu cities) zoned in-process and on Dask: wall time and peak memory.

Not a unit test: run it by hand and read the table::

    python benchmarks/bench_province.py                      # 10 000 and 100 000 plots
    python benchmarks/bench_province.py --sizes 1000000 --no-inprocess --workers 1 --threads 2 \
        --memory 7.5GiB                                                # the million, Dask only, < 9 GiB
    python benchmarks/bench_province.py --sizes 1000000 --keep /work/prov # keep the generated province

For each size it generates the province (:func:`layers.demo.province.build_province`: ``size`` plots,
``size / 50`` hazard sites, protected targets, stations and shelters at 4× the Changzhou demo's
density whatever the size), then times

* **in-process** — :func:`zoning.pipeline.compute_zoning` on the whole province read into memory
  (the baseline), and
* **dask** — :func:`zoning.province.run.run_province` on a LocalCluster of 2 worker processes, the
  workers reading their own city, the driver writing each city's layers to ``<province>/zoned``
  before it takes the next (nothing of the whole province held at once),

both with a 1 km zone grid and a 200 m risk surface, and checks that the two results are equal
(every layer row for row, the surface cell for cell, both read back from the files they wrote). Peak memory is the largest sum of the
resident set sizes of this process and all its children (the Dask scheduler's nanny and workers),
sampled every 0.2 s. The ratio is in-process time / Dask time (> 1: Dask faster).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.demo.province import ProvincePlan, build_province, province_population, read_province  # noqa: E402
from zoning.pipeline import compute_zoning  # noqa: E402
from zoning.province.compare import differences  # noqa: E402
from zoning.province.run import LOCAL_MEMORY, LOCAL_WORKERS, connect, read_population_file, run_province  # noqa: E402
from zoning.province.sink import read_result, write_result  # noqa: E402
from zoning.rules import load_ruleset  # noqa: E402

GRID_M, SURFACE_M = 1000.0, 200.0


class PeakMemory:
    """Largest RSS of this process and its children while the block runs (bytes)."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak, self._stop = every, 0, threading.Event()

    def _tree(self) -> int:
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree())
            self._stop.wait(self.every)

    def __enter__(self) -> "PeakMemory":
        self.peak = self._tree()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def run(size: int, folder: Path, inprocess: bool, rows: list, workers: int, memory: str, threads: int) -> None:
    rs = load_ruleset()
    if not (folder / "province.json").exists():
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            build_province(folder, ProvincePlan(plots=size, sites=max(1, size // 50)))
            rows.append(("generate", size, time.perf_counter() - t0, mem.peak, None))
    ref = None
    if inprocess:
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            ref = compute_zoning(read_province(folder), rs, grid_cell_m=GRID_M, surface_cell_m=SURFACE_M,
                                 population=read_population_file(province_population(folder)))
            base = time.perf_counter() - t0
        rows.append(("in-process", size, base, mem.peak, None))
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        with connect(workers=workers, memory=memory, threads=threads) as client:
            started = time.perf_counter()
            written = run_province(folder, rs, client=client, grid_cell_m=GRID_M, surface_cell_m=SURFACE_M,
                                   out=folder / "zoned")
            ran = time.perf_counter() - started
        whole = time.perf_counter() - t0
    rows.append((f"dask ({workers}×{threads})", size, ran, mem.peak, (base / ran) if ref is not None else None))
    rows.append(("  incl. cluster start/stop", size, whole, mem.peak, None))
    counts = ", ".join(f"{k} {n:,}" for k, n in written.rows.items())
    print(f"{size:,} plots: {counts}; surface {written.shape}", flush=True)
    if ref is not None:
        diff = differences(read_result(write_result(ref, folder / "in-process", rs)), read_result(folder / "zoned"))
        print(f"  dask equals in-process: {not diff}" + (f" — {diff}" if diff else ""), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--no-inprocess", action="store_true", help="skip the in-process baseline")
    ap.add_argument("--workers", type=int, default=LOCAL_WORKERS, help="worker processes of the LocalCluster")
    ap.add_argument("--threads", type=int, default=1, help="threads of each worker")
    ap.add_argument("--memory", default=LOCAL_MEMORY, help="memory limit of each worker (Dask spills from 35 %%)")
    ap.add_argument("--keep", help="generate (or reuse) the provinces in this folder, one sub-folder per size")
    args = ap.parse_args()
    rows: list = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        for size in args.sizes:
            run(size, root / f"province-{size}", not args.no_inprocess, rows, args.workers, args.memory, args.threads)
    print(f"\n{'workload':28} {'plots':>10} {'time s':>9} {'peak memory':>12} {'ratio':>7}")
    for name, size, secs, peak, ratio in rows:
        print(f"{name:28} {size:>10,} {secs:>9.1f} {_gib(peak):>12} {'' if ratio is None else f'{ratio:.2f}x':>7}")


if __name__ == "__main__":
    main()
