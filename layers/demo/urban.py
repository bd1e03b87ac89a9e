"""Where the demo city is built up: a smooth urban field, its footprint, and sampling in it.

A real Chinese prefecture-level city is a dense central city, a few county-level seats and many
small town centres (镇区) in farmland. The demo draws that as one field over a 100 m grid: an
elliptical bump for the central city (天宁 and 钟楼 and the edges of 新北 and 武进 around them), a
round one for the seat of each county-level district (金坛's 金城镇, 溧阳's 溧城镇) and a small one
for every other town centre, each multiplied by smooth noise so the edges are ragged. Where the
field reaches 1 the land is built up (the *footprint*): about 250 km² of the 4 369 km² city.
Everything that crowds where people live (homes, schools, fire stations, shelters, dense streets)
is placed with the field; the rest of the city is farmland with villages.

Sizes are demo choices, not measurements: the field is generated, and the data say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import Affine
from scipy.ndimage import gaussian_filter

from layers.demo.sampling import CITY_CORE, Area

__all__ = ["CELL_M", "CORE_SEMI_AXES_M", "SEAT_RADIUS_M", "TOWN_RADIUS_M", "COUNTY_SEATS", "UrbanField",
           "urban_field", "raster_frame"]

#: Cell size of the field and of the population grid (m).
CELL_M = 100.0
#: Semi-axes (m) of the central city's footprint, east–west and north–south (about 160 km²).
CORE_SEMI_AXES_M = (5000.0, 7500.0)
#: Radius (m) of the footprint of a county-level seat (about 13 km²).
SEAT_RADIUS_M = 1800.0
#: Radius (m) of a town centre's footprint by its district's weight (sampling.URBAN_WEIGHT):
#: larger in the urban districts, under half a square kilometre in the rural ones.
TOWN_RADIUS_M = {3.0: 700.0, 1.5: 450.0, 1.0: 320.0}
#: The seat of each county-level district, by the town name GeoNames gives it (溧阳's seat 溧城镇
#: is spelt 凓城镇 there).
COUNTY_SEATS = {"320413": ("金城镇",), "320481": ("溧城镇", "凓城镇")}
#: Peak of each bump: the field is 1 at twice the bump's σ, so σ = radius / 2.
_PEAK = float(np.exp(2.0))
_NOISE_SIGMA_M = 1200.0  # correlation length of the ragged edges
_NOISE_SD = 0.35  # spread of log-noise on the field


def _label(geoms, shape, transform) -> np.ndarray:
    """Row of the polygon holding each cell (-1 outside all)."""
    return rasterize(zip(geoms, range(len(geoms))), out_shape=shape, transform=transform, fill=-1, dtype="int32")


def raster_frame(area: Area) -> tuple[tuple[int, int], Affine, np.ndarray]:
    """Shape, transform and district of each cell (row in ``area.districts``, -1 outside) of the
    :data:`CELL_M` grid over the city."""
    x0, y0, x1, y1 = shapely.bounds(area.city)
    x0, y0 = np.floor(x0 / CELL_M) * CELL_M, np.floor(y0 / CELL_M) * CELL_M
    x1, y1 = np.ceil(x1 / CELL_M) * CELL_M, np.ceil(y1 / CELL_M) * CELL_M
    shape = (int(round((y1 - y0) / CELL_M)), int(round((x1 - x0) / CELL_M)))
    transform = Affine(CELL_M, 0.0, x0, 0.0, -CELL_M, y1)
    return shape, transform, _label(area.districts.geometry.values, shape, transform)


@dataclass
class UrbanField:
    """The urban field on the :data:`CELL_M` grid (rows × cols, north up).

    Attributes
    ----------
    field : numpy.ndarray
        ≥ 1 where built up, falling towards 0 in open country; 0 outside the districts.
    district, town : numpy.ndarray of int
        Row in ``Area.districts`` (``Area.towns``) of the district (town) holding each cell, -1
        outside them.
    transform : affine.Affine
    """

    field: np.ndarray
    district: np.ndarray
    town: np.ndarray
    transform: Affine

    @property
    def inside(self) -> np.ndarray:
        """Cells inside the districts."""
        return self.district >= 0

    @property
    def footprint(self) -> np.ndarray:
        """Built-up cells: field ≥ 1 inside the districts."""
        return (self.field >= 1.0) & self.inside

    @property
    def shape(self) -> tuple[int, int]:
        return self.field.shape

    def centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre (x, y) of the cells with flat indices ``flat``."""
        row, col = np.divmod(np.asarray(flat, dtype=np.int64), self.shape[1])
        return self.transform @ (col + 0.5, row + 0.5)

    def cell_of(self, x, y) -> np.ndarray:
        """Flat index of the cell holding each point (clipped to the grid)."""
        col, row = ~self.transform @ (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        row = np.clip(np.floor(row).astype(np.int64), 0, self.shape[0] - 1)
        col = np.clip(np.floor(col).astype(np.int64), 0, self.shape[1] - 1)
        return row * self.shape[1] + col

    def built_up(self, x, y) -> np.ndarray:
        """Whether each point lies in a built-up cell."""
        return self.footprint.ravel()[self.cell_of(x, y)]

    def sample(self, rng: np.random.Generator, n: int, weight: np.ndarray | None = None):
        """``n`` random points in cells drawn with probability ∝ ``weight`` (default: the
        footprint, weighted by the square root of the field, as the urban population is),
        uniform within each cell."""
        if weight is None:
            weight = np.where(self.footprint, np.sqrt(self.field), 0.0)
        w = np.asarray(weight, dtype=float).ravel()
        flat = rng.choice(w.size, size=n, p=w / w.sum())
        x, y = self.centres(flat)
        half = CELL_M / 2.0
        return x + rng.uniform(-half, half, n), y + rng.uniform(-half, half, n)


def _bumps(area: Area) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, y and σ x, σ y (m) of every bump: the central city, seats, town centres."""
    t = area.towns
    names, parents = t["name"].to_numpy(dtype=object), t["parent"].to_numpy(dtype=object)
    seat = np.array([n in COUNTY_SEATS.get(p, ()) for n, p in zip(names, parents)])
    radius = np.array([TOWN_RADIUS_M.get(w, TOWN_RADIUS_M[1.0]) for w in area.town_weights()])
    radius = np.where(seat, SEAT_RADIUS_M, radius)
    cx, cy = area.core_centre()
    x = np.r_[cx, t["cx"].to_numpy(dtype=float)]
    y = np.r_[cy, t["cy"].to_numpy(dtype=float)]
    has_core = bool(np.isin(parents, CITY_CORE).any())
    sx = np.r_[CORE_SEMI_AXES_M[0] if has_core else 0.0, radius] / 2.0
    sy = np.r_[CORE_SEMI_AXES_M[1] if has_core else 0.0, radius] / 2.0
    keep = sx > 0
    return x[keep], y[keep], sx[keep], sy[keep]


def urban_field(area: Area, rng: np.random.Generator) -> UrbanField:
    """The urban field of ``area`` (see the module docstring); deterministic for ``rng``'s state."""
    shape, transform, district = raster_frame(area)
    field = np.zeros(shape)
    for bx, by, sx, sy in zip(*_bumps(area)):
        # evaluate each bump in its own window (4 σ), not over the whole city
        c0, r1 = ~transform @ (bx - 4 * sx, by - 4 * sy)
        c1, r0 = ~transform @ (bx + 4 * sx, by + 4 * sy)
        r0, c0 = max(int(r0), 0), max(int(c0), 0)
        r1, c1 = min(int(r1) + 1, shape[0]), min(int(c1) + 1, shape[1])
        if r0 >= r1 or c0 >= c1:
            continue
        gx, gy = transform @ (np.arange(c0, c1)[None, :] + 0.5, np.arange(r0, r1)[:, None] + 0.5)
        q = ((gx - bx) / sx) ** 2 + ((gy - by) / sy) ** 2
        field[r0:r1, c0:c1] += _PEAK * np.exp(-0.5 * q)
    noise = gaussian_filter(rng.standard_normal(shape), _NOISE_SIGMA_M / CELL_M, mode="nearest")
    noise *= _NOISE_SD / max(float(noise.std()), 1e-12)
    return UrbanField(field=np.where(district >= 0, field * np.exp(noise), 0.0), district=district,
                      town=_label(area.towns.geometry.values, shape, transform), transform=transform)
