"""Measure importing 100 000 polygon plots from a GeoPackage into a GeoPackage store.

Not a unit test: run it by hand and read the figures::

    python benchmarks/bench_import.py            # 100 000 plots in EPSG:4490
    python benchmarks/bench_import.py --rows 20000 --source-crs EPSG:4549

It generates plots (about 100 m squares, every catalogue field filled) over Changzhou, writes them
to a source GeoPackage in a temporary folder, then times :func:`layers.io.import_layer` into a
fresh store twice (a first import, then a re-import that replaces the layer) and prints rows/s
and the time of each phase (read, reproject, validate, write).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.store import create_store  # noqa: E402
from layers.io import import_layer  # noqa: E402


def make_plots(rows: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``rows`` industrial plots over Changzhou (lon 119.4-120.2, lat 31.3-32.0), EPSG:4490."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(119.4, 120.2, rows)
    y = rng.uniform(31.3, 32.0, rows)
    size = rng.uniform(0.0005, 0.002, rows)
    counts = lambda high: rng.integers(0, high, rows)  # noqa: E731
    return gpd.GeoDataFrame(
        {
            "plot_id": np.char.add("P", np.arange(rows).astype(str)),
            "town": rng.choice(["320412100", "320412101", "320412102"], rows),
            "enterprise": np.char.add("常州示例企业", np.arange(rows).astype(str)),
            "land_use": rng.choice(["M1", "M2", "M3", "W"], rows),
            "risk_major": counts(2), "risk_large": counts(4), "risk_general": counts(10),
            "risk_low": counts(20), "rented_buildings": counts(3), "tenants": counts(5),
            "workers": counts(800), "key_process": rng.random(rows) < 0.05,
            "major_hazard_grade": counts(5), "dust_explosion": rng.random(rows) < 0.1,
            "supervision_grade": rng.choice(["A", "B", "C", "D"], rows),
            "last_inspection": np.datetime64("2026-01-01") + counts(300).astype("timedelta64[D]"),
            "generated": True,
        },
        geometry=shapely.box(x, y, x + size, y + size),
        crs="EPSG:4490",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--source-crs", default="EPSG:4490", help="CRS of the generated source file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="riskmap-bench-"))
    source = folder / "plots.gpkg"
    started = time.perf_counter()
    make_plots(args.rows).to_crs(args.source_crs).to_file(source, engine="pyogrio")
    print(f"generated {args.rows} plots in {args.source_crs} "
          f"({source.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")

    store = create_store(folder / "city.gpkg")
    for attempt in ("first import", "re-import"):
        started = time.perf_counter()
        report = import_layer(store, "industrial_plots", source)
        elapsed = time.perf_counter() - started
        phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report.timings.items())
        print(f"{attempt}: {report.rows} rows in {elapsed:.2f} s = {report.rows / elapsed:,.0f} rows/s "
              f"({phases}); store {Path(store.address).stat().st_size / 1e6:.1f} MB")
    started = time.perf_counter()
    hits = store.read("industrial_plots", bbox=(119.9, 31.7, 119.95, 31.75))
    print(f"bbox read: {len(hits)} plots in {time.perf_counter() - started:.3f} s")
    started = time.perf_counter()
    everything = store.read("industrial_plots")
    print(f"full read: {len(everything)} plots in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
