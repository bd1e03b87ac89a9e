"""A store laid out as riskmap wrote them before row versions (copy-on-write, rasters beside the file).

Rebuilt here the way that version did it — GDAL (pyogrio) writes each layer with its R-tree, the
two riskmap tables have their old columns, and a raster is a GeoTIFF in ``<store>.rasters/`` — so
the tests can check that such a store is read as it is and upgraded by its first write.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

import pyogrio

OLD_DDL = """
CREATE TABLE riskmap_layers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL DEFAULT 'vector' CHECK (kind IN ('vector', 'raster')), version INTEGER NOT NULL,
  updated_at TEXT NOT NULL, derived INTEGER NOT NULL DEFAULT 0, ruleset_version TEXT, fingerprint TEXT,
  rows INTEGER NOT NULL, crs TEXT NOT NULL, raster_file TEXT);
CREATE TABLE riskmap_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, "when" TEXT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, layer TEXT NOT NULL, rows INTEGER, version INTEGER, detail TEXT);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
VALUES ('riskmap_layers', 'attributes', 'riskmap_layers', 'riskmap: layers, versions and provenance'),
       ('riskmap_audit', 'attributes', 'riskmap_audit', 'riskmap: audit log of every write');
"""
WHEN = "2026-11-01T08:00:00+00:00"


def build_legacy_store(path: Path, layers: dict, rasters: dict | None = None) -> Path:
    """Write ``layers`` ({name: GeoDataFrame}) and ``rasters`` ({name: GeoTIFF path}) the old way."""
    path = Path(path)
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", layer_options={"SPATIAL_INDEX": "YES"})
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.executescript(OLD_DDL)
        for name, frame in layers.items():
            con.execute("INSERT INTO riskmap_layers (name, kind, version, updated_at, rows, crs) "
                        "VALUES (?, 'vector', 1, ?, ?, 'EPSG:4490')", (name, WHEN, len(frame)))
            con.execute('INSERT INTO riskmap_audit ("when", actor, action, layer, rows, version, detail) '
                        "VALUES (?, 'cli', 'import', ?, ?, 1, 'old import')", (WHEN, name, len(frame)))
        folder = path.with_name(path.name + ".rasters")
        for name, tif in (rasters or {}).items():
            folder.mkdir(exist_ok=True)
            shutil.copyfile(tif, folder / f"{name}.v1.tif")
            con.execute("INSERT INTO riskmap_layers (name, kind, version, updated_at, rows, crs, raster_file) "
                        "VALUES (?, 'raster', 1, ?, 0, 'EPSG:4549', ?)", (name, WHEN, f"{name}.v1.tif"))
        con.commit()
    return path
