"""What the concurrency tests run in separate processes (real processes, each with its own store)."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import shapely


def edit_workers(address: str, feature: str, workers: int, base: int, start, results) -> None:
    """Wait for ``start``, then set ``workers`` of row ``feature`` from base version ``base``."""
    from layers.errors import Conflict
    from layers.store import open_store

    store = open_store(address)
    row = store.read("industrial_plots", where={"plot_id": feature})
    start.wait(30)
    try:
        result = store.edit("industrial_plots", row.assign(workers=workers), base_versions={feature: base},
                            actor=f"editor-{workers}", reason="concurrency test")
        results.put(("ok", feature, result.versions[feature], None))
    except Conflict as exc:
        current = exc.current
        results.put(("conflict", feature, int(current["row_version"].iloc[0]) if current is not None else None,
                     exc.stale))
    finally:
        store.close()


def grid(n: int, value: int) -> gpd.GeoDataFrame:
    """``n`` cells all carrying ``value`` (so a reader can tell one whole write from another)."""
    x = np.arange(n) % 200 * 0.0005 + 119.9
    y = np.arange(n) // 200 * 0.0005 + 31.6
    return gpd.GeoDataFrame({"cell_id": [f"C{i}" for i in range(n)], "value": np.full(n, value)},
                            geometry=shapely.box(x, y, x + 0.0004, y + 0.0004), crs="EPSG:4490")


def rewrite(address: str, n: int, rounds: int, done) -> None:
    """Replace layer ``cells`` ``rounds`` times, alternating all-1 and all-2 values."""
    from layers.store import open_store

    store = open_store(address)
    frames = {1: grid(n, 1), 2: grid(n, 2)}
    for i in range(rounds):
        store.write("cells", frames[1 + i % 2], id_field="cell_id", actor="writer")
    store.close()
    done.set()


def read_while(address: str, n: int, done, results) -> None:
    """Read ``cells`` until ``done``; report every state seen as (rows, set of values)."""
    from layers.store import open_store

    store = open_store(address)
    seen = []
    while not done.is_set() or not seen:
        frame = store.read("cells")
        seen.append((len(frame), tuple(sorted(set(frame["value"].tolist())))))
        time.sleep(0.005)
    store.close()
    results.put(seen)
