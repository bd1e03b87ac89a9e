"""A small town for the public map's tests: 雪堰镇 and 前黄镇 with a named street grid, shelters fit
for different hazards, disclosed and undisclosed plots (built in code, then zoned).

The plots, sites and targets are those of :mod:`server_common` (their private values carry its
:data:`server_common.SECRET_MARKERS`); the towns, roads and shelters are this module's.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely import LineString, Point, box

from layers.gpkg import GeoPackageStore
from layers.validate import validate_layer
from server_common import CRS, EAST, NORTH, SOUTH, TOWN_EAST, TOWN_WEST, WEST, SOURCES
from zoning.pipeline import run_zoning
from zoning.rules import load_ruleset

#: Street names of the grid: west-east roads, then south-north roads.
EW_NAMES = ("太湖路", "雪堰路", "人民路", "湖滨路", "潘家路")
NS_NAMES = ("前黄大道", "城湾路", "南宅路", "运河路", "漕桥路", "新康路", "周桥路", "东风路", "百丈路")


def admin_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["320412", TOWN_WEST, TOWN_EAST], "name": ["武进区", "雪堰镇", "前黄镇"],
         "level": ["district", "town", "town"], "parent": [None, "320412", "320412"], "source": ["test"] * 3},
        geometry=[box(WEST, SOUTH, EAST, NORTH), box(WEST, SOUTH, 120.0, NORTH), box(120.0, SOUTH, EAST, NORTH)],
        crs=CRS)


def roads() -> gpd.GeoDataFrame:
    """A street grid: 5 west-east roads (primary, secondary) and 9 south-north ones, split at crossings."""
    lats = np.linspace(SOUTH + 0.015, NORTH - 0.015, len(EW_NAMES))
    lons = np.linspace(WEST + 0.01, EAST - 0.01, len(NS_NAMES))
    rows = []
    for i, lat in enumerate(lats):
        for j in range(len(lons) - 1):
            rows.append((EW_NAMES[i], "primary" if i == 2 else "secondary", LineString([(lons[j], lat), (lons[j + 1], lat)])))
    for j, lon in enumerate(lons):
        for i in range(len(lats) - 1):
            rows.append((NS_NAMES[j], "tertiary" if j % 2 else "secondary", LineString([(lon, lats[i]), (lon, lats[i + 1])])))
    return gpd.GeoDataFrame({"road_id": [f"R{k}" for k in range(len(rows))], "name": [r[0] for r in rows],
                             "class": [r[1] for r in rows], "oneway": False},
                            geometry=[r[2] for r in rows], crs=CRS)


def shelters() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"shelter_id": ["SH1", "SH2", "SH3", "SH4"], "name": ["雪堰广场", "前黄公园", "雪堰中学", "湖滨绿地"],
         "class": ["emergency", "fixed_short", "emergency", "emergency"],
         "effective_area_m2": [5000.0, 20000.0, 3000.0, 4000.0], "capacity": [2500, 10000, None, None],
         "hazards": ["earthquake,fire", "earthquake,fire,chemical,flood", "earthquake,flood", None],
         "address": ["雪堰镇人民路1号", "前黄镇公园路2号", "雪堰镇中学路3号", "雪堰镇湖滨路4号"],
         "town": [TOWN_WEST, TOWN_EAST, TOWN_WEST, TOWN_WEST]},
        geometry=[box(119.95, 31.76, 119.952, 31.762), Point(120.05, 31.77), Point(119.935, 31.72),
                  Point(119.975, 31.745)], crs=CRS)


def layers() -> dict[str, gpd.GeoDataFrame]:
    out = {name: make() for name, make in SOURCES.items()}
    out.update(admin_areas=admin_areas(), roads=roads(), shelters=shelters())
    return out


def build_public_city(path: Path) -> GeoPackageStore:
    """Create the store at ``path`` and run the zoning engine on it."""
    store = GeoPackageStore.create(path)
    store.write_many({n: validate_layer(n, f) for n, f in layers().items()}, actor="test", detail="public map fixture")
    run_zoning(store, load_ruleset(), grid_cell_m=1000.0, surface_cell_m=100.0)
    return store
