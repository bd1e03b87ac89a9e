"""What every store backend shares: the contract's logic written once, over small backend primitives.

:class:`BaseStore` implements the public methods of :class:`layers.store.Store` — reads with their
argument checks and casting, whole-layer writes with row-version carry-over and retirement, row
edits with conflict detection (mixed in from :mod:`layers.store_edits`), rasters, the audit log —
in terms of:

* a few read primitives (``_meta_rows``, ``_column_types``, ``_read_raw``, ``_read_archive``,
  ``_audit_rows``, ``_raster_geotiff``), run inside ``_snapshot()`` so that one call sees one
  committed state; and
* a :class:`Transaction`: the backend's write primitives (replace a layer's rows, insert, update,
  delete, archive retired rows, append audit rows, upsert metadata, store a raster), all inside
  one database transaction that commits at the end of the ``with`` block or rolls back.

So the rules — which version a row gets, when an edit is a conflict, what an audit row says — live
here once, and a backend only moves rows.

Retired rows
------------
A retired row leaves its layer's table (desktop GIS, tiles and reads see live rows only) for the
store's archive table ``riskmap_retired``: layer, feature id, last row version, ``retired_at``,
``retired_by``, the attributes as JSON and the geometry as WKB. ``read(include_retired=True)``
brings them back beside the live rows; an upsert naming a retired id and its last version revives
it (next version).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from layers.errors import LayerNotFound, StoreError, ValidationError
from layers.rasters import GEOTIFFS, RasterData, open_geotiff, raster_from_source
from layers.store_records import AUDIT_COLUMNS, LayerInfo, display_address
from layers.store_accounts import AccountTables
from layers.store_edits import RowEdits
from layers.store_rows import (
    PreparedRows, RawRows, check_name, documents_json, frame_from_raw, now, prepare_layer, row_documents,
)

__all__ = ["BaseStore", "Transaction", "ThreadConnections", "SharedConnections", "META_KEYS", "AUDIT_KEYS"]

#: Fields of a layer's metadata row, in every backend.
META_KEYS = ("name", "kind", "version", "updated_at", "derived", "ruleset_version", "fingerprint", "rows",
             "crs", "id_field", "retired", "raster_token", "raster_meta")
#: Fields of an audit row as backends store it (``before``/``after`` as JSON text).
AUDIT_KEYS = ("when", "actor", "action", "layer", "feature", "version", "rows", "detail", "before", "after")


class ThreadConnections:
    """One database connection per thread (and per process), made on first use, closed together.

    A connection is never shared across threads, nor used in a child process that inherited it
    (a forked worker makes its own). ``depth`` counts the nested read snapshots of the calling
    thread, so that only the outermost one begins and ends a transaction.

    The server's worker threads come and go (anyio ends a thread idle for 10 s): the connection of a
    thread that has ended is closed when the next one is made, so a server under bursts of load does
    not pile up idle connections until the database refuses more ("too many clients").
    """

    def __init__(self, connect, alive=lambda con: True):
        self._connect, self._alive = connect, alive
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list = []  # (thread, connection)

    def get(self):
        """The calling thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid() and self._alive(con):
            return con
        self._close_orphans()
        con = self._connect()
        self._local.con, self._local.pid, self._local.depth = con, os.getpid(), 0
        with self._lock:
            self._all.append((threading.current_thread(), con))
        return con

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended."""
        with self._lock:
            ended = [con for thread, con in self._all if not thread.is_alive()]
            self._all = [(thread, con) for thread, con in self._all if thread.is_alive()]
        _close_all(ended)

    @property
    def depth(self) -> int:
        return getattr(self._local, "depth", 0)

    @depth.setter
    def depth(self, value: int) -> None:
        self._local.depth = value

    def close(self) -> None:
        """Close every connection made (the next use reconnects)."""
        with self._lock:
            connections, self._all = [con for _, con in self._all], []
        _close_all(connections)
        self._local = threading.local()


class SharedConnections:
    """At most ``size`` connections lent to any thread for one statement, kept open and reused.

    For statements that need no snapshot of their own (one statement is one): a PostGIS backend
    loads PostGIS and PROJ on its first spatial query (about 70 ms), which per-thread connections
    pay again for every new server thread. :meth:`warm` opens connections ahead and runs
    ``prepare`` on each, off the request path; each is lent as soon as it is ready, so a request
    arriving meanwhile waits for one connection, not for all of them (it waited for all eight:
    the first tile of a new server took 300 ms). A borrower waits while all ``size`` are lent, so a
    burst of requests queues here instead of starting more backends than the cores can run; never
    more than ``size`` are open. A forked worker makes its own.
    """

    def __init__(self, connect, size: int = 8, alive=lambda con: True):
        self._connect, self._alive, self.size = connect, alive, int(size)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._idle: list = []
        self._open = 0  # connections made and not closed, lent or idle
        self._slots = threading.BoundedSemaphore(self.size)

    def _forked(self) -> None:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._reset()  # the parent's connections stay the parent's

    def _made(self):
        """A new connection, counted (the caller holds a slot)."""
        con = self._connect()
        with self._lock:
            self._open += 1
        return con

    def _discard(self, con) -> None:
        with self._lock:
            self._open -= 1
        _close_all([con])

    @contextmanager
    def borrow(self):
        """A connection for the ``with`` block (made if none is idle); returned to the pool after it."""
        self._forked()
        with self._slots:
            with self._lock:
                con = self._idle.pop() if self._idle else None
            if con is not None and not self._alive(con):
                self._discard(con)
                con = None
            if con is None:
                con = self._made()
            try:
                yield con
            except BaseException:
                self._discard(con)  # its state is unknown (an error in a statement, an interrupt)
                raise
            with self._lock:
                self._idle.append(con)

    def warm(self, count: int, prepare) -> int:
        """Open connections until ``count`` (at most ``size``) are open and run ``prepare(connection)``
        on each new one, lending each as soon as it is prepared; returns how many were made."""
        self._forked()
        count, made = min(int(count), self.size), 0
        while True:
            with self._slots:
                with self._lock:
                    if self._open >= count:
                        return made
                con = self._made()
                try:
                    prepare(con)
                except BaseException:
                    self._discard(con)
                    raise
                with self._lock:
                    self._idle.append(con)
                made += 1

    def close(self) -> None:
        """Close the idle connections (the next borrower reconnects)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        _close_all(idle)


def _close_all(connections) -> None:
    for con in connections:
        try:
            con.close()
        except Exception:  # noqa: BLE001 - a connection already broken is closed enough
            pass


class Transaction(ABC):
    """The write primitives of one backend transaction (see the module docstring)."""

    @abstractmethod
    def meta(self, name: str) -> dict | None:
        """The metadata row of layer ``name`` (:data:`META_KEYS`), None when absent."""

    @abstractmethod
    def put_meta(self, entry: dict) -> None:
        """Insert or replace the metadata row ``entry``."""

    @abstractmethod
    def column_types(self, name: str) -> dict[str, str]:
        """Logical type of each attribute column of vector layer ``name``."""

    @abstractmethod
    def versions(self, name: str, id_field: str) -> dict[str, int]:
        """Row version of every live row, by id."""

    @abstractmethod
    def fetch(self, name: str, id_field: str, ids: list[str], types: dict[str, str]) -> tuple[RawRows, dict]:
        """The live rows with these ids, and their system columns (``{column: values}``)."""

    @abstractmethod
    def fetch_archive(self, name: str, ids: list[str] | None) -> list[dict]:
        """Archived (retired) rows of ``name`` with these ids (all when None): dicts with ``feature,
        row_version, retired_at, retired_by, data`` (JSON text) and ``wkb``."""

    @abstractmethod
    def replace(self, rows: PreparedRows, system: dict[str, list]) -> None:
        """Drop the layer's table (if any) and create it holding ``rows`` with ``system`` columns."""

    @abstractmethod
    def insert(self, rows: PreparedRows, system: dict[str, list]) -> None:
        """Add rows to the layer's table."""

    @abstractmethod
    def update(self, rows: PreparedRows, system: dict[str, list]) -> None:
        """Overwrite the rows with these ids."""

    @abstractmethod
    def delete(self, name: str, id_field: str, ids: list[str]) -> None:
        """Remove the live rows with these ids."""

    @abstractmethod
    def archive(self, name: str, entries: list[dict]) -> None:
        """Add retired rows (as :meth:`fetch_archive` returns them) to the archive."""

    @abstractmethod
    def unarchive(self, name: str, ids: list[str]) -> None:
        """Remove these ids of layer ``name`` from the archive (they are live again)."""

    @abstractmethod
    def append_audit(self, entries: list[dict]) -> list[int]:
        """Append audit rows (:data:`AUDIT_KEYS`, ``id`` too when copying); their ids."""

    @abstractmethod
    def put_raster(self, name: str, raster: RasterData) -> None:
        """Store the pixels of raster layer ``name`` (replacing any)."""


def _check_bbox(bbox):
    if bbox is None:
        return None
    try:
        bbox = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox must be (min_lon, min_lat, max_lon, max_lat), got {bbox!r}") from None
    if len(bbox) != 4 or not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
        raise InputError(f"bbox must be (min_lon, min_lat, max_lon, max_lat), got {bbox!r}")
    return bbox


def _meets(frame: gpd.GeoDataFrame, bbox) -> np.ndarray:
    """Rows whose geometry's bounding box meets ``bbox`` (exact, after an index read)."""
    bounds = shapely.bounds(np.asarray(frame.geometry.array, dtype=object))
    return ((bounds[:, 0] <= bbox[2]) & (bounds[:, 2] >= bbox[0])
            & (bounds[:, 1] <= bbox[3]) & (bounds[:, 3] >= bbox[1]))


def _info(meta: dict) -> LayerInfo:
    return LayerInfo(name=meta["name"], rows=int(meta["rows"] or 0), version=int(meta["version"]),
                     updated_at=meta["updated_at"], derived=bool(meta["derived"]),
                     ruleset_version=meta.get("ruleset_version"), fingerprint=meta.get("fingerprint"),
                     crs=meta["crs"], kind=meta["kind"], id_field=meta.get("id_field"),
                     retired=int(meta.get("retired") or 0))


class BaseStore(RowEdits, AccountTables, ABC):
    """The contract of :class:`layers.store.Store` over a backend's primitives."""

    _address: str
    #: True on a store that :func:`layers.store.open_store` had to create.
    created: bool = False

    # ------------------------------------------------------------------ backend primitives
    @abstractmethod
    def _snapshot(self) -> AbstractContextManager:
        """Reads inside see one committed state (re-entrant)."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Transaction]:
        """One write transaction; commits on success, rolls back on any exception."""

    @abstractmethod
    def _meta_rows(self, name: str | None = None) -> list[dict]:
        """Metadata rows (of one layer, or all sorted by name)."""

    @abstractmethod
    def _column_types(self, name: str) -> dict[str, str]:
        """Logical type of each attribute column of vector layer ``name``, in table order."""

    @abstractmethod
    def _read_raw(self, name: str, columns: list[str], types: dict[str, str], bbox, where: dict,
                  system: bool) -> tuple[RawRows, dict | None]:
        """Live rows (``bbox``: index candidates, filtered exactly above) and their system columns."""

    @abstractmethod
    def _read_archive(self, name: str) -> list[dict]:
        """Every archived row of ``name`` (see :meth:`Transaction.fetch_archive`)."""

    @abstractmethod
    def _audit_rows(self, layer, feature, since, limit) -> list[dict]:
        """Audit rows, newest first, ``before``/``after`` as JSON text."""

    def _replaced_meanwhile(self, name: str) -> bool:
        """Whether the read just made inside ``_snapshot`` may have missed a concurrent replacement
        of the layer's table (then it is retried); backends whose snapshots cover tables say no."""
        return False

    @abstractmethod
    def _raster_geotiff(self, meta: dict) -> bytes:
        """GeoTIFF bytes of the current version of raster ``meta['name']``."""

    @abstractmethod
    def check(self, full: bool = False) -> list[str]:
        """Problems found; empty when the store is healthy."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def destroy(self) -> None:
        """Remove the whole store, irreversibly (for a command that created it and then failed)."""

    # ------------------------------------------------------------------ identity
    @property
    def address(self) -> str:
        """The address the store was opened with."""
        return self._address

    def __repr__(self) -> str:
        return f"{type(self).__name__}({display_address(self._address)!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ metadata
    def _meta(self, name: str) -> dict:
        rows = self._meta_rows(name)
        if not rows:
            held = ", ".join(self.layers()) or "none"
            raise LayerNotFound(f"layer {name!r} is not in the store {display_address(self._address)} "
                                f"(layers held: {held})")
        return rows[0]

    def layers(self) -> list[str]:
        """Names of the layers held (vector and raster), sorted."""
        return [row["name"] for row in self._meta_rows()]

    def exists(self, name: str) -> bool:
        """Whether a layer called ``name`` is held."""
        return bool(self._meta_rows(name))

    def info(self, name: str) -> LayerInfo:
        """Rows, version, last write and provenance of layer ``name``."""
        return _info(self._meta(name))

    def infos(self) -> list[LayerInfo]:
        """:class:`LayerInfo` of every layer, sorted by name (one query)."""
        return [_info(row) for row in self._meta_rows()]

    def _vector_meta(self, name: str) -> dict:
        meta = self._meta(name)
        if meta["kind"] != "vector":
            raise StoreError(f"layer {name!r} in {display_address(self._address)} is a raster; "
                             f"use read_raster({name!r})")
        return meta

    # ------------------------------------------------------------------ reads
    def read(self, name: str, bbox=None, columns=None, where=None, include_retired: bool = False,
             versions: bool = False) -> gpd.GeoDataFrame:
        """Rows of vector layer ``name`` in EPSG:4490 (see :meth:`layers.store.Store.read`).

        Parameters
        ----------
        name : str
        bbox : tuple of 4 floats, optional
            ``(min_lon, min_lat, max_lon, max_lat)``: rows whose bounding box meets it, found
            through the layer's spatial index.
        columns : list of str, optional
            Attribute columns to return (all by default); the geometry always comes back.
        where : dict, optional
            ``{column: value}`` or ``{column: [values]}``; None matches a missing value.
        include_retired : bool
            Add the retired rows, with ``retired_at``/``retired_by`` (and the system columns).
        versions : bool
            Add the system columns ``row_version``, ``updated_at``, ``updated_by``.

        Returns
        -------
        geopandas.GeoDataFrame
            A catalogue layer's columns carry the dtypes of their fields
            (:attr:`layers.schema.Field.dtype`).
        """
        bbox = _check_bbox(bbox)
        system = versions or include_retired
        for _ in range(5):
            with self._snapshot():
                self._vector_meta(name)
                types = self._column_types(name)
                chosen = list(types) if columns is None else list(columns)
                unknown = [c for c in chosen if c not in types]
                if unknown:
                    raise InputError(f"layer {name!r} has no column(s) {', '.join(unknown)}; "
                                     f"columns: {', '.join(types)}")
                filters = self._filters(name, where, types)
                raw, extra = self._read_raw(name, chosen, {c: types[c] for c in chosen}, bbox, filters, system)
                archived = self._read_archive(name) if include_retired else []
                if not self._replaced_meanwhile(name):
                    break
        frame = frame_from_raw(name, raw, extra=extra)
        if include_retired:
            frame = self._with_retired(name, frame, archived, chosen, types, filters)
        if bbox is not None and len(frame):
            frame = frame[_meets(frame, bbox)].reset_index(drop=True)
        return frame

    @staticmethod
    def _filters(name: str, where, types: dict[str, str]) -> dict[str, list]:
        if not where:
            return {}
        if not isinstance(where, Mapping):
            raise InputError(f"where must be a mapping {{column: value or list of values}}, got {where!r}")
        from layers.store_rows import _to_python

        filters = {}
        for column, wanted in where.items():
            if column not in types:
                raise InputError(f"layer {name!r} has no column {column!r} to filter on; "
                                 f"columns: {', '.join(types)}")
            values = list(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]
            try:
                filters[column] = _to_python(name, column, pd.Series(values, dtype=object), types[column],
                                             [f"where {column}"] * len(values))
            except ValidationError as exc:
                raise InputError(f"layer {name!r}: filter on {column!r}: {exc.problems[0].message}") from None
        return filters

    def _with_retired(self, name, frame, archived, chosen, types, filters) -> gpd.GeoDataFrame:
        frame = frame.assign(retired_at=pd.Series([None] * len(frame), dtype=object),
                             retired_by=pd.Series([None] * len(frame), dtype=object))
        if not archived:
            return frame
        docs = [json.loads(entry["data"]) for entry in archived]
        raw = RawRows(chosen, {c: types[c] for c in chosen},
                      {c: [d.get(c) for d in docs] for c in chosen}, [e["wkb"] for e in archived])
        extra = {"row_version": [e["row_version"] for e in archived],
                 "updated_at": [e["retired_at"] for e in archived],
                 "updated_by": [e["retired_by"] for e in archived]}
        old = frame_from_raw(name, raw, extra=extra)
        old["retired_at"] = pd.Series([e["retired_at"] for e in archived], dtype=object)
        old["retired_by"] = pd.Series([e["retired_by"] for e in archived], dtype=object)
        keep = np.ones(len(old), dtype=bool)
        for column, values in filters.items():
            wanted = {json.dumps(v, default=str) for v in values}
            keep &= np.array([json.dumps(d.get(column), default=str) in wanted
                              or (d.get(column) is None and None in values) for d in docs])
        return pd.concat([frame, old[keep]], ignore_index=True)

    def audit(self, layer: str | None = None, feature: str | None = None, since: str | None = None,
              limit: int | None = 100) -> pd.DataFrame:
        """Audit entries, newest first (columns :data:`~layers.store.AUDIT_COLUMNS`).

        ``layer``, ``feature`` (an id) and ``since`` (ISO 8601 time, inclusive) filter; ``limit``
        None returns everything. ``before``/``after`` are the rows as dicts (None when the entry
        has none: an insert has no ``before``, a retirement no ``after``).
        """
        if limit is not None and int(limit) < 0:
            raise InputError(f"limit must be >= 0, got {limit}")
        rows = self._audit_rows(layer, None if feature is None else str(feature), since,
                                None if limit is None else int(limit))
        data = {c: [row.get(c) for row in rows] for c in AUDIT_COLUMNS}
        for column in ("before", "after"):
            data[column] = [None if v is None else json.loads(v) for v in data[column]]
        return pd.DataFrame({c: pd.Series(v, dtype="Int64" if c in ("id", "version", "rows") else object)
                             for c, v in data.items()})

    # ------------------------------------------------------------------ whole-layer writes
    def write(self, name: str, gdf: gpd.GeoDataFrame, *, id_field: str | None = None, **kwargs) -> LayerInfo:
        """Replace layer ``name`` by ``gdf`` (EPSG:4490), in one transaction; see :meth:`write_many`."""
        return self.write_many({name: gdf}, id_fields={name: id_field} if id_field else None, **kwargs)[name]

    def write_many(self, layers: Mapping[str, gpd.GeoDataFrame], *, derived: bool = False,
                   ruleset_version: str | None = None, fingerprint: str | None = None, actor: str = "cli",
                   action: str = "import", detail: str = "",
                   id_fields: Mapping[str, str] | None = None) -> dict[str, LayerInfo]:
        """Replace several layers in one all-or-nothing transaction.

        Every frame is checked first (a GeoDataFrame in EPSG:4490, a valid layer name, unique ids);
        then all of them, their metadata and one audit row per layer are written in one
        transaction. A catalogue layer's id field is the catalogue's; another layer has the one
        ``id_fields`` names, or none. Rows are matched by id to the rows held: a held id gets the
        next row version, a new id version 1, and a held id that is missing is retired.

        Raises
        ------
        CRSError, InputError, ValidationError
            A frame cannot be stored (nothing was written).
        StoreError
            The write failed (nothing was written) or the store is locked.
        """
        if not layers:
            raise InputError("write_many: no layers given")
        from layers.catalogue import CATALOGUE

        chosen = dict(id_fields or {})
        prepared = {}
        for name, gdf in layers.items():
            id_field = chosen.get(name)
            if id_field is None and name in CATALOGUE and CATALOGUE[name].id_field in getattr(gdf, "columns", ()):
                id_field = CATALOGUE[name].id_field
            prepared[name] = prepare_layer(name, gdf, id_field=id_field)
        when = now()
        stamp = dict(derived=bool(derived), ruleset_version=ruleset_version, fingerprint=fingerprint)
        infos = {}
        with self._transaction() as tx:
            for name, rows in prepared.items():
                infos[name] = _info(self._replace_layer(tx, rows, when, actor, action, detail, stamp))
        return infos

    def _replace_layer(self, tx: Transaction, rows: PreparedRows, when: str, actor: str, action: str,
                       detail: str, stamp: dict) -> dict:
        name, id_field = rows.name, rows.id_field
        meta = tx.meta(name)
        if meta is not None and meta["kind"] != "vector":
            raise StoreError(f"layer {name!r} in {display_address(self._address)} is a raster layer; "
                             f"a vector layer needs another name")
        version = (meta["version"] if meta else 0) + 1
        live, archived = {}, {}
        if meta is not None and id_field is not None and meta.get("id_field") == id_field:
            live = tx.versions(name, id_field)
            archived = {e["feature"]: e["row_version"] for e in tx.fetch_archive(name, None)}
        if id_field is None:
            row_versions = [version] * len(rows)
            gone, revived = [], []
        else:
            row_versions = [live.get(i, archived.get(i, 0)) + 1 for i in rows.ids]
            present = set(rows.ids)
            gone = [i for i in live if i not in present]
            revived = [i for i in rows.ids if i not in live and i in archived]
        entries = []
        if gone:
            old, system = tx.fetch(name, id_field, gone, tx.column_types(name))
            entries = self._archive_entries(name, id_field, old, system["row_version"], when, actor)
        if revived:
            tx.unarchive(name, revived)
        tx.replace(rows, {"row_version": row_versions, "updated_at": [when] * len(rows),
                          "updated_by": [actor] * len(rows)})
        if entries:
            tx.archive(name, entries)
        retired = (meta.get("retired") or 0 if meta else 0) + len(gone) - len(revived)
        entry = dict(name=name, kind="vector", version=version, updated_at=when, rows=len(rows), crs="EPSG:4490",
                     id_field=id_field, retired=retired, raster_token=None, raster_meta=None, **stamp)
        tx.put_meta(entry)
        before = {"version": meta["version"], "rows": meta["rows"]} if meta else None
        after = {"version": version, "rows": len(rows), "retired": len(gone), "revived": len(revived)}
        tx.append_audit([dict(when=when, actor=actor, action=action, layer=name, feature=None, version=version,
                              rows=len(rows), detail=detail, before=documents_json([before])[0],
                              after=documents_json([after])[0])])
        return entry

    @staticmethod
    def _archive_entries(name: str, id_field: str, raw: RawRows, row_versions: list, when: str,
                         actor: str) -> list[dict]:
        """Archive entries retiring the rows of ``raw`` (their next version, who and when)."""
        docs = row_documents(raw.columns, raw.values, [None] * len(raw))
        for doc in docs:
            doc.pop("geometry")
        return [dict(layer=name, feature=str(raw.values[id_field][i]), row_version=int(row_versions[i]) + 1,
                     retired_at=when, retired_by=actor, data=text, wkb=raw.wkb[i])
                for i, text in enumerate(documents_json(docs))]

    # ------------------------------------------------------------------ rasters
    def restamp(self, names: Iterable[str], fingerprint: str, *, expected: str | None) -> list[str]:
        """Stamp derived layers ``names`` with ``fingerprint`` where they carry ``expected`` now.

        For an engine that brought layers up to date row by row (:mod:`zoning.wall.incremental`):
        a layer that was current before an edit (its fingerprint the one of the inputs then) and
        is current again after it takes the new inputs' fingerprint; a layer that was already
        stale keeps its old stamp, so it still shows as stale. Neither rows nor versions change.
        Returns the names restamped.
        """
        done = []
        with self._transaction() as tx:
            for name in names:
                meta = tx.meta(name)
                if meta is not None and meta.get("fingerprint") == expected and expected is not None:
                    tx.put_meta({**meta, "fingerprint": fingerprint})
                    done.append(name)
        return done

    def write_raster(self, name: str, source, profile: Mapping | None = None, *, derived: bool = True,
                     ruleset_version: str | None = None, fingerprint: str | None = None, actor: str = "engine",
                     action: str = "derive", detail: str = "") -> LayerInfo:
        """Store a raster as layer ``name``, replacing its previous version, in one transaction.

        ``source`` is a GeoTIFF path or an array with ``profile`` (see
        :func:`layers.rasters.raster_from_source`). The pixels, CRS, transform, nodata, colour
        table, tags and band description are kept; :meth:`read_raster` gives them back.
        """
        check_name(name)
        raster = raster_from_source(source, profile)
        if not detail and not isinstance(source, np.ndarray):
            detail = f"raster from {getattr(source, 'name', None) or str(source).rsplit('/', 1)[-1]}"
        when = now()
        with self._transaction() as tx:
            meta = tx.meta(name)
            if meta is not None and meta["kind"] != "raster":
                raise StoreError(f"layer {name!r} in {display_address(self._address)} is a vector layer; "
                                 f"a raster needs another name")
            version = (meta["version"] if meta else 0) + 1
            tx.put_raster(name, raster)
            entry = dict(name=name, kind="raster", version=version, updated_at=when, derived=bool(derived),
                         ruleset_version=ruleset_version, fingerprint=fingerprint, rows=0, crs=raster.crs_label,
                         id_field=None, retired=0, raster_token=uuid.uuid4().hex,
                         raster_meta=json.dumps(raster.meta(), ensure_ascii=False))
            tx.put_meta(entry)
            before = {"version": meta["version"]} if meta else None
            tx.append_audit([dict(when=when, actor=actor, action=action, layer=name, feature=None, version=version,
                                  rows=0, detail=detail, before=documents_json([before])[0],
                                  after=documents_json([{"version": version, **_raster_summary(raster)}])[0])])
        return _info(entry)

    @contextmanager
    def read_raster(self, name: str) -> Iterator:
        """The current raster ``name`` as an open rasterio dataset (a GeoTIFF held in memory)."""
        meta = self._meta(name)
        if meta["kind"] != "raster":
            raise StoreError(f"layer {name!r} in {display_address(self._address)} is a vector layer; "
                             f"use read({name!r})")
        token = meta.get("raster_token") or f"{self._address}:{name}:{meta['version']}:{meta['updated_at']}"
        data = GEOTIFFS.get(token, lambda: self._raster_geotiff(meta))
        with open_geotiff(data) as src:
            yield src


def _raster_summary(raster: RasterData) -> dict:
    return {"dtype": raster.dtype, "height": int(raster.array.shape[0]), "width": int(raster.array.shape[1]),
            "crs": raster.crs_label}
