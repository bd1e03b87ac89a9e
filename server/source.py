"""Layer reads for the routers: versions, redacted frames and extents, cached by layer version.

:class:`LayerSource` is the only object in ``server/`` that calls the :class:`~layers.store.Store`.
Every frame it returns has been through a :class:`~server.redaction.LayerView` (the caller's view
of the layer), and every cache key it uses carries the layer's version, so a write to the store
is seen by the next request without any explicit invalidation.

Bounding-box reads of layers up to ``index_max_rows`` rows are answered from memory: the first
one is read from the store by bounding box and asks a background thread to load the whole layer
as the view shows it, with a spatial index (an STRtree), into an LRU bounded by entries and by
total rows; later reads query the index. So a server answers at once after start-up, and the
first requests never wait for whole layers to load (at scale 10 the combined tile at z12 took
5 s cold when it loaded every layer first). This takes the
per-request cost of reading the store (10-20 ms) off every tile and page. The default
(2 million rows) holds the scale-100 demo's 1.5 million road segments, which read from the store
per request made the combined tile 2-3× slower; larger layers still go to the store per request,
through its own spatial index.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import numpy as np
import shapely

from layers.store import LayerInfo, Store
from server.cache import LRUCache
from server.prepared_files import PreparedFiles
from server.raster_tiles import raster_lonlat_bounds
from server.redaction import LayerView
from server.scope import TownIndex

__all__ = ["LayerSource", "replace_rows"]

log = logging.getLogger(__name__)

#: A bbox that meets (almost) nothing: reading it gives a layer's columns cheaply.
_NOWHERE = (0.0, 0.0, 0.0, 0.0)
#: A caller waiting for a load gives up after this many times its patience in all, even while the
#: loader keeps ending other loads queued before its own.
WAIT_CAP = 10
#: Seconds the loader waits, with nothing else to load, before it looks again at a layer another
#: worker is preparing.
CLAIM_POLL = 0.02


def _last_whole_write(entries) -> str | None:
    """``version@when`` of the newest whole-layer entry of an audit frame (newest first), or None."""
    whole = entries[entries["feature"].isna()]
    return f"{int(whole.iloc[0]['version'])}@{whole.iloc[0]['when']}" if len(whole) else None


class LayerSource:
    """Reads layers from ``store`` through views.

    Parameters
    ----------
    store : Store
    frame_cache_size, frame_cache_rows : int
        Whole redacted layers kept in memory (LRU): at most this many, holding at most this
        many rows in total.
    index_max_rows : int
        Layers up to this many rows answer bbox reads from memory (see the module docstring).
    files : PreparedFiles, optional
        Where layers prepared by the background loader are kept for the next start.
    """

    def __init__(self, store: Store, frame_cache_size: int = 32, frame_cache_rows: int = 5_000_000,
                 index_max_rows: int = 2_000_000, files: PreparedFiles | None = None):
        self.store = store
        #: Where prepared layers are kept between starts (see :meth:`prepared`); None: not kept.
        self.files = files
        self.index_max_rows = index_max_rows
        self._frames = LRUCache(frame_cache_size, maxweight=frame_cache_rows)
        self._prepared = LRUCache(frame_cache_size, maxweight=frame_cache_rows)  # built from frames
        self._kinds: set[str] = set()  # the kinds of prepared objects asked for
        self._views: dict = {}  # view.key → view, for carrying cached frames over an edit
        self._columns = LRUCache(256)
        self._bounds = LRUCache(256)
        self._guard = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}
        self._queued: dict[tuple, threading.Event] = {}  # key → set once its background load ended
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._warmer: threading.Thread | None = None
        self._deferred: dict[tuple, tuple] = {}  # key → (load, since): loads waiting for a quiet server
        #: Whether the server is quiet (no request lately); the app sets it (server.warmup.Activity).
        self.quiet: Callable[[], bool] = lambda: True
        #: Seconds a deferred load waits at most for a quiet server.
        self.defer_patience = 10.0
        self._epochs: dict[str, tuple[int, str, str]] = {}  # layer → (version, updated_at, epoch)
        self._loading_since: tuple[float, float] | None = None  # (clock, loader's CPU clock) at the start of its
        # current load; None: idle
        self.towns = TownIndex(store)

    def _key(self, view: LayerView, info: LayerInfo) -> tuple:
        return self._version_key(view, info.name, info.version)

    def _version_key(self, view: LayerView, name: str, version: int) -> tuple:
        """A cached frame's key: layer, version, view, and for a town editor's view whose rows' towns
        (or grids) are read from other layers, the versions of those tables."""
        scoped = view.towns is not None and (view.town_key != "town" or self.towns.has_grids(view.towns))
        return (name, version, view.key, *(self.towns.key() if scoped else ()))

    def view_of(self, view: LayerView, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``frame`` as ``view`` shows it (with each row's town, and grid for a grid's editor, for a town
        editor's view)."""
        if view.towns is None:
            return view.apply(frame)
        grids = self.towns.grids(frame, view.town_key) if self.towns.has_grids(view.towns) else None
        return view.apply(frame, self.towns.towns(frame, view.town_key), grids)

    # ------------------------------------------------------------------ metadata
    def infos(self) -> dict[str, LayerInfo]:
        """Info of every layer held, by name (one query when the store offers ``infos()``)."""
        infos = getattr(self.store, "infos", None)
        if callable(infos):
            return {info.name: info for info in infos()}
        return {name: self.store.info(name) for name in self.store.layers()}

    def info(self, name: str) -> LayerInfo:
        """Info of layer ``name`` (LayerNotFound if absent)."""
        return self.store.info(name)

    def epoch(self, info: LayerInfo) -> str:
        """The layer's epoch: it changes when the layer is replaced as a whole, not on row edits.

        Found in the store's audit log: the layer version and time of the last whole-layer write
        (an audit entry without a feature: import, derive, demo, a raster written). Tiles are
        cached under it (:mod:`server.tile_cache`), so an edit keeps the tiles it did not touch.
        Known epochs are carried forward: on a new version only the audit entries since the last
        one seen are read. A layer with no whole-layer entry (written by another tool) has an
        epoch per version.
        """
        known = self._epochs.get(info.name)
        if known is not None and known[0] == info.version:
            return known[2]
        since = known[1] if known is not None and known[0] < info.version else None
        entries = self.store.audit(layer=info.name, since=since, limit=None if since else 64)
        epoch = _last_whole_write(entries)
        if epoch is None and since is not None:  # only edits since the epoch known
            epoch = known[2]
        elif epoch is None and len(entries) == 64:  # many edits: look further back
            epoch = _last_whole_write(self.store.audit(layer=info.name, limit=None))
        if epoch is None:
            epoch = f"v{info.version}@{info.updated_at}"
        self._epochs[info.name] = (info.version, info.updated_at, epoch)
        return epoch

    def columns(self, info: LayerInfo) -> dict[str, str]:
        """Attribute columns of a vector layer (without the geometry) and their dtypes."""
        key = (info.name, info.version)
        found = self._columns.get(key)
        if found is None:
            empty = self.store.read(info.name, bbox=_NOWHERE)
            found = {c: str(empty[c].dtype) for c in empty.columns if c != empty.geometry.name}
            self._columns.put(key, found)
        return found

    # ------------------------------------------------------------------ rasters
    def raster(self, info: LayerInfo):
        """Context manager: the raster layer ``info`` as an open rasterio dataset."""
        return self.store.read_raster(info.name)

    def raster_bounds(self, info: LayerInfo) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees of raster layer ``info``, cached per version."""
        key = ("raster", info.name, info.version)
        found = self._bounds.get(key)
        if found is None:
            with self.raster(info) as src:
                found = raster_lonlat_bounds(src)
            self._bounds.put(key, found)
        return found

    # ------------------------------------------------------------------ reads
    def read(self, view: LayerView, info: LayerInfo, bbox=None) -> gpd.GeoDataFrame:
        """The features of the layer meeting ``bbox`` (lon/lat), as ``view`` shows them.

        Every column is read and the view then keeps the visible ones (one read, whatever the view).
        A layer not yet in memory is read from the store by bounding box, and loaded (with its
        index) in the background for the next requests: no request waits for a whole layer.
        """
        if bbox is not None and info.rows <= self.index_max_rows:
            frame = self._frames.get(self._key(view, info))
            if frame is None:
                self._warm(view, info)
            elif not len(frame):
                return frame
            else:
                hits = frame.sindex.query(shapely.box(*bbox))  # bounding boxes meeting it, as the store
                return frame.iloc[np.sort(hits)]
        return self.view_of(view, self.store.read(info.name, bbox=bbox))

    def frame(self, view: LayerView, info: LayerInfo) -> gpd.GeoDataFrame:
        """The whole layer as ``view`` shows it, cached per (layer, version, view).

        Loaded once however many threads ask at the same time (the others wait for it).
        """
        key = self._key(view, info)
        frame = self._frames.get(key)
        if frame is not None:
            return frame
        with self._guard:
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            frame = self._frames.get(key)
            if frame is None:
                frame = self.view_of(view, self.store.read(info.name))
                frame.sindex  # build the spatial index now, once, rather than in a later request
                self._frames.put(key, frame, weight=max(len(frame), 1))
                self._views[view.key] = view
        with self._guard:
            self._loading.pop(key, None)
        return frame

    def prepared(self, view: LayerView, info: LayerInfo, kind: str, build, wait: float = 0.0, defer: bool = False):
        """What ``build(frame)`` makes of the whole layer as ``view`` shows it (``kind`` names it, e.g.
        a :class:`server.tile_layers.TileLayer`), or None while it is not built yet.

        Never built on the request path: the first call asks the background loader for the frame
        and then the build, and answers None (the caller reads the rows another way meanwhile).
        Cached like the frames, per layer version and view; layers over ``index_max_rows`` rows
        are never prepared. With ``wait`` the caller waits up to that many seconds for the
        background build (sleeping: the loader has the CPU), for when reading the rows another way
        would cost more than waiting (a GeoPackage read per layer per tile, by every request of a
        cold server at once, starved the loader: 9 requests/s on a cold mixed load). The wait
        counts the loader's progress, not the caller's time: the caller waits while loads keep
        ending, and gives up when the loader has spent ``wait`` seconds of CPU on one load (or after
        ``WAIT_CAP`` times ``wait`` in all). With
        ``defer`` (the caller has a cheap way meanwhile: PostGIS builds the tile) the load waits
        until requests pause (:attr:`quiet`) or ``defer_patience`` seconds have passed: loading
        holds the GIL, and cold tiles from the database went from 104 to 145 a second with one
        client, 131 to 210 with 16, when no layer was loaded during the burst.
        """
        if info.rows > self.index_max_rows:
            return None
        self._kinds.add(kind)
        key = (*self._key(view, info), kind)
        found = self._prepared.get(key)
        if found is None:
            done = self._warm(view, info, kind, build, defer=defer and wait <= 0)
            if wait > 0 and self._wait_for(done, wait):
                found = self._prepared.get(key)
        return found

    def _wait_for(self, done: threading.Event, patience: float) -> bool:
        """Wait for ``done`` while the loader makes progress (see :meth:`prepared`); whether it was set.

        A load is given up on when the loader has spent ``patience`` seconds *of CPU* on it, not of
        the clock: a loader starved by the requests (forty threads sharing the GIL with it on a
        first start under 100 clients) is slow but not stuck, and giving up then sent every waiting
        tile to read its rows per tile, which starved the loader further (p95 3.4 s or 7-8 s on the
        same load, as the first give-up fell before or after the loads ended). A layer another worker
        is preparing costs this loader no CPU: it is waited for up to the cap.
        """
        deadline = time.monotonic() + WAIT_CAP * patience
        while not done.wait(min(patience, 0.05)):
            started = self._loading_since
            if time.monotonic() > deadline or started is not None and self._spent(started) > patience:
                return done.is_set()
        return True

    def _spent(self, started: tuple[float, float]) -> float:
        """Seconds the loader has worked on its current load, begun at ``started`` (clock, loader's CPU
        clock): its CPU seconds where a thread's CPU clock can be read (Linux, macOS), else wall seconds."""
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(self._warmer.ident)) - started[1]
        except (AttributeError, OSError, TypeError):  # no such clock here (Windows), or the loader ended
            return time.monotonic() - started[0]

    def _warm(self, view: LayerView, info: LayerInfo, kind: str | None = None, build=None,
              defer: bool = False) -> threading.Event:
        """Load the layer into memory in the background thread (once per layer, version and view),
        then build ``build(frame)`` as the ``kind`` prepared from it, when asked; ``defer``: once
        the server is quiet (see :meth:`prepared`). Returns an event set when that is done (or
        failed)."""
        key = (*self._key(view, info), kind)
        with self._guard:
            done = self._queued.get(key)
            if done is not None:
                if not defer and key in self._deferred:  # now someone waits for it: at once
                    self._queue.put(self._deferred.pop(key)[0])
                return done
            done = self._queued[key] = threading.Event()
            if self._warmer is None or not self._warmer.is_alive():
                self._warmer = threading.Thread(target=self._warm_loop, name="riskmap-layer-loader", daemon=True)
                self._warmer.start()
            if defer:
                self._deferred[key] = ((key, view, info, build), time.monotonic())
        self._queue.put(None if defer else (key, view, info, build))  # None: wakes the loader to wait
        return done

    def _next_deferred(self):
        """The oldest deferred load, if the server is quiet or it has waited ``defer_patience`` s."""
        with self._guard:
            if not self._deferred:
                return None
            key, (item, since) = next(iter(self._deferred.items()))
            if not self.quiet() and time.monotonic() - since < self.defer_patience:
                return None
            del self._deferred[key]
            return item

    def _warm_loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.05 if self._deferred else None)
            except queue.Empty:
                item = None
            if item is None:
                item = self._next_deferred()
                if item is None:
                    continue
            key, view, info, build = item
            self._loading_since = (time.monotonic(), time.thread_time())
            ended = True
            try:
                ended = self._load(key, view, info, build)
                if not ended and self._queue.empty():
                    time.sleep(CLAIM_POLL)  # nothing else to do: let the other worker finish it
            except Exception:  # noqa: BLE001 - a failed load is retried by the request path
                log.warning("loading layer %s in the background failed", info.name, exc_info=True)
            finally:
                self._loading_since = None
                if ended:
                    with self._guard:
                        done = self._queued.pop(key, None)
                    if done is not None:
                        done.set()
            if not ended:  # asked again after the loads queued meanwhile
                self._queue.put(item)

    def _load(self, key: tuple, view: LayerView, info: LayerInfo, build) -> bool:
        """Load the frame under ``key`` and, with ``build``, prepare it (or restore it from its file, and
        keep it there); False when another worker is preparing it (:meth:`PreparedFiles.claim`)."""
        if build is None:
            self.frame(view, info)
            return True
        path = self._file(view, info, build, key[-1])
        if self._prepared.get(key) is not None or self._restore(key, path, build):
            return True
        if path is None:  # not kept in a file: nobody else prepares it
            self._prepare(key, view, info, build)
            return True
        with self.files.claim(path) as mine:
            if not mine:
                return False
            if not self._restore(key, path, build):  # unless kept while another worker held the claim
                prepared = self._prepare(key, view, info, build)
                if prepared is not None:  # written before the claim ends: the other workers wait for it
                    self._save(path, build, prepared)
        return True

    def _prepare(self, key: tuple, view: LayerView, info: LayerInfo, build):
        """Build what ``key`` names from the layer's frame and cache it; returns it, or None when it was
        cached meanwhile."""
        frame = self.frame(view, info)
        if self._prepared.get(key) is not None:
            return None
        prepared = build(frame)
        self._prepared.put(key, prepared, weight=max(len(frame), 1))
        return prepared

    # ------------------------------------------------------------------ prepared layers in files
    def _file(self, view: LayerView, info: LayerInfo, build, kind: str):
        """The file of a prepared layer, or None when it is not kept (no folder, a builder that cannot
        keep it, or a town editor's view, which also follows other layers)."""
        if self.files is None or view.towns is not None or not callable(getattr(build, "restore", None)):
            return None
        return self.files.path(info.name, info.version, info.updated_at, repr(view), kind)

    def restore_later(self, view: LayerView, info: LayerInfo, kind: str, build, defer: bool = False) -> bool:
        """Ask the background loader for the layer prepared as ``kind`` for ``view`` if its file is kept
        (see :meth:`server.tiles.TileService.restore_kept`), with ``defer`` once the server is quiet
        (or someone asks for it); whether it was asked."""
        path = self._file(view, info, build, kind) if info.rows <= self.index_max_rows else None
        if path is None or not path.exists():
            return False
        self.prepared(view, info, kind, build, defer=defer)
        return True

    def _restore(self, key: tuple, path: Path | None, build) -> bool:
        """Put the prepared layer kept in ``path`` (:meth:`_file`) under ``key``; whether there was one to
        restore."""
        arrays = self.files.load(path) if path is not None else None
        if arrays is None:
            return False
        try:
            prepared = build.restore(arrays)
        except (KeyError, ValueError, TypeError, IndexError) as exc:  # a file of another make: prepared anew
            log.warning("prepared layer %s in %s is not usable (%s)", key[0], path.name, exc)
            self.files.discard(path)
            return False
        self._prepared.put(key, prepared, weight=max(len(prepared), 1))
        return True

    def _save(self, path, build, prepared) -> None:
        try:
            self.files.save(path, build.arrays(prepared))
        except Exception:  # noqa: BLE001 - only the next start is slower
            log.warning("keeping prepared layer %s failed", path.name, exc_info=True)

    def wait_loaded(self, timeout: float = 60.0) -> bool:
        """Wait until the background loads asked for so far are done, and their layers kept in files
        (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._guard:
                if not self._queued:
                    return True
            time.sleep(0.01)
        return False

    def carry_over(self, name: str, id_field: str, ids, old_version: int, new_version: int) -> int:
        """After one edit took layer ``name`` from ``old_version`` to ``new_version`` changing rows ``ids``:
        keep its cached frames, with those rows read again, under the new version.

        Reloading a 100 000-row layer after each one-row edit would cost seconds on the next tile;
        this reads the changed rows only (once for every view), and puts them where they stood
        (:func:`replace_rows`) unless rows came or went. The caller vouches that nothing else
        changed the layer between the two versions (the versions are consecutive and the edit was
        its own). Returns how many cached frames were carried over.
        """
        ids = [str(i) for i in ids]
        rows = None
        carried = 0
        for view in list(self._views.values()):
            if view.towns is not None:  # a town editor's frames also follow the plots' towns: read again
                continue
            frame = self._frames.get(self._version_key(view, name, old_version))
            if frame is None or id_field not in frame.columns:
                continue
            if rows is None and ids:
                rows = self.store.read(name, where={id_field: ids})
            fresh = self.view_of(view, rows)[frame.columns] if ids else frame.iloc[:0]
            merged = replace_rows(frame, fresh, id_field, ids)
            in_place = merged is not None
            if merged is None:
                kept = frame[~frame[id_field].astype(str).isin(ids).to_numpy()]
                merged = gpd.GeoDataFrame(pd.concat([kept, fresh], ignore_index=True),
                                          geometry=frame.geometry.name, crs=frame.crs)
            merged.sindex
            new_key = self._version_key(view, name, new_version)
            self._frames.put(new_key, merged, weight=max(len(merged), 1))
            if in_place:
                self._carry_prepared(self._version_key(view, name, old_version), new_key, merged,
                                     np.flatnonzero(merged[id_field].astype(str).isin(ids).to_numpy()))
            carried += 1
        return carried

    def _carry_prepared(self, old_key: tuple, new_key: tuple, frame: gpd.GeoDataFrame, rows: np.ndarray) -> None:
        """Carry what was prepared from a frame over a row edit, where it knows how
        (``prepared.carry_over(frame, rows)``); the rest is built again when next asked."""
        for kind in list(self._kinds):
            old = self._prepared.get((*old_key, kind))
            carry = getattr(old, "carry_over", None)
            fresh = carry(frame, rows) if callable(carry) else None
            if fresh is not None:
                self._prepared.put((*new_key, kind), fresh, weight=max(len(frame), 1))

    def bounds(self, view: LayerView, info: LayerInfo) -> tuple[float, float, float, float] | None:
        """``(west, south, east, north)`` of what ``view`` shows of the layer; None when empty."""
        key = self._key(view, info)
        found = self._bounds.get(key, default=False)
        if found is False:
            if view.towns is not None:
                frame = self.frame(view, info)
            elif view.rows is None:
                frame = self.store.read(info.name, columns=[])
            else:
                frame = self.store.read(info.name, columns=view.read_columns(self.columns(info)))
                frame = frame[view.rows.mask(frame)]
            geoms = frame.geometry.values
            geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
            if len(geoms):
                found = tuple(float(v) for v in shapely.total_bounds(geoms))
                if not np.all(np.isfinite(found)):
                    found = None
            else:
                found = None
            self._bounds.put(key, found)
        return found

    @property
    def builds_tiles(self) -> bool:
        """Whether the store builds vector tiles itself (PostGIS: ``ST_AsMVT``)."""
        return callable(getattr(self.store, "mvt", None))

    def warm_tiles(self, connections: int | None = None) -> None:
        """Prepare the store's tile connections (all, or ``connections``), if it builds tiles (PostGIS),
        off the request path."""
        warm = getattr(self.store, "warm_tiles", None)
        if self.builds_tiles and callable(warm):
            warm() if connections is None else warm(connections)

    def prime(self, budget: float = 1.0) -> int:
        """Learn, before the server answers, what the first request of each vector layer would: its
        columns and its epoch (the tile-cache key), and open one tile connection; returns how many
        layers were primed.

        A new server's first tile took 230-300 ms (issue 14): 100 ms to learn the layer's columns
        (pandas and pyarrow used for the first time), the epoch's audit read, a new tile
        connection's PostGIS start-up. Here all the vector layers cost about 120 ms at scale 10, once
        per worker, before it listens. Stops after ``budget`` seconds (a catalogue of hundreds of
        layers); the layers left are learnt on their first request, as before. A failure only logs:
        the request that needs it reports the error itself.
        """
        deadline, primed = time.monotonic() + budget, 0
        try:
            self.warm_tiles(1)
            for info in self.infos().values():
                if time.monotonic() > deadline:
                    break
                if info.kind == "vector":
                    self.columns(info)
                    self.epoch(info)
                    primed += 1
        except Exception:  # noqa: BLE001 - reported by the request that needs it
            log.warning("priming the layers' columns failed", exc_info=True)
        return primed

    def database_tile(self, specs, z: int, x: int, y: int, bbox, **generalisation) -> bytes:
        """Tile z/x/y of ``specs`` (:class:`layers.postgis_mvt.MvtLayer`, already redacted) built by the store."""
        return self.store.mvt(specs, z, x, y, bbox, **generalisation)

    def stats(self) -> dict[str, dict[str, int]]:
        return {"frames": self._frames.stats(), "prepared": self._prepared.stats()}


def replace_rows(frame: gpd.GeoDataFrame, fresh: gpd.GeoDataFrame, id_field: str, ids) -> gpd.GeoDataFrame | None:
    """``frame`` with its rows ``ids`` replaced by those of ``fresh`` where they stand; None when rows
    come or go (or a value does not fit its column).

    The rows keep their places, so a geometry column whose rows are unchanged keeps the frame's
    spatial index (rebuilding it takes 40 ms on 100 000 plots), and only the columns whose values
    changed are copied: filtering and concatenating every column of the frame cost three times
    as much. ``frame`` itself is untouched (pandas copy-on-write): it is still the frame of the
    version before the edit.
    """
    hit = np.flatnonzero(frame[id_field].astype(str).isin(ids).to_numpy())
    if len(hit) != len(fresh) or len(hit) != len(set(ids)):
        return None
    order = pd.Index(fresh[id_field].astype(str)).get_indexer(frame[id_field].iloc[hit].astype(str))
    if (order < 0).any():
        return None
    fresh = fresh.iloc[order]
    merged = frame.copy(deep=False)
    geometry = frame.geometry.name
    for column in frame.columns:
        old, new = frame[column].iloc[hit].reset_index(drop=True), fresh[column].reset_index(drop=True)
        if column == geometry:
            if shapely.equals_exact(np.asarray(old.array, dtype=object), np.asarray(new.array, dtype=object),
                                    tolerance=0).all():
                continue
        elif old.equals(new):
            continue
        values = merged[column].copy()
        try:
            values.iloc[hit] = new.to_numpy()
        except (TypeError, ValueError):  # the new value does not fit the cached column's type
            return None
        merged[column] = values
    return merged
