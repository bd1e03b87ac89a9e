"""Rasters as the stores keep them: :class:`RasterData`, GeoTIFF bytes, and a small cache.

A raster enters a store as a GeoTIFF path or as an array with a rasterio-style profile
(:func:`raster_from_source`) and leaves it as an open rasterio dataset over a GeoTIFF held in
memory (:func:`open_geotiff`), identical in pixels, CRS, transform, nodata, colour table, tags and
band descriptions. How a backend keeps the pixels is its own business (GeoPackage raster tables,
PostgreSQL bytes); what both keep beside them is :meth:`RasterData.meta`, a JSON-able dict.

Rasters are single-band, north-up, of dtype uint8, uint16, int16 or float32: the types a
GeoPackage 2D gridded coverage holds losslessly (uint8 travels as uint16), so that every raster
can be copied between backends cell for cell.

>>> import numpy as np
>>> from affine import Affine
>>> grid = np.array([[0, 1], [2, 3]], dtype="uint8")
>>> raster = raster_from_source(grid, {"crs": "EPSG:4549", "transform": Affine(100, 0, 5e5, 0, -100, 3.5e6),
...                                     "nodata": 0})
>>> with open_geotiff(geotiff_bytes(raster)) as src:
...     src.read(1).tolist(), src.crs.to_string(), src.nodata
([[0, 1], [2, 3]], 'EPSG:4549', 0.0)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile

from geo.errors import InputError

__all__ = ["RASTER_DTYPES", "RasterData", "raster_from_source", "raster_from_dataset", "geotiff_bytes",
           "open_geotiff", "GEOTIFFS"]

#: dtypes a store keeps (losslessly, in every backend).
RASTER_DTYPES = ("uint8", "uint16", "int16", "float32")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@dataclass
class RasterData:
    """One single-band raster: ``array`` (height, width) and what describes it."""

    array: np.ndarray
    crs: str  # WKT
    transform: tuple[float, float, float, float, float, float]
    nodata: float | None = None
    colormap: dict[int, tuple[int, int, int, int]] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    band_tags: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    @property
    def dtype(self) -> str:
        return str(self.array.dtype)

    @property
    def crs_label(self) -> str:
        """``AUTH:CODE`` when the CRS has one, else its WKT (as :class:`~layers.store.LayerInfo` shows it)."""
        return CRS.from_wkt(self.crs).to_string()

    def meta(self) -> dict:
        """Everything but the pixels, JSON-able."""
        return {"dtype": self.dtype, "height": int(self.array.shape[0]), "width": int(self.array.shape[1]),
                "crs": self.crs, "transform": list(self.transform), "nodata": _json_number(self.nodata),
                "colormap": ({str(k): list(v) for k, v in self.colormap.items()} if self.colormap else None),
                "tags": dict(self.tags), "band_tags": dict(self.band_tags), "description": self.description}

    @classmethod
    def from_meta(cls, meta: Mapping, array: np.ndarray) -> RasterData:
        """The raster of ``meta`` (from :meth:`meta`) with pixels ``array`` (cast to its dtype)."""
        colormap = meta.get("colormap")
        nodata = meta.get("nodata")
        return cls(np.asarray(array).astype(meta["dtype"], copy=False), meta["crs"], tuple(meta["transform"]),
                   float("nan") if nodata == "nan" else nodata,
                   {int(k): tuple(v) for k, v in colormap.items()} if colormap else None,
                   dict(meta.get("tags") or {}), dict(meta.get("band_tags") or {}), meta.get("description"))


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return "nan" if np.isnan(value) else value


def _check(array: np.ndarray, transform, where: str) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise InputError(f"{where}: a store keeps single-band rasters; got an array of shape {array.shape}")
    if str(array.dtype) == "float64" and np.array_equal(array.astype("float32"), array, equal_nan=True):
        array = array.astype("float32")
    if str(array.dtype) not in RASTER_DTYPES:
        raise InputError(f"{where}: raster dtype {array.dtype} is not stored; use one of "
                         f"{', '.join(RASTER_DTYPES)} (convert it first)")
    if transform.b != 0 or transform.d != 0:
        raise InputError(f"{where}: the raster is rotated; a store keeps north-up rasters")
    return array


def raster_from_source(source, profile: Mapping | None = None) -> RasterData:
    """A :class:`RasterData` from a GeoTIFF path, or from an array and a profile.

    Parameters
    ----------
    source : str, path-like or numpy.ndarray
        A GeoTIFF file, or a 2-D array (or 1 × H × W).
    profile : mapping, optional
        With an array: ``crs`` and ``transform`` (required), ``nodata``, ``colormap``
        ({index: RGBA}), ``tags``, ``band_tags``, ``description``.
    """
    if isinstance(source, (str, PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such raster file")
        with open(path, "rb") as fh:
            if fh.read(4) not in _TIFF_MAGIC:
                raise InputError(f"{path}: not a GeoTIFF (no TIFF header)")
        try:
            with rasterio.open(path) as src:
                return raster_from_dataset(src, str(path))
        except rasterio.errors.RasterioError as exc:
            raise InputError(f"{path}: cannot read the raster ({exc})") from None
    if not isinstance(source, np.ndarray):
        raise InputError(f"a raster is a GeoTIFF path or a numpy array, not {type(source).__name__}")
    profile = dict(profile or {})
    if profile.get("crs") is None or profile.get("transform") is None:
        raise InputError("a raster array needs a profile with its crs and transform")
    transform = profile["transform"]
    transform = transform if isinstance(transform, Affine) else Affine(*transform[:6])
    array = _check(source, transform, "raster array")
    crs = CRS.from_user_input(profile["crs"]).to_wkt()
    return RasterData(array, crs, tuple(transform)[:6], profile.get("nodata"), profile.get("colormap"),
                      {k: str(v) for k, v in (profile.get("tags") or {}).items()},
                      {k: str(v) for k, v in (profile.get("band_tags") or {}).items()}, profile.get("description"))


def raster_from_dataset(src, where: str = "raster") -> RasterData:
    """A :class:`RasterData` of an open single-band rasterio dataset (``where`` names it in errors)."""
    if src.count != 1:
        raise InputError(f"{where}: a store keeps single-band rasters; this one has {src.count} bands")
    if src.crs is None:
        raise InputError(f"{where}: the raster has no CRS")
    try:
        colormap = src.colormap(1)
    except ValueError:
        colormap = None
    array = _check(src.read(1), src.transform, where)
    return RasterData(array, src.crs.to_wkt(), tuple(src.transform)[:6], src.nodata, colormap,
                      dict(src.tags()), dict(src.tags(1)), src.descriptions[0])


def geotiff_bytes(raster: RasterData) -> bytes:
    """``raster`` as a deflate-compressed, tiled GeoTIFF, in bytes."""
    height, width = raster.array.shape
    profile = {"driver": "GTiff", "height": height, "width": width, "count": 1, "dtype": raster.dtype,
               "crs": CRS.from_wkt(raster.crs), "transform": Affine(*raster.transform), "nodata": raster.nodata,
               "compress": "deflate"}
    if height >= 256 and width >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with MemoryFile() as memory:
        with memory.open(**profile) as dst:
            dst.write(raster.array, 1)
            if raster.colormap:
                dst.write_colormap(1, raster.colormap)
            if raster.tags:
                dst.update_tags(**raster.tags)
            if raster.band_tags:
                dst.update_tags(1, **raster.band_tags)
            if raster.description:
                dst.set_band_description(1, raster.description)
        return memory.read()


@contextmanager
def open_geotiff(data: bytes) -> Iterator[rasterio.io.DatasetReader]:
    """An open rasterio dataset over GeoTIFF ``data`` (closed on exit)."""
    with MemoryFile(data) as memory, memory.open() as src:
        yield src


class _GeoTiffCache:
    """GeoTIFF bytes by raster token (a token names one raster version for good), LRU by size.

    A raster missing is loaded once however many threads ask at the same time (the others wait
    for it): a new server's first burst of PNG tiles extracted the same GeoTIFF once per request.
    """

    def __init__(self, max_bytes: int = 512 * 2**20):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def _cached(self, token: str) -> bytes | None:
        with self._lock:
            found = self._items.get(token)
            if found is not None:
                self._items.move_to_end(token)
            return found

    def get(self, token: str, load) -> bytes:
        found = self._cached(token)
        if found is not None:
            return found
        with self._lock:
            loading = self._loading.setdefault(token, threading.Lock())
        with loading:
            data = self._cached(token)
            if data is None:
                data = load()
                with self._lock:
                    self._items[token] = data
                    while sum(len(v) for v in self._items.values()) > self.max_bytes and len(self._items) > 1:
                        self._items.popitem(last=False)
        with self._lock:
            self._loading.pop(token, None)
        return data


#: The process's cache of rasters read from stores.
GEOTIFFS = _GeoTiffCache()
