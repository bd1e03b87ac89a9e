"""Bytes on the wire with and without compression: a tile, a feature page, a page, TileJSON.

Not a unit test: run it by hand and read the table::

    python benchmarks/bench_compression.py                      # builds the scale-1 demo in /tmp
    python benchmarks/bench_compression.py --store out/changzhou.gpkg

The app is called in process (ASGI) over a zoned demo store. For each resource it asks three times,
with ``Accept-Encoding: identity`` (what every client got before compression existed: the
baseline), ``gzip`` and ``br``, and prints the body sizes on the wire, the ratio to the baseline and
the median time of the whole request (so the cost of compressing shows). Resources: the busiest
combined vector tile at zooms 12 and 14 (public and planner), a page of 100 features of the
industrial plots and of the roads (GeoJSON), the public shelter map (HTML) and the combined TileJSON.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.tiles import tile_containing  # noqa: E402
from layers.gpkg import GeoPackageStore  # noqa: E402
from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "bench-planner-token"
PLANNER = {"Authorization": f"Bearer {TOKEN}"}


def demo_store(folder: Path) -> Path:
    store = folder / "demo-scale1.gpkg"
    if not store.exists():
        riskmap = [sys.executable, "-m", "server.cli.main"]
        subprocess.run([*riskmap, "demo", "--store", str(store)], check=True, capture_output=True)
        subprocess.run([*riskmap, "zone", "--store", str(store)], check=True, capture_output=True)
    return store


def busiest_tile(store: GeoPackageStore, z: int) -> str:
    plots = store.read("industrial_plots")
    centre = plots.geometry.representative_point()  # a point inside each plot (no projection needed)
    tiles = [tile_containing(x, y, z) for x, y in zip(centre.x, centre.y)]
    x, y = max(set(tiles), key=tiles.count)
    return f"/tiles/all/{z}/{x}/{y}.mvt"


def measure(client, url: str, headers: dict, encoding: str, repeat: int = 5) -> tuple[int, float]:
    sizes, times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        with client.stream("GET", url, headers={**headers, "Accept-Encoding": encoding}) as r:
            assert r.status_code == 200, (url, r.status_code)
            sizes.append(sum(len(chunk) for chunk in r.iter_raw()))
        times.append(time.perf_counter() - start)
    return sizes[-1], statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a zoned riskmap store (default: build the scale-1 demo)")
    args = parser.parse_args()
    path = args.store or demo_store(Path(tempfile.gettempdir()) / "riskmap-bench")
    store = GeoPackageStore(path)
    app = create_app(store, Settings(tokens={TOKEN: "planner"}, rate_limit_per_minute=0))
    resources = [
        ("tile z12, public", busiest_tile(store, 12), {}),
        ("tile z12, planner", busiest_tile(store, 12), PLANNER),
        ("tile z14, planner", busiest_tile(store, 14), PLANNER),
        ("100 plots (GeoJSON)", "/collections/industrial_plots/items?limit=100", PLANNER),
        ("100 roads (GeoJSON)", "/collections/roads/items?limit=100", {}),
        ("public shelter map (HTML)", "/public/shelters", {}),
        ("TileJSON, all layers", "/tiles/all/tilejson.json", PLANNER),
    ]
    print(f"store: {path}")
    print(f"{'resource':28} {'identity B':>11} {'gzip B':>9} {'ratio':>6} {'br B':>9} {'ratio':>6} "
          f"{'ms id/gz/br':>16}")
    with TestClient(app) as client:
        for name, url, headers in resources:
            plain, t0 = measure(client, url, headers, "identity")
            gz, t1 = measure(client, url, headers, "gzip")
            br, t2 = measure(client, url, headers, "br")
            print(f"{name:28} {plain:11,} {gz:9,} {gz / plain:6.2f} {br:9,} {br / plain:6.2f} "
                  f"{t0:5.1f}/{t1:4.1f}/{t2:4.1f}")


if __name__ == "__main__":
    main()
