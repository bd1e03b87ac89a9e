"""PNG tiles of a paletted raster (the risk surface): warp into the Web Mercator tile, colour, encode.

The raster (an open rasterio dataset, as :meth:`layers.store.Store.read_raster` gives it; any CRS:
the risk surface is in a Gauss-Krüger zone) is read through a rasterio
``WarpedVRT`` whose grid *is* the requested 256×256 EPSG:3857 tile, with nearest-neighbour
resampling (levels are categories, not quantities). Pixels are written as an 8-bit indexed PNG
whose palette is the raster's colour table; the nodata index and every colour-table entry with
alpha 0 are transparent, so the tile shows nothing outside the data.

>>> png = encode_png(np.array([[0, 1], [1, 0]], dtype=np.uint8),
...                  np.array([[0, 0, 0, 0], [215, 25, 28, 255]], dtype=np.uint8))
>>> png[:8] == PNG_SIGNATURE, png[12:16]
(True, b'IHDR')
"""

from __future__ import annotations

import struct
import zlib
import numpy as np
from affine import Affine

from geo.errors import InputError
from geo.tiles import tile_bounds

__all__ = ["PNG_SIGNATURE", "TILE_SIZE", "encode_png", "raster_lonlat_bounds", "render_png_tile"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TILE_SIZE = 256


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(indices: np.ndarray, palette: np.ndarray) -> bytes:
    """An 8-bit indexed PNG of ``indices`` (H, W uint8) with an RGBA ``palette`` (N, 4 uint8)."""
    height, width = indices.shape
    count = max(int(indices.max()) + 1, 1)
    palette = np.zeros((count, 4), np.uint8) if len(palette) == 0 else palette
    if len(palette) < count:
        palette = np.vstack([palette, np.zeros((count - len(palette), 4), np.uint8)])
    rows = np.hstack([np.zeros((height, 1), np.uint8), indices.astype(np.uint8)])  # filter 0 per row
    return b"".join([
        PNG_SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
        _chunk(b"PLTE", palette[:count, :3].tobytes()),
        _chunk(b"tRNS", palette[:count, 3].tobytes()),
        _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
        _chunk(b"IEND", b""),
    ])


def raster_lonlat_bounds(src) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of an open raster, in degrees."""
    from rasterio.warp import transform_bounds  # rasterio loads in about half a second: on first use

    return tuple(transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21))


def _palette(src) -> tuple[np.ndarray, int]:
    if src.dtypes[0] != "uint8":
        raise InputError(f"this raster is {src.dtypes[0]}: only 8-bit paletted rasters are served as PNG tiles")
    try:
        table = src.colormap(1)
    except ValueError:
        raise InputError("the raster has no colour table; only paletted "
                         "rasters are served as PNG tiles") from None
    palette = np.zeros((256, 4), np.uint8)
    for index, rgba in table.items():
        palette[index] = rgba
    nodata = int(src.nodata) if src.nodata is not None else 0
    palette[nodata, 3] = 0
    return palette, nodata


def render_png_tile(src, z: int, x: int, y: int, size: int = TILE_SIZE,
                    bounds: tuple[float, float, float, float] | None = None) -> bytes | None:
    """The PNG of tile z/x/y of the open paletted raster ``src``; None when the tile shows nothing.

    ``bounds`` are the raster's lon/lat bounds when the caller has them (computed otherwise).
    """
    west, south, east, north = tile_bounds(z, x, y).lonlat
    r_west, r_south, r_east, r_north = bounds or raster_lonlat_bounds(src)
    if west >= r_east or east <= r_west or south >= r_north or north <= r_south:
        return None
    palette, nodata = _palette(src)
    minx, miny, maxx, maxy = tile_bounds(z, x, y).mercator
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    transform = Affine((maxx - minx) / size, 0.0, minx, 0.0, -(maxy - miny) / size, maxy)
    with WarpedVRT(src, crs="EPSG:3857", transform=transform, width=size, height=size,
                   resampling=Resampling.nearest, nodata=nodata) as vrt:
        data = vrt.read(1)
    visible = palette[data, 3] > 0
    if not visible.any():
        return None
    return encode_png(data, palette)
