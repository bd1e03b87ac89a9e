"""The tile cache shared by every worker serving one store: one SQLite file in WAL mode.

Why a file: ``riskmap serve --workers N`` runs N processes; an in-process cache per worker
computes every tile N times and forgets it on restart. SQLite in write-ahead-log mode lets the
workers read at once while one writes, and a reader never waits for a writer.

What a tile is filed under (:class:`TileKey`)
    the caller's scope (role and the views of the layers), the layer set, each layer's **epoch**,
    the tile-matrix set, z / x / y and the encoding. The epoch of a layer changes when the layer
    is replaced as a whole (an import, a zoning run: :meth:`server.source.LayerSource.epoch`) and
    *not* when single rows are edited, so an edit does not throw away the tiles of the whole city.
What an edit drops (:meth:`SharedTileCache.invalidate`)
    after an edit, the editor calls ``invalidate(versions, bounds)``: every cached tile of those
    layers whose read area (the tile grown by its buffer, in longitude/latitude, kept in an R*Tree)
    meets ``bounds`` is deleted, at every zoom and in every tile-matrix set, for every worker. The
    invalidation is also remembered for a while (:data:`INVALIDATION_MEMORY_S`) with the layer
    versions it made stale, so a worker that started computing a tile from the rows before the
    edit and finishes after it does not put the stale tile back (:meth:`SharedTileCache.put`
    refuses it).
Size
    bounded by ``max_bytes``: past it, the least recently used tiles go (last use is recorded at
    most once a minute per tile, to keep reads from writing).
Failure
    a cache is never a reason to fail a request. A file that is not a database when opened is
    moved aside (``*.damaged``) and a new one made; any later SQLite error (a damaged file, a
    lock held longer than ``busy_ms``, a full disk) counts as a miss or a skipped write, and the
    tile is computed. :meth:`SharedTileCache.stats` counts such errors.

:class:`MemoryTileCache` keeps the same contract in one process (``RISKMAP_TILE_CACHE=memory``,
and where no file can be made).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> cache = SharedTileCache(folder / "tiles.sqlite", store="city.gpkg")
>>> key = TileKey("public", ("roads",), ("1@2026-12-01",), "WebMercatorQuad", 14, 13650, 6656, "mvt")
>>> box = (119.9, 31.7, 119.95, 31.75)
>>> cache.put(key, b"tile bytes", versions={"roads": 1}, bounds=box) == tile_etag(key, b"tile bytes")
True
>>> cache.get(key)[0]
b'tile bytes'
>>> cache.invalidate({"roads": 2}, (120.5, 31.0, 120.6, 31.1))   # elsewhere: nothing dropped
0
>>> cache.invalidate({"roads": 2}, (119.92, 31.72, 119.93, 31.73))
1
>>> cache.get(key) is None
True
>>> cache.put(key, b"stale", versions={"roads": 1}, bounds=box) is None   # computed before the edit
True
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TileKey", "SharedTileCache", "MemoryTileCache", "tile_etag", "default_cache_path",
           "INVALIDATION_MEMORY_S"]

log = logging.getLogger(__name__)

#: How long an invalidation is remembered to refuse tiles computed from the rows before it.
INVALIDATION_MEMORY_S = 600.0
#: A tile's last use is written at most this often (seconds), so that reads rarely write.
_TOUCH_EVERY_S = 60.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS tiles (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, layers TEXT NOT NULL, z INTEGER NOT NULL,
    body BLOB NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL, used REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tiles_used ON tiles (used);
CREATE VIRTUAL TABLE IF NOT EXISTS boxes USING rtree (id, west, east, south, north);
CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL,
                                   entries INTEGER NOT NULL);
INSERT OR IGNORE INTO totals VALUES (0, 0, 0);
CREATE TABLE IF NOT EXISTS invalidations (layer TEXT NOT NULL, version INTEGER NOT NULL, west REAL,
                                          south REAL, east REAL, north REAL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS invalidations_layer ON invalidations (layer, version);
CREATE TRIGGER IF NOT EXISTS tiles_in AFTER INSERT ON tiles BEGIN
    UPDATE totals SET bytes = bytes + new.size, entries = entries + 1 WHERE id = 0; END;
CREATE TRIGGER IF NOT EXISTS tiles_out AFTER DELETE ON tiles BEGIN
    DELETE FROM boxes WHERE id = old.id;
    UPDATE totals SET bytes = bytes - old.size, entries = entries - 1 WHERE id = 0; END;
"""


@dataclass(frozen=True)
class TileKey:
    """What a cached tile is filed under (see the module docstring)."""

    scope: str
    layers: tuple[str, ...]
    epochs: tuple[str, ...]
    tms: str
    z: int
    x: int
    y: int
    encoding: str

    @property
    def digest(self) -> str:
        text = "|".join((self.scope, ",".join(self.layers), ",".join(self.epochs), self.tms,
                         f"{self.z}/{self.x}/{self.y}", self.encoding))
        return hashlib.sha1(text.encode()).hexdigest()


def tile_etag(key: TileKey, body: bytes) -> str:
    """A strong ETag of a tile's bytes as ``key``'s caller sees them (scope and encoding included)."""
    digest = hashlib.sha1(f"{key.encoding}|{key.scope}|".encode() + body).hexdigest()
    return f'"{digest[:24]}"'


def default_cache_path(store_address: str, setting: str | os.PathLike | None = None) -> Path | None:
    """Where the tile cache of ``store_address`` lives; None for an in-process cache.

    ``setting`` (``RISKMAP_TILE_CACHE``) is a file path, a folder (one file per store in it,
    named after a digest of the store's address), or ``memory``; by default the folder is
    ``$XDG_CACHE_HOME/riskmap/tiles`` (``~/.cache/riskmap/tiles``).

    >>> default_cache_path("/data/city.gpkg", "memory") is None
    True
    >>> default_cache_path("/data/city.gpkg", "/srv/cache/city-tiles.sqlite").name
    'city-tiles.sqlite'
    >>> default_cache_path("/data/city.gpkg", "/srv/cache/").name.startswith("tiles-")
    True
    """
    if setting is not None and str(setting).strip().lower() == "memory":
        return None
    name = f"tiles-{hashlib.sha1(str(store_address).encode()).hexdigest()[:16]}.sqlite"
    if setting is None or not str(setting).strip():
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return base / "riskmap" / "tiles" / name
    path = Path(setting).expanduser()
    if str(setting).endswith(os.sep) or path.is_dir():
        return path / name
    return path


def _meets(a, b) -> bool:
    return a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]


class SharedTileCache:
    """Tiles in one SQLite file shared by the workers serving a store (see the module docstring).

    Parameters
    ----------
    path : path-like
        The cache file (made, with its folder, when missing).
    store : str
        The store's address: a file found holding another store's tiles is emptied first.
    max_bytes : int
        Bound on the tiles' total size; the least recently used go past it.
    busy_ms : int
        How long a write waits for another worker's write before giving up (the tile is then
        served without being kept).
    """

    def __init__(self, path, store: str, max_bytes: int = 512 * 2**20, busy_ms: int = 250):
        self.path, self.store = Path(path), str(store)
        self.max_bytes, self.busy_ms = int(max_bytes), int(busy_ms)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.hits = self.misses = self.errors = self.refused = 0
        self.disabled: str | None = None
        try:
            self._open()
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)

    # ------------------------------------------------------------------ connections
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.busy_ms / 1000, isolation_level=None,
                              check_same_thread=False)
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or self._local.pid != os.getpid():
            con = self._connect()
            self._local.con, self._local.pid = con, os.getpid()
        return con

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._create()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, read-only…: not damage
                raise
            damaged = self.path.with_name(self.path.name + ".damaged")
            log.warning("tile cache %s is damaged (%s): moved to %s, starting a new one", self.path, exc, damaged)
            self._local = threading.local()
            os.replace(self.path, damaged)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self._create()

    def _create(self) -> None:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
            if row is None or row[0] != self.store:  # new, or another store's tiles: start empty
                con.execute("DELETE FROM tiles")
                con.execute("DELETE FROM invalidations")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('store', ?)", (self.store,))
            con.execute("COMMIT")
        finally:
            con.close()

    def _disable(self, exc: BaseException) -> None:
        self.disabled = f"{type(exc).__name__}: {exc}"
        log.warning("tile cache %s unusable (%s): tiles are computed without it", self.path, exc)

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self.errors += 1
            first = self.errors == 1
        if first:
            log.warning("tile cache %s: %s (counted as a miss; further errors are counted, not logged)",
                        self.path, exc)

    # ------------------------------------------------------------------ reads and writes
    def get(self, key: TileKey) -> tuple[bytes, str] | None:
        """``(body, etag)`` of a cached tile, or None (absent, or the cache failed)."""
        if self.disabled:
            return None
        try:
            con = self._con()
            row = con.execute("SELECT id, body, etag, used FROM tiles WHERE key = ?", (key.digest,)).fetchone()
            if row is not None and row[3] < time.time() - _TOUCH_EVERY_S:
                try:
                    con.execute("UPDATE tiles SET used = ? WHERE id = ?", (time.time(), row[0]))
                except sqlite3.OperationalError:  # busy: the last use is a hint, not worth a wait
                    pass
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        with self._lock:
            if row is None:
                self.misses += 1
            else:
                self.hits += 1
        return None if row is None else (bytes(row[1]), row[2])

    def put(self, key: TileKey, body: bytes, *, versions: Mapping[str, int],
            bounds: tuple[float, float, float, float]) -> str | None:
        """Keep ``body`` under ``key``; its ETag, or None when not kept.

        ``versions`` are the layer versions the tile was computed from and ``bounds`` the
        longitude/latitude area it read. A tile made stale meanwhile by an invalidation (a later
        version of one of its layers, over its area) is not kept.
        """
        etag = tile_etag(key, body)
        if self.disabled:
            return None
        west, south, east, north = (float(v) for v in bounds)
        try:
            con = self._con()
            con.execute("BEGIN IMMEDIATE")
            try:
                for layer, version in versions.items():
                    stale = con.execute(
                        "SELECT 1 FROM invalidations WHERE layer = ? AND version > ? AND west <= ? AND "
                        "east >= ? AND south <= ? AND north >= ? LIMIT 1",
                        (layer, int(version), east, west, north, south)).fetchone()
                    if stale:
                        con.execute("ROLLBACK")
                        with self._lock:
                            self.refused += 1
                        return None
                con.execute("DELETE FROM tiles WHERE key = ?", (key.digest,))
                cursor = con.execute(
                    "INSERT INTO tiles (key, layers, z, body, etag, size, used) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key.digest, "," + ",".join(key.layers) + ",", key.z, body, etag, len(body) + 200,
                     time.time()))
                con.execute("INSERT INTO boxes VALUES (?, ?, ?, ?, ?)", (cursor.lastrowid, west, east, south, north))
                self._evict(con)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        return etag

    def _evict(self, con: sqlite3.Connection) -> None:
        total, entries = con.execute("SELECT bytes, entries FROM totals WHERE id = 0").fetchone()
        if total <= self.max_bytes or entries == 0:
            return
        excess = total - int(self.max_bytes * 0.9)
        count = max(1, min(entries, int(excess / max(total / entries, 1)) + 1))
        con.execute("DELETE FROM tiles WHERE id IN (SELECT id FROM tiles ORDER BY used LIMIT ?)", (count,))

    def invalidate(self, versions: Mapping[str, int], bounds: tuple[float, float, float, float]) -> int:
        """Drop the cached tiles of these layers whose area meets ``bounds``; how many went.

        ``versions`` are the layers' versions after the edit: tiles computed from earlier ones
        over ``bounds`` are refused by :meth:`put` for :data:`INVALIDATION_MEMORY_S` seconds.
        """
        if self.disabled or not versions:
            return 0
        west, south, east, north = (float(v) for v in bounds)
        now = time.time()
        try:
            con = self._con()
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("DELETE FROM invalidations WHERE at < ?", (now - INVALIDATION_MEMORY_S,))
                con.executemany("INSERT INTO invalidations VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(layer, int(v), west, south, east, north, now) for layer, v in versions.items()])
                like = " OR ".join("t.layers LIKE ?" for _ in versions)
                cursor = con.execute(
                    f"DELETE FROM tiles WHERE id IN (SELECT t.id FROM boxes b JOIN tiles t ON t.id = b.id "
                    f"WHERE b.west <= ? AND b.east >= ? AND b.south <= ? AND b.north >= ? AND ({like}))",
                    (east, west, north, south, *[f"%,{layer},%" for layer in versions]))
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            return cursor.rowcount
        except sqlite3.Error as exc:
            self._failed(exc)
            return 0

    def clear(self) -> None:
        """Drop every tile (all workers)."""
        if self.disabled:
            return
        try:
            self._con().execute("DELETE FROM tiles")
        except sqlite3.Error as exc:
            self._failed(exc)

    def __len__(self) -> int:
        return self.stats()["size"]

    def stats(self) -> dict:
        """Entries and bytes in the file (all workers), and this process's hits, misses, errors."""
        size = total = 0
        if not self.disabled:
            try:
                size, total = self._con().execute("SELECT entries, bytes FROM totals WHERE id = 0").fetchone()
            except sqlite3.Error as exc:
                self._failed(exc)
        return {"kind": "sqlite", "path": str(self.path), "size": size, "bytes": total,
                "max_bytes": self.max_bytes, "hits": self.hits, "misses": self.misses, "errors": self.errors,
                "refused": self.refused, "disabled": self.disabled}


class MemoryTileCache:
    """The contract of :class:`SharedTileCache` in one process: an LRU of at most ``maxsize`` tiles."""

    def __init__(self, maxsize: int = 4096):
        self.maxsize = int(maxsize)
        self._data: OrderedDict[TileKey, tuple[bytes, str, tuple, dict]] = OrderedDict()
        self._invalidations: list[tuple[str, int, tuple, float]] = []
        self._lock = threading.Lock()
        self.hits = self.misses = self.refused = 0

    def get(self, key: TileKey) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found[0], found[1]

    def put(self, key: TileKey, body: bytes, *, versions: Mapping[str, int], bounds) -> str | None:
        etag = tile_etag(key, body)
        if self.maxsize <= 0:
            return None
        with self._lock:
            if any(layer in versions and v > versions[layer] and _meets(box, bounds)
                   for layer, v, box, _ in self._invalidations):
                self.refused += 1
                return None
            self._data[key] = (body, etag, tuple(bounds), dict(versions))
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return etag

    def invalidate(self, versions: Mapping[str, int], bounds) -> int:
        now = time.time()
        with self._lock:
            self._invalidations = [e for e in self._invalidations if e[3] >= now - INVALIDATION_MEMORY_S]
            self._invalidations += [(layer, int(v), tuple(bounds), now) for layer, v in versions.items()]
            gone = [k for k, (_, _, box, _) in self._data.items()
                    if _meets(box, bounds) and set(k.layers) & set(versions)]
            for k in gone:
                del self._data[k]
        return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def stats(self) -> dict:
        return {"kind": "memory", "size": len(self._data), "maxsize": self.maxsize, "hits": self.hits,
                "misses": self.misses, "errors": 0, "refused": self.refused, "disabled": None}
