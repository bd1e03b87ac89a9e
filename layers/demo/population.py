"""A generated population raster: persons per 100 m cell in the metric CRS (EPSG:4549).

No package ships a population grid of China, so the demo makes one, and says so in the GeoTIFF's
tags (``generated=true``). It adds three parts, each scaled to a fixed share of
:data:`TOTAL_POPULATION`: a rural background over the districts, Gaussian bumps around the town
centres (the biggest in the city core, 天宁 and 钟楼), and the people of the generated residential
targets spread over their footprints. Cells outside the districts hold :data:`NODATA`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.transform import Affine
from rasterio.features import geometry_mask, rasterize
from scipy.ndimage import gaussian_filter

from layers.demo.sampling import Area

__all__ = ["CELL_M", "TOTAL_POPULATION", "NODATA", "Grid", "population_grid", "write_population"]

#: Cell size (m).
CELL_M = 100.0
#: Total persons of the grid: the order of Changzhou's resident population (about 5.28 million in
#: the 2020 census). A demo figure, not census data.
TOTAL_POPULATION = 5_280_000
#: Value of cells outside the districts.
NODATA = -9999.0
#: Shares of the total: rural background, town and city-core bumps, residential targets.
_SHARES = {"background": 0.15, "towns": 0.50, "residential": 0.35}
_TOWN_SIGMA_M = 1500.0
_CORE_SIGMA_M = 4000.0


class Grid:
    """A population grid: ``data`` (float32 rows × cols), its ``transform`` and ``crs``."""

    def __init__(self, data: np.ndarray, transform: Affine, crs):
        self.data, self.transform, self.crs = data, transform, crs

    @property
    def total(self) -> float:
        """Persons in all valid cells."""
        return float(self.data[self.data != NODATA].sum())


def _scaled_to(part: np.ndarray, total: float) -> np.ndarray:
    s = part.sum()
    return part * (total / s) if s > 0 else part


def _impulses(shape, transform: Affine, x, y, weight) -> np.ndarray:
    """A grid of zeros with ``weight`` added in the cell of each point (x, y)."""
    x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
    col, row = ~transform @ (x, y)
    out = np.zeros(shape)
    row = np.clip(np.floor(row).astype(int), 0, shape[0] - 1)
    col = np.clip(np.floor(col).astype(int), 0, shape[1] - 1)
    np.add.at(out, (row, col), weight)
    return out


def population_grid(area: Area, rng: np.random.Generator, residential: pd.DataFrame) -> Grid:
    """Persons per :data:`CELL_M` cell over the districts, in the area's metric CRS.

    Parameters
    ----------
    area : Area
    rng : numpy.random.Generator
    residential : pandas.DataFrame
        Residential targets: ``population`` and metric polygon ``geometry``.
    """
    x0, y0, x1, y1 = shapely.bounds(area.city)
    x0, y0 = np.floor(x0 / CELL_M) * CELL_M, np.floor(y0 / CELL_M) * CELL_M
    x1, y1 = np.ceil(x1 / CELL_M) * CELL_M, np.ceil(y1 / CELL_M) * CELL_M
    shape = (int(round((y1 - y0) / CELL_M)), int(round((x1 - x0) / CELL_M)))
    transform = Affine(CELL_M, 0.0, x0, 0.0, -CELL_M, y1)
    inside = geometry_mask(area.districts.geometry.values, shape, transform, invert=True)

    background = inside * rng.lognormal(0.0, 0.4, shape)

    towns = area.towns
    weight = area.town_weights() * rng.lognormal(0.0, 0.4, len(towns))
    bumps = _impulses(shape, transform, towns["cx"].to_numpy(), towns["cy"].to_numpy(), weight)
    bumps = gaussian_filter(bumps, _TOWN_SIGMA_M / CELL_M, mode="constant")
    core = _impulses(shape, transform, *area.core_centre(), 1.0)
    core = gaussian_filter(core, _CORE_SIGMA_M / CELL_M, mode="constant")
    bumps = _scaled_to(bumps, 1.0) + _scaled_to(core, 1.0)
    bumps *= inside

    homes = np.zeros(shape)
    if len(residential):
        geoms = residential["geometry"].to_numpy()
        density = residential["population"].to_numpy(dtype=float) / np.maximum(shapely.area(geoms), 1.0)
        homes = rasterize(
            zip(geoms, density * CELL_M * CELL_M), out_shape=shape, transform=transform,
            fill=0.0, merge_alg=rasterio.enums.MergeAlg.add, dtype="float64",
        ) * inside

    data = (
        _scaled_to(background, _SHARES["background"] * TOTAL_POPULATION)
        + _scaled_to(bumps, _SHARES["towns"] * TOTAL_POPULATION)
        + _scaled_to(homes, _SHARES["residential"] * TOTAL_POPULATION)
    )
    data = np.where(inside, data, NODATA).astype("float32")
    return Grid(data, transform, area.crs)


def write_population(grid: Grid, path: str | Path, tags: dict | None = None) -> Path:
    """Write ``grid`` as a tiled, compressed GeoTIFF tagged as generated demo data."""
    path = Path(path)
    profile = {
        "driver": "GTiff", "height": grid.data.shape[0], "width": grid.data.shape[1], "count": 1,
        "dtype": "float32", "crs": grid.crs, "transform": grid.transform, "nodata": NODATA,
        "compress": "deflate", "predictor": 3, "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid.data, 1)
        dst.update_tags(
            generated="true",
            description="GENERATED demo population (riskmap): not census data",
            units=f"persons per {CELL_M:g} m cell",
            total=f"{grid.total:.0f}",
            **(tags or {}),
        )
        dst.set_band_description(1, "population (persons per cell, generated)")
    return path
