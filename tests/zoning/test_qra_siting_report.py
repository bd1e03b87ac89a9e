"""The QRA through the engine run and the siting report, on the tiny city of tests/zoning/zoning_world.py
with hazard site H1 holding 20 t of chlorine (Σq/Q = 4: the QRA path of GB/T 37243-2019 §4) and the
school PT1 250 m from it.

``run_zoning`` writes ``ir_contours`` and ``threat_zones`` stamped like every derived layer; the
review of a school beside H1 is a veto whose report shows the IR contours, the F-N curve with and
without the school's pupils, and the distance that decided — H1's QRA distance for high-sensitivity
targets, read from the stored ``safety_buffers``.
"""

from __future__ import annotations

import json
import re

import pytest
from shapely import Point

from layers.gpkg import GeoPackageStore
from zoning.pipeline import input_fingerprint, run_zoning, stale_layers
from zoning.rules import load_ruleset
from zoning.siting.context import SitingContext
from zoning.siting.review import render_siting_report, review_site
from zoning_world import layers, lonlat, write_population

RS = load_ruleset()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qra_world")
    world = layers()
    sites = world["hazard_sites"]
    sites.loc[sites["site_id"] == "H1", "inventory"] = json.dumps([{"name": "chlorine", "quantity_t": 20}])
    s = GeoPackageStore.create(folder / "qra.gpkg")
    s.write_many(world, actor="test", action="import")
    s.write_raster("population", write_population(folder / "population.tif"), derived=False, actor="test",
                   action="import")
    run_zoning(s, RS)
    return s


@pytest.fixture(scope="module")
def verdict(store):
    context = SitingContext.from_store(store, RS)
    return review_site(lonlat(Point(2250, 2000)), "school", context=context, ruleset=RS, population=600)


def test_the_run_writes_stamped_qra_layers(store):
    fingerprint = input_fingerprint(store, RS)
    for name in ("ir_contours", "threat_zones"):
        info = store.info(name)
        assert info.derived and info.ruleset_version == RS.label and info.fingerprint == fingerprint
    contours = store.read("ir_contours")
    assert contours.crs.to_epsg() == 4490 and set(contours["site_ids"]) <= {"H1", "H3"}
    assert {"3×10⁻⁷/a", "3×10⁻⁶/a"} <= set(contours.loc[contours["site_ids"] == "H1", "level_label"])
    zones = store.read("threat_zones")
    assert set(zones.loc[zones["site_id"] == "H1", "hazard"]) == {"toxic"}
    assert set(zones.loc[zones["site_id"] == "H3", "hazard"]) == {"heat_radiation", "overpressure"}
    buffers = store.read("safety_buffers")
    assert set(buffers.loc[buffers["site_id"].isin(["H1", "H3"]), "method"]) == {"qra"}
    assert set(buffers.loc[buffers["site_id"] == "H2", "method"]) == {"table"}


def test_a_new_population_raster_makes_the_layers_stale(store, tmp_path):
    from zoning_world import copy_store
    copy = copy_store(store, tmp_path)
    assert stale_layers(copy, RS) == []
    copy.write_raster("population", write_population(tmp_path / "pop2.tif"), derived=False, actor="test",
                      action="import")
    assert {"ir_contours", "threat_zones", "safety_buffers"} <= set(stale_layers(copy, RS))


def test_the_school_is_vetoed_on_h1s_qra_distance(store, verdict):
    b = store.read("safety_buffers")
    required = float(b.loc[(b["site_id"] == "H1") & (b["target_class"] == "high_sensitivity"), "distance_m"].iloc[0])
    assert required > 250.0          # the school stands inside it
    assert verdict.verdict == "veto"
    d = verdict.deciding
    assert (d["rule"], d["site_id"], d["target_class"], d["method"]) == \
        ("veto_own_class", "H1", "high_sensitivity", "qra")
    assert d["required_m"] == pytest.approx(required) and d["actual_m"] == pytest.approx(250.0, abs=0.01)
    assert "individual risk 3×10⁻⁶/a" in d["basis"]
    rules = {r.rule: r for r in verdict.reasons}
    assert rules["qra_individual_risk"].figures["criterion"] == 3e-6
    assert rules["qra_individual_risk"].figures["ir"] >= 3e-6       # inside the distance, above the criterion
    fn = verdict.qra["sites"][0]["fn_with"]
    expected = {"acceptable": "permitted", "alarp": "conditional", "unacceptable": "advise_against"}[fn["verdict"]]
    assert rules["qra_societal_risk"].verdict == expected


def test_the_report_shows_contours_the_fn_curve_and_the_deciding_distance(store, verdict):
    html = render_siting_report(verdict)
    assert html.count('class="fn-plot"') == 1
    assert 'class="fn-curve"' in html and 'class="fn-curve-with"' in html
    assert 'class="fn-line-upper"' in html and 'class="fn-line-lower"' in html
    assert re.search(r'<path d="M[^"]+" fill-rule="evenodd" fill="#[0-9a-f]{6}" fill-opacity="0.28"[^>]*>'
                     r"<title>个人风险等值线 3×10⁻⁶/a H1</title>", html)
    required = verdict.deciding["required_m"]
    assert f'要求 <span class="distance">{required:,.0f} m</span>, 实际 250 m' in html
    assert "定量风险评价 QRA" in html and '<ul class="validity">' in html and "placeholder weather" in html
    assert "http" not in html          # still self-contained: no link, no script, no font from anywhere
