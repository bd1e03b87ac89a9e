"""Sample input files beside a demo store, so that every command of the README can be tried.

:func:`write_samples` writes, into a ``samples/`` folder next to the store:

``shelters_amap.csv``
    the store's shelters as points with ``lon``/``lat`` in **GCJ-02**, the way a town office
    digitises them by clicking on Amap (高德) or Tencent maps; ``riskmap import shelters … --crs
    gcj02`` removes the offset (400–600 m in Changzhou) on the way in.
``plots_with_errors.geojson``
    five industrial plots, each broken in one way the importer refuses (no outline, a duplicate id, a missing town code, a negative count, coordinates with lat/lon
    swapped), for ``riskmap validate`` to report.
``school.geojson``
    a proposed school (a 120 m square) a few hundred metres from the demo's largest toxic-gas
    site, for ``riskmap site``.

Everything is derived from the store itself (seeded, generated data), so the samples change with
``--scale`` and ``--seed`` like the store does. The files are labelled as demo samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs_for
from geo.gcj02 import wgs84_to_gcj02
from layers.store import Store

__all__ = ["SAMPLES_DIR", "write_samples"]

#: Folder of the samples, beside the store.
SAMPLES_DIR = "samples"
_TOXIC_WORDS = ("chlorine", "ammonia", "phosgene", "sulphur dioxide", "hydrogen sulphide", "hydrogen fluoride",
                "氯", "氨", "光气", "二氧化硫", "硫化氢", "氟化氢")
_SCHOOL_SIDE_M = 120.0
_SCHOOL_OFFSETS_M = (350.0, 500.0, 700.0, 1000.0)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _shelters_csv(store: Store, folder: Path) -> Path:
    shelters = store.read("shelters")
    points = shelters.geometry.representative_point()
    lon, lat = wgs84_to_gcj02(points.x.to_numpy(), points.y.to_numpy())
    table = pd.DataFrame(shelters.drop(columns=shelters.geometry.name))
    table.insert(1, "lon", np.round(lon, 6))
    table.insert(2, "lat", np.round(lat, 6))
    path = folder / "shelters_amap.csv"
    table.to_csv(path, index=False, encoding="utf-8")
    return path


def _broken_plots(store: Store, folder: Path) -> Path:
    plots = store.read("industrial_plots").head(5).copy()
    features = json.loads(plots.to_json(drop_id=True, default=str))["features"]
    a, b, c, d, e = features
    a["geometry"] = None  # a plot without its outline
    b["properties"]["plot_id"] = c["properties"]["plot_id"]  # the same id twice
    d["properties"]["town"] = None  # a required field left empty
    d["properties"]["rented_buildings"] = -3  # a count below zero
    e["geometry"]["coordinates"] = [[[y, x] for x, y in ring] for ring in e["geometry"]["coordinates"]]
    collection = {"type": "FeatureCollection",
                  "name": "demo sample: five plots, each broken in one way (riskmap validate reports them)",
                  "features": features}
    return _write_text(folder / "plots_with_errors.geojson", json.dumps(collection, ensure_ascii=False))


def _toxic_quantity(inventory) -> float:
    """Tonnes of toxic gas (by the words of its names) in one site's inventory (JSON text or list)."""
    try:
        items = json.loads(inventory) if isinstance(inventory, str) else inventory
    except ValueError:
        return 0.0
    return sum(float(item.get("quantity_t") or 0) for item in items or ()
               if isinstance(item, dict) and any(word in str(item.get("name", "")).lower() for word in _TOXIC_WORDS))


def _toxic_site(sites: gpd.GeoDataFrame) -> int:
    """Row of the site holding the most toxic gas; the first site when none holds any."""
    if "inventory" not in sites or not len(sites):
        return 0
    return int(np.argmax([_toxic_quantity(v) for v in sites["inventory"]]))


def _school(store: Store, folder: Path) -> Path:
    sites = store.read("hazard_sites")
    admin = store.read("admin_areas")
    crs = metric_crs_for(admin)
    area = shapely.union_all(admin.to_crs(crs).geometry.to_numpy())
    site = sites.to_crs(crs).geometry.iloc[_toxic_site(sites)].centroid
    half = _SCHOOL_SIDE_M / 2
    candidates = [shapely.box(site.x + dx * r - half, site.y + dy * r - half, site.x + dx * r + half, site.y + dy * r + half)
                  for r in _SCHOOL_OFFSETS_M for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1))]
    school = next((box for box in candidates if area.contains(box)), candidates[0])
    lonlat = gpd.GeoSeries([school], crs=crs).to_crs(4490).iloc[0]
    feature = {"type": "Feature",
               "properties": {"name": "演示 拟建学校 (demo sample: a proposed school)", "kind": "school"},
               "geometry": shapely.geometry.mapping(shapely.set_precision(lonlat, 1e-7))}
    return _write_text(folder / "school.geojson", json.dumps(feature, ensure_ascii=False))


def write_samples(store: Store, store_path: str | Path) -> list[Path]:
    """Write the sample files into ``samples/`` beside ``store_path``; return their paths.

    Existing sample files there are replaced (they are generated, like the store).
    """
    folder = Path(store_path).parent / SAMPLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return [_shelters_csv(store, folder), _broken_plots(store, folder), _school(store, folder)]
