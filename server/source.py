"""Layer reads for the routers: versions, redacted frames and extents, cached by layer version.

:class:`LayerSource` is the only object in ``server/`` that calls the :class:`~layers.store.Store`.
Every frame it returns has been through a :class:`~server.redaction.LayerView` (the caller's view
of the layer), and every cache key it uses carries the layer's version, so a write to the store
is seen by the next request without any explicit invalidation.

Bounding-box reads of layers up to ``index_max_rows`` rows are answered from memory: the first
one loads the whole layer as the view shows it, with a spatial index (an STRtree), and keeps it
in an LRU bounded by entries and by total rows; later reads query the index. This takes the
per-request cost of reading the store (10-20 ms) off every tile and page. The default
(2 million rows) holds the scale-100 demo's 1.5 million road segments, which read from the store
per request made the combined tile 2-3× slower; larger layers still go to the store per request,
through its own spatial index.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import numpy as np
import shapely

from layers.store import LayerInfo, Store
from server.cache import LRUCache
from server.raster_tiles import raster_lonlat_bounds
from server.redaction import LayerView

__all__ = ["LayerSource"]

#: A bbox that meets (almost) nothing: reading it gives a layer's columns cheaply.
_NOWHERE = (0.0, 0.0, 0.0, 0.0)


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
    """

    def __init__(self, store: Store, frame_cache_size: int = 32, frame_cache_rows: int = 5_000_000,
                 index_max_rows: int = 2_000_000):
        self.store = store
        self.index_max_rows = index_max_rows
        self._frames = LRUCache(frame_cache_size, maxweight=frame_cache_rows)
        self._views: dict = {}  # view.key → view, for carrying cached frames over an edit
        self._columns = LRUCache(256)
        self._bounds = LRUCache(256)

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
        """
        if bbox is not None and info.rows <= self.index_max_rows:
            frame = self.frame(view, info)
            if not len(frame):
                return frame
            hits = frame.sindex.query(shapely.box(*bbox))  # bounding boxes meeting it, as the store
            return frame.iloc[np.sort(hits)]
        return view.apply(self.store.read(info.name, bbox=bbox))

    def frame(self, view: LayerView, info: LayerInfo) -> gpd.GeoDataFrame:
        """The whole layer as ``view`` shows it, cached per (layer, version, view)."""
        key = (info.name, info.version, view.key)
        frame = self._frames.get(key)
        if frame is None:
            frame = view.apply(self.store.read(info.name))
            frame.sindex  # build the spatial index now, once, rather than in a later request
            self._frames.put(key, frame, weight=max(len(frame), 1))
            self._views[view.key] = view
        return frame

    def carry_over(self, name: str, id_field: str, ids, old_version: int, new_version: int) -> int:
        """After one edit took layer ``name`` from ``old_version`` to ``new_version`` changing rows ``ids``:
        keep its cached frames, with those rows read again, under the new version.

        Reloading a 100 000-row layer after each one-row edit would cost seconds on the next tile;
        this reads the changed rows only. The caller vouches that nothing else changed the layer
        between the two versions (the versions are consecutive and the edit was its own). Returns
        how many cached frames were carried over.
        """
        ids = [str(i) for i in ids]
        carried = 0
        for key, view in list(self._views.items()):
            frame = self._frames.get((name, old_version, key))
            if frame is None or id_field not in frame.columns:
                continue
            fresh = view.apply(self.store.read(name, where={id_field: ids})) if ids else frame.iloc[:0]
            kept = frame[~frame[id_field].astype(str).isin(ids).to_numpy()]
            merged = gpd.GeoDataFrame(pd.concat([kept, fresh[frame.columns]], ignore_index=True),
                                      geometry=frame.geometry.name, crs=frame.crs)
            merged.sindex
            self._frames.put((name, new_version, key), merged, weight=max(len(merged), 1))
            carried += 1
        return carried

    def bounds(self, view: LayerView, info: LayerInfo) -> tuple[float, float, float, float] | None:
        """``(west, south, east, north)`` of what ``view`` shows of the layer; None when empty."""
        key = (info.name, info.version, view.key)
        found = self._bounds.get(key, default=False)
        if found is False:
            if view.rows is None:
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

    def stats(self) -> dict[str, dict[str, int]]:
        return {"frames": self._frames.stats()}
