"""A generated population raster: persons per 100 m cell in the metric CRS (EPSG:4549).

No package ships a population grid of China, so the demo makes one, and says so in the GeoTIFF's
tags (``generated=true``). People live where the city is built up (:mod:`layers.demo.urban`):
:data:`URBAN_SHARE` of :data:`TOTAL_POPULATION` in the built-up footprint (the people of the
generated residential targets there on their footprints, the rest spread with the urban field, denser
towards the centres), the others in the farmland and villages around, thinly enough that no
500 m cell of open country reaches the built-up density of the rule set (1 000 persons/km²).
Cells outside the districts hold :data:`NODATA`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize

from layers.demo.urban import CELL_M, UrbanField

__all__ = ["CELL_M", "TOTAL_POPULATION", "URBAN_SHARE", "NODATA", "Grid", "population_grid", "write_population"]

#: Total persons of the grid: the order of Changzhou's resident population (about 5.28 million in
#: the 2020 census). A demo figure, not census data.
TOTAL_POPULATION = 5_280_000
#: Share of the people living in the built-up footprint: about three in four, the order of the
#: urbanisation rate of a southern Jiangsu city. A demo figure.
URBAN_SHARE = 0.78
#: Value of cells outside the districts.
NODATA = -9999.0
#: Shares of the total: the residential targets' people (inside the footprint), the rest of the
#: built-up population, the countryside.
_SHARES = {"residential": 0.35, "urban": URBAN_SHARE - 0.35, "rural": 1.0 - URBAN_SHARE}
_RURAL_SD = 0.3  # log-spread of the farmland density between 100 m cells


class Grid:
    """A population grid: ``data`` (float32 rows × cols), its ``transform`` and ``crs``."""

    def __init__(self, data: np.ndarray, transform, crs):
        self.data, self.transform, self.crs = data, transform, crs

    @property
    def total(self) -> float:
        """Persons in all valid cells."""
        return float(self.data[self.data != NODATA].sum())


def _scaled_to(part: np.ndarray, total: float) -> np.ndarray:
    s = part.sum()
    return part * (total / s) if s > 0 else part


def population_grid(urban: UrbanField, crs, rng: np.random.Generator, residential: pd.DataFrame) -> Grid:
    """Persons per :data:`CELL_M` cell over the districts, on the grid of ``urban``.

    Parameters
    ----------
    urban : UrbanField
        Where the city is built up (:func:`layers.demo.urban.urban_field`).
    crs : pyproj.CRS
        The metric CRS of ``urban``.
    rng : numpy.random.Generator
    residential : pandas.DataFrame
        Residential targets: ``population`` and metric polygon ``geometry``.
    """
    shape, inside, built = urban.shape, urban.inside, urban.footprint
    # farmland and villages: a little denser next to the towns, never built-up density
    rural = np.where(inside & ~built, (0.6 + 0.8 * np.minimum(urban.field, 1.0))
                     * rng.lognormal(0.0, _RURAL_SD, shape), 0.0)
    fabric = np.where(built, np.sqrt(urban.field), 0.0)
    homes = np.zeros(shape)
    if len(residential):
        geoms = residential["geometry"].to_numpy()
        density = residential["population"].to_numpy(dtype=float) / np.maximum(shapely.area(geoms), 1.0)
        homes = rasterize(
            zip(geoms, density * CELL_M * CELL_M), out_shape=shape, transform=urban.transform,
            fill=0.0, merge_alg=rasterio.enums.MergeAlg.add, dtype="float64",
        ) * built  # the few estates out in the country are counted with the rural people

    data = (
        _scaled_to(homes, _SHARES["residential"] * TOTAL_POPULATION)
        + _scaled_to(fabric, _SHARES["urban"] * TOTAL_POPULATION)
        + _scaled_to(rural, _SHARES["rural"] * TOTAL_POPULATION)
    )
    data = np.where(inside, data, NODATA).astype("float32")
    return Grid(data, urban.transform, crs)


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
