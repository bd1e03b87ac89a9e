"""Damage a GeoPackage store the way the issue measured it: random bytes over one table's pages."""

from __future__ import annotations

import contextlib
import sqlite3

import geopandas as gpd
import numpy as np
import shapely


def damage_table(path, table: str = "roads", size: int = 200 * 1024, seed: int = 1) -> None:
    """Write ``size`` random bytes over the pages of ``table`` (from a quarter of the way in)."""
    with contextlib.closing(sqlite3.connect(path)) as con:  # read-write, or it would leave -wal/-shm files
        pages = sorted(p for (p,) in con.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,)))
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    assert len(pages) * page_size > size, f"{table} is too small to damage {size} bytes of it"
    with open(path, "r+b") as fh:
        fh.seek((pages[len(pages) // 4] - 1) * page_size)
        fh.write(np.random.default_rng(seed).bytes(size))


def synthetic_roads(n: int = 6000) -> gpd.GeoDataFrame:
    """``n`` short road segments on a grid near Changzhou (enough pages to damage 200 KB of)."""
    x = 119.9 + np.arange(n) % 100 * 0.002
    y = 31.6 + np.arange(n) // 100 * 0.002
    lines = shapely.linestrings(np.stack([np.stack([x, y], 1), np.stack([x + 0.0015, y + 0.001], 1)], 1))
    return gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(n)], "class": "primary", "speed_kmh": 40.0},
                            geometry=lines, crs="EPSG:4490")
