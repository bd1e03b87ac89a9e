"""The write primitives of the GeoPackage store: one :class:`GpkgTransaction` over ``sqlite3``.

Rows go in as SQLite values (booleans 0/1, dates and times as ISO 8601 text, geometries as
GeoPackage blobs). A whole layer of more than :data:`BULK_ROWS` rows goes another way, at C speed:
GDAL writes it (typed Arrow columns and WKB) into a scratch GeoPackage in a temporary folder —
never into the store — and one ``INSERT … SELECT`` copies it into the store's table inside the
transaction; its R-tree is packed (:func:`layers.gpkg_sql.pack_rtree`) and written straight into
SQLite's shadow tables. The scratch
file is detached and deleted when the transaction ends, committed or not.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio

from layers import gpkg_raster
from layers.gpkg_sql import (
    AUDIT_TABLE, META_TABLE, RETIRED_TABLE, feature_table_sql, gpkg_blobs, pack_rtree, quoted, rtree_extension_row,
    rtree_node_size, rtree_sql, write_rtree,
)
from layers.rasters import RasterData
from layers.store_base import META_KEYS, Transaction
from layers.store_rows import PreparedRows, RawRows

__all__ = ["GpkgTransaction", "BULK_ROWS", "sql_column", "chunks", "concat_rows"]

CHUNK = 500  # ids per IN (…) list
#: A layer write of more rows goes through GDAL's writer (:meth:`GpkgTransaction._bulk_insert`).
BULK_ROWS = 2000
_META, _AUDIT, _RETIRED = META_TABLE, AUDIT_TABLE, RETIRED_TABLE


@contextlib.contextmanager
def _unsynchronised() -> Iterator[None]:
    """Let GDAL's SQLite skip its fsyncs and rollback journal while it writes a scratch file (never
    the store: a crash loses nothing but the scratch file)."""
    options = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_JOURNAL": "OFF"}
    previous = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(previous)


def sql_column(values: list, kind: str) -> list:
    """Values of logical type ``kind`` as SQLite stores them (booleans 0/1, dates and times ISO 8601)."""
    if kind == "bool":
        return [None if v is None else int(v) for v in values]
    if kind == "date":
        return [None if v is None else v.isoformat() for v in values]
    if kind == "datetime":
        return [None if v is None else v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
                for v in values]
    return values


def _sql_values(rows: PreparedRows) -> list[list]:
    """The columns of ``rows`` as SQLite values."""
    return [sql_column(rows.values[c], rows.types[c]) for c in rows.columns]


def _id_values(ids: list[str], kind: str) -> list:
    return [int(i) for i in ids] if kind == "int" else list(ids)


def chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class GpkgTransaction(Transaction):
    """The write primitives over one ``sqlite3`` connection inside ``BEGIN IMMEDIATE``."""

    def __init__(self, store, con: sqlite3.Connection):
        self.store, self.con = store, con
        self._scratch: list[tuple[str, str]] = []  # (attached alias, temporary folder)

    def release(self) -> None:
        """Detach and delete the scratch files of bulk writes (after the commit or rollback)."""
        for alias, folder in self._scratch:
            with contextlib.suppress(sqlite3.Error):
                self.con.execute(f"DETACH DATABASE {alias}")
            shutil.rmtree(folder, ignore_errors=True)
        self._scratch = []

    # metadata -------------------------------------------------------------
    def meta(self, name: str) -> dict | None:
        rows = self.store._meta_rows(name, self.con)
        return rows[0] if rows else None

    def put_meta(self, entry: dict) -> None:
        keys = [k for k in META_KEYS]
        values = [int(entry[k]) if k == "derived" else entry.get(k) for k in keys]
        updates = ", ".join(f"{k} = excluded.{k}" for k in keys if k != "name")
        self.con.execute(f"INSERT INTO {_META} ({', '.join(keys)}, raster_file) VALUES "
                         f"({', '.join('?' * len(keys))}, NULL) ON CONFLICT (name) DO UPDATE SET {updates}, "
                         f"raster_file = NULL", values)
        self.con.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                         f"WHERE table_name IN (?, '{_META}', '{_AUDIT}')", (entry["name"],))

    def append_audit(self, entries: list[dict]) -> list[int]:
        ids = []
        for e in entries:
            keys = [k for k in ("id", "when", "actor", "action", "layer", "feature", "version", "rows",
                                "detail", "before", "after") if k in e]
            cursor = self.con.execute(f"INSERT INTO {_AUDIT} ({', '.join(quoted(k) for k in keys)}) "
                                      f"VALUES ({', '.join('?' * len(keys))})", [e[k] for k in keys])
            ids.append(cursor.lastrowid)
        return ids

    # rows -----------------------------------------------------------------
    def column_types(self, name: str) -> dict[str, str]:
        return self.store._column_types(name, self.con)

    def versions(self, name: str, id_field: str) -> dict[str, int]:
        return {str(i): v for i, v in self.con.execute(
            f"SELECT {quoted(id_field)}, coalesce(row_version, 1) FROM {quoted(name)}")}

    def fetch(self, name, id_field, ids, types) -> tuple[RawRows, dict]:
        kind = types.get(id_field, "str")
        raws = []
        for part in chunks(_id_values(ids, kind)):
            raws.append(self.store._select(self.con, name, list(types), types, True,
                                           f"{quoted(id_field)} IN ({', '.join('?' * len(part))})", part))
        return concat_rows(raws, list(types), types)

    def fetch_archive(self, name: str, ids) -> list[dict]:
        return self.store._archive_rows(self.con, name, ids)

    def _geometry_column(self, rows: PreparedRows) -> None:
        """Widen the declared geometry type (and z) when new rows need it; extend the extent."""
        found = self.con.execute("SELECT geometry_type_name, z FROM gpkg_geometry_columns WHERE table_name = ?",
                                 (rows.name,)).fetchone()
        if found and found[0] != "GEOMETRY" and found[0] != rows.geometry_type:
            self.con.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = 'GEOMETRY' WHERE table_name = ?",
                             (rows.name,))
        if found and rows.has_z and not found[1]:
            self.con.execute("UPDATE gpkg_geometry_columns SET z = 2 WHERE table_name = ?", (rows.name,))
        if np.isfinite(rows.bounds).any():
            minx, miny = np.nanmin(rows.bounds[:, 0]), np.nanmin(rows.bounds[:, 1])
            maxx, maxy = np.nanmax(rows.bounds[:, 2]), np.nanmax(rows.bounds[:, 3])
            self.con.execute("UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce("
                             "min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?) "
                             "WHERE table_name = ?", (minx, minx, miny, miny, maxx, maxx, maxy, maxy, rows.name))

    def _rows_sql(self, rows: PreparedRows, system: dict, fid: bool) -> list[tuple]:
        columns = _sql_values(rows)
        blobs = gpkg_blobs(rows.wkb, rows.bounds)
        parts = ([list(range(1, len(rows) + 1))] if fid else []) + [blobs, *columns, system["row_version"],
                                                                     system["updated_at"], system["updated_by"]]
        return list(zip(*parts))

    def _insert_sql(self, rows: PreparedRows, fid: bool) -> str:
        names = (['"fid"'] if fid else []) + ['"geom"', *map(quoted, rows.columns), '"row_version"',
                                              '"updated_at"', '"updated_by"']
        return f"INSERT INTO {quoted(rows.name)} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"

    def _bulk_insert(self, rows: PreparedRows, system: dict, leaves: np.ndarray, rtree: str) -> None:
        """Insert many rows at C speed: GDAL writes them (typed Arrow columns and WKB) into a scratch
        GeoPackage in a temporary folder — never the store — as a table laid out exactly like the
        store's, so that ``INSERT INTO t SELECT * FROM scratch`` copies whole records without
        decoding them (SQLite's transfer optimisation), inside this transaction; the R-tree's
        row→leaf map comes along the same way. Rows keep their order: fid = 1…n."""
        import pyarrow as pa

        folder = tempfile.mkdtemp(prefix="riskmap-rows-")
        alias = f"riskmap_rows_{len(self._scratch)}"
        self._scratch.append((alias, folder))
        scratch = Path(folder) / "rows.gpkg"
        options = {"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": "geom", "FID": "fid"}
        present = leaves >= 0
        leaf_table = pa.table({"rowid": pa.array(np.flatnonzero(present) + 1, type=pa.int64()),
                               "nodeno": pa.array(leaves[present], type=pa.int64())})
        with _unsynchronised():
            pyogrio.write_arrow(rows.arrow(system), scratch, layer="rows", driver="GPKG", geometry_name="geometry",
                                geometry_type="Unknown", crs="EPSG:4490", layer_options=options)
            pyogrio.write_arrow(leaf_table, scratch, layer="leaves", driver="GPKG")
        self.con.execute(f"ATTACH DATABASE ? AS {alias}", (str(scratch),))
        self.con.execute(f'INSERT INTO {quoted(rows.name)} SELECT * FROM {alias}."rows"')
        self.con.execute(f'INSERT INTO {quoted(rtree + "_rowid")} (rowid, nodeno) SELECT "rowid", "nodeno" '
                         f'FROM {alias}."leaves" ORDER BY "rowid"')

    def replace(self, rows: PreparedRows, system: dict) -> None:
        name, rtree = rows.name, f"rtree_{rows.name}_geom"
        self.store._drop_vector(self.con, name)
        self.con.execute(feature_table_sql(name, rows.columns, rows.types))
        statements = rtree_sql(name)
        self.con.execute(statements[0])
        finite = np.flatnonzero(np.isfinite(rows.bounds[:, 0]))  # rows with a box: not missing, not empty
        bounds = rows.bounds[finite]
        nodes, parents, leaves = (pack_rtree(finite + 1, bounds, rtree_node_size(self.con, rtree))
                                  if len(finite) else (None, None, np.zeros(0, dtype=np.int64)))
        if len(rows) > BULK_ROWS:
            leaf_of_row = np.full(len(rows), -1, dtype=np.int64)
            leaf_of_row[finite] = leaves
            self._bulk_insert(rows, system, leaf_of_row, rtree)
            rowids = None
        else:
            self.con.executemany(self._insert_sql(rows, fid=True), self._rows_sql(rows, system, fid=True))
            rowids = list(zip((finite + 1).tolist(), leaves.tolist()))
        if len(finite):
            write_rtree(self.con, rtree, nodes, parents, rowids)
        if rows.id_field:
            self.con.execute(f"CREATE UNIQUE INDEX {quoted(f'riskmap_{name}_id')} ON {quoted(name)} "
                             f"({quoted(rows.id_field)})")
        extent = ((float(bounds[:, 0].min()), float(bounds[:, 1].min()), float(bounds[:, 2].max()),
                   float(bounds[:, 3].max())) if len(finite) else (None,) * 4)
        self.con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, "
                         "max_x, max_y, srs_id) VALUES (?, 'features', ?, '', ?, ?, ?, ?, 4490)",
                         (name, name, *extent))
        self.con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4490, ?, 0)",
                         (name, rows.geometry_type, 2 if rows.has_z else 0))
        for statement in statements[1:]:
            self.con.execute(statement)
        self.con.execute("INSERT INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", rtree_extension_row(name))

    def insert(self, rows: PreparedRows, system: dict) -> None:
        self._geometry_column(rows)
        self.con.executemany(self._insert_sql(rows, fid=False), self._rows_sql(rows, system, fid=False))

    def update(self, rows: PreparedRows, system: dict) -> None:
        self._geometry_column(rows)
        names = ['"geom"', *map(quoted, rows.columns), '"row_version"', '"updated_at"', '"updated_by"']
        kind = rows.types[rows.id_field]
        params = [(*row, key) for row, key in zip(self._rows_sql(rows, system, fid=False),
                                                  _id_values(rows.ids, kind))]
        self.con.executemany(f"UPDATE {quoted(rows.name)} SET {', '.join(f'{n} = ?' for n in names)} "
                             f"WHERE {quoted(rows.id_field)} = ?", params)

    def delete(self, name: str, id_field: str, ids: list[str]) -> None:
        kind = self.column_types(name).get(id_field, "str")
        for part in chunks(_id_values(ids, kind)):
            self.con.execute(f"DELETE FROM {quoted(name)} WHERE {quoted(id_field)} IN ({', '.join('?' * len(part))})",
                             part)

    def archive(self, name: str, entries: list[dict]) -> None:
        self.con.executemany(f"INSERT INTO {_RETIRED} (layer, feature, row_version, retired_at, retired_by, data, "
                             f"geom) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(name, e["feature"], e["row_version"], e["retired_at"], e["retired_by"], e["data"],
                               e["wkb"]) for e in entries])

    def unarchive(self, name: str, ids: list[str]) -> None:
        for part in chunks(list(ids)):
            self.con.execute(f"DELETE FROM {_RETIRED} WHERE layer = ? AND feature IN ({', '.join('?' * len(part))})",
                             [name, *part])

    # rasters --------------------------------------------------------------
    def put_raster(self, name: str, raster: RasterData) -> None:
        with tempfile.TemporaryDirectory(prefix="riskmap-raster-") as folder:
            staged = gpkg_raster.stage(raster, name, Path(folder))
            gpkg_raster.copy_in(self.con, staged, name, raster.nodata)


def concat_rows(raws: list[tuple[RawRows, dict]], columns: list[str], types: dict) -> tuple[RawRows, dict]:
    values = {c: [v for raw, _ in raws for v in raw.values[c]] for c in columns}
    system = {k: [v for _, s in raws for v in s[k]] for k in ("row_version", "updated_at", "updated_by")}
    return RawRows(columns, types, values, [w for raw, _ in raws for w in raw.wkb]), system
