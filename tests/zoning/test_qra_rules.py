"""The ``[qra]`` table of the rule set: the GB 36894-2018 figures it holds, and bad tables named by key path."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from ruleset_edits import DELETE, set_key
from zoning.errors import RuleSetError
from zoning.hazards.qra.rules import parse_qra_rules
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset

RAW = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))


def ruleset(tables: dict) -> RuleSet:
    return RuleSet(name="test", version="0", path=Path("test.toml"), digest="", tables=tables)


def test_gb36894_individual_risk_criteria():
    """GB 36894-2018 Table 1 (STANDARDS.md): new 3×10⁻⁷ / 3×10⁻⁶ / 1×10⁻⁵, existing 3×10⁻⁶ / 1×10⁻⁵ / 3×10⁻⁵
    for high-sensitivity, important and general I / general II / general III."""
    q = parse_qra_rules(load_ruleset())
    assert [q.criterion(c, "new") for c in ("high_sensitivity", "important", "general_1", "general_2", "general_3")] \
        == [3e-7, 3e-7, 3e-7, 3e-6, 1e-5]
    assert [q.criterion(c, "existing") for c in ("high_sensitivity", "important", "general_1", "general_2",
                                                 "general_3")] == [3e-6, 3e-6, 3e-6, 1e-5, 3e-5]
    assert q.levels == (3e-5, 1e-5, 3e-6, 3e-7)
    assert (q.fn_upper, q.fn_lower, q.fn_n_min, q.fn_n_max) == (1e-3, 1e-5, 1.0, 1000.0)


def test_weather_is_a_stated_placeholder():
    q = parse_qra_rules(load_ruleset())
    assert "placeholder" in q.weather.source and "to confirm" in q.weather.source
    assert sum(c.probability for c in q.weather.classes) == pytest.approx(1.0)
    assert [c.name for c in q.weather.classes] == ["B3", "D1.5", "D5", "D9", "E5", "F1.5"]


def test_substances_match_the_substance_table_by_cas():
    """Every [qra.substances] entry names a [substances] entry by CAS; the key is the [substances] key."""
    q = parse_qra_rules(load_ruleset())
    table = RAW["substances"]
    assert all(table[k]["cas"] == s.cas for k, s in q.substances.items())
    assert q.substances["chlorine"].probit == (-6.35, 0.5, 2.75)
    assert q.substances["ammonia"].probit == (-15.6, 1.0, 2.0)


@pytest.mark.parametrize("path, value, message", [
    ("qra.criteria.individual_risk.new.general_2", -1.0, r"qra\.criteria\.individual_risk\.new\.general_2: -1\.0"),
    ("qra.criteria.societal_risk.lower", 1e-2, r"qra\.criteria\.societal_risk: need lower < upper"),
    ("qra.weather.classes.2.probability", 0.9, r"qra\.weather: .*sum to 1"),
    ("qra.weather.classes.0.stability", "G", r"qra\.weather\.classes\[0\]: .*A, B, C, D, E, F"),
    ("qra.site_status", "old", r"qra\.site_status: 'old' is not one of new, existing"),
    ("qra.angle_step_deg", 7.0, r"qra\.angle_step_deg: 7\.0 must divide 90"),
    ("qra.dispersion.terrain", "forest", r"qra\.dispersion\.terrain: 'forest' is not one of rural, urban"),
    ("qra.equipment.pressure_vessel.locs.0.frequency", 2.0, r"qra\.equipment\.pressure_vessel\.locs\[0\]: .*frequency"),
    ("qra.equipment.pressure_vessel.locs.2.kind", "burst", r"locs\[2\]: .*instantaneous, inventory, hole"),
    ("qra/substances/chlorine/cas", "0-00-0", r"qra\.substances\.chlorine\.cas: '0-00-0' is not the CAS number"),
    ("qra/substances/chlorine/effects", ["lethal"], r"qra\.substances\.chlorine\.effects: expected a list among"),
    ("qra/substances/chlorine/probit", [1.0, 2.0], r"qra\.substances\.chlorine\.probit: expected 3 numbers"),
    ("qra/substances/chlorine/molar_mass", DELETE, r"qra\.substances\.chlorine\.molar_mass: missing"),
    ("qra/substances/hydrogen/storage_pressure_pa", 5e4, r"qra\.substances\.hydrogen: .*above atmospheric"),
    ("qra/substances/chlorine/equipment", "tank", r"qra\.substances\.chlorine\.equipment: 'tank' is not one of"),
    ("qra.ignition.low", [0.1, 0.2], r"qra\.ignition\.low: expected 3 numbers"),
    ("qra.threat_zones.toxic", ["erpg2"], r"qra\.threat_zones\.toxic: .*lethality_1pct, aegl3, aegl2"),
    ("qra.societal.indoor_factor.toxic", 1.5, r"qra\.societal\.indoor_factor\.toxic: 1\.5 is above the maximum"),
])
def test_a_bad_table_is_named_by_its_key_path(path, value, message):
    tables = copy.deepcopy(RAW)
    set_key(tables, path, value)
    with pytest.raises(RuleSetError, match=message):
        parse_qra_rules(ruleset(tables))


def test_a_rule_set_file_with_a_bad_qra_table_is_refused_on_load(tmp_path):
    text = DEFAULT_RULESET.read_text(encoding="utf-8").replace("vce_yield = 0.03", "vce_yield = 3.0")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"qra\.effects\.vce_yield: 3\.0 is not in \(0, 1\]"):
        load_ruleset(bad)
