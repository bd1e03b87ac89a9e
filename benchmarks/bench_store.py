"""One-row edit and whole-layer import on the store: GeoPackage in place vs the copy-on-write baseline, and PostGIS.

Not a unit test: run it by hand and read the table::

    python benchmarks/bench_store.py                       # 100 000 plots, 50 edits
    python benchmarks/bench_store.py --rows 20000 --edits 20 --baseline-rev 80ce244
    python benchmarks/bench_store.py --open out/changzhou.gpkg   # + the check on open of that store

Baseline: the GeoPackage store as it was at ``--baseline-rev`` (default ``80ce244``, the last
commit before row edits), whose only way to change one row was to write the whole layer into a
copy of the file and move the copy over it. Its module is read with ``git show REV:layers/gpkg.py``
and imported from a temporary file, so both run in the same process on the same data.

Rows of the table:

* **one-row edit commit**: ``Store.edit`` of one plot (new: median and p95 over ``--edits``
  edits), against the baseline's ``write`` of the whole layer with that one change (median over
  ``--baseline-edits``);
* **import 100 000 plots**: ``Store.write`` of the whole validated layer into a new store (best of
  ``--repeat``);
* the same two on PostGIS (a throw-away PostgreSQL 15 + PostGIS started like the test suite's,
  unless ``--postgres URL`` names one);
* with ``--open STORE``: the cost of the integrity check on open of that store (cold, the
  remembered result cleared) and of a second open in the same process.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_import import make_plots  # noqa: E402
from layers.store import create_store  # noqa: E402
from layers.validate import validate_layer  # noqa: E402


def baseline_module(rev: str):
    """The GeoPackage store module as it was at git revision ``rev``."""
    source = subprocess.run(["git", "show", f"{rev}:layers/gpkg.py"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    path = Path(tempfile.mkdtemp(prefix="riskmap-baseline-")) / "baseline_gpkg.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_gpkg", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def edit_times(store, plots, edits: int) -> list[float]:
    """Seconds of ``edits`` one-row edits, each changing the workers of another plot."""
    times = []
    for i in range(edits):
        row = store.read("industrial_plots", where={"plot_id": plots["plot_id"].iloc[i * 997 % len(plots)]},
                         versions=True)
        changed = row.assign(workers=int(row["workers"].iloc[0]) + 1)
        times.append(timed(lambda: store.edit("industrial_plots", changed, actor="bench", reason="benchmark")))
    return times


def measure_new(address_for, plots, edits: int, repeat: int) -> dict:
    imports = []
    for i in range(repeat):
        store = create_store(address_for(i))
        imports.append(timed(lambda: store.write("industrial_plots", plots, actor="bench")))
    times = edit_times(store, plots, edits)
    store.close()
    return {"edit_median": statistics.median(times), "edit_p95": p95(times), "import": min(imports)}


def measure_old(module, folder: Path, plots, edits: int, repeat: int) -> dict:
    imports = []
    for i in range(repeat):
        store = module.GeoPackageStore.create(folder / f"old{i}.gpkg")
        imports.append(timed(lambda: store.write("industrial_plots", plots, actor="bench")))
    times = []
    frame = plots.copy()
    for i in range(edits):
        frame.loc[i * 997 % len(frame), "workers"] += 1  # the same change, written the only way it could be
        times.append(timed(lambda: store.write("industrial_plots", frame, actor="bench")))
    return {"edit_median": statistics.median(times), "edit_p95": p95(times), "import": min(imports)}


def measure_open(path: Path) -> tuple[float, float]:
    import layers.gpkg as gpkg

    gpkg._CHECKED = gpkg._CheckedStates()
    gpkg._CheckedStates._file = staticmethod(lambda: Path(tempfile.mkdtemp()) / "none")  # no remembered result
    cold = timed(lambda: gpkg.GeoPackageStore(path).close())
    gpkg._CHECKED._seen.add(gpkg._file_state(path))
    warm = timed(lambda: gpkg.GeoPackageStore(path).close())
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--baseline-edits", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--baseline-rev", default="80ce244")
    parser.add_argument("--postgres", help="a postgresql:// URL to use instead of a throw-away server")
    parser.add_argument("--open", type=Path, help="also time the integrity check on opening this .gpkg store")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="riskmap-bench-store-"))
    plots = validate_layer("industrial_plots", make_plots(args.rows), expected_bounds=None)
    print(f"{len(plots):,} plots validated; temporary folder {folder}", flush=True)
    new = measure_new(lambda i: folder / f"new{i}.gpkg", plots, args.edits, args.repeat)
    print("GeoPackage in place: done", flush=True)
    old = measure_old(baseline_module(args.baseline_rev), folder, plots, args.baseline_edits, args.repeat)
    print("GeoPackage baseline: done", flush=True)

    server = None
    base = args.postgres
    if base is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from postgis_server import PostgisServer, missing

        reason = missing()
        if reason is None:
            server = PostgisServer()
            base = server.start()
        else:
            print(f"PostGIS skipped: {reason}")
    pg = None
    if base is not None:
        try:
            pg = measure_new(lambda i: f"{base}?schema=bench_{int(time.time())}_{i}", plots, args.edits, args.repeat)
        finally:
            if server is not None:
                server.stop()

    ms = lambda s: f"{s * 1000:,.1f} ms"  # noqa: E731
    rows = [
        ("one-row edit commit, median", ms(new["edit_median"]), ms(old["edit_median"]),
         f"{old['edit_median'] / new['edit_median']:,.0f}× faster", ms(pg["edit_median"]) if pg else "—"),
        ("one-row edit commit, p95", ms(new["edit_p95"]), ms(old["edit_p95"]),
         f"{old['edit_p95'] / new['edit_p95']:,.0f}× faster", ms(pg["edit_p95"]) if pg else "—"),
        (f"import {len(plots):,} plots", f"{new['import']:.2f} s", f"{old['import']:.2f} s",
         f"{old['import'] / new['import']:.2f}× (>1: faster)", f"{pg['import']:.2f} s" if pg else "—"),
    ]
    if args.open:
        cold, warm = measure_open(args.open)
        size = args.open.stat().st_size / 1e6
        rows.append((f"check on open, {size:,.0f} MB store", f"{cold:.2f} s cold", "— (none)",
                     f"{warm * 1000:.1f} ms once checked", "—"))
    header = ("measure", "GeoPackage in place", f"baseline {args.baseline_rev}", "ratio", "PostGIS")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()
