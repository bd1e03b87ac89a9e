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
* **import 100 000 plots**: ``Store.write`` of the whole validated layer into a new store, into a
  store that already holds a city's roads (``--roads`` segments: the baseline copies the whole
  file for every write, the store in place does not), and ``riskmap import`` end to end
  (:func:`layers.io.import_layer`: read the file, validate, write) — each best of ``--repeat``;
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


def roads(n: int):
    """``n`` road segments over Changzhou (the bulk of a city store)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(2)
    x, y = rng.uniform(119.4, 120.2, n), rng.uniform(31.3, 32.0, n)
    lines = shapely.linestrings(np.stack([np.stack([x, y], 1), np.stack([x + 0.001, y + 0.0005], 1)], 1))
    return gpd.GeoDataFrame({"road_id": np.char.add("R", np.arange(n).astype(str)), "class": "primary",
                             "speed_kmh": 40.0}, geometry=lines, crs="EPSG:4490")


def old_edit_times(store, plots, edits: int) -> list[float]:
    """The baseline's one-row edit: the same change, written the only way it could be (the whole layer)."""
    frame, times = plots.copy(), []
    for i in range(edits):
        frame.loc[i * 997 % len(frame), "workers"] += 1
        times.append(timed(lambda: store.write("industrial_plots", frame, actor="bench")))
    return times


def measure(makers: dict, plots, city, repeat: int, edits: dict, source: Path) -> dict:
    """Imports (best of ``repeat``, the implementations taking turns so that a busy machine slows
    them alike) into a new store and into one holding ``city`` roads, and ``import_layer`` of the
    ``source`` file end to end; then one-row edits."""
    from layers.io import import_layer

    results = {name: {"import": [], "import_city": [], "import_file": []} for name in makers}
    cities, last = {}, {}
    if city is not None:
        for name, make in makers.items():
            cities[name] = make("city")
            cities[name].write("roads", city, actor="bench")
    for r in range(repeat):
        for name, make in makers.items():
            last[name] = make(f"empty{r}")
            results[name]["import"].append(timed(lambda: last[name].write("industrial_plots", plots, actor="bench")))
            if city is not None:
                results[name]["import_city"].append(
                    timed(lambda: cities[name].write("industrial_plots", plots, actor="bench")))
            target = make(f"file{r}")
            results[name]["import_file"].append(
                timed(lambda: import_layer(target, "industrial_plots", source, admin_area=None)))
        print(f"imports, round {r + 1}/{repeat}: done", flush=True)
    for name, (count, timer) in edits.items():
        times = timer(last[name], plots, count)
        results[name].update(edit_median=statistics.median(times), edit_p95=p95(times))
    for name in makers:
        results[name]["import"] = min(results[name]["import"])
        results[name]["import_file"] = min(results[name]["import_file"])
        results[name]["import_city"] = min(results[name]["import_city"]) if city is not None else None
    return results


def measure_open(path: Path) -> tuple[float, float]:
    import layers.gpkg_check as check
    from layers.gpkg import GeoPackageStore

    check._CHECKED = check._CheckedStates()
    check._CheckedStates._file = staticmethod(lambda: Path(tempfile.mkdtemp()) / "none")  # no remembered result
    cold = timed(lambda: GeoPackageStore(path).close())
    check._CHECKED._seen.add(check.file_state(path) or ("recent",))
    warm = timed(lambda: GeoPackageStore(path).close())
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--baseline-edits", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-rev", default="80ce244")
    parser.add_argument("--roads", type=int, default=1_000_000,
                        help="road segments of the city store the second import goes into (0: skip it)")
    parser.add_argument("--postgres", help="a postgresql:// URL to use instead of a throw-away server")
    parser.add_argument("--open", type=Path, help="also time the integrity check on opening this .gpkg store")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="riskmap-bench-store-"))
    plots = validate_layer("industrial_plots", make_plots(args.rows), expected_bounds=None)
    source = folder / "plots.gpkg"
    plots.to_file(source, engine="pyogrio")
    print(f"{len(plots):,} plots validated and written to {source}", flush=True)
    city = roads(args.roads) if args.roads else None
    baseline = baseline_module(args.baseline_rev)
    makers = {"new": lambda tag: create_store(folder / f"new-{tag}.gpkg"),
              "old": lambda tag: baseline.GeoPackageStore.create(folder / f"old-{tag}.gpkg")}
    edits = {"new": (args.edits, edit_times), "old": (args.baseline_edits, old_edit_times)}
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
    if base is not None:
        stamp = int(time.time())
        makers["pg"] = lambda tag: create_store(f"{base}?schema=bench_{stamp}_{tag}")
        edits["pg"] = (args.edits, edit_times)
    try:
        results = measure(makers, plots, city, args.repeat, edits, source)
    finally:
        if server is not None:
            server.stop()
    new, old, pg = results["new"], results["old"], results.get("pg")

    ms = lambda s: f"{s * 1000:,.1f} ms"  # noqa: E731
    rows = [
        ("one-row edit commit, median", ms(new["edit_median"]), ms(old["edit_median"]),
         f"{old['edit_median'] / new['edit_median']:,.0f}× faster", ms(pg["edit_median"]) if pg else "—"),
        ("one-row edit commit, p95", ms(new["edit_p95"]), ms(old["edit_p95"]),
         f"{old['edit_p95'] / new['edit_p95']:,.0f}× faster", ms(pg["edit_p95"]) if pg else "—"),
        (f"import {len(plots):,} plots", f"{new['import']:.2f} s", f"{old['import']:.2f} s",
         f"{old['import'] / new['import']:.2f}× (>1: faster)", f"{pg['import']:.2f} s" if pg else "—"),
    ]
    rows.append((f"riskmap import of {len(plots):,} plots (read, validate, write)", f"{new['import_file']:.2f} s",
                 f"{old['import_file']:.2f} s", f"{old['import_file'] / new['import_file']:.2f}× (>1: faster)",
                 f"{pg['import_file']:.2f} s" if pg else "—"))
    if city is not None:
        rows.append((f"import {len(plots):,} plots into a store of {len(city):,} roads", f"{new['import_city']:.2f} s",
                     f"{old['import_city']:.2f} s", f"{old['import_city'] / new['import_city']:.2f}× (>1: faster)",
                     f"{pg['import_city']:.2f} s" if pg else "—"))
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
