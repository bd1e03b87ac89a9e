"""GB 18218-2018 major hazard sources: Σq/Q, α, R and grade against hand calculations."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.errors import ValidationError
from zoning.errors import RuleSetError
from zoning.hazards.major_hazard import (HAZARD_CLASSES, grade_sites, inventory_items, inventory_ratio,
                                 parse_major_hazard_rules)
from ruleset_edits import set_key
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset

RAW = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))


def ruleset(tables: dict) -> RuleSet:
    """A RuleSet over raw tables, without the loader's other engine parsers."""
    return RuleSet(name="test", version="0", path=Path("test.toml"), digest="", tables=tables)


RULES = parse_major_hazard_rules(ruleset(RAW))


def inv(*items) -> str:
    return json.dumps([{"name": n, "quantity_t": q} for n, q in items])


def sites(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["site_id", "inventory", "people_500m"])


def test_default_ruleset_loads_with_the_major_hazard_tables():
    rules = parse_major_hazard_rules(load_ruleset())
    assert rules == RULES


@pytest.mark.parametrize("name, cas, q, beta, cls", [
    ("chlorine", "7782-50-5", 5.0, 4.0, "toxic_gas"),
    ("ammonia", "7664-41-7", 10.0, 2.0, "toxic_gas"),
    ("liquefied petroleum gas", "68476-85-7", 50.0, 1.5, "flammable_gas"),
    ("hydrogen", "1333-74-0", 5.0, 1.5, "flammable_gas"),
    ("methanol", "67-56-1", 500.0, 1.0, "flammable_liquid"),
    ("benzene", "71-43-2", 50.0, 1.0, "flammable_liquid"),
    ("toluene", "108-88-3", 500.0, 1.0, "flammable_liquid"),
    ("gasoline", "86290-81-5", 200.0, 1.0, "flammable_liquid"),
    ("ethylene oxide", "75-21-8", 10.0, 2.0, "toxic_gas"),
    ("hydrogen sulphide", "7783-06-4", 5.0, 5.0, "toxic_gas"),
    ("hydrogen fluoride", "7664-39-3", 1.0, 5.0, "toxic_gas"),
    ("phosgene", "75-44-5", 0.3, 20.0, "toxic_gas"),
    ("tnt", "118-96-7", 5.0, 2.0, "explosive"),
    ("ammonium nitrate", "6484-52-2", 5.0, 2.0, "explosive"),
])
def test_substance_table_holds_gb18218_table_1(name, cas, q, beta, cls):
    s = RULES.substance(name)
    assert (s.cas, s.critical_t, s.beta, s.hazard_class) == (cas, q, beta, cls)
    assert RULES.substance(cas) == s


def test_mixed_inventory_by_hand():
    """10 t chlorine + 100 t methanol, 60 people within 500 m (GB 18218-2018 §4.1, §4.2).

    chlorine: q/Q = 10/5 = 2.0, β = 4 → β·q/Q = 8.0
    methanol: q/Q = 100/500 = 0.2, β = 1 → β·q/Q = 0.2
    Σ q/Q = 2.2 ≥ 1 → a major hazard source
    60 people (50–99) → α = 1.5
    R = α·Σ β·q/Q = 1.5 × (8.0 + 0.2) = 12.3 → 10 ≤ R < 50 → 三级 (grade 3)
    """
    graded = grade_sites(sites(("S1", inv(("chlorine", 10), ("methanol", 100)), 60)), RULES)
    row = graded.iloc[0]
    assert row["ratio_sum"] == pytest.approx(2.2)
    assert row["alpha"] == 1.5
    assert row["R"] == pytest.approx(12.3)
    assert row["grade"] == 3
    assert any("chlorine 10 t / Q 5 t = 2 (β 4" in r for r in row["reasons"])
    assert any("三级" in r and "12.3" in r for r in row["reasons"])


@pytest.mark.parametrize("people, alpha", [(0, 0.5), (1, 1.0), (29, 1.0), (30, 1.2), (49, 1.2),
                                           (50, 1.5), (99, 1.5), (100, 2.0), (5000, 2.0)])
def test_alpha_by_people_within_500m(people, alpha):
    assert RULES.alpha_for(people) == alpha


@pytest.mark.parametrize("r, grade", [(0.0, 4), (9.99, 4), (10.0, 3), (49.99, 3), (50.0, 2),
                                      (99.99, 2), (100.0, 1), (1e6, 1)])
def test_grade_cut_points(r, grade):
    assert RULES.grade_for(r) == grade


@pytest.mark.parametrize("quantity, people, r, grade", [
    (0.75, 100, 100.0, 1),   # phosgene: 0.75/0.3 = 2.5; ×β 20 = 50; ×α 2.0 = 100 → 一级
    (0.75, 10, 50.0, 2),     # ×α 1.0 = 50 → 二级 (the cut point belongs to the higher grade)
    (0.3, 0, 10.0, 3),       # 0.3/0.3 = 1 (just a major hazard source); ×20 ×0.5 = 10 → 三级
])
def test_grades_on_the_cut_points(quantity, people, r, grade):
    row = grade_sites(sites(("S", inv(("phosgene", quantity)), people)), RULES).iloc[0]
    assert row["R"] == pytest.approx(r)
    assert row["grade"] == grade


def test_below_one_is_not_a_major_hazard_source():
    row = grade_sites(sites(("S", inv(("toluene", 100)), 500)), RULES).iloc[0]
    assert row["ratio_sum"] == pytest.approx(0.2)
    assert row["grade"] == 0
    assert any("not a major hazard source" in r for r in row["reasons"])


def test_unknown_substance_is_reported_not_counted():
    graded = grade_sites(sites(("S7", inv(("chlorine", 5), ("unobtainium", 3)), 10)), RULES)
    row = graded.iloc[0]
    assert row["ratio_sum"] == pytest.approx(1.0)
    assert "substance 'unobtainium' not in the rule set's table; not counted" in row["reasons"]
    assert graded.attrs["warnings"] == [
        "site S7: substance 'unobtainium' not in the rule set's table; not counted"]


def test_unknown_people_take_the_highest_alpha():
    row = grade_sites(sites(("S", inv(("chlorine", 5)), None)), RULES).iloc[0]
    assert row["alpha"] == 2.0
    assert any("unknown" in r for r in row["reasons"])


def test_declared_grade_that_differs_is_noted():
    df = sites(("S", inv(("chlorine", 10), ("methanol", 100)), 60)).assign(major_hazard_grade=[1])
    assert "declared grade 1 differs from the computed grade 3" in grade_sites(df, RULES).iloc[0]["reasons"]


def test_items_match_by_alias_and_cas_whatever_the_case():
    items = inventory_items([json.dumps([{"name": "LPG", "quantity_t": 50},
                                         {"name": "氯", "cas": "7782-50-5", "quantity_t": 5},
                                         {"name": " Hydrogen Sulfide ", "quantity_t": 1}])], RULES)
    assert items["substance"].tolist() == ["liquefied petroleum gas", "chlorine", "hydrogen sulphide"]
    assert items["ratio"].tolist() == pytest.approx([1.0, 1.0, 0.2])


def test_empty_and_missing_inventories_give_zero():
    assert inventory_ratio(pd.Series(["[]", None, ""], index=[7, 8, 9]), RULES).to_dict() == {
        7: 0.0, 8: 0.0, 9: 0.0}
    assert grade_sites(sites(), RULES).empty


@pytest.mark.parametrize("inventory, message", [
    (inv(("chlorine", -1)), "quantity_t -1"),
    ('[{"name": "chlorine"}]', "quantity_t missing"),
    ('[{"name": "chlorine", "quantity_t": "lots"}]', "quantity_t 'lots'"),
    ("not json", "not valid JSON"),
    ('{"name": "chlorine"}', "expected a list"),
])
def test_bad_inventories_name_the_site(inventory, message):
    with pytest.raises(ValidationError, match=message) as info:
        grade_sites(sites(("BAD-1", inventory, 0)), RULES)
    assert info.value.problems[0].feature == "BAD-1"
    assert info.value.problems[0].field == "inventory"


NAMES = [s.key for s in RULES.substances]
ITEM = st.tuples(st.sampled_from(NAMES + ["unknown stuff"]),
                 st.floats(min_value=0, max_value=1e4, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(ITEM, max_size=8), st.lists(ITEM, max_size=8))
def test_ratio_is_additive_over_items(first, second):
    """Σ q/Q over a joined inventory = the sum over its parts = the sum of single items."""
    whole, a, b = inventory_ratio([inv(*first, *second), inv(*first), inv(*second)], RULES)
    singles = inventory_ratio([inv(item) for item in first + second], RULES).sum()
    assert whole == pytest.approx(a + b, rel=1e-12, abs=1e-12)
    assert whole == pytest.approx(singles, rel=1e-12, abs=1e-12)


def _mutated(change) -> RuleSet:
    tables = copy.deepcopy(RAW)
    change(tables)
    return ruleset(tables)


def _set(path: str, value):
    return lambda tables: set_key(tables, path, value)


@pytest.mark.parametrize("change, key_path", [
    (_set("substances/chlorine/critical_t", -5.0), r"substances\.chlorine\.critical_t: -5\.0"),
    (_set("substances/benzene/critical_t", 0), r"substances\.benzene\.critical_t: 0"),
    (_set("substances/methanol/critical_t", KeyError), r"substances\.methanol\.critical_t: missing"),
    (_set("substances/ethylene oxide/critical_t", KeyError),
     r'substances\."ethylene oxide"\.critical_t: missing'),
    (_set("substances/chlorine/beta", "four"), r"substances\.chlorine\.beta: expected a number"),
    (_set("substances/chlorine/hazard_class", "corrosive"),
     r"substances\.chlorine\.hazard_class: 'corrosive' is not one of " + ", ".join(HAZARD_CLASSES)),
    (_set("substances/Chlorine", dict(RAW["substances"]["chlorine"], cas="x")), r"substances\.Chlorine: .*lower-case"),
    (_set("substances/liquefied petroleum gas/aliases", ["hydrogen"]), r"'hydrogen' is also claimed"),
    (_set("major_hazard/alpha", [{"min_people": 0, "alpha": 0.5}, {"min_people": 100, "alpha": 2.0}]),
     r"major_hazard\.alpha: min_people must be strictly decreasing"),
    (_set("major_hazard/alpha", [{"min_people": 100, "alpha": -2.0}, {"min_people": 0, "alpha": 0.5}]),
     r"major_hazard\.alpha\[0\]\.alpha: -2\.0 is below the minimum 0"),
    (_set("major_hazard/grades", [{"grade": 1, "min_r": 100.0}, {"grade": 2, "min_r": 50.0}]),
     r"major_hazard\.grades: min_r must .* end at 0"),
    (_set("major_hazard/grades", [{"grade": 7, "min_r": 0.0}]), r"grade 7 is not one of"),
    (_set("substances", {}), r"substances: the table is empty"),
])
def test_bad_rule_sets_name_the_key_path(change, key_path):
    with pytest.raises(RuleSetError, match=key_path):
        parse_major_hazard_rules(_mutated(change))
