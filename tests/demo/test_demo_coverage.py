"""The demo city looks like one: the engine's own figures on the scale-1 store (seed 20201).

What the design aims at (layers/demo/urban.py, cover.py, services.py): about three in four people
in the built-up area; fire stations placed by a greedy cover of the built-up area with the rule
set's 2 km of driving measured along the grid, which plans about 85 % of it covered (the rest
are small town centres left without a station: 43 stations, 41 town centres outside the central
city); the engine's network reach in the city's street grid is at least that diamond, so its
5-minute figure stays above 80 %. Shelters are sized to their straight-line catchments plus a
30 % reserve, so only shelters whose walking catchment outgrows that reserve are over capacity.
The figures are computed by the real engine (zoning.coverage.run.compute_coverage) on the real
demo store, read only.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from layers.demo.population import URBAN_SHARE
from zoning.coverage.run import COVERAGE_INPUTS, compute_coverage, load_population, parse_coverage_run_rules
from zoning.rules import load_ruleset

FIRE = ["special_service", "standard_1", "standard_2", "small"]


@pytest.fixture(scope="module")
def coverage(demo_store):
    ruleset = load_ruleset()
    run = parse_coverage_run_rules(ruleset)
    inputs = {n: demo_store.read(n) for n in COVERAGE_INPUTS if n != "population" and demo_store.exists(n)}
    return compute_coverage(inputs, ruleset, population=load_population(demo_store, run.population_cell_m))


def test_five_minute_cover_of_the_built_up_area_is_above_eighty_percent(coverage):
    city = coverage.figures.iloc[-1]
    assert city["code"] == "city"
    assert city["built_up_share"] > 0.80
    assert 150 < city["built_up_km2"] < 350  # a city's built-up area, not the whole 4 369 km²
    assert city["population_share"] > 0.65  # most people live where the stations are
    assert city["area_share"] < 0.15  # the farmland is not covered, and need not be
    assert (coverage.stations["method"] == "network").all()


def test_central_city_is_covered_and_towns_far_out_are_what_is_left(coverage, area):
    fig = coverage.figures.iloc[:-1].set_index("code")
    cx, cy = area.core_centre()
    towns = area.towns.set_index("code")
    far = np.hypot(towns["cx"] - cx, towns["cy"] - cy).reindex(fig.index) > 10_000
    core = fig[~far]
    assert core["built_up_covered_km2"].sum() / core["built_up_km2"].sum() > 0.9
    gaps = fig["built_up_km2"] - fig["built_up_covered_km2"]
    assert gaps[far].sum() > 2 * gaps[~far].sum()


def test_most_shelters_hold_the_people_sent_to_them(coverage):
    loads = coverage.layers["shelter_loads"]
    assert len(loads) == 121
    assert len(coverage.over_capacity) / len(loads) < 0.15
    assert loads["capacity"].sum() > 5_280_000  # room for everyone, with the reserve


def test_people_gather_in_the_built_up_area(demo_store):
    run = parse_coverage_run_rules(load_ruleset())
    cells = load_population(demo_store, run.population_cell_m)
    density = cells["population"] / (cells.area / 1e6)
    dense = density >= run.built_up_min_per_km2
    share = cells.loc[dense, "population"].sum() / cells["population"].sum()
    assert share == pytest.approx(URBAN_SHARE, abs=0.05)
    assert density[~dense].median() < 500  # the farmland: villages, a few hundred a km²
    with demo_store.read_raster("population") as src:  # the store's raster API (no file path)
        people = src.read(1, masked=True).compressed()
    assert np.percentile(people, 99.9) < 1500  # 100 m cells: under 150 000 persons/km² but where estates overlap


def test_first_stations_taken_cover_most_and_are_the_big_ones(demo_layers, area):
    stations = demo_layers["rescue_stations"].to_crs(area.crs)
    fire = stations[stations["kind"].isin(FIRE)]
    cx, cy = area.core_centre()
    dist = shapely.distance(shapely.Point(cx, cy), fire.geometry.to_numpy())
    big = fire["kind"].isin(["special_service", "standard_1"]).to_numpy()
    assert np.median(dist[big]) < np.median(dist[~big])
    assert fire["kind"].value_counts()[FIRE].tolist() == [3, 20, 16, 4]
