"""People for the F-N curves of a partition: the window of the province's population raster it needs.

Cut on whole cells of the raster, so that on a lattice whose origin is a multiple of the cell
(:mod:`layers.demo.province`) every cell centre is the same float as in the whole raster, and the
people near a site are the same in a partition as in the in-process run.
"""

from __future__ import annotations

import rasterio
from rasterio.windows import Window as RasterWindow

__all__ = ["population_window", "read_population_file"]


def read_population_file(path, bounds=None):
    """A population GeoTIFF as ``(values, transform, crs)`` (nobody where nodata, NaN or negative),
    whole or the window of its cells covering ``bounds`` (its own CRS); None when the window is empty.

    The window's transform is the file's shifted by whole cells, so on a lattice whose origin is a
    multiple of the cell (:mod:`layers.demo.province`) every cell centre is the same float.
    """
    with rasterio.open(path) as src:
        window = None
        if bounds is not None:
            window = src.window(*bounds).round_offsets(op="floor").round_lengths(op="ceil")
            window = window.intersection(RasterWindow(0, 0, src.width, src.height)) \
                if rasterio.windows.intersect(window, RasterWindow(0, 0, src.width, src.height)) else None
            if window is None:
                return None
        values = src.read(1, window=window, masked=True).filled(0).astype(float)
        transform = src.window_transform(window) if window is not None else src.transform
        crs = src.crs.to_wkt()
    values[~(values > 0)] = 0.0
    return values, transform, crs


def population_window(population, bounds):
    """The people a partition needs: the whole raster if held in memory, else the file's window."""
    if population is None or isinstance(population, tuple):
        return population
    return read_population_file(population, bounds)
