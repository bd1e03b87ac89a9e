"""GB/T 37243-2019 external safety distances: method choice, figures, buffers, bad rule sets."""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, InputError
from layers.errors import ValidationError
from zoning.hazards.distances import parse_distance_rules, safety_buffers, safety_distances
from zoning.errors import RuleSetError
from zoning.hazards.major_hazard import parse_major_hazard_rules
from ruleset_edits import set_key
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset

RAW = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
CLASSES = ("high_sensitivity", "important", "general_1", "general_2", "general_3")


def ruleset(tables: dict) -> RuleSet:
    return RuleSet(name="test", version="0", path=Path("test.toml"), digest="", tables=tables)


RULES = parse_distance_rules(ruleset(RAW))
MH = parse_major_hazard_rules(ruleset(RAW))
Z_2KPA = math.exp((6.0536 - math.log(2.0)) / 1.4066)   # far Swisdak segment: 45.19 m/kg^(1/3)


def inv(*items) -> str:
    return json.dumps([{"name": n, "quantity_t": q} for n, q in items])


def sites(*rows, crs="EPSG:4549") -> gpd.GeoDataFrame:
    """rows: (site_id, inventory, declared_distance_m, geometry)."""
    return gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows], "inventory": [r[1] for r in rows],
         "declared_distance_m": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs=crs)


def distances_of(*rows) -> pd.DataFrame:
    return safety_distances(sites(*rows), RULES, MH)


def test_default_ruleset_loads_with_the_distances_table():
    assert parse_distance_rules(load_ruleset()) == RULES


def test_one_row_per_site_and_class_in_order():
    d = distances_of(("A", inv(("methanol", 10)), None, shapely.Point(0, 0)),
                     ("B", inv(("tnt", 1)), None, shapely.Point(9, 9)))
    assert d.columns.tolist() == ["site_id", "target_class", "method", "distance_m", "reasons"]
    assert d["site_id"].tolist() == ["A"] * 5 + ["B"] * 5
    assert d["target_class"].tolist() == list(CLASSES) * 2


def test_explosives_take_the_consequence_method_by_hand():
    """10 t TNT (the reference explosive, W_TNT = W = 10 000 kg), high-sensitivity threshold 2 kPa:
    Z = exp((6.0536 − ln 2)/1.4066) = 45.19 m/kg^(1/3); R = Z·W^(1/3) = 45.19 × 21.544 = 973.6 m.
    General classes at 5 kPa: ≈ 504 m (the reference case gives 5.06 kPa at 500 m)."""
    d = distances_of(("M", inv(("tnt", 10)), None, shapely.Point(0, 0))).set_index("target_class")
    assert (d["method"] == "consequence").all()
    assert d.loc["high_sensitivity", "distance_m"] == pytest.approx(Z_2KPA * 10_000 ** (1 / 3), rel=1e-9)
    assert d.loc["high_sensitivity", "distance_m"] == pytest.approx(973.6, abs=0.1)
    assert d.loc["general_3", "distance_m"] == pytest.approx(504.3, abs=0.1)
    assert "Swisdak 1994" in d.loc["general_3", "reasons"][0]


def test_ammonium_nitrate_tnt_equivalent_by_hand():
    """5 t ammonium nitrate, η = 1, Qc = 1590 kJ/kg, Q_TNT = 4500 kJ/kg:
    W_TNT = 1 × 5000 × 1590 / 4500 = 1766.7 kg; R(2 kPa) = 45.19 × 1766.7^(1/3) = 45.19 × 12.09 = 546.3 m."""
    d = distances_of(("AN", inv(("ammonium nitrate", 5)), None, shapely.Point(0, 0)))
    expected = Z_2KPA * (5000 * 1590 / 4500) ** (1 / 3)
    assert d.loc[0, "distance_m"] == pytest.approx(expected, rel=1e-9)
    assert d.loc[0, "distance_m"] == pytest.approx(546.3, abs=0.1)
    assert "W_TNT = η·W·Qc/Q_TNT = 1×5000×1590/4500 = 1766.7 kg" in d.loc[0, "reasons"][0]


def test_toxic_gas_over_critical_quantity_is_provisional_qra():
    d = distances_of(("C", inv(("chlorine", 10)), None, shapely.Point(0, 0))).set_index("target_class")
    assert (d["method"] == "qra_provisional").all()
    assert d["distance_m"].tolist() == [RAW["distances"]["qra_provisional"]["toxic_gas"][c] for c in CLASSES]
    assert "provisional, QRA pending" in d.loc["general_1", "reasons"][0]
    assert "Σq/Q of toxic_gas/flammable_gas = 2 ≥ 1" in d.loc["general_1", "reasons"][0]


def test_declared_distance_is_used_for_the_qra_path():
    d = distances_of(("C", inv(("chlorine", 10)), 450.0, shapely.Point(0, 0)))
    assert (d["method"] == "qra_declared").all() and (d["distance_m"] == 450.0).all()


def test_gases_below_critical_quantity_and_liquids_use_the_code_table():
    d = distances_of(("G", inv(("chlorine", 1), ("methanol", 10)), 999.0, shapely.Point(0, 0)))
    table = RAW["distances"]["table"]
    assert (d["method"] == "table").all()
    # per class the larger of the toxic-gas and flammable-liquid table distances
    assert d["distance_m"].tolist() == [max(table["toxic_gas"][c], table["flammable_liquid"][c]) for c in CLASSES]


def test_several_methods_take_the_largest_distance_per_class():
    d = distances_of(("X", inv(("tnt", 0.01), ("hydrogen", 50)), None, shapely.Point(0, 0)))
    by_class = d.set_index("target_class")
    tnt_2kpa = Z_2KPA * 10 ** (1 / 3)    # 10 kg TNT: 97 m < the provisional 600 m of a flammable gas
    assert by_class.loc["high_sensitivity", "method"] == "qra_provisional"
    assert by_class.loc["high_sensitivity", "distance_m"] == 600.0
    assert any(r.startswith("consequence") and f"{tnt_2kpa:.4g} m" in r
               for r in by_class.loc["high_sensitivity", "reasons"])


def test_unknown_substances_and_empty_sites_are_reported():
    d = distances_of(("U", inv(("unobtainium", 5)), None, shapely.Point(0, 0)),
                     ("K", inv(("toluene", 5), ("xyz", 1)), None, shapely.Point(5, 5)))
    assert set(d["site_id"]) == {"K"}
    assert "substance 'xyz' not in the rule set's table; not counted" in d.loc[0, "reasons"]
    assert "site U: no substance of the rule set's table; no external safety distance" in d.attrs["warnings"]
    assert "site K: substance 'xyz' not in the rule set's table; not counted" in d.attrs["warnings"]


def test_no_sites_give_an_empty_frame_and_empty_buffers():
    s = sites(("U", inv(("unobtainium", 5)), None, shapely.Point(0, 0)))
    d = safety_distances(s.iloc[:0], RULES, MH)
    assert d.empty and d.columns.tolist() == ["site_id", "target_class", "method", "distance_m", "reasons"]
    b = safety_buffers(s, safety_distances(s, RULES, MH))
    assert b.empty and b.crs.to_epsg() == 4549


def test_negative_declared_distance_is_refused():
    with pytest.raises(ValidationError, match="declared_distance_m"):
        distances_of(("C", inv(("chlorine", 10)), -5.0, shapely.Point(0, 0)))


def test_duplicate_site_ids_are_refused():
    with pytest.raises(InputError, match="unique"):
        distances_of(("A", "[]", None, shapely.Point(0, 0)), ("A", "[]", None, shapely.Point(1, 1)))


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.001, max_value=5e3), st.floats(min_value=0.001, max_value=5e3))
def test_more_tnt_never_gives_a_smaller_distance(q1, q2):
    small, large = sorted((q1, q2))
    d = distances_of(("S", inv(("tnt", small)), None, shapely.Point(0, 0)),
                     ("L", inv(("tnt", large)), None, shapely.Point(0, 0)))
    a, b = d["distance_m"].to_numpy().reshape(2, -1)
    assert (a <= b).all()


# --- buffers ---------------------------------------------------------------------------------

def test_point_site_buffer_is_a_circle_of_the_distance():
    s = sites(("M", inv(("tnt", 10)), None, shapely.Point(500_000, 3_500_000)))
    b = safety_buffers(s, safety_distances(s, RULES, MH))
    assert b.attrs["layer"] == "safety_buffers"
    assert b.crs.to_epsg() == 4549
    assert b.columns.tolist() == ["site_id", "target_class", "method", "distance_m", "reasons", "geometry"]
    r = b.loc[0, "distance_m"]
    assert b.geometry.iloc[0].area == pytest.approx(math.pi * r * r, rel=1e-3)
    assert isinstance(b.loc[0, "reasons"], str) and "consequence method" in b.loc[0, "reasons"]


def test_polygon_site_buffers_from_its_edge():
    s = sites(("P", inv(("methanol", 10)), None, shapely.box(0, 0, 100, 100)))
    b = safety_buffers(s, safety_distances(s, RULES, MH))
    ring = b.geometry.iloc[0].exterior
    d = b.loc[0, "distance_m"]   # 100 m for a flammable liquid near a high-sensitivity target
    assert shapely.distance(ring, shapely.box(0, 0, 100, 100)) == pytest.approx(d, rel=1e-3)
    assert b.geometry.iloc[0].contains(shapely.Point(100 + d - 0.5, 50))
    assert not b.geometry.iloc[0].contains(shapely.Point(100 + d + 0.5, 50))


def test_store_crs_sites_are_buffered_in_their_gauss_kruger_zone():
    s = sites(("M", inv(("methanol", 10)), None, shapely.Point(119.97, 31.81)), crs="EPSG:4490")
    b = safety_buffers(s, safety_distances(s, RULES, MH))
    assert b.crs.to_epsg() == 4549
    assert b.geometry.iloc[0].area == pytest.approx(math.pi * 100.0 ** 2, rel=1e-3)


def test_explicit_crs_is_used():
    s = sites(("M", inv(("methanol", 10)), None, shapely.Point(119.97, 31.81)), crs="EPSG:4490")
    assert safety_buffers(s, safety_distances(s, RULES, MH), crs="EPSG:32650").crs.to_epsg() == 32650


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490"])
def test_geographic_crs_is_refused_naming_it_and_the_fix(crs):
    s = sites(("M", inv(("methanol", 10)), None, shapely.Point(119.97, 31.81)), crs="EPSG:4490")
    with pytest.raises(CRSError, match=f"{crs}.*metric_crs_for"):
        safety_buffers(s, safety_distances(s, RULES, MH), crs=crs)


def test_sites_without_crs_are_refused():
    s = sites(("M", inv(("methanol", 10)), None, shapely.Point(0, 0)), crs=None)
    with pytest.raises(CRSError):
        safety_buffers(s, safety_distances(s, RULES, MH))


def test_distance_of_an_unknown_site_is_refused():
    s = sites(("M", inv(("methanol", 10)), None, shapely.Point(0, 0)))
    d = safety_distances(s, RULES, MH).assign(site_id="ghost")
    with pytest.raises(InputError, match="ghost"):
        safety_buffers(s, d)


# --- bad rule sets ---------------------------------------------------------------------------

def _mutated(path: str, value) -> RuleSet:
    tables = copy.deepcopy(RAW)
    set_key(tables, path, value)
    return ruleset(tables)


@pytest.mark.parametrize("path, value, key_path", [
    ("distances/blast/threshold_kpa/high_sensitivity", 0.1,
     r"distances\.blast\.threshold_kpa\.high_sensitivity: 0\.1 is below the minimum"),
    ("distances/blast/threshold_kpa/general_1", KeyError, r"distances\.blast\.threshold_kpa\.general_1: missing"),
    ("distances/blast/q_tnt_kj_kg", -4500.0, r"distances\.blast\.q_tnt_kj_kg: -4500\.0 is not above 0"),
    ("distances/table/flammable_liquid/general_2", KeyError,
     r"distances\.table\.flammable_liquid\.general_2: missing"),
    ("distances/table/oxidizer/general_3", -20.0, r"distances\.table\.oxidizer\.general_3: -20\.0 is below"),
    ("distances/qra_provisional/toxic_gas", KeyError, r"distances\.qra_provisional\.toxic_gas\.high_sensitivity: missing"),
    ("distances/blast/substances/ammonium nitrate", KeyError,
     r'distances\.blast\.substances\."ammonium nitrate": missing'),
    ("distances/blast/substances/ammonium nitrate/eta", 1.5,
     r'distances\.blast\.substances\."ammonium nitrate"\.eta: 1\.5 is above the maximum 1\.0'),
    ("distances/classes", ["high_sensitivity", "vip"], r"distances\.classes: expected distinct values"),
    ("distances/qra_hazard_classes", ["explosive"], r"distances\.qra_hazard_classes"),
    ("distances/blast/reference_substance", "semtex", r"distances\.blast\.reference_substance: 'semtex'"),
])
def test_bad_rule_sets_name_the_key_path(path, value, key_path):
    with pytest.raises(RuleSetError, match=key_path):
        parse_distance_rules(_mutated(path, value))


def test_explosive_in_inventory_without_factors_is_a_rule_set_error():
    rules = parse_distance_rules(ruleset({k: v for k, v in copy.deepcopy(RAW).items() if k != "substances"}))
    rules.explosives.pop("ammonium nitrate")
    with pytest.raises(RuleSetError, match=r'distances\.blast\.substances\."ammonium nitrate": missing'):
        safety_distances(sites(("AN", inv(("ammonium nitrate", 5)), None, shapely.Point(0, 0))), rules, MH)


def test_zero_quantity_gives_zero_distance():
    d = distances_of(("Z", inv(("tnt", 0)), None, shapely.Point(0, 0)))
    assert np.allclose(d["distance_m"], 0.0)
