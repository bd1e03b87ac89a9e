"""A tiny hand-built city for the coverage-run and siting tests (zoning and CLI).

Drawn in metres in EPSG:4549 (CGCS2000 / 3-degree Gauss-Krüger CM 120E) from the origin
(X0, Y0) ≈ 120.0°E 31.6°N, then stored in EPSG:4490 like every store layer. Figures follow
from the default rule set, so each test can say its answer by hand:

* district D = town T1 (0–4 km × 0–4 km, a road every 500 m both ways at 36 km/h = 10 m/s)
  + town T2 (4–6 km × 0–4 km, **no roads**);
* fire stations S1 (standard_1) at (1000, 1000) on a road node, S2 (standard_2) in T2 at
  (5000, 2000) → radius fallback 30 km/h × 4 min / 1.4 = 1428.6 m; micro station M1 in T1;
* hazard site H1 at (2000, 2000): chlorine 2 t (Σq/Q 0.4 < 1 → specialist-code table distances
  toxic_gas: high-sensitivity 300, important 300, general I 200, II 150, III 100 m) on plot P1
  (one 重大 risk item → red); H2 at (3500, 500): methanol 100 t (flammable_liquid table 100 /
  100 / 60 / 50 / 30 m); H3 in T2 at (5900, 3900): LPG 60 t, declared grade 2, 2.1 km from S2
  (outside its radius: the uncovered major hazard source);
* school PT1 at (2250, 2000) (250 m from H1, inside its 300 m), homes PT2 at (1000, 3000);
* shelters E1 (emergency, 300 m², capacity 300) at (1000, 1300), F1 (fixed_long) at (5000, 1000).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from shapely import LineString, Point

from layers.store import Store, create_store, open_store
from layers.validate import validate_layer

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_500_000.0


def at(x: float, y: float) -> Point:
    """A point (x, y) metres from the origin, in EPSG:4549."""
    return Point(X0 + x, Y0 + y)


def lonlat(geom) -> shapely.Geometry:
    """A geometry drawn in metres from the origin (x, y) as lon/lat (EPSG:4490)."""
    moved = shapely.transform(geom, lambda xy: xy + [X0, Y0])
    return gpd.GeoSeries([moved], crs=GK).to_crs("EPSG:4490").iloc[0]


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _layer(name: str, rows: list[dict]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in rows],
                             geometry=[r["geometry"] for r in rows], crs=GK).to_crs("EPSG:4490")
    return validate_layer(name, frame)


def _inventory(name: str, tonnes: float) -> str:
    return json.dumps([{"name": name, "quantity_t": tonnes}])


def layers() -> dict[str, gpd.GeoDataFrame]:
    """The source layers of the tiny city, validated, in EPSG:4490."""
    roads = []
    for i in range(9):
        for j in range(8):
            roads.append(LineString([(X0 + i * 500, Y0 + j * 500), (X0 + i * 500, Y0 + (j + 1) * 500)]))
            roads.append(LineString([(X0 + j * 500, Y0 + i * 500), (X0 + (j + 1) * 500, Y0 + i * 500)]))
    return {
        "admin_areas": _layer("admin_areas", [
            {"code": "D", "name": "District", "level": "district", "geometry": box(0, 0, 6000, 4000)},
            {"code": "T1", "name": "Roads town", "level": "town", "parent": "D", "geometry": box(0, 0, 4000, 4000)},
            {"code": "T2", "name": "Roadless town", "level": "town", "parent": "D",
             "geometry": box(4000, 0, 6000, 4000)}]),
        "roads": _layer("roads", [{"road_id": f"r{k}", "class": "tertiary", "speed_kmh": 36.0, "geometry": g}
                                  for k, g in enumerate(roads)]),
        "rescue_stations": _layer("rescue_stations", [
            {"station_id": "S1", "name": "一号站", "kind": "standard_1", "geometry": at(1000, 1000)},
            {"station_id": "S2", "name": "二号站", "kind": "standard_2", "geometry": at(5000, 2000)},
            {"station_id": "M1", "name": "微型站", "kind": "micro", "geometry": at(3000, 3000)}]),
        "industrial_plots": _layer("industrial_plots", [
            {"plot_id": "P1", "town": "T1", "enterprise": "氯碱厂", "risk_major": 1, "workers": 20,
             "geometry": box(1900, 1900, 2100, 2100)},
            {"plot_id": "P2", "town": "T1", "enterprise": "甲醇库", "risk_general": 1, "workers": 10,
             "geometry": box(3400, 400, 3600, 600)},
            {"plot_id": "P3", "town": "T2", "enterprise": "气站", "risk_general": 1, "workers": 5,
             "geometry": box(5800, 3800, 6000, 4000)}]),
        "hazard_sites": _layer("hazard_sites", [
            {"site_id": "H1", "plot_id": "P1", "name": "氯气储罐", "inventory": _inventory("chlorine", 2),
             "major_hazard_grade": 0, "people_500m": 10, "geometry": at(2000, 2000)},
            {"site_id": "H2", "plot_id": "P2", "name": "甲醇罐区", "inventory": _inventory("methanol", 100),
             "major_hazard_grade": 0, "people_500m": 10, "geometry": at(3500, 500)},
            {"site_id": "H3", "plot_id": "P3", "name": "液化气站", "inventory": _inventory("lpg", 60),
             "major_hazard_grade": 2, "people_500m": 10, "geometry": at(5900, 3900)}]),
        "protected_targets": _layer("protected_targets", [
            {"target_id": "PT1", "name": "实验小学", "kind": "school", "gb36894_class": "high_sensitivity",
             "population": 600, "geometry": box(2230, 1980, 2270, 2020)},
            {"target_id": "PT2", "name": "幸福小区", "kind": "residential", "gb36894_class": "general_1",
             "population": 500, "geometry": box(950, 2950, 1050, 3050)}]),
        "shelters": _layer("shelters", [
            {"shelter_id": "E1", "name": "街心公园", "class": "emergency", "effective_area_m2": 300.0,
             "geometry": at(1000, 1300)},
            {"shelter_id": "F1", "name": "体育场", "class": "fixed_long", "effective_area_m2": 20000.0,
             "geometry": at(5000, 1000)}]),
    }


def write_population(path: Path) -> Path:
    """A 100 m population raster over T1 only: 10 persons per cell (16 000 people), T2 empty."""
    values = np.zeros((40, 60), dtype="float32")
    values[:, :40] = 10.0
    profile = {"driver": "GTiff", "height": 40, "width": 60, "count": 1, "dtype": "float32", "crs": GK,
               "transform": Affine(100.0, 0.0, X0, 0.0, -100.0, Y0 + 4000), "nodata": -9999.0}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def build_store(folder: Path, *, population: bool = True, zone: bool = True) -> Store:
    """The tiny city as a store in ``folder``, with its population raster and a zoning run."""
    store = create_store(Path(folder) / "tiny.gpkg")
    store.write_many(layers(), actor="test", action="import")
    if population:
        store.write_raster("population", write_population(Path(folder) / "population.tif"), derived=False,
                           actor="test", action="import")
    if zone:
        from zoning.pipeline import run_zoning
        from zoning.rules import load_ruleset

        run_zoning(store, load_ruleset())
    return store


def copy_store(store: Store, folder: Path) -> Store:
    """A copy of ``store`` in ``folder`` (the file is the whole store), for a test that writes."""
    import shutil

    target = Path(folder) / Path(store.address).name
    shutil.copyfile(store.address, target)
    return open_store(target)
