"""Shared tools of the demo generator: the study area in metres, seeded generators, sampling.

Everything is generated in the metric Gauss-Krüger CRS of the area (EPSG:4549 for Changzhou) and
converted to the store CRS at the end. Each layer draws from its own generator, derived from the
seed and the layer's name, so adding a draw to one layer never changes another.
"""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass
from functools import cached_property
from importlib.resources.abc import Traversable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo.crs import STORE_CRS, metric_crs_for
from geo.errors import InputError
from riskmap_data import rules_file

__all__ = [
    "Area", "DEFAULT_RULESET", "read_ruleset", "rng_for", "demo_ids", "demo_names", "rectangles", "scaled",
    "polygonal", "URBAN_WEIGHT", "CITY_CORE",
]

_POLYGONAL = ("Polygon", "MultiPolygon")
#: How much more weight the towns of each district get when people, services and targets are
#: placed (the urban districts first; any other district 1).
URBAN_WEIGHT = {"320402": 3.0, "320404": 3.0, "320411": 1.5, "320412": 1.5}
#: The districts of the city core (天宁, 钟楼).
CITY_CORE = ("320402", "320404")


#: The rule set the engine uses by default; the demo reads a few figures from it (critical
#: quantities, shelter space per person) so that no figure is held twice.
DEFAULT_RULESET = rules_file()


def read_ruleset(path: str | Path | Traversable = DEFAULT_RULESET) -> dict:
    """The TOML rule set at ``path`` as a dict; :class:`InputError` if it cannot be read."""
    try:
        source = path if isinstance(path, Traversable) else Path(path)
        return tomllib.loads(source.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"the demo cannot read the rule set {path}: {exc}") from None


def rng_for(seed: int, layer: str) -> np.random.Generator:
    """A numpy Generator for one layer, derived from the build seed and the layer's name.

    >>> a, b = rng_for(1, "plots").integers(1000, size=3), rng_for(1, "plots").integers(1000, size=3)
    >>> bool((a == b).all())
    True
    """
    return np.random.default_rng([int(seed), zlib.crc32(layer.encode("utf-8"))])


def scaled(base: int, scale: float) -> int:
    """``base`` multiplied by ``scale``, rounded, at least 1.

    >>> scaled(1200, 1), scaled(1200, 0.5), scaled(3, 0.01)
    (1200, 600, 1)
    """
    return max(1, int(round(base * scale)))


def _width(n: int) -> int:
    return max(4, len(str(n)))


def demo_ids(prefix: str, n: int) -> np.ndarray:
    """Stable ids ``prefix`` + zero-padded sequence (at least 4 digits).

    >>> demo_ids("P", 3).tolist()
    ['P0001', 'P0002', 'P0003']
    """
    w = _width(n)
    return np.array([f"{prefix}{i:0{w}d}" for i in range(1, n + 1)], dtype=object)


def demo_names(label: str | np.ndarray, n: int) -> np.ndarray:
    """Names that say they are demo data: "演示" + label + "-" + sequence.

    ``label`` may be one string or one per item.

    >>> demo_names("企业", 2).tolist()
    ['演示企业-0001', '演示企业-0002']
    """
    w = _width(n)
    labels = np.broadcast_to(np.asarray(label, dtype=object), (n,))
    return np.array([f"演示{lab}-{i:0{w}d}" for i, lab in enumerate(labels, start=1)], dtype=object)


def rectangles(cx, cy, width, height, angle=0.0) -> np.ndarray:
    """Rectangles centred on (cx, cy), ``width`` × ``height``, rotated by ``angle`` radians.

    All arguments broadcast together; each rectangle turns about its own centre.

    >>> r = rectangles([0.0], [0.0], [40.0], [10.0])
    >>> float(shapely.area(r[0]))
    400.0
    """
    cx, cy, width, height, angle = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (cx, cy, width, height, angle))
    )
    dx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])[None, :] * width[:, None]
    dy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])[None, :] * height[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    coords = np.stack([cx[:, None] + dx * cos - dy * sin, cy[:, None] + dx * sin + dy * cos], axis=-1)
    return shapely.polygons(coords)


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (a clip can leave stray lines or points).

    Returns an array of the same length; a geometry with no polygonal part becomes an empty
    polygon.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    kinds = shapely.get_type_id(geoms)
    mixed = np.flatnonzero(kinds == 7)  # GeometryCollection
    for i in mixed:
        parts = [p for p in shapely.get_parts(geoms[i]) if p.geom_type in _POLYGONAL]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


@dataclass
class Area:
    """The study area in metres: districts and towns, with the look-ups the generators need.

    Attributes
    ----------
    crs : pyproj.CRS
        The metric CRS everything is generated in.
    districts : geopandas.GeoDataFrame
        ``code``, ``name`` and (prepared) geometry, metric.
    towns : geopandas.GeoDataFrame
        ``code``, ``name``, ``parent`` and geometry, metric, plus ``cx``, ``cy``: the town's centre
        (its GeoNames point, else a point inside it).
    """

    crs: CRS
    districts: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame

    @classmethod
    def from_layers(cls, districts: gpd.GeoDataFrame, towns: gpd.GeoDataFrame) -> "Area":
        """Build from districts and towns in any CRS (towns may carry a ``centre`` point column)."""
        crs = metric_crs_for(districts)
        d = districts[["code", "name", "geometry"]].to_crs(crs).reset_index(drop=True)
        t = towns[["code", "name", "parent", "geometry"]].to_crs(crs).reset_index(drop=True)
        if "centre" in towns:
            centres = gpd.GeoSeries(list(towns["centre"]), crs=towns.crs).to_crs(crs).values
        else:
            centres = t.geometry.representative_point().values
        t["cx"], t["cy"] = shapely.get_x(centres), shapely.get_y(centres)
        shapely.prepare(d.geometry.values)
        shapely.prepare(t.geometry.values)
        return cls(crs=crs, districts=d, towns=t)

    def town_weights(self) -> np.ndarray:
        """Weight of each town by its district's :data:`URBAN_WEIGHT` (1 elsewhere)."""
        return self.towns["parent"].map(URBAN_WEIGHT).fillna(1.0).to_numpy(dtype=float)

    def core_centre(self) -> tuple[float, float]:
        """Mean centre of the towns of the city core (of all towns if there are none)."""
        core = self.towns[self.towns["parent"].isin(CITY_CORE)]
        cx, cy = (core if len(core) else self.towns)[["cx", "cy"]].mean().to_numpy()
        return float(cx), float(cy)

    def district_index(self, codes) -> np.ndarray:
        """Row positions in :attr:`districts` of district ``codes``."""
        lookup = {c: i for i, c in enumerate(self.districts["code"])}
        return np.array([lookup[c] for c in np.asarray(codes, dtype=object)], dtype=int)

    def inside(self, district_idx, x, y) -> np.ndarray:
        """Whether each point (x, y) lies inside district number ``district_idx`` (per point)."""
        geoms = self.districts.geometry.values[np.asarray(district_idx, dtype=int)]
        return shapely.contains_xy(geoms, np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    def uniform(self, rng: np.random.Generator, district_idx) -> tuple[np.ndarray, np.ndarray]:
        """One uniformly random point inside each given district (rejection sampling, vectorised)."""
        district_idx = np.asarray(district_idx, dtype=int)
        x = np.full(district_idx.shape, np.nan)
        y = np.full(district_idx.shape, np.nan)
        bounds = shapely.bounds(self.districts.geometry.values)[district_idx]
        todo = np.arange(district_idx.size)
        while todo.size:
            b = bounds[todo]
            tx = rng.uniform(b[:, 0], b[:, 2])
            ty = rng.uniform(b[:, 1], b[:, 3])
            ok = self.inside(district_idx[todo], tx, ty)
            x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
            todo = todo[~ok]
        return x, y

    def near(
        self, rng: np.random.Generator, cx, cy, sigma, district_idx, rounds: int = 8
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points scattered around centres (cx, cy) with a normal spread ``sigma`` (m), inside districts.

        Each point must fall in its district ``district_idx``; misses are redrawn ``rounds`` times,
        then drawn uniformly over the district.
        """
        district_idx = np.asarray(district_idx, dtype=int)
        cx, cy, sigma = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (cx, cy, sigma)))
        cx, cy, sigma = (np.broadcast_to(v, district_idx.shape) for v in (cx, cy, sigma))
        x = np.full(district_idx.shape, np.nan)
        y = np.full(district_idx.shape, np.nan)
        todo = np.arange(district_idx.size)
        for _ in range(rounds):
            if not todo.size:
                break
            tx = cx[todo] + rng.normal(0.0, sigma[todo])
            ty = cy[todo] + rng.normal(0.0, sigma[todo])
            ok = self.inside(district_idx[todo], tx, ty)
            x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
            todo = todo[~ok]
        if todo.size:
            x[todo], y[todo] = self.uniform(rng, district_idx[todo])
        return x, y

    def town_of(self, x, y) -> np.ndarray:
        """The code of the town containing each point (the nearest town for a point outside all)."""
        points = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        tree = shapely.STRtree(self.towns.geometry.values)
        pos = np.full(len(points), -1, dtype=int)
        hit, town = tree.query(points, predicate="within")
        pos[hit[::-1]] = town[::-1]  # first hit wins on a shared edge
        miss = np.flatnonzero(pos < 0)
        if miss.size:
            _, nearest = tree.query_nearest(points[miss], return_distance=False, all_matches=False)
            pos[miss] = nearest
        return self.towns["code"].to_numpy(dtype=object)[pos]

    def clip(self, geoms) -> np.ndarray:
        """Polygons cut to the union of the districts (only those that stick out are cut)."""
        geoms = np.asarray(geoms, dtype=object).copy()
        out = ~shapely.contains(self.city, geoms)
        if out.any():
            geoms[out] = polygonal(shapely.intersection(geoms[out], self.city))
        return geoms

    @cached_property
    def city(self) -> shapely.Geometry:
        """The union of the districts (prepared)."""
        city = shapely.union_all(self.districts.geometry.values)
        shapely.prepare(city)
        return city

    def district_of(self, x, y) -> np.ndarray:
        """Row position in :attr:`districts` of the district holding each point (via its town)."""
        parent = dict(zip(self.towns["code"], self.towns["parent"]))
        return self.district_index([parent[c] for c in self.town_of(x, y)])

    def to_store(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``frame`` (metric) reprojected to the store CRS, EPSG:4490."""
        return frame.set_crs(self.crs, allow_override=True).to_crs(STORE_CRS)
