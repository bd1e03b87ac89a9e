"""Colours follow at once (issue 13 item 7): the incremental refresh equals a full ``run_zoning``.

Each test edits a copy of the fixture store through :func:`zoning.edits.apply_edit`, copies the
edited file, runs the full engine on the copy, and compares every derived layer the refresh keeps
current, row by row.
"""

from __future__ import annotations

import dataclasses
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers.errors import ValidationError
from layers.store import open_store
from server_common import plot_geometry
from zoning.edits import apply_edit
from zoning.pipeline import run_zoning, stale_layers
from zoning.rules import load_ruleset

RULES = load_ruleset()
KEYS = {"risk_wall": ["plot_id"], "risk_zones": ["zone_id"], "major_hazards": ["site_id"],
        "safety_buffers": ["site_id", "target_class"],
        "separation_violations": ["rule", "subject_layer", "subject_id", "site_id", "target_class"]}


@pytest.fixture(scope="module")
def edit_store(store_path, tmp_path_factory):
    """One writable copy for the property test's examples (each edits P006 again)."""
    target = tmp_path_factory.mktemp("outlines") / "city.gpkg"
    shutil.copyfile(store_path, target)
    return open_store(target)


def _row(store, layer, fid):
    id_field = {"industrial_plots": "plot_id", "hazard_sites": "site_id"}[layer]
    frame = store.read(layer, where={id_field: [fid]}, versions=True)
    version = int(frame["row_version"].iloc[0])
    return frame.drop(columns=["row_version", "updated_at", "updated_by"]), {fid: version}


def _full_run_copy(store, tmp_path):
    target = tmp_path / "full.gpkg"
    store.close()
    shutil.copyfile(store.address, target)
    full = open_store(target)
    run_zoning(full, RULES, grid_cell_m=1000.0, surface_cell_m=100.0)
    return full


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys, kind="stable").reset_index(drop=True)
    b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    assert len(a) == len(b)
    columns = [c for c in a.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(a[columns]), pd.DataFrame(b[columns]), check_dtype=False)
    ga, gb = np.asarray(a.geometry.array, dtype=object), np.asarray(b.geometry.array, dtype=object)
    assert shapely.equals_exact(ga, gb, tolerance=1e-9).all()


def _compare(edited, full, layers):
    for name in layers:
        _same(edited.read(name), full.read(name), KEYS[name])


def test_plot_edit_equals_a_full_run(writable_store, tmp_path):
    store = writable_store
    before = store.read("risk_wall", where={"plot_id": ["P002"]}).iloc[0]
    rows, base = _row(store, "industrial_plots", "P002")
    rows["risk_major"], rows["workers"] = 1, 2000  # red, and labour-intensive works near HS1
    rows["geometry"] = shapely.affinity.translate(rows.geometry.iloc[0], xoff=-0.02)  # moved next to HS1
    out = apply_edit(store, RULES, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base,
                     actor="tester", reason="re-surveyed")
    after = store.read("risk_wall", where={"plot_id": ["P002"]}).iloc[0]
    assert (before["level"], after["level"]) == (2, 1)
    assert out.refresh.rows["risk_wall"] == 1 and out.refresh.rows["risk_zones"] >= 2
    assert stale_layers(store, RULES) == ["risk_surface"]  # the raster alone waits for `riskmap zone`
    full = _full_run_copy(store, tmp_path)
    _compare(store, full, ["risk_wall", "risk_zones", "separation_violations", "major_hazards"])
    # the audit tells the colour change with its reasons
    entry = store.audit(layer="risk_wall", feature="P002", limit=1).iloc[0]
    assert entry["before"]["colour_name"] == "yellow" and entry["after"]["colour_name"] == "red"
    assert "重大风险" in entry["after"]["reasons"] and "re-surveyed" in entry["detail"]


def test_a_plot_moved_away_leaves_its_violations_behind(writable_store, tmp_path):
    """The violations of a plot are found where the plot was (they are drawn on it), not where it goes."""
    store = writable_store
    rows, base = _row(store, "industrial_plots", "P002")
    rows["workers"] = 2000
    rows["geometry"] = shapely.affinity.translate(rows.geometry.iloc[0], xoff=-0.041)  # 240 m from HS1 (321 m)
    apply_edit(store, RULES, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base, actor="tester",
               reason="re-surveyed")
    held = store.read("separation_violations", where={"subject_id": ["P002"]})
    assert set(held["site_id"]) == {"HS1"}
    rows, base = _row(store, "industrial_plots", "P002")
    rows["geometry"] = shapely.affinity.translate(rows.geometry.iloc[0], xoff=0.041)  # back where it was
    out = apply_edit(store, RULES, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base,
                     actor="tester", reason="surveyed again")
    assert out.refresh.rows["separation_violations"] == len(held)
    assert not len(store.read("separation_violations", where={"subject_id": ["P002"]}))
    _compare(store, _full_run_copy(store, tmp_path), ["risk_wall", "risk_zones", "separation_violations"])


def test_retiring_a_plot_retires_its_wall_row(writable_store, tmp_path):
    store = writable_store
    rows, base = _row(store, "industrial_plots", "P001")
    apply_edit(store, RULES, "industrial_plots", retire=["P001"], base_versions=base, actor="tester",
               reason="plot demolished")
    assert "P001" not in set(store.read("risk_wall")["plot_id"])
    _compare(store, _full_run_copy(store, tmp_path), ["risk_wall", "risk_zones", "separation_violations"])


def test_hazard_site_edit_equals_a_full_run(writable_store, tmp_path):
    store = writable_store
    rows, base = _row(store, "hazard_sites", "HS2")
    rows["inventory"] = '[{"name": "甲苯", "cas": "108-88-3", "quantity_t": 9000}]'
    rows["geometry"] = shapely.affinity.translate(rows.geometry.iloc[0], xoff=0.01)
    out = apply_edit(store, RULES, "hazard_sites", gpd.GeoDataFrame(rows), base_versions=base, actor="tester",
                     reason="storage extended")
    assert out.refresh.rows["major_hazards"] == 3
    assert "risk_surface" in stale_layers(store, RULES) and "risk_zones" not in stale_layers(store, RULES)
    full = _full_run_copy(store, tmp_path)
    _compare(store, full, ["risk_wall", "risk_zones", "major_hazards", "safety_buffers", "separation_violations"])


def test_a_layer_stale_before_the_edit_stays_stale(writable_store):
    """Derived layers made with other rules are not made to look current by an edit."""
    store = writable_store
    other = dataclasses.replace(RULES, digest="another-rule-set")
    stale = set(stale_layers(store, other))
    assert {"risk_wall", "risk_zones", "major_hazards", "risk_surface"} <= stale
    rows, base = _row(store, "industrial_plots", "P006")
    rows["tenants"] = 4
    out = apply_edit(store, other, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base, actor="tester",
                     reason="x")
    assert out.refresh.restamped == [] and set(stale_layers(store, other)) == stale


@pytest.mark.parametrize("plot_id", ["P004", "P016"])
def test_unchanged_colour_writes_no_zone_row(writable_store, plot_id):
    store = writable_store
    rows, base = _row(store, "industrial_plots", plot_id)
    rows["contact"] = "秘密联系人 新"
    zones_before = store.info("risk_zones").version
    out = apply_edit(store, RULES, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base,
                     actor="tester", reason="new phone")
    assert out.refresh.rows["risk_zones"] == 0 and store.info("risk_zones").version == zones_before


def test_a_concurrent_change_of_the_same_derived_rows_is_retried(writable_store, monkeypatch):
    """Two editors recolouring one town at once: the second refresh meets a stale zone row, reads again."""
    from layers.errors import Conflict
    from zoning.wall import incremental

    store, calls = writable_store, []
    real = incremental.refresh_derived

    def racing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Conflict("risk_zones", [("320412001", 1, 2, "live")])
        return real(*args, **kwargs)

    monkeypatch.setattr("zoning.edits.refresh_derived", racing)
    rows, base = _row(store, "industrial_plots", "P002")
    rows["risk_major"] = 1
    out = apply_edit(store, RULES, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base, actor="t",
                     reason="x")
    assert len(calls) == 2 and out.refresh.rows["risk_wall"] == 1
    assert store.read("risk_wall", where={"plot_id": ["P002"]})["level"].iloc[0] == 1


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(coords=st.lists(st.tuples(st.floats(-0.004, 0.004), st.floats(-0.004, 0.004)), min_size=0, max_size=6))
def test_any_outline_is_repaired_or_refused_in_one_line_never_half_written(edit_store, coords):
    """Bow-ties, slivers, collapsed rings, too few points: the edit is repaired and recoloured, or refused
    with a ValidationError naming the plot and ``geometry``; either way store and wall agree."""
    store = edit_store
    rows, base = _row(store, "industrial_plots", "P006")
    x0, y0 = plot_geometry(5).centroid.coords[0]
    ring = [(x0 + dx, y0 + dy) for dx, dy in coords]
    geometry = shapely.Polygon(ring + ring[:1]) if len(ring) >= 3 else shapely.Polygon()
    rows["geometry"] = geometry
    version = store.info("industrial_plots").version
    try:
        apply_edit(store, RULES, "industrial_plots", gpd.GeoDataFrame(rows), base_versions=base, actor="t",
                   reason="outline")
    except ValidationError as error:
        assert {(p.feature, p.field) for p in error.problems} == {("P006", "geometry")}
        assert store.info("industrial_plots").version == version
        return
    plot = store.read("industrial_plots", where={"plot_id": ["P006"]}).geometry.iloc[0]
    wall = store.read("risk_wall", where={"plot_id": ["P006"]}).geometry.iloc[0]
    assert plot.is_valid and not plot.is_empty and shapely.equals_exact(plot, wall, tolerance=1e-9)
