"""Canonical small layers around Changzhou (lon 119.9-120.1, lat 31.6-31.8) for the layers tests.

Everything is built in code; nothing is read from the network. Each builder returns a fresh
GeoDataFrame in EPSG:4490 that passes :func:`layers.validate.validate_layer` as it is, so a test
breaks exactly one thing and checks that exactly that is reported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely import Point, Polygon, box

STORE_CRS = "EPSG:4490"
#: A point in 武进区, south of the city centre.
WUJIN = (119.97, 31.70)
#: The bounding box the fixtures live in.
CHANGZHOU_BOX = (119.9, 31.6, 120.1, 31.8)
#: A self-intersecting "bow-tie" plot (invalid, repairable into two triangles).
BOWTIE = Polygon([(119.95, 31.70), (119.96, 31.71), (119.96, 31.70), (119.95, 31.71)])
#: A plot near Paris: valid, but far outside Jiangsu.
PARIS_PLOT = box(2.35, 48.85, 2.36, 48.86)


def plot_boxes(n: int, seed: int = 0):
    """``n`` small square plots (about 100 m) scattered over the Changzhou box."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(119.9, 120.09, n)
    y = rng.uniform(31.6, 31.79, n)
    return shapely.box(x, y, x + 0.001, y + 0.001)


def plots(n: int = 5, seed: int = 0) -> gpd.GeoDataFrame:
    """Valid ``industrial_plots`` with ids P001…"""
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "plot_id": [f"P{i:03d}" for i in range(1, n + 1)],
            "town": ["320412"] * n,
            "enterprise": [f"常州示例化工{i}号" for i in range(1, n + 1)],
            "land_use": ["M2"] * n,
            "risk_major": rng.integers(0, 2, n),
            "workers": rng.integers(5, 500, n),
            "major_hazard_grade": [0] * n,
            "supervision_grade": ["B"] * n,
            "last_inspection": ["2026-03-01"] * n,
            "generated": [True] * n,
        },
        geometry=plot_boxes(n, seed),
        crs=STORE_CRS,
    )


def stations(n: int = 4) -> gpd.GeoDataFrame:
    """Valid ``rescue_stations`` (points) with ids F1…"""
    return gpd.GeoDataFrame(
        {
            "station_id": [f"F{i}" for i in range(1, n + 1)],
            "name": [f"武进{i}号消防站" for i in range(1, n + 1)],
            "kind": ["standard_1", "micro", "small", "special_service"][:n] + ["micro"] * max(0, n - 4),
            "vehicles": list(range(1, n + 1)),
            "staff": [10 * i for i in range(1, n + 1)],
        },
        geometry=[Point(119.92 + 0.04 * i, 31.62 + 0.04 * i) for i in range(n)],
        crs=STORE_CRS,
    )


def hazard_sites(n: int = 3) -> gpd.GeoDataFrame:
    """Valid ``hazard_sites`` (points) with a JSON inventory each."""
    inventory = [json.dumps([{"name": "液氨", "cas": "7664-41-7", "quantity_t": 10 + i}],
                            ensure_ascii=False) for i in range(n)]
    return gpd.GeoDataFrame(
        {"site_id": [f"H{i}" for i in range(1, n + 1)], "plot_id": [f"P{i:03d}" for i in range(1, n + 1)],
         "inventory": inventory, "major_hazard_grade": [1] * n},
        geometry=[Point(119.95 + 0.01 * i, 31.75) for i in range(n)],
        crs=STORE_CRS,
    )


def sha256(path) -> str:
    """Digest of a file, to prove a failed operation left it byte-for-byte unchanged."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- bad inputs
def _set(frame: gpd.GeoDataFrame, row: int, column: str, value) -> gpd.GeoDataFrame:
    """A copy of ``frame`` with one cell changed (the column widened to object if needed)."""
    frame = frame.copy()
    if column != "geometry" and column in frame.columns:
        frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def _inventory(row: int, text: str) -> gpd.GeoDataFrame:
    return _set(hazard_sites(3), row, "inventory", text)


#: An administrative area covering the west half of the fixtures' box.
WEST_HALF = box(119.9, 31.6, 120.0, 31.8)

#: Inputs with exactly one thing wrong: (case id, layer, frame builder, feature, field,
#: message fragment, validate_layer keyword arguments). Feature is the id, or "row N" when the
#: id is missing; "all features" for problems of the whole layer.
BAD_INPUTS = [
    ("missing-column", "industrial_plots", lambda: plots(3).drop(columns="town"),
     "all features", "town", "required column is missing", {}),
    ("null-required", "industrial_plots", lambda: _set(plots(3), 1, "town", None),
     "P002", "town", "required value is missing", {}),
    ("null-id", "industrial_plots", lambda: _set(plots(3), 2, "plot_id", None),
     "row 3", "plot_id", "required value is missing", {}),
    ("not-an-integer", "industrial_plots", lambda: _set(plots(3), 2, "workers", "abc"),
     "P003", "workers", "'abc' is not an integer", {}),
    ("fraction-for-integer", "industrial_plots", lambda: _set(plots(3), 0, "tenants", 2.5),
     "P001", "tenants", "'2.5' is not an integer", {}),
    ("not-a-number", "shelters",
     lambda: gpd.GeoDataFrame({"shelter_id": ["S1"], "class": ["emergency"],
                               "effective_area_m2": ["big"]},
                              geometry=[box(119.95, 31.7, 119.96, 31.71)], crs=STORE_CRS),
     "S1", "effective_area_m2", "'big' is not a number", {}),
    ("not-a-boolean", "industrial_plots", lambda: _set(plots(3), 0, "generated", "maybe"),
     "P001", "generated", "'maybe' is not a boolean", {}),
    ("not-a-date", "industrial_plots", lambda: _set(plots(3), 1, "last_inspection", "last spring"),
     "P002", "last_inspection", "'last spring' is not a date", {}),
    ("not-in-enumeration", "industrial_plots", lambda: _set(plots(3), 1, "land_use", "M9"),
     "P002", "land_use", "'M9' is not one of: M1, M2, M3, W, other", {}),
    ("below-minimum", "industrial_plots", lambda: _set(plots(3), 0, "workers", -5),
     "P001", "workers", "-5 is below the minimum 0", {}),
    ("above-maximum", "industrial_plots", lambda: _set(plots(3), 2, "major_hazard_grade", 7),
     "P003", "major_hazard_grade", "7 is above the maximum 4", {}),
    ("duplicate-id", "industrial_plots", lambda: _set(plots(4), 3, "plot_id", "P001"),
     "P001", "plot_id", "rows 1, 4", {}),
    ("wrong-geometry-type", "industrial_plots", lambda: _set(plots(3), 2, "geometry", Point(119.95, 31.7)),
     "P003", "geometry", "geometry type Point, expected Polygon or MultiPolygon", {}),
    ("line-for-point", "rescue_stations",
     lambda: _set(stations(2), 0, "geometry", shapely.LineString([(119.9, 31.7), (119.91, 31.71)])),
     "F1", "geometry", "geometry type LineString, expected Point or MultiPoint", {}),
    ("missing-geometry", "industrial_plots", lambda: _set(plots(3), 1, "geometry", None),
     "P002", "geometry", "geometry is missing", {}),
    ("empty-geometry", "industrial_plots", lambda: _set(plots(3), 1, "geometry", Polygon()),
     "P002", "geometry", "geometry is empty", {}),
    ("lat-lon-swapped", "rescue_stations", lambda: _set(stations(3), 1, "geometry", Point(31.7, 119.95)),
     "F2", "geometry", "latitude and longitude look swapped", {}),
    ("outside-expected-area", "industrial_plots", lambda: _set(plots(3), 0, "geometry", PARIS_PLOT),
     "P001", "geometry", "outside the expected area", {}),
    ("outside-admin-area", "rescue_stations", lambda: stations(4),
     "F4", "geometry", "outside the administrative area", {"admin_area": WEST_HALF}),
    ("malformed-json", "hazard_sites", lambda: _inventory(0, '[{"name": "液氨", "quantity_t": 3'),
     "H1", "inventory", "not valid JSON", {}),
    ("inventory-not-a-list", "hazard_sites", lambda: _inventory(1, '{"name": "液氨", "quantity_t": 3}'),
     "H2", "inventory", "must be a JSON list", {}),
    ("inventory-item-without-name", "hazard_sites", lambda: _inventory(2, '[{"quantity_t": 3}]'),
     "H3", "inventory", "item 1 has no name", {}),
    ("inventory-negative-quantity", "hazard_sites",
     lambda: _inventory(0, '[{"name": "a", "quantity_t": 1}, {"name": "b", "quantity_t": -2}]'),
     "H1", "inventory", "item 2: quantity_t -2 is negative", {}),
    ("inventory-quantity-not-a-number", "hazard_sites",
     lambda: _inventory(1, '[{"name": "a", "quantity_t": "lots"}]'),
     "H2", "inventory", "item 1: quantity_t 'lots' is not a number", {}),
    ("inventory-item-not-an-object", "hazard_sites", lambda: _inventory(1, '["液氨"]'),
     "H2", "inventory", "item 1 is not an object", {}),
]


def counting_catalogue_reads(store, monkeypatch) -> list:
    """Reads of the whole layer catalogue by ``store`` are appended to the list returned (a write
    reads its own layer's row inside its transaction: not counted)."""
    calls, read = [], store._meta_rows
    monkeypatch.setattr(store, "_meta_rows", lambda *a, **k: (calls.append(a) if not a else None) or read(*a, **k))
    return calls


def plots_version(store) -> int:
    """The version of the plots in ``store``'s catalogue as ``infos()`` gives it."""
    return {i.name: i for i in store.infos()}["industrial_plots"].version
