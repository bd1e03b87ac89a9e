"""Which grid (网格) a plot is in (zoning/wall/grids.py), counts per grid, and the demo's grids.

Hand-built in EPSG:4549 (metres, x east of 500 000 = 120 °E): town T has grids G1 (x 0–40 m) and
G2 (x 40–100 m), y 0–100 m, offset by 500 000 m; a rectangle's representative point is its middle.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.errors import InputError
from layers.demo.grids import demo_grids
from layers.validate import validate_layer
from zoning.wall.grids import assign_grids, grid_areas, grid_counts

X0, Y0 = 500_000.0, 3_500_000.0


def rect(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


GRIDS = gpd.GeoDataFrame({"code": ["G2", "G1", "U1"], "name": ["二", "一", "乙"], "level": "grid",
                          "parent": ["T", "T", "U"], "officer": ["李", "王", None]},
                         geometry=[rect(40, 0, 100, 100), rect(0, 0, 40, 100), rect(100, 0, 200, 100)], crs=4549)


@pytest.mark.parametrize(("plot", "town", "expected"), [
    (rect(10, 10, 30, 30), "T", "G1"),            # well inside G1
    (rect(0, 10, 100, 30), "T", "G2"),            # across the edge: middle x = 50 m is in G2
    (rect(20, 10, 60, 30), "T", "G1"),            # middle x = 40 m, on the shared edge: lowest code
    (rect(39.9995, 10, 40.0005, 30), "T", "G1"),  # within 1 mm of both: lowest code
    (rect(39.996, 10, 39.998, 30), "T", "G1"),    # 3 mm short of the edge: G1 only
    (rect(40.002, 10, 40.004, 30), "T", "G2"),    # 3 mm past it: G2 only
    (rect(10, 150, 30, 170), "T", None),          # north of every grid: none
    (rect(110, 10, 130, 30), "T", None),          # in U1, but the plot is of town T: none
    (rect(110, 10, 130, 30), None, "U1"),         # a row of no town takes any grid
    (rect(10, 10, 30, 30), "U", None),            # in G1, but of town U
])
def test_a_plot_belongs_to_the_grid_of_its_representative_point(plot, town, expected):
    plots = gpd.GeoDataFrame({"town": [town]}, geometry=[plot], crs=4549)
    assert assign_grids(plots, GRIDS).tolist() == [expected]


def test_grids_are_found_in_metres_whatever_the_crs():
    plots = gpd.GeoDataFrame({"town": ["T", "T"]}, geometry=[rect(10, 10, 30, 30), rect(0, 10, 100, 30)], crs=4549)
    assert assign_grids(plots.to_crs(4490), GRIDS.to_crs(4490)).tolist() == ["G1", "G2"]


def test_empty_inputs_and_missing_geometry():
    plots = gpd.GeoDataFrame({"town": ["T", "T"]}, geometry=[None, shapely.Polygon()], crs=4549)
    assert assign_grids(plots, GRIDS).tolist() == [None, None]
    assert assign_grids(plots.iloc[:0], GRIDS).tolist() == []
    assert assign_grids(plots, GRIDS.iloc[:0]).tolist() == [None, None]
    with pytest.raises(InputError, match="CRS"):
        assign_grids(gpd.GeoDataFrame({"town": ["T"]}, geometry=[rect(1, 1, 2, 2)]), GRIDS)


def test_grid_areas_keeps_grids_sorted_and_fills_missing_officers():
    admin = pd.concat([GRIDS.drop(columns="officer"),
                       gpd.GeoDataFrame({"code": ["T"], "name": ["镇"], "level": ["town"], "parent": ["D"]},
                                        geometry=[rect(0, 0, 100, 100)], crs=4549)], ignore_index=True)
    grids = grid_areas(admin)
    assert grids["code"].tolist() == ["G1", "G2", "U1"] and grids["officer"].tolist() == [None] * 3
    assert len(grid_areas(None)) == 0 and len(grid_areas(admin[admin["level"] == "town"])) == 0


def test_counts_per_grid_list_empty_grids_and_plots_in_none():
    # 5 plots: G1 red, red, blue; G2 none; two in no grid (yellow, green)
    table = grid_counts(pd.Series([1, 1, 3, 2, 4]), pd.Series(["G1", "G1", "G1", None, None]),
                        grid_areas(GRIDS[GRIDS["parent"] == "T"]))
    assert table[["code", "officer"]].values.tolist() == [["G1", "王"], ["G2", "李"], [None, None]]
    assert table[["count_1", "count_2", "count_3", "count_4", "count_total"]].values.tolist() == [
        [2, 0, 1, 0, 3], [0, 0, 0, 0, 0], [0, 1, 0, 1, 2]]
    none_outside = grid_counts(pd.Series([1]), pd.Series(["G2"]), grid_areas(GRIDS))
    assert none_outside["code"].tolist() == ["G1", "G2", "U1"]  # no "in no grid" row when every plot has one


def test_demo_grids_tile_each_town_exactly_and_validate():
    towns = gpd.GeoDataFrame({"code": [f"32041200{k}" for k in range(1, 5)], "name": list("甲乙丙丁")},
                             geometry=[shapely.box(119.9 + 0.05 * k, 31.6, 119.95 + 0.05 * k, 31.65).buffer(0.01)
                                       for k in range(4)], crs=4490)
    grids = demo_grids(towns)
    assert grids.groupby("parent").size().tolist() == [2, 3, 4, 2]  # 2 + row number mod 3
    metric = grids.to_crs(4549)
    for code, town, town_m in zip(towns["code"], towns.geometry, towns.to_crs(4549).geometry):
        assert np.isclose(metric[metric["parent"] == code].area.sum(), town_m.area, rtol=1e-7)
        mine = grids[grids["parent"] == code].geometry.values  # cut in the towns' CRS: they tile it
        assert shapely.symmetric_difference(shapely.union_all(mine), town).area < 1e-14  # deg², ~ 1e-4 m²
    assert grids["officer"].notna().all() and grids["officer_phone"].str.startswith("0519-555").all()
    validate_layer("admin_areas", grids)
    assert demo_grids(towns).equals(grids)  # deterministic
