"""The GeoPackage store: a whole city in one file, written in place, one transaction at a time.

One GeoPackage (OGC 12-128r18, an SQLite file) holds every layer of a store:

* each vector layer is a **feature table** named after it, geometry ``geom`` in **EPSG:4490**,
  with an R-tree spatial index (GDAL's triggers, :mod:`layers.gpkg_sql`), a unique index on its
  id field, and the system columns ``row_version``, ``updated_at``, ``updated_by``;
* each raster is a **2D gridded coverage** tile table (:mod:`layers.gpkg_raster`);
* three riskmap tables, registered as GeoPackage *attributes* so desktop GIS shows them too:
  ``riskmap_layers`` (one row per layer: kind, version, time, provenance, rows, id field, raster
  metadata), ``riskmap_audit`` (one row per layer write and per row change, with before/after
  JSON) and ``riskmap_retired`` (retired rows, see :mod:`layers.store_base`).

So **one file is the whole store**: copy the ``.gpkg`` and you have everything.

Writes
    are SQLite transactions on the file itself in WAL mode (``BEGIN IMMEDIATE``; writers queue
    on SQLite's lock for up to ``lock_timeout`` seconds), never a copy of the file: a one-row edit
    costs milliseconds whatever the size of the store. A failure at any point rolls back; a killed
    writer leaves only uncommitted WAL frames, which SQLite ignores on the next open. After each
    commit the WAL is checkpointed into the file (``wal_checkpoint(TRUNCATE)``, waiting at most
    0.2 s for readers), so the ``.gpkg`` alone is complete; if a reader still holds an older
    snapshot the checkpoint is left to the next write, or to the last connection's close, which
    SQLite always checkpoints (every riskmap command closes its connections when it ends — copy a
    store a live server is writing with ``riskmap copy``, not ``cp``).
Reads
    see one committed snapshot per call. The file is only ever opened by Python's ``sqlite3``,
    never by GDAL (pyogrio, rasterio) in the same process: two SQLite libraries holding one file
    in one process release each other's POSIX locks when either closes it
    (https://www.sqlite.org/howtocorrupt.html §2.2). Geometries are decoded with shapely from the
    GeoPackage blobs; bbox reads go through the R-tree.
Integrity
    Opening checks the header, the GeoPackage application id, ``PRAGMA quick_check`` and the
    required tables (about 0.4 s per GB; the result is remembered per file state in the process,
    so an app opening the same store again pays nothing); a damaged file is refused with one line
    and nothing is ever written to it. :meth:`GeoPackageStore.check` with ``full=True`` runs
    ``PRAGMA integrity_check``, foreign keys, and every layer against its GeoPackage tables and
    spatial index (``riskmap check``).
Older stores
    (copy-on-write, rasters in a ``<store>.rasters/`` folder beside the file) are read as they
    are and upgraded by their first write, in its transaction: system columns added, rasters moved
    into the file (the folder is removed after the commit, with a note on the ``riskmap.store``
    logger).

Examples
--------
>>> import tempfile, pathlib, geopandas
>>> from shapely import box
>>> store = GeoPackageStore.create(pathlib.Path(tempfile.mkdtemp()) / "city.gpkg")
>>> plots = geopandas.GeoDataFrame({"plot_id": ["P1"]}, geometry=[box(119.95, 31.7, 119.96, 31.71)],
...                                crs="EPSG:4490")
>>> store.write("scratch", plots, id_field="plot_id").version
1
>>> result = store.edit("scratch", plots.assign(geometry=[box(119.95, 31.7, 119.97, 31.72)]),
...                     base_versions={"P1": 1}, actor="alice", reason="boundary survey")
>>> result.updated, result.versions
(('P1',), {'P1': 2})
>>> store.read("scratch", bbox=(119.965, 31.715, 120.0, 31.8))["plot_id"].tolist()
['P1']
>>> store.audit()[["action", "feature", "version", "actor"]].values.tolist()
[['update', 'P1', 2, 'alice'], ['import', None, 1, 'cli']]
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio

from geo.errors import RiskmapError
from layers import gpkg_raster
from layers.errors import StoreError
from layers.gpkg_sql import (
    CORE_DDL, bulk_load_rtree, feature_table_sql, full_check, gpkg_blobs, logical_type, quick_check, quoted,
    read_header, register_functions, rtree_extension_row, rtree_sql, srs_row, wkb_of,
)
from layers.rasters import RasterData, geotiff_bytes, raster_from_source
from layers.store_base import META_KEYS, BaseStore, Transaction
from layers.store_rows import PreparedRows, RawRows, now

__all__ = ["GeoPackageStore"]

log = logging.getLogger("riskmap.store")

_META, _AUDIT, _RETIRED = "riskmap_layers", "riskmap_audit", "riskmap_retired"
_REQUIRED = ("gpkg_spatial_ref_sys", "gpkg_contents", _META, _AUDIT)
_CHUNK = 500  # ids per IN (…) list
_BULK_ROWS = 2000  # a layer write of more rows goes through GDAL's writer (see _GpkgTransaction._bulk_insert)

_RISKMAP_DDL = f"""
CREATE TABLE {_META} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL DEFAULT 'vector' CHECK (kind IN ('vector', 'raster')), version INTEGER NOT NULL,
  updated_at TEXT NOT NULL, derived INTEGER NOT NULL DEFAULT 0, ruleset_version TEXT, fingerprint TEXT,
  rows INTEGER NOT NULL, crs TEXT NOT NULL, raster_file TEXT, id_field TEXT, retired INTEGER NOT NULL DEFAULT 0,
  raster_token TEXT, raster_meta TEXT);
CREATE TABLE {_AUDIT} (id INTEGER PRIMARY KEY AUTOINCREMENT, "when" TEXT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, layer TEXT NOT NULL, rows INTEGER, version INTEGER, detail TEXT, feature TEXT,
  before TEXT, after TEXT);
"""
_RETIRED_DDL = f"""
CREATE TABLE {_RETIRED} (id INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, feature TEXT NOT NULL,
  row_version INTEGER NOT NULL, retired_at TEXT NOT NULL, retired_by TEXT NOT NULL, data TEXT NOT NULL,
  geom BLOB, UNIQUE (layer, feature));
CREATE INDEX riskmap_audit_feature ON {_AUDIT} (layer, feature);
"""
_UPGRADE_COLUMNS = {_META: ("id_field TEXT", "retired INTEGER NOT NULL DEFAULT 0", "raster_token TEXT",
                            "raster_meta TEXT"),
                    _AUDIT: ("feature TEXT", "before TEXT", "after TEXT")}

_OPEN: weakref.WeakSet = weakref.WeakSet()
#: A file state younger than this (seconds) is never taken as checked: a change within the same
#: tick of the file system's clock would leave its size and mtime as they were.
_SETTLED_S = 2.0


@atexit.register
def _close_all() -> None:  # pragma: no cover - runs at interpreter exit
    """Close every connection, so the last close checkpoints and removes the WAL files."""
    for store in list(_OPEN):
        store.close()


def _file_state(path: Path) -> tuple[str, ...] | None:
    """What identifies the file's content cheaply (path, inode, size, mtime, ctime, WAL size and
    mtime), or None while it was modified too recently to be trusted (see :data:`_SETTLED_S`)."""
    stat = path.stat()
    wal = Path(f"{path}-wal")
    wal_stat = wal.stat() if wal.exists() else None
    newest = max(stat.st_mtime, wal_stat.st_mtime if wal_stat else 0)
    if time.time() - newest < _SETTLED_S:
        return None
    wal_state = (wal_stat.st_size, wal_stat.st_mtime_ns) if wal_stat else (0, 0)
    return tuple(map(str, (path.resolve(), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
                           *wal_state)))


class _CheckedStates:
    """File states whose quick check passed, kept in the process and in a small file of the user's
    cache folder (``$RISKMAP_CACHE_DIR``, else ``$XDG_CACHE_HOME/riskmap`` or ``~/.cache/riskmap``),
    so that a command on an unchanged 400 MB store does not pay ~1 s of ``quick_check`` again."""

    limit = 256

    def __init__(self) -> None:
        self._seen: set[tuple] = set()

    @staticmethod
    def _file() -> Path:
        folder = os.environ.get("RISKMAP_CACHE_DIR") or Path(
            os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "riskmap"
        return Path(folder) / "checked-stores"

    def _lines(self) -> list[str]:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return self._file().read_text(encoding="utf-8").splitlines()
        return []

    def __contains__(self, state) -> bool:
        return state is not None and (state in self._seen or "\t".join(state) in self._lines())

    def add(self, state) -> None:
        if state is None or state in self._seen:
            return
        self._seen.add(state)
        lines = [line for line in self._lines() if line][-(self.limit - 1):] + ["\t".join(state)]
        with contextlib.suppress(OSError):
            target = self._file()
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            os.replace(tmp, target)


_CHECKED = _CheckedStates()


def _missing_store(path: Path) -> StoreError:
    return StoreError(f"{path}: no such store; build the demo store with `riskmap demo --store {path}`, "
                      f"or start one with `riskmap import LAYER FILE --store {path} --create`")


def _integrity(path: Path) -> str | None:
    """Why the file at ``path`` cannot be opened as a store (None when it can), cheaply."""
    if not path.exists():
        raise _missing_store(path)
    if not path.is_file():
        return "not a GeoPackage store (it is a directory)"
    reason = read_header(path)
    if reason:
        return reason
    if _file_state(path) in _CHECKED:
        return None
    try:
        with contextlib.closing(sqlite3.connect(_check_uri(path), uri=True)) as con:
            problems = quick_check(con, _REQUIRED)
    except sqlite3.DatabaseError as exc:
        problems = [f"cannot be read as a GeoPackage ({exc})"]
    if problems:
        return problems[0]
    _CHECKED.add(_file_state(path))
    return None


def _check_uri(path: Path) -> str:
    """The URI the checks open ``path`` with: read-write where allowed, though they only read.

    A read-only SQLite connection to a WAL file creates ``-wal`` and ``-shm`` files it cannot
    remove; a read-write one removes them when it closes (it never writes to the file: the
    checks only read, and the WAL it would fold in is empty).
    """
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return f"{path.resolve().as_uri()}?mode={'rw' if writable else 'ro'}"


def _refusal(path: Path, reason: str) -> StoreError:
    if reason.startswith("damaged"):
        return StoreError(f"{path}: {reason}; refused, nothing read or written — restore it from a backup "
                          f"(`riskmap check --store {path}` lists what is wrong)")
    if "not a riskmap store" in reason:
        reason += "; import its layers into a store made with --create"
    return StoreError(f"{path}: {reason}")


@contextlib.contextmanager
def _unsynchronised() -> Iterator[None]:
    """Let GDAL's SQLite skip its fsyncs while it writes a scratch file (never the store)."""
    key = "OGR_SQLITE_SYNCHRONOUS"
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: previous})


def _sql_column(values: list, kind: str) -> list:
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
    return [_sql_column(rows.values[c], rows.types[c]) for c in rows.columns]


def _id_values(ids: list[str], kind: str) -> list:
    return [int(i) for i in ids] if kind == "int" else list(ids)


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


class _GpkgTransaction(Transaction):
    """The write primitives over one ``sqlite3`` connection inside ``BEGIN IMMEDIATE``."""

    def __init__(self, store: GeoPackageStore, con: sqlite3.Connection):
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
            f"SELECT {quoted(id_field)}, row_version FROM {quoted(name)}")}

    def fetch(self, name, id_field, ids, types) -> tuple[RawRows, dict]:
        kind = types.get(id_field, "str")
        raws = []
        for part in _chunks(_id_values(ids, kind)):
            raws.append(self.store._select(self.con, name, list(types), types, True,
                                           f"{quoted(id_field)} IN ({', '.join('?' * len(part))})", part))
        return _concat(raws, list(types), types)

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

    def _bulk_insert(self, rows: PreparedRows, system: dict) -> None:
        """Insert many rows at C speed: GDAL writes them (typed Arrow columns, WKB) into a scratch
        GeoPackage in a temporary folder — never the store — and one ``INSERT … SELECT`` copies
        them into the store's table inside this transaction. Rows keep their order: fid = 1…n."""
        folder = tempfile.mkdtemp(prefix="riskmap-rows-")
        alias = f"riskmap_rows_{len(self._scratch)}"
        self._scratch.append((alias, folder))
        scratch = Path(folder) / "rows.gpkg"
        with _unsynchronised():
            pyogrio.write_arrow(rows.arrow(system), scratch, layer="rows", driver="GPKG", geometry_name="geometry",
                                geometry_type="Unknown", crs="EPSG:4490",
                                layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": "geom", "FID": "fid"})
        self.con.execute(f"ATTACH DATABASE ? AS {alias}", (str(scratch),))
        names = ", ".join(['"fid"', '"geom"', *map(quoted, rows.columns), '"row_version"', '"updated_at"',
                           '"updated_by"'])
        self.con.execute(f'INSERT INTO {quoted(rows.name)} ({names}) SELECT {names} FROM {alias}."rows" ORDER BY "fid"')

    def replace(self, rows: PreparedRows, system: dict) -> None:
        name = rows.name
        self.store._drop_vector(self.con, name)
        self.con.execute(feature_table_sql(name, rows.columns, rows.types))
        if len(rows) > _BULK_ROWS:
            self._bulk_insert(rows, system)
        else:
            self.con.executemany(self._insert_sql(rows, fid=True), self._rows_sql(rows, system, fid=True))
        if rows.id_field:
            self.con.execute(f"CREATE UNIQUE INDEX {quoted(f'riskmap_{name}_id')} ON {quoted(name)} "
                             f"({quoted(rows.id_field)})")
        finite = np.flatnonzero(np.isfinite(rows.bounds[:, 0]))
        bounds = rows.bounds[finite]
        extent = ((float(bounds[:, 0].min()), float(bounds[:, 1].min()), float(bounds[:, 2].max()),
                   float(bounds[:, 3].max())) if len(finite) else (None,) * 4)
        self.con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, "
                         "max_x, max_y, srs_id) VALUES (?, 'features', ?, '', ?, ?, ?, ?, 4490)",
                         (name, name, *extent))
        self.con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4490, ?, 0)",
                         (name, rows.geometry_type, 2 if rows.has_z else 0))
        statements = rtree_sql(name)
        self.con.execute(statements[0])
        bulk_load_rtree(self.con, f"rtree_{name}_geom", finite + 1, bounds)
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
        for part in _chunks(_id_values(ids, kind)):
            self.con.execute(f"DELETE FROM {quoted(name)} WHERE {quoted(id_field)} IN ({', '.join('?' * len(part))})",
                             part)

    def archive(self, name: str, entries: list[dict]) -> None:
        self.con.executemany(f"INSERT INTO {_RETIRED} (layer, feature, row_version, retired_at, retired_by, data, "
                             f"geom) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(name, e["feature"], e["row_version"], e["retired_at"], e["retired_by"], e["data"],
                               e["wkb"]) for e in entries])

    def unarchive(self, name: str, ids: list[str]) -> None:
        for part in _chunks(list(ids)):
            self.con.execute(f"DELETE FROM {_RETIRED} WHERE layer = ? AND feature IN ({', '.join('?' * len(part))})",
                             [name, *part])

    # rasters --------------------------------------------------------------
    def put_raster(self, name: str, raster: RasterData) -> None:
        with tempfile.TemporaryDirectory(prefix="riskmap-raster-") as folder:
            staged = gpkg_raster.stage(raster, name, Path(folder))
            gpkg_raster.copy_in(self.con, staged, name, raster.nodata)


def _concat(raws: list[tuple[RawRows, dict]], columns: list[str], types: dict) -> tuple[RawRows, dict]:
    values = {c: [v for raw, _ in raws for v in raw.values[c]] for c in columns}
    system = {k: [v for _, s in raws for v in s[k]] for k in ("row_version", "updated_at", "updated_by")}
    return RawRows(columns, types, values, [w for raw, _ in raws for w in raw.wkb]), system


class GeoPackageStore(BaseStore):
    """A :class:`~layers.store.Store` in one GeoPackage file (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        An existing store, made by :meth:`create` (or by an older riskmap).
    lock_timeout : float
        Seconds a writer waits for another writer before giving up with StoreError.
    check : bool
        Run the cheap integrity check on open (StoreError if the file is damaged).
    """

    def __init__(self, path, *, lock_timeout: float = 120.0, check: bool = True):
        self.path = Path(path)
        self._address = str(path)
        self.lock_timeout = float(lock_timeout)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self.notes: list[str] = []
        if check:
            reason = _integrity(self.path)
            if reason:
                raise _refusal(self.path, reason)
        elif not self.path.exists():
            raise _missing_store(self.path)
        _OPEN.add(self)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, path, **kwargs) -> GeoPackageStore:
        """Create an empty store at ``path`` (StoreError if something is already there)."""
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: already exists; open it with --store {path}")
        if not path.parent.is_dir():
            raise StoreError(f"{path}: cannot create a store, folder {path.parent} does not exist")
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.gpkg", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        tmp.unlink()
        try:
            with contextlib.closing(sqlite3.connect(tmp, isolation_level=None)) as con:
                con.execute("PRAGMA application_id = 1196444487")  # "GPKG"
                con.execute("PRAGMA user_version = 10400")  # GeoPackage 1.4.0
                con.execute("BEGIN")
                for statement in (CORE_DDL + _RISKMAP_DDL + _RETIRED_DDL).split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
                    ("Undefined Cartesian SRS", -1, "NONE", -1, "undefined", None),
                    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None), srs_row(4326), srs_row(4490)])
                _register_riskmap_tables(con)
                con.execute("COMMIT")
                con.execute("PRAGMA journal_mode = WAL")
            if path.exists():  # raced with another creator
                raise StoreError(f"{path}: already exists")
            os.replace(tmp, path)
        except BaseException as exc:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
            if isinstance(exc, (RiskmapError, KeyboardInterrupt, SystemExit)):
                raise
            raise StoreError(f"{path}: cannot create the store ({exc})") from exc
        store = cls(path, **kwargs)
        store.created = True
        return store

    @classmethod
    def open(cls, path, *, create: bool = False, check: bool = True, **kwargs) -> GeoPackageStore:
        """Open the store at ``path``, creating an empty one first if ``create`` and it is missing."""
        if create and not Path(path).exists():
            return cls.create(path, **kwargs)
        return cls(path, check=check, **kwargs)

    def destroy(self) -> None:
        """Delete the store's file (and WAL files): for a command that created it and then failed."""
        self.close()
        for leftover in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            leftover.unlink(missing_ok=True)

    # ------------------------------------------------------------------ connections
    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (made on first use, never shared across threads or processes)."""
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            return con
        try:
            con = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None,
                                  check_same_thread=False)
            register_functions(con)
            con.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from None
        self._local.con, self._local.pid, self._local.depth = con, os.getpid(), 0
        with self._lock:
            self._connections.append(con)
        return con

    def close(self) -> None:
        """Close every connection of this store (it reconnects when used again)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for con in connections:
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._local = threading.local()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        outer = self._local.depth == 0
        try:
            if outer:
                con.execute("BEGIN")
            self._local.depth += 1
            yield con
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot read the store ({exc})") from None
        finally:
            self._local.depth -= 1
            if outer and con.in_transaction:
                con.execute("COMMIT")

    def _query(self, sql: str, params=(), con=None) -> list[sqlite3.Row]:
        with contextlib.nullcontext(con) if con is not None else self._snapshot() as c:
            cursor = c.execute(sql, params)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_GpkgTransaction]:
        con = self._connect()
        if self._local.depth:
            raise StoreError(f"{self.path}: a write cannot start inside a read")  # pragma: no cover
        moved: list[Path] = []
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"{self.path}: locked by another writer for more than "
                                 f"{self.lock_timeout:.0f} s; try again later") from None
            raise StoreError(f"{self.path}: cannot write the store ({exc})") from None
        tx = _GpkgTransaction(self, con)
        try:
            moved = self._upgrade(con)
            yield tx
            con.execute("COMMIT")
        except BaseException as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if isinstance(exc, (RiskmapError, KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            raise StoreError(f"{self.path}: write failed, store left unchanged ({exc})") from exc
        finally:
            tx.release()
        self._checkpoint(con)
        for folder in moved:
            shutil.rmtree(folder, ignore_errors=True)

    def _checkpoint(self, con: sqlite3.Connection) -> None:
        """Fold the WAL into the file, waiting at most 0.2 s for readers of an older snapshot."""
        con.execute("PRAGMA busy_timeout = 200")
        try:
            busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            busy = 1
        finally:
            con.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
        if busy:
            log.debug("%s: WAL checkpoint postponed (a reader holds an older snapshot)", self.path)

    # ------------------------------------------------------------------ upgrade of older stores
    def _upgrade(self, con: sqlite3.Connection) -> list[Path]:
        """Bring a store written by an older riskmap up to date, inside the write transaction.

        Returns the raster folders to remove once the transaction has committed.
        """
        have = {r[1] for r in con.execute(f"PRAGMA table_info({_META})")}
        if "raster_meta" not in have:
            for table, columns in _UPGRADE_COLUMNS.items():
                present = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in present:
                        con.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            for statement in _RETIRED_DDL.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES "
                        f"('{_RETIRED}', 'attributes', '{_RETIRED}', 'riskmap: retired rows')")
            self._upgrade_layers(con)
        legacy = con.execute(f"SELECT * FROM {_META} WHERE kind = 'raster' AND raster_file IS NOT NULL").fetchall()
        if not legacy:
            return []
        folder = self.path.with_name(self.path.name + ".rasters")
        tx, when = _GpkgTransaction(self, con), now()
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({_META})")]
        for row in legacy:
            meta = dict(zip(columns, row))
            source = folder / meta["raster_file"]
            if not source.is_file():
                raise StoreError(f"{self.path}: raster {meta['name']!r} is registered in {folder.name}/ but its file "
                                 f"{source.name} is missing; re-run the command that wrote it")
            raster = raster_from_source(source)
            tx.put_raster(meta["name"], raster)
            tx.put_meta({**{k: meta.get(k) for k in META_KEYS}, "raster_token": os.urandom(16).hex(),
                         "raster_meta": json.dumps(raster.meta(), ensure_ascii=False), "retired": 0})
            tx.append_audit([dict(when=when, actor="riskmap", action="migrate", layer=meta["name"], feature=None,
                                  version=meta["version"], rows=0, detail=f"raster moved into the GeoPackage "
                                  f"from {folder.name}/{source.name}", before=None, after=None)])
        note = (f"{self.path}: rasters {', '.join(r[1] for r in legacy)} moved into the GeoPackage from "
                f"{folder.name}/ (removed); the .gpkg file alone is now the whole store")
        self.notes.append(note)
        log.warning(note)
        return [folder]

    def _upgrade_layers(self, con: sqlite3.Connection) -> None:
        """System columns and id indexes for the vector tables of an older store."""
        from layers.catalogue import CATALOGUE

        for name, version, updated_at in con.execute(f"SELECT name, version, updated_at FROM {_META} "
                                                     "WHERE kind = 'vector'").fetchall():
            present = {r[1] for r in con.execute(f"PRAGMA table_info({quoted(name)})")}
            if "row_version" not in present:
                con.execute(f"ALTER TABLE {quoted(name)} ADD COLUMN row_version INTEGER NOT NULL DEFAULT {int(version)}")
                con.execute(f"ALTER TABLE {quoted(name)} ADD COLUMN updated_at TEXT DEFAULT "
                            f"'{updated_at.replace(chr(39), '')}'")
                con.execute(f"ALTER TABLE {quoted(name)} ADD COLUMN updated_by TEXT")
            schema = CATALOGUE.get(name)
            if schema is None or schema.id_field not in present:
                continue
            try:
                con.execute("SAVEPOINT id_index")
                con.execute(f"CREATE UNIQUE INDEX {quoted(f'riskmap_{name}_id')} ON {quoted(name)} "
                            f"({quoted(schema.id_field)})")
                con.execute(f"UPDATE {_META} SET id_field = ? WHERE name = ?", (schema.id_field, name))
                con.execute("RELEASE id_index")
            except sqlite3.IntegrityError:  # repeated ids: the layer stays without row identity
                con.execute("ROLLBACK TO id_index")
                con.execute("RELEASE id_index")

    # ------------------------------------------------------------------ read primitives
    def _meta_rows(self, name: str | None = None, con=None) -> list[dict]:
        if name is None:
            rows = self._query(f"SELECT * FROM {_META} ORDER BY name", con=con)
        else:
            rows = self._query(f"SELECT * FROM {_META} WHERE name = ?", (name,), con=con)
        for row in rows:
            for key in META_KEYS:
                row.setdefault(key, 0 if key == "retired" else None)
        return rows

    def _geometry_name(self, con, name: str) -> str:
        found = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
        if found is None:
            raise StoreError(f"{self.path}: layer {name!r} has no GeoPackage geometry column")
        return found[0]

    def _column_types(self, name: str, con=None) -> dict[str, str]:
        with contextlib.nullcontext(con) if con is not None else self._snapshot() as c:
            geometry = self._geometry_name(c, name)
            info = c.execute(f"PRAGMA table_info({quoted(name)})").fetchall()
        skip = {"fid", geometry, "row_version", "updated_at", "updated_by"}
        return {r[1]: logical_type(r[2]) for r in info if r[1] not in skip and not r[5]}

    def _select(self, con, name, columns, types, system, where_sql="1", params=()) -> tuple[RawRows, dict | None]:
        geometry = self._geometry_name(con, name)
        present = {r[1] for r in con.execute(f"PRAGMA table_info({quoted(name)})")}
        extra = [c if c in present else f"NULL AS {c}" for c in ("row_version", "updated_at", "updated_by")] \
            if system else []
        names = [quoted(geometry), *map(quoted, columns), *extra]
        cursor = con.execute(f'SELECT {", ".join(names)} FROM {quoted(name)} WHERE {where_sql} ORDER BY "fid"', params)
        rows = cursor.fetchall()
        data = list(zip(*rows)) if rows else [()] * len(names)
        raw = RawRows(columns, types, {c: list(data[i + 1]) for i, c in enumerate(columns)}, wkb_of(list(data[0])))
        if not system:
            return raw, None
        base = len(columns) + 1
        sys = {k: list(data[base + i]) for i, k in enumerate(("row_version", "updated_at", "updated_by"))}
        if "row_version" not in present:
            meta = self._meta_rows(name, con)[0]
            sys["row_version"] = [meta["version"]] * len(raw)
            sys["updated_at"] = [meta["updated_at"]] * len(raw)
        return raw, sys

    def _read_raw(self, name, columns, types, bbox, where, system):
        with self._snapshot() as con:
            clauses, params = [], []
            if bbox is not None:
                geometry = self._geometry_name(con, name)
                rtree = f"rtree_{name}_{geometry}"
                if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rtree,)).fetchone():
                    clauses.append(f'"fid" IN (SELECT id FROM {quoted(rtree)} WHERE minx <= ? AND maxx >= ? '
                                   f'AND miny <= ? AND maxy >= ?)')
                    params += [bbox[2], bbox[0], bbox[3], bbox[1]]
            all_types = self._column_types(name, con)
            for column, values in where.items():
                sql_values = _sql_column(values, all_types[column])
                wanted = [v for v in sql_values if v is not None]
                parts = [f"{quoted(column)} IN ({', '.join('?' * len(wanted))})"] if wanted else []
                if len(wanted) < len(sql_values):
                    parts.append(f"{quoted(column)} IS NULL")
                clauses.append("(" + " OR ".join(parts) + ")")
                params += wanted
            raw, sys = self._select(con, name, columns, types, system, " AND ".join(clauses) or "1", params)
        for column in columns:
            if types[column] == "bool":
                raw.values[column] = [None if v is None else bool(v) for v in raw.values[column]]
        return raw, sys

    def _archive_rows(self, con, name: str, ids=None) -> list[dict]:
        if con.execute(f"SELECT 1 FROM sqlite_master WHERE name = '{_RETIRED}'").fetchone() is None:
            return []
        sql = f"SELECT feature, row_version, retired_at, retired_by, data, geom AS wkb FROM {_RETIRED} WHERE layer = ?"
        if ids is None:
            return self._query(sql + " ORDER BY id", (name,), con=con)
        out = []
        for part in _chunks(list(ids)):
            out += self._query(sql + f" AND feature IN ({', '.join('?' * len(part))})", (name, *part), con=con)
        return out

    def _read_archive(self, name: str) -> list[dict]:
        with self._snapshot() as con:
            return self._archive_rows(con, name)

    def _audit_rows(self, layer, feature, since, limit) -> list[dict]:
        with self._snapshot() as con:
            present = {r[1] for r in con.execute(f"PRAGMA table_info({_AUDIT})")}
            extra = ", ".join(c if c in present else f"NULL AS {c}" for c in ("feature", "before", "after"))
            clauses, params = [], []
            for column, value in (("layer", layer), ("feature", feature)):
                if value is not None and (column in present or column == "layer"):
                    clauses.append(f"{column} = ?")
                    params.append(value)
                elif value is not None:
                    return []
            if since is not None:
                clauses.append('"when" >= ?')
                params.append(str(since))
            sql = (f'SELECT id, "when", actor, action, layer, {extra}, version, rows, detail FROM {_AUDIT} '
                   f'WHERE {" AND ".join(clauses) or "1"} ORDER BY id DESC')
            if limit is not None:
                sql += f" LIMIT {int(limit)}"
            return self._query(sql, params, con=con)

    def _raster_geotiff(self, meta: dict) -> bytes:
        if meta.get("raster_file"):  # an older store, not yet migrated: the file beside it
            path = self.path.with_name(self.path.name + ".rasters") / meta["raster_file"]
            if not path.is_file():
                raise StoreError(f"{self.path}: raster layer {meta['name']!r} is registered but its file {path} is "
                                 f"missing (an older store keeps rasters in {path.parent.name}/, which must be copied "
                                 f"with it); re-run the command that wrote it (`riskmap zone` for risk_surface)")
            return geotiff_bytes(raster_from_source(path))
        with self._snapshot() as con:
            raster = gpkg_raster.extract(con, meta["name"], json.loads(meta["raster_meta"]))
        return geotiff_bytes(raster)

    # ------------------------------------------------------------------ helpers of the transaction
    def _drop_vector(self, con, name: str) -> None:
        found = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
        if found is None and con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                         (name,)).fetchone() is None:
            return
        con.execute(f"DROP TABLE IF EXISTS {quoted(name)}")
        if found is not None:
            con.execute(f"DROP TABLE IF EXISTS {quoted(f'rtree_{name}_{found[0]}')}")
        for table in ("gpkg_geometry_columns", "gpkg_extensions", "gpkg_contents"):
            con.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
            con.execute("DELETE FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?)", (name,))

    # ------------------------------------------------------------------ integrity
    def check(self, full: bool = False) -> list[str]:
        """Problems of the store (empty when healthy): the cheap check, or with ``full`` the whole one."""
        reason = _integrity(self.path) if not full else read_header(self.path)
        if reason:
            return [reason]
        if not full:
            return []
        try:
            with contextlib.closing(sqlite3.connect(_check_uri(self.path), uri=True)) as con:
                register_functions(con)
                problems = quick_check(con, _REQUIRED)
                if problems and problems[0].startswith("a GeoPackage"):
                    return problems
                metas = [dict(zip([d[0] for d in cur.description], row))
                         for cur in [con.execute(f"SELECT * FROM {_META}")] for row in cur.fetchall()]
                problems = full_check(con, [m for m in metas if m["kind"] == "vector"],
                                      [m for m in metas if m["kind"] == "raster"])
        except sqlite3.DatabaseError as exc:
            return [f"damaged ({exc})"]
        folder = self.path.with_name(self.path.name + ".rasters")
        problems += [f"raster {m['name']!r}: its file {m['raster_file']} is missing from {folder.name}/"
                     for m in metas if m.get("raster_file") and not (folder / m["raster_file"]).is_file()]
        return problems


def _register_riskmap_tables(con: sqlite3.Connection) -> None:
    con.executemany("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES "
                    "(?, 'attributes', ?, ?)", [
                        (_META, _META, "riskmap: layers, versions and provenance"),
                        (_AUDIT, _AUDIT, "riskmap: audit log of every write and row change"),
                        (_RETIRED, _RETIRED, "riskmap: retired rows")])
