"""GeoPackage at the SQL level: geometry blobs, the R-tree functions, table DDL, integrity checks.

The GeoPackage store (:mod:`layers.gpkg`) writes its file with Python's own ``sqlite3``, in place,
in transactions. This module holds what that needs from the GeoPackage standard (OGC 12-128r18):

* **geometry blobs** (§2.1.3): a header ``GP``, version, flags (byte order, envelope kind,
  empty), ``srs_id``, an optional envelope, then standard WKB. :func:`gpkg_blobs` builds them
  (with an xy envelope, so the R-tree functions never parse WKB), :func:`wkb_of` strips them;
* the **R-tree spatial index extension** (Annex F.3): a ``rtree_<t>_geom`` virtual table kept up to
  date by triggers that call ``ST_IsEmpty``, ``ST_MinX``, ``ST_MaxX``, ``ST_MinY``, ``ST_MaxY``.
  GDAL registers those functions in its own SQLite; :func:`register_functions` registers ours, so
  that a row edited here updates the index exactly as GDAL would (the triggers are GDAL's, so GDAL,
  QGIS and ``ogrinfo`` keep reading and editing the file);
* the **core tables** of a new file (:data:`CORE_DDL`) and the **feature table** of a layer
  (:func:`feature_table_sql`);
* :func:`quick_check` / :func:`full_check`, the integrity checks of ``open`` and ``riskmap check``.

>>> import shapely
>>> blob = gpkg_blobs([shapely.to_wkb(shapely.box(1, 2, 3, 4))], np.array([[1.0, 2.0, 3.0, 4.0]]))[0]
>>> blob[:2], _envelope(blob), shapely.from_wkb(wkb_of([blob])[0]).bounds
(b'GP', (1.0, 3.0, 2.0, 4.0), (1.0, 2.0, 3.0, 4.0))
"""

from __future__ import annotations

import contextlib
import sqlite3
import struct
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

__all__ = [
    "SQLITE_MAGIC", "GPKG_APPLICATION_IDS", "META_TABLE", "AUDIT_TABLE", "RETIRED_TABLE", "CORE_DDL", "SQL_TYPES",
    "gpkg_blobs", "wkb_of", "wkb_sql", "register_functions", "logical_type", "feature_table_sql", "rtree_sql",
    "rtree_node_size", "pack_rtree", "write_rtree", "bulk_load_rtree", "srs_row", "quick_check", "full_check",
    "quoted",
]

SQLITE_MAGIC = b"SQLite format 3\x00"
#: riskmap's own tables in a GeoPackage store (registered as GeoPackage attributes tables).
META_TABLE, AUDIT_TABLE, RETIRED_TABLE = "riskmap_layers", "riskmap_audit", "riskmap_retired"
#: "GPKG" (1.2+), "GP10", "GP11".
GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}
#: SQL type of each logical type (GeoPackage's own data types, §1.1.1.1.3).
SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN", "date": "DATE",
             "datetime": "DATETIME"}
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_RTREE_DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"

#: The core tables of a GeoPackage (§1.1.2, §1.1.3, §2.1.5, §2.2.6, §2.2.7, §2.3), as GDAL lays them out.
CORE_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
  description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_tile_matrix_set (table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL,
  min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL,
  CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_tile_matrix (table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL,
  matrix_width INTEGER NOT NULL, matrix_height INTEGER NOT NULL, tile_width INTEGER NOT NULL,
  tile_height INTEGER NOT NULL, pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL,
  CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
  CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name));
CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
  definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""


def quoted(name: str) -> str:
    """``name`` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------- geometry blobs
def gpkg_blobs(wkb: list, bounds: np.ndarray, srs_id: int = 4490) -> list:
    """GeoPackage geometry blobs of ISO WKB geometries (None stays None).

    Non-empty geometries get an xy envelope ``minx, maxx, miny, maxy``; an empty one the
    empty flag and no envelope (§2.1.3.1.1).
    """
    full = struct.pack("<2sBBi", b"GP", 0, 0b00000011, srs_id)
    empty = struct.pack("<2sBBi", b"GP", 0, 0b00010001, srs_id)
    envelopes = np.ascontiguousarray(np.asarray(bounds, dtype="<f8")[:, [0, 2, 1, 3]]).tobytes()
    out = []
    for i, blob in enumerate(wkb):
        if blob is None:
            out.append(None)
        elif np.isnan(bounds[i, 0]):
            out.append(empty + blob)
        else:
            out.append(full + envelopes[32 * i:32 * i + 32] + blob)
    return out


def _header_bytes(blob: bytes) -> int:
    return 8 + _ENVELOPE_BYTES.get((blob[3] >> 1) & 0b111, 0)


def wkb_of(blobs: list) -> list:
    """The WKB inside each GeoPackage geometry blob (None stays None)."""
    return [None if b is None else bytes(b[_header_bytes(b):]) for b in blobs]


def wkb_sql(column: str) -> str:
    """SQL giving the WKB inside the GeoPackage blob ``column``: SQLite strips the header in C.

    The header's length follows from its flags byte (envelope kind, §2.1.3.1.1); the common flags
    (either byte order; no, xy, xyz, xym or xyzm envelope; empty or not) are listed, and any other
    blob comes back whole, to be stripped by :func:`wkb_of`.
    """
    cases = [(order | kind << 1 | empty, 8 + _ENVELOPE_BYTES[kind])
             for order in (1, 0) for empty in (0, 0b10000) for kind in (1, 0, 2, 3, 4)]
    whens = " ".join(f"WHEN x'{flags:02x}' THEN substr({column}, {size + 1})" for flags, size in cases)
    return f"CASE substr({column}, 4, 1) {whens} ELSE {column} END"


def _envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """``(minx, maxx, miny, maxy)`` of a blob: its envelope, else computed from its WKB."""
    kind = (blob[3] >> 1) & 0b111
    order = "<" if blob[3] & 1 else ">"
    if kind:
        return struct.unpack_from(f"{order}4d", blob, 8)
    geometry = shapely.from_wkb(bytes(blob[8:]))
    if geometry is None or geometry.is_empty:
        return None
    minx, miny, maxx, maxy = geometry.bounds
    return minx, maxx, miny, maxy


def _is_empty(blob) -> int | None:
    if blob is None:
        return None
    if blob[3] & 0b00010000:
        return 1
    if (blob[3] >> 1) & 0b111:
        return 0
    return int(_envelope(blob) is None)


def _bound(index: int):
    def value(blob):
        if blob is None:
            return None
        envelope = _envelope(blob)
        return None if envelope is None else envelope[index]
    return value


def register_functions(con: sqlite3.Connection) -> None:
    """Register the SQL functions the R-tree triggers call (deterministic, as the spec requires)."""
    con.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _bound(index), deterministic=True)


# ---------------------------------------------------------------------------- tables
def logical_type(declared: str) -> str:
    """The logical type of a column declared ``declared`` (GDAL's types included)."""
    base = (declared or "").upper().split("(")[0].strip()
    if base in ("INTEGER", "INT", "BIGINT", "MEDIUMINT", "SMALLINT", "TINYINT"):
        return "int"
    if base in ("REAL", "FLOAT", "DOUBLE", "NUMERIC"):
        return "float"
    return {"BOOLEAN": "bool", "DATE": "date", "DATETIME": "datetime"}.get(base, "str")


def feature_table_sql(name: str, columns: list[str], types: dict[str, str]) -> str:
    """``CREATE TABLE`` of a layer: ``fid``, ``geom``, the attributes, then the system columns.

    Laid out as GDAL lays out the same columns (types, order, constraints, no defaults), so that a
    bulk write can copy GDAL's records as they are (see :class:`layers.gpkg_write.GpkgTransaction`).
    A row another tool adds leaves ``row_version`` NULL, which reads as version 1.
    """
    attributes = "".join(f", {quoted(c)} {SQL_TYPES[types[c]]}" for c in columns)
    return (f'CREATE TABLE {quoted(name)} ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" GEOMETRY'
            f'{attributes}, "row_version" INTEGER, "updated_at" TEXT, "updated_by" TEXT)')


def rtree_sql(table: str, column: str = "geom") -> list[str]:
    """The R-tree index of ``table.column`` and its seven triggers (Annex F.3, GeoPackage 1.4)."""
    t, c, r = quoted(table), quoted(column), quoted(f"rtree_{table}_{column}")
    n = lambda suffix: quoted(f"rtree_{table}_{column}_{suffix}")  # noqa: E731
    box = f'NEW."fid", ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})'
    full = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    none = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    return [
        f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)",
        f"CREATE TRIGGER {n('insert')} AFTER INSERT ON {t} WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c})) "
        f"BEGIN INSERT OR REPLACE INTO {r} VALUES ({box}); END",
        f'CREATE TRIGGER {n("update6")} AFTER UPDATE OF {c} ON {t} WHEN OLD."fid" = NEW."fid" AND {full} AND '
        f'(OLD.{c} NOTNULL AND NOT ST_IsEmpty(OLD.{c})) BEGIN UPDATE {r} SET minx = ST_MinX(NEW.{c}), '
        f'maxx = ST_MaxX(NEW.{c}), miny = ST_MinY(NEW.{c}), maxy = ST_MaxY(NEW.{c}) WHERE id = NEW."fid"; END',
        f'CREATE TRIGGER {n("update7")} AFTER UPDATE OF {c} ON {t} WHEN OLD."fid" = NEW."fid" AND {full} AND '
        f'(OLD.{c} ISNULL OR ST_IsEmpty(OLD.{c})) BEGIN INSERT INTO {r} VALUES ({box}); END',
        f'CREATE TRIGGER {n("update2")} AFTER UPDATE OF {c} ON {t} WHEN OLD."fid" = NEW."fid" AND {none} '
        f'BEGIN DELETE FROM {r} WHERE id = OLD."fid"; END',
        f'CREATE TRIGGER {n("update5")} AFTER UPDATE ON {t} WHEN OLD."fid" != NEW."fid" AND {full} '
        f'BEGIN DELETE FROM {r} WHERE id = OLD."fid"; INSERT OR REPLACE INTO {r} VALUES ({box}); END',
        f'CREATE TRIGGER {n("update4")} AFTER UPDATE ON {t} WHEN OLD."fid" != NEW."fid" AND {none} '
        f'BEGIN DELETE FROM {r} WHERE id IN (OLD."fid", NEW."fid"); END',
        f'CREATE TRIGGER {n("delete")} AFTER DELETE ON {t} WHEN old.{c} NOT NULL '
        f'BEGIN DELETE FROM {r} WHERE id = OLD."fid"; END',
    ]


_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0  # SQLite's RNDTOWARDS, RNDAWAY


def _float32_down(values: np.ndarray) -> np.ndarray:
    """float32 not above ``values``, rounded exactly as SQLite's R-tree rounds a minimum."""
    out = values.astype(np.float32)
    above = out > values
    out[above] = (values[above] * np.where(values[above] < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return out


def _float32_up(values: np.ndarray) -> np.ndarray:
    """float32 not below ``values``, rounded exactly as SQLite's R-tree rounds a maximum."""
    out = values.astype(np.float32)
    below = out < values
    out[below] = (values[below] * np.where(values[below] < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return out


def rtree_node_size(con: sqlite3.Connection, rtree: str) -> int:
    """Bytes of a node of R-tree ``rtree`` (fixed when it was created, from the page size)."""
    return con.execute(f"SELECT length(data) FROM {quoted(rtree + '_node')} WHERE nodeno = 1").fetchone()[0]


def pack_rtree(ids: np.ndarray, bounds: np.ndarray, node_size: int) -> tuple[list, list, np.ndarray]:
    """Pack boxes ``bounds`` (n × minx, miny, maxx, maxy) of rows ``ids`` into R-tree nodes.

    Inserting 100 000 boxes one by one costs SQLite's R*-tree about 40 µs each (node splits and
    reinsertions through its shadow tables); GDAL bulk-loads instead, and so does this: rows are
    sorted along a Hilbert curve and packed into full nodes, level by level, in SQLite's own node
    format (2-byte depth, 2-byte cell count, cells of a big-endian 64-bit id and four big-endian
    float32, minima rounded down and maxima up exactly as the module rounds them).

    Returns
    -------
    nodes : list of (node number, blob)
        The root is node 1.
    parents : list of (node number, parent node number)
    leaves : numpy.ndarray
        The leaf node of each row, in the order of ``ids``.
    """
    capacity = (node_size - 4) // 24
    centre = np.column_stack([(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2])
    order = np.argsort(_hilbert(centre), kind="stable")
    cell = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
    level = np.zeros(len(ids), dtype=cell)
    level["id"] = np.asarray(ids)[order]
    level["minx"], level["maxx"] = _float32_down(bounds[order, 0]), _float32_up(bounds[order, 2])
    level["miny"], level["maxy"] = _float32_down(bounds[order, 1]), _float32_up(bounds[order, 3])
    levels = [level]
    while len(levels[-1]) > capacity:
        below = levels[-1]
        starts = np.arange(0, len(below), capacity)
        parent = np.zeros(len(starts), dtype=cell)
        parent["minx"] = np.minimum.reduceat(below["minx"], starts)
        parent["maxx"] = np.maximum.reduceat(below["maxx"], starts)
        parent["miny"] = np.minimum.reduceat(below["miny"], starts)
        parent["maxy"] = np.maximum.reduceat(below["maxy"], starts)
        levels.append(parent)
    depth = len(levels) - 1
    numbers = [None] * len(levels)  # node numbers per level; the root is node 1
    numbers[depth] = np.array([1])
    next_number = 2
    for k in range(depth - 1, -1, -1):
        count = -(-len(levels[k]) // capacity)
        numbers[k] = np.arange(next_number, next_number + count)
        next_number += count
        levels[k + 1]["id"] = numbers[k]  # a parent cell's id is its child node's number
    nodes, parents = [], []
    for k, entries in enumerate(levels):
        for n, start in enumerate(range(0, len(entries), capacity)):
            chunk = entries[start:start + capacity]
            blob = np.array([depth if k == depth else 0, len(chunk)], dtype=">u2").tobytes() + chunk.tobytes()
            nodes.append((int(numbers[k][n]), blob + bytes(node_size - len(blob))))
            if k < depth:
                parents.append((int(numbers[k][n]), int(numbers[k + 1][n // capacity])))
    leaves = np.empty(len(ids), dtype=np.int64)
    leaves[order] = np.repeat(numbers[0], capacity)[:len(ids)]
    return nodes, parents, leaves


def write_rtree(con: sqlite3.Connection, rtree: str, nodes: list, parents: list, rowids: list | None) -> None:
    """Replace the shadow tables of the empty R-tree ``rtree`` by packed ``nodes`` and ``parents``;
    ``rowids`` (row id, leaf node) pairs too, unless the caller fills ``<rtree>_rowid`` itself."""
    con.execute(f"DELETE FROM {quoted(rtree + '_node')}")
    con.executemany(f"INSERT INTO {quoted(rtree + '_node')} VALUES (?, ?)", nodes)
    con.executemany(f"INSERT INTO {quoted(rtree + '_parent')} VALUES (?, ?)", parents)
    if rowids is not None:
        con.executemany(f"INSERT INTO {quoted(rtree + '_rowid')} (rowid, nodeno) VALUES (?, ?)", rowids)


def bulk_load_rtree(con: sqlite3.Connection, rtree: str, ids: np.ndarray, bounds: np.ndarray) -> None:
    """Fill the empty R-tree ``rtree`` with boxes ``bounds`` of rows ``ids`` (:func:`pack_rtree`).

    ``rtreecheck()`` accepts the result (tested), and later inserts and deletes by the triggers go
    on from it like from any other tree.
    """
    if not len(ids):
        return
    nodes, parents, leaves = pack_rtree(ids, bounds, rtree_node_size(con, rtree))
    order = np.argsort(ids, kind="stable")  # appending in key order: no b-tree page splits
    write_rtree(con, rtree, nodes, parents, list(zip(np.asarray(ids)[order].tolist(), leaves[order].tolist())))


def _hilbert(points: np.ndarray, bits: int = 12) -> np.ndarray:
    """Hilbert-curve index of each point in the points' own bounding box (``2**bits`` cells a side)."""
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    side = (1 << bits) - 1
    x = ((points[:, 0] - low[0]) / span[0] * side).astype(np.int64)
    y = ((points[:, 1] - low[1]) / span[1] * side).astype(np.int64)
    d = np.zeros(len(points), dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, side - x, x)
        swap_y = np.where(flip & rx, side - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


def rtree_extension_row(table: str, column: str = "geom") -> tuple:
    """The ``gpkg_extensions`` row declaring the R-tree of ``table.column``."""
    return (table, column, "gpkg_rtree_index", _RTREE_DEFINITION, "write-only")


def srs_row(epsg: int) -> tuple:
    """The ``gpkg_spatial_ref_sys`` row of EPSG:``epsg`` (WKT 1, as GDAL writes it)."""
    crs = CRS.from_epsg(epsg)
    return (crs.name, epsg, "EPSG", epsg, crs.to_wkt("WKT1_GDAL"), None)


# ---------------------------------------------------------------------------- integrity
def _first_lines(rows, limit: int = 3) -> str:
    lines = [str(r[0]) for r in rows if r and r[0] != "ok"]
    more = f" (and {len(lines) - limit} more)" if len(lines) > limit else ""
    return "; ".join(lines[:limit]) + more


def read_header(path: Path) -> str | None:
    """Why ``path`` is not a GeoPackage by its first 100 bytes (None when it looks like one)."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return "not a GeoPackage (not an SQLite database)"
    if int.from_bytes(header[68:72], "big") not in GPKG_APPLICATION_IDS:
        return "not a GeoPackage (SQLite database without the GeoPackage application id)"
    return None


def quick_check(con: sqlite3.Connection, required: tuple[str, ...]) -> list[str]:
    """``PRAGMA quick_check`` and the tables a store needs; problems found (empty: healthy)."""
    try:
        found = con.execute("PRAGMA quick_check").fetchall()
        if found != [("ok",)]:
            return [f"damaged (PRAGMA quick_check: {_first_lines(found)})"]
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        return [f"damaged ({exc})"]
    missing = [t for t in required if t not in names]
    if missing:
        return [f"a GeoPackage but not a riskmap store (no {', '.join(missing)} table)"]
    return []


def full_check(con: sqlite3.Connection, vectors: list[dict], rasters: list[dict]) -> list[str]:
    """``PRAGMA integrity_check``, foreign keys, and every layer against its GeoPackage tables."""
    try:
        found = con.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return [f"damaged ({exc})"]
    if found != [("ok",)]:
        return [f"damaged (PRAGMA integrity_check: {_first_lines(found, 5)})"]
    problems = []
    with contextlib.suppress(sqlite3.DatabaseError):
        broken = con.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            problems.append(f"{len(broken)} row(s) break a GeoPackage foreign key (first in {broken[0][0]})")
    contents = {r[0]: r[1] for r in con.execute("SELECT table_name, data_type FROM gpkg_contents")}
    geometry = {r[0]: (r[1], r[2]) for r in con.execute("SELECT table_name, column_name, srs_id "
                                                        "FROM gpkg_geometry_columns")}
    for meta in vectors:
        problems += _check_vector(con, meta, contents, geometry)
    tile_sets = {r[0] for r in con.execute("SELECT table_name FROM gpkg_tile_matrix_set")}
    for meta in rasters:
        name = meta["name"]
        if meta.get("raster_file"):
            continue  # a store not yet migrated keeps the raster beside it (checked by the store)
        if contents.get(name) != "2d-gridded-coverage" or name not in tile_sets:
            problems.append(f"raster {name!r}: no GeoPackage gridded coverage table")
        elif not con.execute(f"SELECT count(*) FROM {quoted(name)}").fetchone()[0]:
            problems.append(f"raster {name!r}: no tiles")
    return problems


def _check_vector(con, meta: dict, contents: dict, geometry: dict) -> list[str]:
    name = meta["name"]
    if contents.get(name) != "features" or name not in geometry:
        return [f"layer {name!r}: not registered as GeoPackage features"]
    column, srs = geometry[name]
    problems = []
    if srs != 4490:
        problems.append(f"layer {name!r}: geometry in srs {srs}, not 4490")
    rows = con.execute(f"SELECT count(*) FROM {quoted(name)}").fetchone()[0]
    if rows != meta["rows"]:
        problems.append(f"layer {name!r}: {rows} rows, the metadata says {meta['rows']}")
    rtree = f"rtree_{name}_{column}"
    try:
        indexed = con.execute(f"SELECT count(*) FROM {quoted(rtree)}").fetchone()[0]
        expected = con.execute(f"SELECT count(*) FROM {quoted(name)} WHERE {quoted(column)} IS NOT NULL "
                               f"AND NOT ST_IsEmpty({quoted(column)})").fetchone()[0]
        if indexed != expected:
            problems.append(f"layer {name!r}: spatial index holds {indexed} entries for {expected} geometries")
        check = con.execute("SELECT rtreecheck(?)", (rtree,)).fetchone()[0]
        if check != "ok":
            problems.append(f"layer {name!r}: spatial index: {check.splitlines()[0]}")
    except sqlite3.OperationalError as exc:
        problems.append(f"layer {name!r}: spatial index unreadable ({exc})")
    id_field = meta.get("id_field")
    if id_field:
        dup = con.execute(f"SELECT count(*) - count(DISTINCT {quoted(id_field)}) + "
                          f"sum({quoted(id_field)} IS NULL) FROM {quoted(name)}").fetchone()[0]
        if dup:
            problems.append(f"layer {name!r}: {dup} row(s) with a missing or repeated {id_field}")
    return problems
