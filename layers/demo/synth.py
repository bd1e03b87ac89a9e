"""The generated layers of the Changzhou demo, all at once, deterministic for a seed.

:func:`generate_layers` takes the real districts and towns and generates, inside them, the
industrial plots, hazardous-chemical sites, protected targets, fire and rescue stations, shelters,
a road network and a population grid, around a generated built-up area (:mod:`layers.demo.urban`):
people, homes and schools gather there, the streets are denser there, the fire stations are placed
to cover it and the shelters sized to the people around them. Everything is drawn in the metric
Gauss-Krüger CRS of the area (EPSG:4549) from numpy generators seeded by ``seed`` (one per layer),
and returned in the store CRS (EPSG:4490) with the catalogue's columns and dtypes. Every generated
row has ``generated=True`` and a name starting with "演示" (demo); the same seed and scale always
give the same data.

``scale`` multiplies the counts of plots (1 200 at scale 1), hazard sites (15 % of the plots),
protected targets (1 500), fire stations (43), micro stations, shelters (120 + 1 central) and the
density of the road grid (about 47 000 edges at scale 1, 232 000 at scale 10).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORE_CRS
from geo.errors import InputError
from layers.catalogue import get_schema
from layers.demo import hazards, plots, population, roadnet, services, shelter_hazards, targets, urban
from layers.demo.cover import built_up_cells, cover_rules
from layers.demo.population import Grid
from layers.demo.sampling import DEFAULT_RULESET, Area, read_ruleset, rng_for, scaled
from layers.validate import cast_to_schema

__all__ = ["DEFAULT_SEED", "GENERATED_STEPS", "DemoData", "generate_layers", "check_options", "to_layer",
           "report_step"]

#: The default seed.
DEFAULT_SEED = 20201
#: The steps :func:`generate_layers` reports to ``progress``, in order.
GENERATED_STEPS = (
    "built-up area", "industrial plots", "hazard sites", "protected targets", "population", "roads",
    "rescue stations", "shelters",
)

Progress = Callable[[str, bool], None]


@dataclass
class DemoData:
    """The generated layers (name → GeoDataFrame in EPSG:4490) and the population grid."""

    layers: dict[str, gpd.GeoDataFrame]
    population: Grid


def check_options(scale, seed) -> tuple[float, int]:
    """``scale`` as a positive finite float and ``seed`` as a non-negative int, else InputError.

    >>> check_options(2, 7)
    (2.0, 7)
    >>> check_options(0, 7)
    Traceback (most recent call last):
    ...
    geo.errors.InputError: scale must be a positive number (1 = 1 200 plots), got 0
    """
    try:
        scale_f = float(scale)
    except (TypeError, ValueError):
        scale_f = math.nan
    if not math.isfinite(scale_f) or scale_f <= 0:
        raise InputError(f"scale must be a positive number (1 = 1 200 plots), got {scale!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    return scale_f, int(seed)


def to_layer(frame: pd.DataFrame, name: str, crs) -> gpd.GeoDataFrame:
    """A frame with a ``geometry`` column in ``crs`` as layer ``name``: schema columns, dtypes, EPSG:4490."""
    schema = get_schema(name)
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs).to_crs(STORE_CRS)
    columns = [f for f in schema.field_names if f in gdf.columns] + ["geometry"]
    return cast_to_schema(gdf[columns].reset_index(drop=True), schema)


@contextlib.contextmanager
def report_step(progress: Progress | None, name: str) -> Iterator[None]:
    """Call ``progress(name, False)`` on entry and ``progress(name, True)`` on a normal exit."""
    if progress is not None:
        progress(name, False)
    yield
    if progress is not None:
        progress(name, True)


def generate_layers(
    districts: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    *,
    rules: dict | None = None,
    progress: Progress | None = None,
) -> DemoData:
    """Generate the demo layers inside ``districts``.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The districts (``code``, ``name``), e.g. :func:`~layers.demo.boundaries.changzhou_districts`.
    towns : geopandas.GeoDataFrame
        Their towns (``code``, ``name``, ``parent``, optional ``centre`` points), e.g.
        :func:`~layers.demo.towns.changzhou_towns`.
    scale : float, default 1
        Multiplies the counts (see the module docstring).
    seed : int, default :data:`DEFAULT_SEED`
    rules : dict, optional
        The rule set (read from ``data/rules/default.toml`` when omitted); the demo takes the
        critical quantities, β and α of GB 18218-2018 and the shelter space per person from it.
    progress : callable, optional
        Called as ``progress(step, done)`` before (``done=False``) and after (``True``) each of
        :data:`GENERATED_STEPS`.

    Returns
    -------
    DemoData
        ``layers``: ``industrial_plots``, ``hazard_sites``, ``protected_targets``,
        ``rescue_stations``, ``shelters``, ``roads``; ``population``: the grid (EPSG:4549).
    """
    scale, seed = check_options(scale, seed)
    rules = read_ruleset(DEFAULT_RULESET) if rules is None else rules
    area = Area.from_layers(districts, towns)
    layers: dict[str, gpd.GeoDataFrame] = {}

    def keep(name: str, frame: pd.DataFrame) -> None:
        layers[name] = to_layer(frame, name, area.crs)

    with report_step(progress, "built-up area"):
        built_area = urban.urban_field(area, rng_for(seed, "urban"))
    with report_step(progress, "industrial plots"):
        n_plots = scaled(plots.BASE_PLOTS, scale)
        plot_frame = plots.industrial_plots(area, rng_for(seed, "industrial_plots"), n_plots, built_area)
    with report_step(progress, "hazard sites"):
        sites, updates = hazards.hazard_sites(rng_for(seed, "hazard_sites"), plot_frame, rules)
        for field, values in updates.items():
            plot_frame[field] = values if field == "major_hazard_grade" else plot_frame[field] | values
        plot_frame["supervision_grade"] = plots.supervision_grades(plot_frame, rng_for(seed, "supervision"))
        keep("industrial_plots", plot_frame)
        keep("hazard_sites", sites)
    site_x, site_y = shapely.get_x(sites["geometry"].to_numpy()), shapely.get_y(sites["geometry"].to_numpy())
    with report_step(progress, "protected targets"):
        target_frame = targets.protected_targets(
            area, rng_for(seed, "protected_targets"), scaled(targets.BASE_TARGETS, scale), site_x, site_y, built_area
        )
        keep("protected_targets", target_frame)
    with report_step(progress, "population"):
        homes = target_frame[target_frame["kind"] == "residential"]
        grid = population.population_grid(built_area, area.crs, rng_for(seed, "population"), homes)
    plan = cover_rules(rules)
    built = built_up_cells(grid, plan, plot_frame["geometry"].to_numpy())
    with report_step(progress, "roads"):
        keep("roads", roadnet.roads(area, rng_for(seed, "roads"), scale, built_area, rules, built))
    with report_step(progress, "rescue stations"):
        stations = services.rescue_stations(area, rng_for(seed, "rescue_stations"), scale, site_x, site_y,
                                            built_area, grid, built, plan)
        keep("rescue_stations", stations)
    with report_step(progress, "shelters"):
        schools = target_frame.loc[target_frame["kind"] == "school", "geometry"].to_numpy()
        made = services.shelters(area, rng_for(seed, "shelters"), scale, schools, rules, built_area, grid, plan.cell_m)
        keep("shelters", shelter_hazards.with_hazards(made, schools, site_x, site_y))
    return DemoData(layers=layers, population=grid)
