"""Rasters inside the GeoPackage: GDAL's raster tables, copied in and out by ``sqlite3``.

A raster layer is a GeoPackage **2D gridded coverage** (OGC 17-066r1): a tile table named after
the layer, its ``gpkg_tile_matrix_set`` and ``gpkg_tile_matrix`` rows and the coverage's ancillary
rows; tiles are 16-bit PNG for integer data (uint8 travels as uint16) and 32-bit TIFF for float32
— lossless both. QGIS or ``gdalinfo GPKG:city.gpkg:risk_surface`` read it as they read any
GeoPackage raster; riskmap reads it back exactly, restoring the dtype, nodata, colour table and
tags kept in its metadata (:meth:`layers.rasters.RasterData.meta`).

GDAL writes the tiles (:func:`stage`, into a scratch GeoPackage in a temporary folder);
:func:`copy_in` moves its rows into the store inside the store's write transaction, and
:func:`extract` copies a raster's rows into an in-memory GeoPackage that GDAL decodes. The store
file itself is only ever opened by Python's ``sqlite3``: two SQLite libraries in one process
(Python's and GDAL's) must not hold the same file, or one's ``close()`` drops the other's POSIX
locks (https://www.sqlite.org/howtocorrupt.html, §2.2).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile

from layers.errors import StoreError
from layers.gpkg_sql import quoted
from layers.rasters import RasterData

__all__ = ["stage", "copy_in", "drop", "extract"]

_COVERAGE_TABLES = ("gpkg_2d_gridded_coverage_ancillary", "gpkg_2d_gridded_tile_ancillary")
_SRS_COLUMNS = "srs_name, srs_id, organization, organization_coordsys_id, definition, description"


def _stored_dtype(dtype: str) -> str:
    return "uint16" if dtype == "uint8" else dtype


def _write(path: Path, array: np.ndarray, raster: RasterData, table: str) -> None:
    dtype = str(array.dtype)
    profile = {"driver": "GPKG", "height": array.shape[0], "width": array.shape[1], "count": 1, "dtype": dtype,
               "crs": CRS.from_wkt(raster.crs), "transform": Affine(*raster.transform)}
    with rasterio.open(path, "w", RASTER_TABLE=table, TILE_FORMAT="TIFF" if dtype == "float32" else "PNG",
                       **profile) as dst:
        dst.write(array, 1)


def _reads_back(path: Path, array: np.ndarray) -> bool:
    with rasterio.open(path) as src:
        back = src.read(1)
    return back.shape == array.shape and np.array_equal(back, array, equal_nan=array.dtype.kind == "f")


def stage(raster: RasterData, table: str, folder: Path) -> Path:
    """Write ``raster`` as gridded coverage ``table`` into a scratch GeoPackage in ``folder``.

    The scratch file is read back and compared cell for cell. GDAL's GPKG driver (3.10) drops the
    last column or row of a raster a few cells wider or taller than a power-of-two number of tiles
    (513 or 1025 cells, say); such a raster is padded (at the right and bottom, with its nodata
    value) to a square of 256 × 2**k cells, which GDAL tiles exactly, and cropped again on reading
    (:func:`extract`, from the height and width in the raster's metadata).
    """
    array = raster.array.astype(_stored_dtype(raster.dtype), copy=False)
    path = Path(folder) / "raster.gpkg"
    _write(path, array, raster, table)
    if _reads_back(path, array):
        return path
    side = 256 * 2 ** int(np.ceil(np.log2(max(array.shape) / 256)))
    fill = raster.nodata if raster.nodata is not None and np.isfinite(raster.nodata) else 0
    padded = np.full((side, side), fill, dtype=array.dtype)
    padded[:array.shape[0], :array.shape[1]] = array
    path.unlink()
    _write(path, padded, raster, table)
    if not _reads_back(path, padded):
        raise StoreError(f"raster {table!r}: GDAL does not keep this {array.shape[1]} x {array.shape[0]} raster "
                         f"exactly in a GeoPackage; nothing was written")
    return path


def drop(con: sqlite3.Connection, table: str) -> None:
    """Remove raster ``table`` and every GeoPackage row describing it."""
    con.execute(f"DROP TABLE IF EXISTS {quoted(table)}")
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "gpkg_2d_gridded_tile_ancillary" in names:
        con.execute("DELETE FROM gpkg_2d_gridded_tile_ancillary WHERE tpudt_name = ?", (table,))
    if "gpkg_2d_gridded_coverage_ancillary" in names:
        con.execute("DELETE FROM gpkg_2d_gridded_coverage_ancillary WHERE tile_matrix_set_name = ?", (table,))
    for meta in ("gpkg_tile_matrix", "gpkg_tile_matrix_set", "gpkg_extensions", "gpkg_contents"):
        con.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))


def _srs_id(con: sqlite3.Connection, row: tuple) -> int:
    """The store's srs_id for the scratch file's SRS ``row`` (added when the store lacks it)."""
    name, srs_id, organization, code, definition, description = row
    if organization.upper() == "EPSG":
        found = con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys WHERE upper(organization) = 'EPSG' "
                            "AND organization_coordsys_id = ?", (code,)).fetchone()
        if found:
            return found[0]
    else:
        found = con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys WHERE definition = ?", (definition,)).fetchone()
        if found:
            return found[0]
    taken = con.execute("SELECT 1 FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)).fetchone()
    if taken:
        srs_id = max(100000, con.execute("SELECT max(srs_id) FROM gpkg_spatial_ref_sys").fetchone()[0] + 1)
    con.execute(f"INSERT INTO gpkg_spatial_ref_sys ({_SRS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (name, srs_id, organization, code, definition, description))
    return srs_id


def copy_in(con: sqlite3.Connection, staged: Path, table: str, nodata) -> None:
    """Copy raster ``table`` from the scratch GeoPackage ``staged`` into the store (``con``'s
    open transaction), replacing any raster of that name."""
    drop(con, table)
    with contextlib.closing(sqlite3.connect(f"file:{staged}?mode=ro", uri=True)) as src:
        ddl = dict(src.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'trigger') "
                               "AND sql IS NOT NULL"))
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for name in _COVERAGE_TABLES:
            if name not in have:
                con.execute(ddl[name])
        srs = src.execute(f"SELECT {_SRS_COLUMNS} FROM gpkg_spatial_ref_sys WHERE srs_id = "
                          "(SELECT srs_id FROM gpkg_contents WHERE table_name = ?)", (table,)).fetchone()
        srs_id = _srs_id(con, srs)
        con.execute(ddl[table])
        for name, sql in ddl.items():
            if sql.upper().startswith("CREATE TRIGGER") and f"ON {quoted(table)}" in sql.replace("'", '"'):
                con.execute(sql)
        _copy_rows(src, con, "gpkg_contents", "table_name = ?", (table,), {"srs_id": srs_id})
        _copy_rows(src, con, "gpkg_tile_matrix_set", "table_name = ?", (table,), {"srs_id": srs_id})
        _copy_rows(src, con, "gpkg_tile_matrix", "table_name = ?", (table,))
        _copy_rows(src, con, "gpkg_2d_gridded_coverage_ancillary", "tile_matrix_set_name = ?", (table,),
                   {"id": None})
        _copy_rows(src, con, "gpkg_2d_gridded_tile_ancillary", "tpudt_name = ?", (table,), {"id": None})
        _copy_rows(src, con, table, "1", ())
        for row in src.execute("SELECT table_name, column_name, extension_name, definition, scope "
                               "FROM gpkg_extensions WHERE table_name IN (?, ?, ?)", (table, *_COVERAGE_TABLES)):
            con.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", row)
    if nodata is not None and np.isfinite(nodata):
        con.execute("UPDATE gpkg_2d_gridded_coverage_ancillary SET data_null = ? WHERE tile_matrix_set_name = ?",
                    (float(nodata), table))


def _copy_rows(src, dst, table: str, where: str, params: tuple, override: dict | None = None) -> None:
    cursor = src.execute(f"SELECT * FROM {quoted(table)} WHERE {where}", params)
    columns = [d[0] for d in cursor.description]
    override = override or {}
    keep = [c for c in columns if not (c in override and override[c] is None)]
    rows = [tuple(override.get(c, row[i]) if c in override else row[i] for i, c in enumerate(columns) if c in keep)
            for row in cursor]
    if rows:
        dst.executemany(f"INSERT INTO {quoted(table)} ({', '.join(map(quoted, keep))}) "
                        f"VALUES ({', '.join('?' * len(keep))})", rows)


def extract(con: sqlite3.Connection, table: str, meta: dict) -> RasterData:
    """Raster ``table`` of the store (read through ``con``) with the metadata ``meta``."""
    ddl = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"))
    with contextlib.closing(sqlite3.connect(":memory:")) as mem:
        mem.execute("PRAGMA application_id = 1196444487")
        mem.execute("PRAGMA user_version = 10400")
        for name in ("gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_tile_matrix_set", "gpkg_tile_matrix",
                     "gpkg_extensions", *_COVERAGE_TABLES, table):
            mem.execute(ddl[name])
        _copy_rows(con, mem, "gpkg_spatial_ref_sys", "srs_id IN (SELECT srs_id FROM gpkg_contents "
                   "WHERE table_name = ?) OR srs_id IN (-1, 0, 4326)", (table,))
        for name, where in (("gpkg_contents", "table_name"), ("gpkg_tile_matrix_set", "table_name"),
                            ("gpkg_tile_matrix", "table_name"), ("gpkg_extensions", "table_name"),
                            ("gpkg_2d_gridded_coverage_ancillary", "tile_matrix_set_name"),
                            ("gpkg_2d_gridded_tile_ancillary", "tpudt_name")):
            _copy_rows(con, mem, name, f"{where} = ?", (table,))
        _copy_rows(con, mem, "gpkg_extensions", "table_name IN (?, ?)", _COVERAGE_TABLES)
        _copy_rows(con, mem, table, "1", ())
        mem.commit()
        data = mem.serialize()
    with MemoryFile(data, ext=".gpkg") as memory, memory.open() as src:
        array = src.read(1)
    return RasterData.from_meta(meta, array[:meta["height"], :meta["width"]])
