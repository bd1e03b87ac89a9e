"""Which sites get a QRA (GB/T 37243-2019 §4 item 2) and how its distances enter ``safety_distances``."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.errors import CRSError
from zoning.hazards.distances import parse_distance_rules, safety_distances
from zoning.hazards.major_hazard import parse_major_hazard_rules
from zoning.hazards.qra.assess import assess_sites, people_points
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset

RS = load_ruleset()
CLASSES = ("high_sensitivity", "important", "general_1", "general_2", "general_3")
GK = "EPSG:4549"


def sites(*rows) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows],
         "inventory": [json.dumps([{"name": n, "quantity_t": q} for n, q in r[1]]) for r in rows]},
        geometry=[shapely.Point(500_000 + 5000 * i, 3_500_000) for i in range(len(rows))], crs=GK)


@pytest.fixture(scope="module")
def mixed():
    frame = sites(("CL", [("chlorine", 10)]), ("LOW", [("chlorine", 2)]),
                  ("MIX", [("ammonia", 30), ("methanol", 600)]), ("TNT", [("tnt", 1)]))
    return frame, assess_sites(frame, RS)


def test_only_qra_path_sites_with_modelled_substances_are_assessed(mixed):
    """Chlorine 10 t: Σq/Q = 2 ≥ 1 → QRA; chlorine 2 t: 0.4 < 1 → table; ammonia 30 t (3) with methanol: QRA;
    TNT: consequence method, no QRA."""
    _, q = mixed
    assert set(q.sites) == {"CL", "MIX"} and q.skipped == {}
    cl = q.sites["CL"]
    assert cl.status == "existing" and cl.holdings == [("chlorine", 10.0, 1)]
    for c in CLASSES:
        assert cl.distances[c] == pytest.approx(cl.risk.distance_to(q.rules.criterion(c, "existing")))
    assert cl.distances["high_sensitivity"] >= cl.distances["general_2"] >= cl.distances["general_3"]


def test_qra_distances_replace_the_provisional_table(mixed):
    frame, q = mixed
    dr, mh = parse_distance_rules(RS), parse_major_hazard_rules(RS)
    d = safety_distances(frame, dr, mh, qra=q).set_index(["site_id", "target_class"])
    cl = d.loc[("CL", "high_sensitivity")]
    assert cl["method"] == "qra"
    assert cl["distance_m"] == pytest.approx(q.sites["CL"].distances["high_sensitivity"])
    assert cl["reasons"][0].startswith("QRA path (GB/T 37243-2019 §4, §6)")
    assert "individual risk 3×10⁻⁶/a (GB 36894-2018 criterion for high_sensitivity, existing installation)" \
        in cl["reasons"][0]
    assert any(r.startswith("validity: weather: placeholder") for r in cl["reasons"])
    low = d.loc[("LOW", "high_sensitivity")]
    assert low["method"] == "table" and low["reasons"][0].startswith("table distance, no QRA")
    # ammonia's QRA distance against methanol's table distance: the larger governs, both are listed
    mix = d.loc[("MIX", "high_sensitivity")]
    table = float(tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))["distances"]["table"]["flammable_liquid"]
                  ["high_sensitivity"])
    assert mix["distance_m"] == pytest.approx(max(table, q.sites["MIX"].distances["high_sensitivity"]))
    assert {r.split(":")[0] for r in mix["reasons"][:2]} >= {"QRA path (GB/T 37243-2019 §4, §6)"}


def test_a_site_whose_substance_has_no_properties_keeps_the_flagged_table_distance():
    tables = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
    del tables["qra"]["substances"]["chlorine"]
    rs = RuleSet(name="t", version="0", path=Path("t.toml"), digest="", tables=copy.deepcopy(tables))
    frame = sites(("CL", [("chlorine", 10)]))
    q = assess_sites(frame, rs)
    assert not q.sites and "no QRA properties for chlorine" in q.skipped["CL"]
    d = safety_distances(frame, parse_distance_rules(rs), parse_major_hazard_rules(rs), qra=q)
    assert (d["method"] == "qra_provisional").all()
    assert d.loc[0, "reasons"][0].endswith("no QRA properties for chlorine in the rule set ([qra.substances]): "
                                           "table distance, no QRA")


def test_new_installations_get_the_stricter_criteria():
    frame = sites(("CL", [("chlorine", 10)]))
    new, old = assess_sites(frame, RS, status="new"), assess_sites(frame, RS)
    assert new.sites["CL"].levels["high_sensitivity"] == 3e-7
    assert new.sites["CL"].distances["high_sensitivity"] > old.sites["CL"].distances["high_sensitivity"]


def test_people_make_an_fn_curve_and_its_verdict_reaches_the_reasons():
    """A chlorine store with 2 000 people 150 m away: the F-N curve is computed and checked."""
    frame = sites(("CL", [("chlorine", 10)]))
    targets = gpd.GeoDataFrame({"population": [2000]}, geometry=[shapely.Point(500_150, 3_500_000)], crs=GK)
    q = assess_sites(frame, RS, targets=targets)
    fn = q.sites["CL"].fn
    assert fn is not None and fn.n.size and fn.n.max() <= 2000.0
    assert fn.verdict in ("acceptable", "alarp", "unacceptable")
    d = safety_distances(frame, parse_distance_rules(RS), parse_major_hazard_rules(RS), qra=q)
    assert any(r.startswith("societal risk (GB 36894-2018 F-N): " + fn.verdict) for r in d.loc[0, "reasons"])


def test_people_points_from_a_raster_and_targets():
    """A 2×2 raster of 100 m cells (one nodata, one negative) and one target: the cells' centres and counts."""
    from affine import Affine
    values = np.array([[5.0, -9999.0], [np.nan, 7.0]])
    xy, n = people_points(GK, population=(values, Affine(100, 0, 0, 0, -100, 200), GK),
                          targets=gpd.GeoDataFrame({"population": [30]}, geometry=[shapely.Point(10, 10)], crs=GK))
    assert xy.tolist() == [[50.0, 150.0], [150.0, 50.0], [10.0, 10.0]] and n.tolist() == [5.0, 7.0, 30.0]


def test_a_geographic_crs_is_refused():
    with pytest.raises(CRSError):
        assess_sites(sites(("CL", [("chlorine", 10)])).to_crs("EPSG:4490"), RS)
