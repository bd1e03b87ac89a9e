"""The generated population grid: 100 m cells in EPSG:4549, tagged as generated."""

from __future__ import annotations

import numpy as np
import pytest

from layers.demo.population import NODATA, TOTAL_POPULATION


@pytest.fixture(scope="module")
def grid(demo_store):
    with demo_store.read_raster("population") as src:
        return src.read(1, masked=True), src.crs, src.res, src.tags(), src.nodata


def test_grid_is_tagged_generated_in_gauss_krueger(grid):
    _, crs, res, tags, nodata = grid
    assert crs.to_epsg() == 4549
    assert res == (100.0, 100.0)
    assert tags["generated"] == "true" and "GENERATED" in tags["description"]
    assert nodata == NODATA


def test_people_add_up_and_gather_in_towns(grid, demo_store):
    data = grid[0]
    assert float(data.sum()) == pytest.approx(TOTAL_POPULATION, rel=1e-4)
    assert data.min() >= 0
    assert np.ma.count_masked(data) > 0  # cells outside the districts
    assert np.percentile(data.compressed(), 99.9) > 20 * np.median(data.compressed())
    assert demo_store.info("population").kind == "raster"
