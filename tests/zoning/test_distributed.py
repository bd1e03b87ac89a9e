"""Dask equals in-process: a small generated province zoned both ways, compared cell for cell and row for row.

Two neighbouring cities of the generated province (常州 320400 and 镇江 321100, real outlines) plus a
hand-made case on their border: a chlorine store in Changzhou 150 m from Zhenjiang, whose QRA
distance covers a school across the border. The province is zoned

* in-process (:func:`zoning.pipeline.compute_zoning` on everything at once), and
* on a LocalCluster of 2 worker processes, partitioned two ways: by city with the workers reading
  their own city (:func:`zoning.province.run.run_province`, gathered in memory and written to a
  folder city by city), and by district from frames in memory
  (:func:`zoning.province.run.compute_distributed`, 10 partitions, so more borders);

every layer must come out with the same rows and the same values (floats compared exactly), the
risk surface and the individual-risk grid cell for cell.
"""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from geo.crs import STORE_CRS
from layers.demo.province import ProvincePlan, build_province, province_population, read_province
from zoning.hazards.qra.individual import risk_window, window_for
from zoning.hazards.qra.rules import parse_qra_rules
from zoning.pipeline import compute_zoning
from zoning.province.compare import differences
from zoning.province.engine import context_for, ir_grid, regions_of, split_inputs
from zoning.province.partition import owners
from zoning.province.run import compute_distributed, connect, read_population_file, run_province
from zoning.province.sink import FolderSink, read_result, write_result
from zoning.province.stages import point_meta, point_stage
from zoning.rules import load_ruleset

pytestmark = pytest.mark.slow
CITIES = ("320400", "321100")
GRID_M, SURFACE_M = 1000.0, 200.0


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    return build_province(tmp_path_factory.mktemp("province"),
                          ProvincePlan(plots=1500, sites=40, services=0.2, cities=CITIES))


@pytest.fixture(scope="module")
def client():
    with connect() as c:
        yield c


@pytest.fixture(scope="module")
def rules():
    return load_ruleset()


def _border_case(inputs: dict) -> tuple[dict, str, str]:
    """A chlorine store in Changzhou 150 m from Zhenjiang and a school 150 m inside Zhenjiang."""
    admin = inputs["admin_areas"]
    crs = "EPSG:4549"
    city = admin[admin["level"] == "city"].set_index("code").to_crs(crs).geometry
    a, b = city["320400"], city["321100"]
    border = shapely.intersection(a.boundary, b.buffer(1.0))
    for t in np.linspace(0.1, 0.9, 17):
        p = border.interpolate(t, normalized=True)
        for dx, dy in ((150, 0), (-150, 0), (0, 150), (0, -150), (106, 106), (-106, -106), (106, -106), (-106, 106)):
            site, school = shapely.Point(p.x + dx, p.y + dy), shapely.Point(p.x - dx, p.y - dy)
            if a.contains(site.buffer(20)) and b.contains(school.buffer(60)):
                break
        else:
            continue
        break
    else:
        pytest.fail("no border point found between Changzhou and Zhenjiang")
    site_row = gpd.GeoDataFrame({
        "site_id": ["320400-BORDER"], "name": ["演示边界氯气库"], "generated": [True],
        "inventory": [json.dumps([{"name": "chlorine", "cas": "7782-50-5", "quantity_t": 60.0}])],
        "major_hazard_grade": [0], "people_500m": [300]}, geometry=[site], crs=crs).to_crs(STORE_CRS)
    school_row = gpd.GeoDataFrame({
        "target_id": ["321100-BORDER-SCHOOL"], "name": ["演示边界学校"], "kind": ["school"],
        "gb36894_class": ["high_sensitivity"], "population": [900], "generated": [True]},
        geometry=[school.buffer(50, quad_segs=4)], crs=crs).to_crs(STORE_CRS)
    out = dict(inputs)
    out["hazard_sites"] = pd.concat([inputs["hazard_sites"], site_row], ignore_index=True)
    out["protected_targets"] = pd.concat([inputs["protected_targets"], school_row], ignore_index=True)
    return out, "320400-BORDER", "321100-BORDER-SCHOOL"


@pytest.fixture(scope="module")
def in_process(province, rules):
    population = read_population_file(province_population(province))
    return compute_zoning(read_province(province), rules, population=population, grid_cell_m=GRID_M,
                          surface_cell_m=SURFACE_M)


def test_province_by_city_equals_in_process(province, client, rules, in_process):
    inputs = read_province(province)
    expected = in_process
    got = run_province(province, rules, client=client, grid_cell_m=GRID_M, surface_cell_m=SURFACE_M)
    assert differences(expected, got) == []
    # the comparison had something to compare: every layer the engine makes, and risk near the border
    assert {"risk_wall", "major_hazards", "safety_buffers", "separation_violations", "ir_contours",
            "threat_zones", "risk_zones"} <= set(got.layers)
    assert len(got.layers["ir_contours"]) and (got.surface[0] > 0).sum() > 100
    assert len(got.layers["risk_wall"]) == len(inputs["industrial_plots"])


def test_province_written_city_by_city_equals_in_process(province, client, rules, in_process, tmp_path):
    """The run that writes each city's rows as they come (the million-plot run) writes the same files."""
    written = run_province(province, rules, client=client, grid_cell_m=GRID_M, surface_cell_m=SURFACE_M,
                           out=tmp_path / "dask")
    expected = read_result(write_result(in_process, tmp_path / "in-process", rules))
    assert differences(expected, read_result(tmp_path / "dask")) == []
    assert written.rows == {name: len(frame) for name, frame in in_process.layers.items()}
    # one row group a city: the wall was written in two pieces, never gathered whole
    assert pq.ParquetFile(tmp_path / "dask" / "risk_wall.parquet").num_row_groups == len(CITIES)


def test_qra_in_batches_equals_one_call(province, rules):
    """A city's QRA in batches of 7 sites (a million-plot city: 400) gives the point stage of one call."""
    crs = "EPSG:4549"
    inputs = {k: v.to_crs(crs) for k, v in read_province(province).items()}
    population = read_population_file(province_population(province))
    ctx = context_for(rules, crs, set(inputs), grid_cell_m=GRID_M, surface_cell_m=SURFACE_M)
    whole = point_stage(inputs, inputs["protected_targets"], population, dataclasses.replace(ctx, qra_batch=10_000))
    batched = point_stage(inputs, inputs["protected_targets"], population, dataclasses.replace(ctx, qra_batch=7))
    assert len(inputs["hazard_sites"]) > 3 * 7 and len(whole.risks) > 1
    for name in ("wall", "grades", "buffers", "threat"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(batched, name), check_exact=True)
    assert whole.warnings == batched.warnings and np.array_equal(whole.risk_rows, batched.risk_rows)
    assert all(np.array_equal(a.ir, b.ir) for a, b in zip(whole.risks, batched.risks))


def test_a_folder_is_written_in_province_order_only(province, rules, tmp_path):
    wall = read_province(province, names=("industrial_plots",))["industrial_plots"]
    sink = FolderSink(tmp_path, rules)
    sink.add("risk_wall", wall.iloc[100:200])
    with pytest.raises(ValueError, match="risk_wall: partition rows from 0 come after row 199"):
        sink.add("risk_wall", wall.iloc[:100])


def test_border_site_across_districts_equals_in_process(province, client, rules):
    inputs, site_id, school_id = _border_case(read_province(province))
    population = read_population_file(province_population(province))
    expected = compute_zoning(inputs, rules, population=population, grid_cell_m=GRID_M, surface_cell_m=SURFACE_M)
    got = compute_distributed(inputs, rules, client=client, population=population, grid_cell_m=GRID_M,
                              surface_cell_m=SURFACE_M)
    assert differences(expected, got) == []
    # the case crosses a partition border: the site and the school belong to different partitions ...
    metric = {k: v.to_crs("EPSG:4549") for k, v in inputs.items()}
    regions, _ = regions_of(metric["admin_areas"])
    site = metric["hazard_sites"].set_index("site_id").geometry[[site_id]]
    school = metric["protected_targets"].set_index("target_id").geometry[[school_id]]
    assert owners(site.to_numpy(), regions)[0] != owners(school.to_numpy(), regions)[0]
    # ... and the violation is found in both runs, by the QRA distance of the site
    v = got.layers["separation_violations"]
    hit = v[(v["site_id"] == site_id) & (v["subject_id"] == school_id) & (v["rule"] == "class_buffer")]
    assert len(hit) == 1 and hit["required_m"].iloc[0] > 300
    assert site_id in set(got.layers["threat_zones"]["site_id"])


def test_results_differ_when_a_partition_is_not_lent_its_halo(province, client, rules):
    """The comparison can fail: zoning each city alone (no neighbour) changes the border rows."""
    inputs, site_id, school_id = _border_case(read_province(province))
    alone = {k: v[v.geometry.intersects(inputs["admin_areas"].set_index("code").geometry["321100"])]
             if k != "admin_areas" else v[v["code"].str.startswith("3211")] for k, v in inputs.items()}
    v = compute_zoning(alone, rules, grid_cell_m=GRID_M, surface_cell_m=SURFACE_M).layers["separation_violations"]
    assert not ((v["subject_id"] == school_id) & (v["site_id"] == site_id)).any()


def test_risk_grid_in_tiles_equals_one_window(province, client, rules):
    """The IR grid cut into 64-cell tiles on Dask, each lent the sites that reach it, equals one window."""
    inputs, site_id, _ = _border_case(read_province(province))
    crs = "EPSG:4549"
    metric = {k: v.to_crs(crs) for k, v in inputs.items()}
    regions, _ = regions_of(metric["admin_areas"])
    ctx = context_for(rules, crs, set(metric), grid_cell_m=GRID_M, surface_cell_m=SURFACE_M)
    parts = client.scatter(split_inputs(metric, regions))
    points = [client.submit(point_stage, p, p_targets, None, ctx, pure=False)
              for p, p_targets in zip(parts, [metric["protected_targets"]] * len(parts))]
    metas = client.gather([client.submit(point_meta, r, ctx, pure=False) for r in points])
    site = metric["hazard_sites"].set_index("site_id").geometry[site_id]
    window = window_for(shapely.buffer(site, 6000).bounds, 50.0)
    tiled = ir_grid(client, points, metas, window, tile=64)
    risks = sorted(((row, s) for r in client.gather(points) for row, s in zip(r.risk_rows, r.risks)),
                   key=lambda t: t[0])
    whole = risk_window([s for _, s in risks], window)
    assert tiled.shape == whole.shape == (window.ny, window.nx)
    assert np.array_equal(tiled, whole)
    # the window holds risk from more than one site and more than one partition
    holders = [k for k, m in enumerate(metas) if len(m["qra"])]
    assert len(risks) > 1 and len(holders) > 1
    assert whole.max() > parse_qra_rules(rules).levels[0]
