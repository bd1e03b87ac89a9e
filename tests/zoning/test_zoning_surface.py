"""Area zoning (risk_zones), grids and the risk surface GeoTIFF."""

from __future__ import annotations

import copy
import dataclasses
import re

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, InputError
from zoning.errors import RuleSetError
from zoning.rules import load_ruleset
from zoning.wall.surface import grid_zones, parse_zoning_rules, risk_surface, write_risk_surface, zone_areas

CRS = 4549  # CGCS2000 / 3-degree Gauss-Krüger CM 120E (Changzhou); coordinates in metres
X0, Y0 = 500_000.0, 3_500_000.0  # near the central meridian


@pytest.fixture(scope="module")
def rs():
    return load_ruleset()


def box(x, y, w, h=None):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def plots(*rows) -> gpd.GeoDataFrame:
    """Classified plots from (plot_id, level, geometry) rows."""
    return gpd.GeoDataFrame({"plot_id": [r[0] for r in rows], "level": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=CRS)


def areas(**geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": list(geoms)}, geometry=list(geoms.values()), crs=CRS)


# ------------------------------------------------------------------------------- zone_areas
# Six 1 km towns side by side; each holds what should give it its level.
TOWNS = areas(**{f"T{i}": box(i * 1000, 0, 1000) for i in range(6)})


def test_each_area_condition_gives_its_level_and_reason(rs):
    p = plots(
        ("red", 1, box(100, 100, 50)),                  # T0: one red plot
        ("y-big", 2, box(1000, 0, 1000, 400)),         # T1: 40 % yellow, no red plot
        ("yellow", 2, box(2100, 100, 50)),             # T2: one small yellow plot
        ("blue", 3, box(3100, 100, 50)),               # T3: one blue plot
        ("green", 4, box(4100, 100, 300)),             # T4: green only
    )
    buffers = gpd.GeoDataFrame({"site_id": ["S9"]}, geometry=[shapely.Point(X0 + 5500, Y0 + 500).buffer(100)], crs=CRS)
    zoned = zone_areas(TOWNS, p, buffers, rules=rs).set_index("code")
    assert zoned["level"].tolist() == [1, 1, 2, 3, 4, 2]
    assert zoned["colour_name"].tolist() == ["red", "red", "yellow", "blue", "green", "yellow"]
    assert zoned.loc["T0", "reasons"] == "1 red plot (红色地块 1 块)"
    assert "40 % of the area in plots at yellow or above ≥ 30 % (黄色及以上地块占 40 %)" in zoned.loc["T1", "reasons"]
    assert zoned.loc["T2", "reasons"] == "1 plot at yellow or above (黄色及以上地块 1 块)"
    assert zoned.loc["T3", "reasons"] == "1 plot at blue or above (蓝色及以上地块 1 块)"
    assert zoned.loc["T4", "reasons"] == "no condition for a higher level met (1 plot in the area)"
    assert zoned.loc["T5", "reasons"] == ("3 % of the area within the external safety distances of 1 site "
                                          "(外部安全防护距离内 3 %)")
    assert zoned["n_plots"].tolist() == [1, 1, 1, 1, 1, 0]
    assert zoned.attrs["layer"] == "risk_zones"


def test_hazard_sites_raise_the_area(rs):
    sites = gpd.GeoDataFrame({"site_id": ["S1", "S2", "S3"], "major_hazard_grade": [0, 2, 3]},
                             geometry=[shapely.Point(X0 + 500, Y0 + 500), shapely.Point(X0 + 1500, Y0 + 500),
                                       shapely.Point(X0 + 1600, Y0 + 500)], crs=CRS)
    zoned = zone_areas(TOWNS, plots(), sites=sites, rules=rs).set_index("code")
    assert zoned.loc[["T0", "T1", "T2"], "level"].tolist() == [3, 1, 4]
    assert zoned.loc["T0", "reasons"] == "1 hazardous-chemical site below the major-hazard threshold (危险化学品场所 1 处)"
    assert zoned.loc["T1", "reasons"] == ("major hazard source grade 2 among 2 hazardous-chemical sites "
                                          "(二级重大危险源)")


def test_a_sliver_does_not_count_but_a_representative_point_does(rs):
    # A red plot 98 % in T0 and 2 % in T1; a green plot mostly in T1.
    p = plots(("red", 1, box(10, 100, 1000, 50)), ("green", 4, box(1100, 100, 100)))
    zoned = zone_areas(TOWNS.iloc[:2], p, rules=rs).set_index("code")
    assert zoned["level"].tolist() == [1, 4]


def test_dual_prevention_palette_for_zones(rs):
    zoned = zone_areas(TOWNS.iloc[:1], plots(("y", 2, box(100, 100, 50))), rules=rs, palette="dual_prevention")
    assert zoned.loc[0, "colour_name"] == "orange"
    assert zoned.loc[0, "reasons"] == "1 plot at orange or above (橙色及以上地块 1 块)"


def test_zone_areas_in_geographic_crs_are_measured_in_metres(rs):
    towns = TOWNS.to_crs(4490)
    p = plots(("y-big", 2, box(1000, 0, 1000, 400))).to_crs(4490)
    zoned = zone_areas(towns, p, rules=rs)
    assert zoned.crs.to_epsg() == 4490
    assert "40 % of the area" in zoned.loc[1, "reasons"]


def test_layers_in_different_crs_are_refused(rs):
    with pytest.raises(CRSError, match="areas and classified_plots are in different CRSs"):
        zone_areas(TOWNS, plots(("r", 1, box(0, 0, 10))).to_crs(4490), rules=rs)


def test_unclassified_plots_are_refused(rs):
    bare = plots(("r", 1, box(0, 0, 10))).drop(columns="level")
    with pytest.raises(InputError, match="Run zoning.wall.classify.classify_plots first"):
        zone_areas(TOWNS, bare, rules=rs)


# ------------------------------------------------------------------------------- grid_zones
def _assert_tiles(grid: gpd.GeoDataFrame, extent, cell: float):
    geoms = grid.geometry.to_numpy()
    assert np.allclose(shapely.area(geoms), cell * cell)
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(len(geoms) * cell * cell)         # no overlaps
    assert extent.difference(union).area == pytest.approx(0.0, abs=1e-3)  # the extent is covered
    assert shapely.intersects(geoms, extent).all() and not shapely.touches(geoms, extent).any()
    minx, miny, _, _ = np.asarray(shapely.bounds(geoms)).T
    assert np.allclose(np.mod(minx, cell), 0) and np.allclose(np.mod(miny, cell), 0)
    assert grid["cell_id"].is_unique


def test_grid_cells_tile_an_irregular_extent(rs):
    extent = shapely.Point(X0 + 1234, Y0 + 987).buffer(1600)
    grid = grid_zones(gpd.GeoDataFrame(geometry=[extent], crs=CRS), plots(("r", 1, box(1200, 900, 40))),
                      cell_size=500, rules=rs)
    _assert_tiles(grid, extent, 500)
    assert len(grid) < 8 * 8  # corners of the bounding box are dropped
    red = grid[grid.intersects(box(1200, 900, 40))]
    assert len(red) == 1 and red["level"].iloc[0] == 1 and red["colour_name"].iloc[0] == "red"
    assert set(grid["level"]) == {1, 4}


@settings(max_examples=25, deadline=None)
@given(st.floats(-3000, 3000), st.floats(-3000, 3000), st.floats(10, 3000), st.floats(10, 3000),
       st.sampled_from([100.0, 250.0, 500.0]))
def test_grid_cells_tile_any_box(rs, x, y, w, h, cell):
    extent = box(x, y, w, h)
    grid = grid_zones(gpd.GeoDataFrame(geometry=[extent], crs=CRS), plots(), cell_size=cell, rules=rs)
    _assert_tiles(grid, extent, cell)


def test_grid_over_a_geographic_extent_is_laid_in_the_gauss_kruger_zone(rs):
    extent = gpd.GeoDataFrame(geometry=[shapely.box(119.95, 31.70, 119.97, 31.72)], crs=4490)
    grid = grid_zones(extent, plots().to_crs(4490), cell_size=1000, rules=rs)
    assert grid.crs.to_epsg() == 4549
    _assert_tiles(grid, extent.to_crs(4549).geometry.iloc[0], 1000)


def test_grid_refuses_bad_cells_and_huge_grids(rs):
    extent = gpd.GeoDataFrame(geometry=[box(0, 0, 10_000)], crs=CRS)
    with pytest.raises(InputError, match="cell_size"):
        grid_zones(extent, plots(), cell_size=0, rules=rs)
    with pytest.raises(InputError, match="max_cells"):
        grid_zones(extent, plots(), cell_size=1, rules=rs)
    with pytest.raises(CRSError, match="the grid needs a projected CRS in metres"):
        grid_zones(extent, plots(), crs=4490, rules=rs)


# ------------------------------------------------------------------------------- risk surface
def test_risk_surface_round_trips_through_a_geotiff(rs, tmp_path):
    red = box(420, 420, 60)
    p = plots(("green", 4, box(0, 0, 1000)), ("red", 1, red), ("blue", 3, box(800, 800, 100)))
    bounds = (X0 - 150, Y0 - 150, X0 + 1000, Y0 + 1000)  # 150 m margin west and south, snapped to 200 m
    array, transform, crs = risk_surface(p.iloc[::-1], cell_size=100, bounds=bounds, rules=rs)  # any input order
    assert array.dtype == np.uint8 and array.shape == (12, 12)
    path = write_risk_surface(tmp_path / "risk.tif", array, transform, crs, rs.palette(), ruleset_label=rs.label)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 4549
        assert ds.transform == transform
        assert ds.nodata == 0 and ds.profile["tiled"] and ds.compression.name.lower() == "deflate"
        assert ds.colormap(1)[1][:3] == (0xd7, 0x19, 0x1c) and ds.colormap(1)[4][:3] == (0x1a, 0x96, 0x41)
        assert ds.tags()["ruleset"] == rs.label
        data = ds.read(1)
        under_red = rasterio.features.geometry_mask([red], data.shape, ds.transform, invert=True, all_touched=True)
        centre = next(ds.sample([(red.centroid.x, red.centroid.y)]))[0]
    assert (data == array).all()
    assert centre == 1 and data[under_red].min() == 1 and set(np.unique(data[under_red])) == {1}
    assert set(np.unique(data)) == {0, 1, 3, 4}
    assert (data[-1, :] == 0).all() and (data[:, 0] == 0).all()  # the margin is no data


def test_buffers_burn_at_the_rule_set_level_and_the_worst_level_wins(rs):
    p = plots(("red", 1, box(0, 0, 50)))
    buffers = gpd.GeoDataFrame({"site_id": ["S1"]}, geometry=[shapely.Point(X0 + 25, Y0 + 25).buffer(300)], crs=CRS)
    array, transform, _ = risk_surface(p, buffers, cell_size=50, rules=rs)
    assert set(np.unique(array)) == {0, 1, 2}
    row, col = rasterio.transform.rowcol(transform, X0 + 25, Y0 + 25)
    assert array[row, col] == 1
    row, col = rasterio.transform.rowcol(transform, X0 + 250, Y0 + 25)
    assert array[row, col] == 2


def test_risk_surface_in_geographic_input_and_given_bounds(rs):
    p = plots(("red", 1, box(0, 0, 100))).to_crs(4490)
    array, transform, crs = risk_surface(p, cell_size=100, bounds=(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000))
    assert crs.to_epsg() == 4549 and array.shape == (20, 20)
    assert transform.c == X0 - 1000 and transform.f == Y0 + 1000
    assert (array == 1).sum() >= 1 and set(np.unique(array)) == {0, 1}


def test_write_risk_surface_refuses_bad_arrays(tmp_path, rs):
    with pytest.raises(InputError, match="levels 0-4"):
        write_risk_surface(tmp_path / "x.tif", np.full((2, 2), 7), rasterio.Affine.identity(), CRS, rs.palette())
    with pytest.raises(InputError, match="2-D"):
        write_risk_surface(tmp_path / "x.tif", np.zeros(3), rasterio.Affine.identity(), CRS, rs.palette())


def test_empty_surface_needs_bounds():
    with pytest.raises(InputError, match="no plot or buffer geometry"):
        risk_surface(plots())


# ------------------------------------------------------------------------------- bad rule sets
def _edit(rs, path, value):
    tables = copy.deepcopy(rs.tables)
    *parents, last = (int(p) if p.isdigit() else p for p in path.split("."))
    node = tables["zoning"]
    for p in parents:
        node = node[p]
    node[last] = value
    return dataclasses.replace(rs, tables=tables)


@pytest.mark.parametrize("path, value, message", [
    ("area_rules.0.min_share", 0.0, "zoning.area_rules[0].min_share: expected a share above 0"),
    ("area_rules.0.min_share", 1.5, "zoning.area_rules[0].min_share: 1.5 is above the maximum 1.0"),
    ("area_rules.1.level", 7, "zoning.area_rules[1].level: 7 is above the maximum 4"),
    ("area_rules.2", {"level": 3}, "zoning.area_rules[2]: give min_plots, min_share or both"),
    ("area_rules.2", {"level": 3, "min_plot": 1}, "zoning.area_rules[2].min_plot: unknown key"),
    ("area_rules.0.min_plots", 0, "zoning.area_rules[0].min_plots: 0 is below the minimum 1"),
    ("min_plot_overlap", "10 %", "zoning.min_plot_overlap: expected a number"),
    ("buffers.level", 0, "zoning.buffers.level: 0 is below the minimum 1"),
    ("sites.grade_levels", [1, 1, 2], "zoning.sites.grade_levels: expected 4 levels"),
    ("sites.grade_levels", [1, 1, 2, "x"], "zoning.sites.grade_levels[3]: expected an integer level 1-4"),
    ("colours", {}, "zoning.colours: unknown key"),
])
def test_bad_zoning_rules_name_the_key_path(rs, path, value, message):
    with pytest.raises(RuleSetError, match=re.escape(message)):
        parse_zoning_rules(_edit(rs, path, value))
