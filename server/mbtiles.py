"""MBTiles 1.3 archives (SQLite: ``metadata`` and ``tiles`` tables) of vector tiles.

Rows are in the TMS scheme of the MBTiles specification: ``tile_row`` counts from the south,
``tile_row = 2**z - 1 - y`` for the XYZ row ``y``. Vector tiles are stored gzip-compressed, as
the specification asks for ``format = pbf``, and the ``json`` metadata row carries the
``vector_layers``. GDAL's MBTiles driver and any MBTiles server read such a file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

__all__ = ["write_mbtiles"]


def write_mbtiles(path: Path, tiles: Iterable[tuple[tuple[int, int, int], bytes]], metadata: dict) -> int:
    """Write ``tiles`` (``((z, x, y), gzip-compressed MVT)``) and ``metadata`` to a new file ``path``.

    ``metadata`` holds ``name``, ``description``, ``bounds`` (4 floats), ``center`` (lon, lat, z),
    ``minzoom``, ``maxzoom``, ``attribution`` and ``vector_layers``; returns the tiles written.
    """
    rows = {"name": metadata.get("name", "riskmap"), "format": "pbf", "type": "overlay", "version": "1",
            "description": metadata.get("description", ""), "attribution": metadata.get("attribution", ""),
            "minzoom": str(metadata["minzoom"]), "maxzoom": str(metadata["maxzoom"]),
            "bounds": ",".join(f"{v:.7f}" for v in metadata["bounds"]),
            "center": ",".join(str(v) for v in metadata["center"]),
            "json": json.dumps({"vector_layers": metadata.get("vector_layers", [])}, ensure_ascii=False)}
    rows.update({k: str(v) for k, v in metadata.items() if k.startswith("riskmap:")})
    count = 0
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", rows.items())
        for (z, x, y), data in tiles:
            db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, sqlite3.Binary(data)))
            count += 1
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    return count
