"""The engine run on a store: load → compute → write, stamps, staleness, and bad input.

A tiny hand-built town near Wujin: one town polygon, four plots (one per colour), a chlorine store
and a TNT magazine, a school 150 m from the chlorine store.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import Point, box

from layers.errors import ValidationError
from layers.store import Store, create_store
from layers.validate import validate_layer
from zoning.errors import RuleSetError
from zoning.pipeline import DERIVED_LAYERS, compute_zoning, input_fingerprint, run_zoning, stale_layers
from zoning.rules import DEFAULT_RULESET, load_ruleset

CRS = "EPSG:4549"  # CGCS2000 GK zone CM 120°E, metres
X0, Y0 = 500_000.0, 3_510_000.0  # ≈ 120.0°E, 31.7°N


def _frame(records, geoms, crs=CRS):
    return gpd.GeoDataFrame(records, geometry=geoms, crs=crs).to_crs("EPSG:4490")


def tiny_city() -> dict[str, gpd.GeoDataFrame]:
    town = _frame([{"code": "320412999", "name": "测试镇", "level": "town", "parent": "320412"}],
                  [box(X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000)])
    plots = _frame(
        [{"plot_id": "P-red", "town": "320412999", "risk_major": 1},
         {"plot_id": "P-yellow", "town": "320412999", "rented_buildings": 12},
         {"plot_id": "P-blue", "town": "320412999", "risk_general": 2},
         {"plot_id": "P-green", "town": "320412999", "risk_low": 3}],
        [box(X0 + i * 400, Y0, X0 + i * 400 + 200, Y0 + 200) for i in range(4)])
    sites = _frame(
        [{"site_id": "S-cl2", "plot_id": "P-red", "people_500m": 60,
          "inventory": json.dumps([{"name": "chlorine", "cas": "7782-50-5", "quantity_t": 10}])},
         {"site_id": "S-tnt", "plot_id": "P-yellow", "people_500m": 0,
          "inventory": json.dumps([{"name": "tnt", "cas": "118-96-7", "quantity_t": 1}])}],
        [Point(X0 + 100, Y0 + 100), Point(X0 + 2500, Y0 - 2500)])
    targets = _frame(
        [{"target_id": "T-school", "kind": "school", "gb36894_class": "high_sensitivity", "population": 800}],
        [Point(X0 + 100, Y0 + 250)])
    return {name: validate_layer(name, frame) for name, frame in
            {"admin_areas": town, "industrial_plots": plots, "hazard_sites": sites,
             "protected_targets": targets}.items()}


@pytest.fixture
def store(tmp_path) -> Store:
    s = create_store(tmp_path / "town.gpkg")
    s.write_many(tiny_city())
    return s


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_compute_colours_every_plot_and_flags_the_school():
    result = compute_zoning(tiny_city(), load_ruleset())
    wall = result.layers["risk_wall"].set_index("plot_id")
    assert wall.loc[["P-red", "P-yellow", "P-blue", "P-green"], "colour_name"].tolist() == \
        ["red", "yellow", "blue", "green"]
    violations = result.layers["separation_violations"]
    school = violations[violations["subject_id"] == "T-school"]
    assert set(school["site_id"]) == {"S-cl2"}
    assert (school["actual_m"] < school["required_m"]).all()
    assert school["actual_m"].min() == pytest.approx(150.0, abs=0.5)
    grades = result.layers["major_hazards"].set_index("site_id")
    # GB 18218-2018 §4.2: chlorine q/Q = 10/5 = 2, β = 4, α = 1.5 (50–99 people) → R = 1.5·4·2 = 12 → 三级.
    assert grades.loc["S-cl2", "R"] == pytest.approx(12.0)
    assert grades.loc["S-cl2", "grade"] == 3


def test_run_writes_stamped_layers_and_detects_staleness(store):
    rs = load_ruleset()
    run_zoning(store, rs)
    fingerprint = input_fingerprint(store, rs)
    for name in (*DERIVED_LAYERS, "risk_surface"):
        info = store.info(name)
        assert info.derived and info.ruleset_version == rs.label and info.fingerprint == fingerprint
    assert stale_layers(store, rs) == []
    plots = store.read("industrial_plots")
    store.write("industrial_plots", plots)  # an edit bumps the input's version
    assert set(stale_layers(store, rs)) == {*DERIVED_LAYERS, "risk_surface"}


def test_a_site_without_coordinates_is_named_and_nothing_is_written(store):
    sites = store.read("hazard_sites")
    sites.loc[sites["site_id"] == "S-tnt", "geometry"] = None
    store.write("hazard_sites", sites)
    before = sha256(store.address)
    with pytest.raises(ValidationError) as err:
        run_zoning(store, load_ruleset())
    assert [(p.feature, p.field) for p in err.value.problems] == [("S-tnt", "geometry")]
    assert sha256(store.address) == before


def test_a_rule_set_with_a_typo_names_the_key(tmp_path):
    text = DEFAULT_RULESET.read_text(encoding="utf-8").replace("critical_t = 5.0", "critical_t = \"five\"", 1)
    assert text != DEFAULT_RULESET.read_text(encoding="utf-8")
    bad = tmp_path / "typo.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"critical_t"):
        load_ruleset(bad)


def test_an_unknown_substance_is_reported_not_counted():
    city = tiny_city()
    sites = city["hazard_sites"]
    sites.loc[0, "inventory"] = json.dumps([{"name": "unobtainium", "quantity_t": 3},
                                            {"name": "chlorine", "quantity_t": 10}])
    result = compute_zoning(city, load_ruleset())
    assert any("unobtainium" in w for w in result.warnings)
    grades = result.layers["major_hazards"].set_index("site_id")
    assert grades.loc["S-cl2", "ratio_sum"] == pytest.approx(2.0)


def test_a_negative_quantity_names_the_site_and_field():
    city = tiny_city()
    city["hazard_sites"].loc[1, "inventory"] = json.dumps([{"name": "tnt", "quantity_t": -1}])
    with pytest.raises(ValidationError) as err:
        compute_zoning(city, load_ruleset())
    assert any(p.feature == "S-tnt" and p.field == "inventory" for p in err.value.problems)
