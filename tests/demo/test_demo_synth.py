"""Generated layers: deterministic, labelled, inside the districts, schema-valid, plausible."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from layers.demo.hazards import SUBSTANCES
from layers.demo.synth import generate_layers
from layers.validate import validate_layer

GENERATED = ["industrial_plots", "hazard_sites", "protected_targets", "rescue_stations", "shelters", "roads"]


def test_same_seed_gives_identical_layers(districts, towns):
    a = generate_layers(districts, towns, scale=0.1, seed=7)
    b = generate_layers(districts, towns, scale=0.1, seed=7)
    for name in GENERATED:
        assert_geodataframe_equal(a.layers[name], b.layers[name], check_less_precise=False)
    np.testing.assert_array_equal(a.population.data, b.population.data)
    c = generate_layers(districts, towns, scale=0.1, seed=8)
    assert not a.layers["industrial_plots"].geometry.geom_equals(c.layers["industrial_plots"].geometry).all()


def test_counts_at_scale_one(demo_layers):
    assert len(demo_layers["industrial_plots"]) == 1200
    assert len(demo_layers["hazard_sites"]) == 180  # 15 % of the plots
    assert len(demo_layers["protected_targets"]) == 1500
    kinds = demo_layers["rescue_stations"]["kind"].value_counts()
    assert kinds[["special_service", "standard_1", "standard_2", "small"]].sum() == 43
    assert kinds["standard_1"] + kinds["standard_2"] > 30
    shelters = demo_layers["shelters"]["class"].value_counts()
    assert shelters["central"] == 1 and shelters["emergency"] > shelters.drop("emergency").sum()
    assert len(demo_layers["roads"]) > 20_000


@pytest.mark.parametrize("name", GENERATED)
def test_layers_are_labelled_valid_and_inside_the_city(demo_layers, districts, name):
    layer = demo_layers[name]
    assert layer.crs.to_epsg() == 4490
    assert layer["generated"].all()
    if "name" in layer and name != "roads":
        assert layer["name"].str.startswith("演示").all()
    validate_layer(name, layer)
    # generated and clipped in EPSG:4549: a long straight boundary edge of EPSG:4490 bends there
    # by a few centimetres, so allow 1e-5° (about 1 m)
    city = districts.union_all().buffer(1e-5)
    shapely.prepare(city)
    assert shapely.covers(city, layer.geometry.values).all()


def test_plots_do_not_overlap_and_know_their_town(demo_layers, towns):
    plots = demo_layers["industrial_plots"].to_crs(4549)
    side = np.sqrt(plots.area)
    assert side.min() >= 40.0 - 1e-6 and side.max() <= 300.0 + 1e-6
    i, j = shapely.STRtree(plots.geometry.values).query(plots.geometry.values, predicate="overlaps")
    assert not (i != j).any()
    found = plots.representative_point().to_frame("geometry").sjoin(towns.to_crs(4549)[["code", "geometry"]])
    found = found[~found.index.duplicated()]
    assert (found["code"] == plots.loc[found.index, "town"]).mean() > 0.99
    assert demo_layers["industrial_plots"]["enterprise"].str.fullmatch(r"演示企业-\d{4}").all()


def test_plot_attributes_have_realistic_shapes(demo_layers):
    plots = demo_layers["industrial_plots"]
    assert (plots["risk_major"] > 0).mean() < 0.06
    assert 0.1 < (plots["risk_large"] > 0).mean() < 0.4
    assert (plots["rented_buildings"] >= 10).sum() >= 3 and plots["rented_buildings"].max() <= 20
    assert (plots["major_hazard_grade"] == 0).mean() > 0.9
    assert 0 < (plots["open_major_dangers"] > 0).sum() < 0.05 * len(plots)
    assert (plots["tagged_dangers"] <= plots["open_major_dangers"]).all()
    assert (plots.loc[~plots["dust_explosion"], "dust_workers"] == 0).all()
    assert set(plots["supervision_grade"]) == {"A", "B", "C", "D"}


def test_hazard_sites_sit_on_plots_with_known_substances(demo_layers):
    sites, plots = demo_layers["hazard_sites"], demo_layers["industrial_plots"].set_index("plot_id")
    assert sites["plot_id"].is_unique and sites["plot_id"].isin(plots.index).all()
    on_plot = shapely.contains(plots.loc[sites["plot_id"]].geometry.values, sites.geometry.values)
    assert on_plot.all()
    cas = {}
    for doc in sites["inventory"]:
        for item in json.loads(doc):
            assert item["name"] in SUBSTANCES and item["quantity_t"] > 0
            cas.setdefault(item["name"], set()).add(item["cas"])
    assert cas["chlorine"] == {"7782-50-5"} and cas["ammonia"] == {"7664-41-7"}
    graded = plots.loc[sites["plot_id"], "major_hazard_grade"].to_numpy()
    np.testing.assert_array_equal(graded, sites["major_hazard_grade"].to_numpy())
    assert sites["declared_distance_m"].notna().sum() > 0 and sites["processes"].notna().sum() > 0


def test_declared_grades_match_the_engine(demo_layers):
    from zoning.hazards.major_hazard import grade_sites, parse_major_hazard_rules
    from zoning.rules import load_ruleset

    sites = demo_layers["hazard_sites"]
    graded = grade_sites(sites, parse_major_hazard_rules(load_ruleset()))
    assert (graded["ratio_sum"] >= 1).mean() > 0.1  # some major hazard sources
    np.testing.assert_array_equal(graded["grade"].to_numpy(), sites["major_hazard_grade"].to_numpy())
    assert set(graded["grade"]) >= {0, 3, 4}


def test_protected_target_classes_follow_gb36894(demo_layers):
    t = demo_layers["protected_targets"]
    high = t["kind"].isin(["school", "kindergarten", "hospital", "care_home", "prison"])
    important = t["kind"].isin(["cultural_relic", "military"])
    assert (t.loc[high, "gb36894_class"] == "high_sensitivity").all()
    assert (t.loc[important, "gb36894_class"] == "important").all()
    rest = t[~high & ~important]
    people = rest["population"]
    expected = np.select([people >= 100, people >= 30], ["general_1", "general_2"], "general_3")
    assert (rest["gb36894_class"].to_numpy() == expected).all()
    assert set(t["gb36894_class"]) == {"high_sensitivity", "important", "general_1", "general_2", "general_3"}


def test_some_targets_stand_near_hazard_sites(demo_layers):
    sites = demo_layers["hazard_sites"].to_crs(4549)
    targets = demo_layers["protected_targets"].to_crs(4549)
    tree = shapely.STRtree(sites.geometry.values)
    near = tree.query(targets.geometry.values, predicate="dwithin", distance=500.0)
    assert np.unique(near[0]).size >= 50


def test_fire_stations_keep_clear_of_hazard_sites(demo_layers):
    stations = demo_layers["rescue_stations"].to_crs(4549)
    fire = stations[stations["kind"].isin(["special_service", "standard_1", "standard_2", "small"])]
    sites = demo_layers["hazard_sites"].to_crs(4549)
    gap = shapely.STRtree(sites.geometry.values).query_nearest(fire.geometry.values, return_distance=True)[1]
    assert gap.min() >= 300.0


def test_shelter_capacity_follows_space_per_person(demo_layers):
    s = demo_layers["shelters"]
    per_person = np.where(s["class"] == "emergency", 1.0, 2.0)  # GB 50413-2007, as in the rule set
    np.testing.assert_array_equal(s["capacity"].to_numpy(), np.floor(s["effective_area_m2"] / per_person))
    site = s.to_crs(4549).area
    assert (s["effective_area_m2"] <= site + 1).all()
    assert (site[s["class"] == "emergency"] >= 1000).all()  # ≥ 0.1 hm² (GB 50413-2007)
    assert (site[s["class"] != "emergency"] >= 10_000).all()  # ≥ 1 hm²
    assert site[s["class"] == "central"].iloc[0] >= 500_000  # ≥ 50 hm²
