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
    costs milliseconds whatever the size of the store. A whole layer of more than a few thousand
    rows is first written by GDAL (typed Arrow columns) into a scratch GeoPackage in a temporary
    folder and copied in by one ``INSERT … SELECT``, with the R-tree bulk-loaded (see
    :func:`layers.gpkg_sql.bulk_load_rtree`): C speed for both, and GDAL never opens the store. A failure at any point rolls back; a killed
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
    required tables (:mod:`layers.gpkg_check`: 1.5–2 s for the 434 MB scale-100 demo when the
    file is in the page cache, more from a cold disk; the result is remembered per file state, in
    the process and in the user's cache folder, so opening an unchanged store again costs 0.2 ms);
    a damaged file is refused with one line and nothing is ever written to it. :meth:`GeoPackageStore.check` with ``full=True`` runs
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
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import RiskmapError
from layers import gpkg_raster
from layers.errors import StoreError
from layers.gpkg_check import REQUIRED_TABLES, check_uri, integrity, missing_store, refusal
from layers.gpkg_sql import (
    AUDIT_TABLE, CORE_DDL, META_TABLE, RETIRED_TABLE, full_check, logical_type, quick_check, quoted, read_header,
    register_functions, srs_row, wkb_of, wkb_sql,
)
from layers.gpkg_write import GpkgTransaction, chunks, sql_column
from layers.rasters import geotiff_bytes, raster_from_source
from layers.store_base import META_KEYS, BaseStore, ThreadConnections
from layers.store_rows import RawRows, now

__all__ = ["GeoPackageStore"]

log = logging.getLogger("riskmap.store")

_META, _AUDIT, _RETIRED = META_TABLE, AUDIT_TABLE, RETIRED_TABLE

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
@atexit.register
def _close_all() -> None:  # pragma: no cover - runs at interpreter exit
    """Close every connection, so the last close checkpoints and removes the WAL files."""
    for store in list(_OPEN):
        store.close()


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
        self._pool = ThreadConnections(self._open_connection)
        self._catalogue = threading.local()  # per thread: (connection, its state, the infos read)
        self.notes: list[str] = []
        if check:
            reason = integrity(self.path)
            if reason:
                raise refusal(self.path, reason)
        elif not self.path.exists():
            raise missing_store(self.path)
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
    def _open_connection(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None,
                                  check_same_thread=False)
            register_functions(con)
            con.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from None
        return con

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._pool.get()

    def close(self) -> None:
        """Close every connection of this store (it reconnects when used again)."""
        self._pool.close()

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        outer = self._pool.depth == 0
        try:
            if outer:
                con.execute("BEGIN")
            self._pool.depth += 1
            yield con
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot read the store ({exc})") from None
        finally:
            self._pool.depth -= 1
            if outer and con.in_transaction:
                con.execute("COMMIT")

    def _query(self, sql: str, params=(), con=None) -> list[sqlite3.Row]:
        with contextlib.nullcontext(con) if con is not None else self._snapshot() as c:
            cursor = c.execute(sql, params)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[GpkgTransaction]:
        con = self._connect()
        if self._pool.depth:
            raise StoreError(f"{self.path}: a write cannot start inside a read")  # pragma: no cover
        moved: list[Path] = []
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"{self.path}: locked by another writer for more than "
                                 f"{self.lock_timeout:.0f} s; try again later") from None
            raise StoreError(f"{self.path}: cannot write the store ({exc})") from None
        tx = GpkgTransaction(self, con)
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
        tx, when = GpkgTransaction(self, con), now()
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
    def infos(self) -> list:
        """Info of every layer, sorted by name: read once per change of the file, not per call.

        SQLite tells a connection whether any other connection has committed since it last asked
        (``PRAGMA data_version``: a few microseconds, no read of the file), and the connection
        counts the rows it changed itself (``total_changes``). Together they name the state of the
        file this thread's connection sees, so the catalogue read last on it is reused until one of
        them moves, whoever wrote: another thread or process, or another tool. Reading the
        catalogue on every request was 6 % of a server worker's CPU under the mixed load (issue
        14). Inside a snapshot or transaction it is read (what that one sees).
        """
        if self._pool.depth:
            return super().infos()
        con = self._connect()
        try:
            state = (con.execute("PRAGMA data_version").fetchone()[0], con.total_changes)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot read the store ({exc})") from None
        found = getattr(self._catalogue, "found", None)
        if found is not None and found[0] is con and found[1] == state:
            return list(found[2])
        infos = super().infos()
        self._catalogue.found = (con, state, tuple(infos))
        return infos

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
        extra = ([quoted(c) if c in present else f"NULL AS {c}" for c in ("row_version", "updated_at", "updated_by")]
                 if system else [])
        if system and "row_version" in present:
            extra[0] = 'coalesce("row_version", 1)'  # a row added by another tool (QGIS…) is version 1
        names = [wkb_sql(quoted(geometry)), *map(quoted, columns), *extra]
        cursor = con.execute(f'SELECT {", ".join(names)} FROM {quoted(name)} WHERE {where_sql} ORDER BY "fid"', params)
        rows = cursor.fetchall()
        # one 2-D array of references: its columns are views, no per-value work (zip(*rows) is 2× slower)
        data = np.array(rows, dtype=object).reshape(len(rows), len(names)).T if rows else [[]] * len(names)
        wkb = data[0]
        if any(w is not None and w[:2] == b"GP" for w in wkb):  # a blob wkb_sql did not know: strip it here
            wkb = np.array(wkb_of(list(wkb)), dtype=object)
        raw = RawRows(columns, types, {c: data[i + 1] for i, c in enumerate(columns)}, wkb)
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
                sql_values = sql_column(values, all_types[column])
                wanted = [v for v in sql_values if v is not None]
                parts = [f"{quoted(column)} IN ({', '.join('?' * len(wanted))})"] if wanted else []
                if len(wanted) < len(sql_values):
                    parts.append(f"{quoted(column)} IS NULL")
                clauses.append("(" + " OR ".join(parts) + ")")
                params += wanted
            raw, sys = self._select(con, name, columns, types, system, " AND ".join(clauses) or "1", params)
        for column in columns:
            if types[column] == "bool":  # SQLite keeps 0/1
                values = np.asarray(raw.values[column], dtype=object)
                missing = pd.isna(values)
                flags = np.zeros(len(values), dtype=object)
                flags[~missing] = values[~missing].astype(bool)
                flags[missing] = None
                raw.values[column] = flags
        return raw, sys

    def _archive_rows(self, con, name: str, ids=None) -> list[dict]:
        if con.execute(f"SELECT 1 FROM sqlite_master WHERE name = '{_RETIRED}'").fetchone() is None:
            return []
        sql = f"SELECT feature, row_version, retired_at, retired_by, data, geom AS wkb FROM {_RETIRED} WHERE layer = ?"
        if ids is None:
            return self._query(sql + " ORDER BY id", (name,), con=con)
        out = []
        for part in chunks(list(ids)):
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

    # ------------------------------------------------------------------ accounts (layers.store_accounts)
    def _account_table(self, name: str) -> str:
        return name

    def _has_account_tables(self, con) -> bool:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('riskmap_accounts', 'riskmap_sessions')").fetchone()[0] == 2

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
        reason = integrity(self.path) if not full else read_header(self.path)
        if reason:
            return [reason]
        if not full:
            return []
        try:
            with contextlib.closing(sqlite3.connect(check_uri(self.path), uri=True)) as con:
                register_functions(con)
                problems = quick_check(con, REQUIRED_TABLES)
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
