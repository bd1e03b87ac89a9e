"""GB 18218-2018 major hazard sources: Σq/Q, α, R and grade against hand calculations."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruleset_edits import set_key

from layers.errors import ValidationError
from layers.substances import TABLE_3, cas_is_valid, default_table
from zoning.errors import RuleSetError
from zoning.hazards.major_hazard import (
    HAZARD_CLASSES,
    grade_sites,
    inventory_items,
    inventory_ratio,
    parse_major_hazard_rules,
)
from zoning.rules import DEFAULT_RULESET, RuleSet, load_ruleset

RAW = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))


def ruleset(tables: dict) -> RuleSet:
    """A RuleSet over raw tables, without the loader's other engine parsers."""
    return RuleSet(name="test", version="0", path=Path("test.toml"), digest="", tables=tables)


RULES = parse_major_hazard_rules(ruleset(RAW))


def inv(*items) -> str:
    """An inventory of (name, tonnes) pairs or of full item dicts."""
    return json.dumps([item if isinstance(item, dict) else {"name": item[0], "quantity_t": item[1]}
                       for item in items], ensure_ascii=False)


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
    # rows new with the full Table 1 (β from Table 4 by category unless named in Table 3)
    ("acrylonitrile", "107-13-1", 50.0, 1.0, "flammable_liquid"),
    ("methyl isocyanate", "624-83-9", 0.75, 20.0, "toxic_gas"),
    ("hydrogen cyanide", "74-90-8", 1.0, 10.0, "toxic_gas"),
    ("diethyl ether", "60-29-7", 10.0, 1.5, "flammable_liquid"),
    ("oxygen", "7782-44-7", 200.0, 1.0, "oxidizer"),
    ("guanidine nitrate", "506-93-4", 50.0, 1.0, "oxidizer"),
    ("sodium", "7440-23-5", 10.0, 1.0, "other"),
])
def test_substance_table_holds_gb18218_table_1(name, cas, q, beta, cls):
    s = RULES.substance(name)
    assert (s.cas, s.critical_t, s.beta, s.hazard_class) == (cas, q, beta, cls)
    assert RULES.substance(cas) == s


def test_table_1_is_complete():
    """GB 18218-2018 Table 1 has 85 rows (序号 1–85); every CAS passes its check digit."""
    assert sorted(s.no for s in RULES.substances) == list(range(1, 86))
    assert all(cas_is_valid(c) for s in RULES.substances for c in (s.cas, *s.other_cas) if c)
    assert {s.no for s in RULES.substances if not s.cas} == {45, 75}   # fertiliser grade, alkylaluminium


#: GB 18218-2018 Table 3: β of the toxic gases it names (No. 13 coal gas stands for CO).
TABLE_3_BETA = {"coal gas": 2, "sulphur dioxide": 2, "ammonia": 2, "ethylene oxide": 2, "hydrogen chloride": 3,
                "methyl bromide": 3, "chlorine": 4, "hydrogen sulphide": 5, "hydrogen fluoride": 5,
                "nitrogen dioxide": 10, "hydrogen cyanide": 10, "phosgene": 20, "phosphine": 20,
                "methyl isocyanate": 20}


def test_table_3_gases_take_their_own_beta():
    assert {s.key: s.beta for s in RULES.substances if s.beta_from == TABLE_3} == TABLE_3_BETA
    assert RULES.substance("一氧化碳").key == "coal gas"


#: GB 18218-2018 Table 2 (Q, t) and Table 4 (β) by symbol.
TABLE_2_4 = {"J1": (5, 4), "J2": (50, 1), "J3": (50, 2), "J4": (50, 2), "J5": (500, 1),
             "W1.1": (1, 2), "W1.2": (10, 2), "W1.3": (50, 2), "W2": (10, 1.5), "W3": (150, 1), "W4": (50, 1),
             "W5.1": (10, 1.5), "W5.2": (50, 1), "W5.3": (1000, 1), "W5.4": (5000, 1), "W6.1": (10, 1.5),
             "W6.2": (50, 1), "W7.1": (10, 1.5), "W7.2": (50, 1), "W8": (50, 1), "W9.1": (50, 1),
             "W9.2": (200, 1), "W10": (200, 1), "W11": (200, 1)}


def test_table_2_categories_with_table_4_beta():
    assert {c.symbol: (c.critical_t, c.beta) for c in RULES.categories} == TABLE_2_4
    for c in RULES.categories:
        assert RULES.category(c.key) == RULES.category(c.symbol.lower()) == c
    # every Table 1 row not in Table 3 takes the β of the category it cites
    for s in RULES.substances:
        if s.beta_from != TABLE_3:
            assert s.beta == RULES.category(s.beta_from).beta, s.key


def test_engine_and_import_check_read_one_table():
    """The import check (layers, shipped rule set) and the engine parse the same figures."""
    assert parse_major_hazard_rules(load_ruleset()).gb18218 == default_table()


AGREEMENT_ITEMS = [
    {"name": "丙烯腈", "cas": "107-13-1"}, {"name": "unobtainium"}, {"name": "acrylic acid", "cas": "79-10-7"},
    {"name": "acrylic acid", "cas": "79-10-7", "ghs": "W5.4"}, {"name": "x", "ghs": "W99"},
    {"name": "chlorine", "cas": "7664-41-7"}, {"name": "toluene", "ghs": ["W5.1", "nonsense"]},
    {"name": "ＬＰＧ"}, {"name": "新品", "ghs": ["J3", "W2"]},
]


@pytest.mark.parametrize("item", AGREEMENT_ITEMS, ids=lambda item: json.dumps(item, ensure_ascii=False))
def test_the_import_accepts_exactly_what_the_engine_grades_without_a_problem(item):
    """One matcher serves both: an item the engine flags is one the import refuses, and only those."""
    from shapely import Point

    from layers.validate import validate_layer

    inventory = inv(dict(item, quantity_t=1.0))
    engine = inventory_items([inventory], RULES).iloc[0]
    frame = gpd.GeoDataFrame({"site_id": ["S"], "inventory": [inventory]}, geometry=[Point(119.95, 31.75)],
                             crs="EPSG:4490")
    try:
        validate_layer("hazard_sites", frame)
        refused = None
    except ValidationError as error:
        refused = error.problems[0].message
    assert (refused is None) == (engine["problem"] is None)
    if refused is not None:
        assert refused.startswith(f"item 1: {engine['problem']}")


def test_a_category_explosive_gets_a_consequence_distance():
    """An explosive of Table 2 W1.1 (0.01 t) is looked up under its category key in
    [distances.blast.substances] (TNT equivalence 1, to confirm) and gets the §5 consequence method."""
    from zoning.hazards.distances import parse_distance_rules, safety_distances

    rs = load_ruleset()
    d = safety_distances(sites(("E", inv({"name": "某工业炸药", "quantity_t": 0.01, "ghs": "W1.1"}), 0)),
                         parse_distance_rules(rs), parse_major_hazard_rules(rs))
    assert set(d["method"]) == {"consequence"}
    assert "explosive_unstable_or_1_1 10 kg → W_TNT = η·W·Qc/Q_TNT = 1×10×4500/4500 = 10 kg" in d["reasons"][0][0]


def test_mixed_inventory_by_hand():
    """10 t chlorine + 100 t methanol, 60 people within 500 m (GB 18218-2018 §4.2.1, §4.3).

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
    assert "chlorine 10 t / Q 5 t = 2 (β 4, Table 3; toxic_gas; GB 18218-2018 Table 1 No. 12)" in row["reasons"]
    assert "methanol 100 t / Q 500 t = 0.2 (β 1, Table 4 W5.3; flammable_liquid; GB 18218-2018 Table 1 No. 66)" \
        in row["reasons"]
    assert any("三级" in r and "12.3" in r for r in row["reasons"])


def test_acrylonitrile_is_now_graded_by_hand():
    """120 t acrylonitrile (Table 1 No. 61, Q 50 t; β 1, Table 4 W5.3), 40 people within 500 m.

    q/Q = 120/50 = 2.4 ≥ 1 → a major hazard source (§4.2.1); α = 1.2 (30–49 people, Table 5);
    R = 1.2 × 1 × 2.4 = 2.88 < 10 → 四级 (Table 6). Before the full table it was left out.
    """
    row = grade_sites(sites(("AN", inv({"name": "丙烯腈", "cas": "107-13-1", "quantity_t": 120}), 40)),
                      RULES).iloc[0]
    assert (row["ratio_sum"], row["alpha"], row["grade"]) == (pytest.approx(2.4), 1.2, 4)
    assert row["R"] == pytest.approx(2.88)


def test_a_category_graded_substance_by_hand():
    """1500 t methyl acrylate declared flammable liquid category 2 (Table 2 W5.3: Q 1000 t, β 1),
    120 people: q/Q = 1.5 → major; α = 2 → R = 3.0 → 四级."""
    item = {"name": "丙烯酸甲酯", "cas": "96-33-3", "quantity_t": 1500, "ghs": "flammable_liquid_2"}
    row = grade_sites(sites(("MA", inv(item), 120)), RULES).iloc[0]
    assert (row["ratio_sum"], row["R"], row["grade"]) == (pytest.approx(1.5), pytest.approx(3.0), 4)
    assert ("'丙烯酸甲酯' as flammable_liquid_2 1500 t / Q 1000 t = 1.5 (β 1, Table 4 W5.3; flammable_liquid; "
            "GB 18218-2018 Table 2, declared category, §4.1.2 b)") in row["reasons"]


def test_mixed_table_1_and_category_inventory_by_hand():
    """One unit, 75 people within 500 m (α = 1.5):

    acrylonitrile   30 t / 50 t   = 0.6, β 1 (Table 4 W5.3)  → 0.6
    chlorine        10 t / 5 t    = 2.0, β 4 (Table 3)       → 8.0
    methyl acrylate 600 t / 1000 t = 0.6, β 1 (W5.3 declared) → 0.6
    diborane        2 t / 5 t     = 0.4, β 4 (declared J1 and W2: lowest Q 5 of J1, highest β 4; §4.1.2 b)
                                                              → 1.6
    Σ q/Q = 3.6 ≥ 1; Σ β·q/Q = 10.8; R = 1.5 × 10.8 = 16.2 → 10 ≤ R < 50 → 三级.
    """
    inventory = inv(("acrylonitrile", 30), ("氯", 10),
                    {"name": "methyl acrylate", "quantity_t": 600, "ghs": "W5.3"},
                    {"name": "乙硼烷", "cas": "19287-45-7", "quantity_t": 2, "ghs": ["J1", "flammable_gas_1_2"]})
    items = inventory_items([inventory], RULES)
    assert items["critical_t"].tolist() == [50.0, 5.0, 1000.0, 5.0]
    assert items["beta"].tolist() == [1.0, 4.0, 1.0, 4.0]
    assert items["hazard_class"].tolist() == ["flammable_liquid", "toxic_gas", "flammable_liquid", "toxic_gas"]
    assert items["source"].tolist() == ["table_1", "table_1", "table_2", "table_2"]
    row = grade_sites(sites(("MIX", inventory, 75)), RULES).iloc[0]
    assert row["ratio_sum"] == pytest.approx(3.6)
    assert row["R"] == pytest.approx(16.2)
    assert row["grade"] == 3


@pytest.mark.parametrize("people, alpha, grade", [
    # 0.6 t phosgene: q/Q = 2, β 20 → Σβq/Q = 40; R = 40·α
    (0, 0.5, 3), (1, 1.0, 3), (29, 1.0, 3), (30, 1.2, 3), (49, 1.2, 3), (50, 1.5, 2), (99, 1.5, 2), (100, 2.0, 2)])
def test_alpha_bands_at_their_edges_by_hand(people, alpha, grade):
    """Table 5: 0 → 0.5; 1–29 → 1.0; 30–49 → 1.2; 50–99 → 1.5; ≥ 100 → 2.0."""
    row = grade_sites(sites(("P", inv(("phosgene", 0.6)), people)), RULES).iloc[0]
    assert row["alpha"] == alpha
    assert row["R"] == pytest.approx(40 * alpha)
    assert row["grade"] == grade


def test_a_declared_category_sets_beta_of_a_table_1_row_outside_table_3():
    """Toluene kept above its boiling point declares W5.1: Q stays Table 1's 500 t (§4.1.2 a),
    β becomes Table 4's 1.5. Chlorine is in Table 3: a declared category does not change its β."""
    items = inventory_items([inv({"name": "甲苯", "quantity_t": 1000, "ghs": "W5.1"},
                                 {"name": "chlorine", "quantity_t": 5, "ghs": "W2"})], RULES)
    assert items[["critical_t", "beta"]].values.tolist() == [[500.0, 1.5], [5.0, 4.0]]
    assert items["beta_from"].tolist() == ["Table 4 W5.1, declared", "Table 3"]
    row = grade_sites(sites(("T", inv({"name": "甲苯", "quantity_t": 1000, "ghs": "W5.1"}), 10)), RULES).iloc[0]
    assert row["R"] == pytest.approx(1.0 * 1.5 * 1000 / 500)


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


UNMATCHED = ("'unobtainium': in neither GB 18218-2018 Table 1 nor Table 2: give the CAS or name of a "
             "Table 1 substance, or declare its GHS category (\"ghs\")")


def test_unknown_substance_is_reported_not_counted():
    """The import refuses such an item; the engine, handed one anyway, leaves it out and says so."""
    graded = grade_sites(sites(("S7", inv(("chlorine", 5), ("unobtainium", 3)), 10)), RULES)
    row = graded.iloc[0]
    assert row["ratio_sum"] == pytest.approx(1.0)
    assert f"item 2: {UNMATCHED}; not counted" in row["reasons"]
    assert graded.attrs["warnings"] == [f"site S7: item 2: {UNMATCHED}; not counted"]


def test_name_and_cas_of_two_rows_count_the_cas_and_warn():
    graded = grade_sites(sites(("C", inv({"name": "chlorine", "cas": "7664-41-7", "quantity_t": 10}), 10)), RULES)
    assert graded.iloc[0]["ratio_sum"] == pytest.approx(1.0)     # ammonia: 10 t / Q 10 t
    [warning] = graded.attrs["warnings"]
    assert warning.startswith("site C: item 1: 'chlorine' (CAS 7664-41-7): the name is GB 18218-2018 Table 1 "
                              "No. 12 (chlorine) but the CAS is No. 1 (ammonia)")
    assert warning.endswith("; counted as ammonia")


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


@pytest.mark.parametrize("item, key", [
    ({"cas": "107-13-1"}, "acrylonitrile"),                          # CAS first, no name needed
    ({"name": "whatever", "cas": "１０７－１３－１"}, "acrylonitrile"),   # full-width CAS
    ({"name": "乙烯基氰"}, "acrylonitrile"),                           # Chinese alias
    ({"name": "ＡＣＲＹＬＯ－ＮＩＴＲＩＬＥ"}, "acrylonitrile"),           # full-width, other punctuation
    ({"name": "（液氯）"}, "chlorine"),                                # full-width brackets
    ({"name": "propane", "cas": "74-98-6"}, "liquefied petroleum gas"),  # a second CAS of No. 53
    ({"name": "天然气", "cas": "8006-14-2"}, "methane"),
    ({"cas": "6484-52-2"}, "ammonium nitrate"),                      # CAS of Nos. 43–44: lowest Q, No. 43
    ({"name": "硝酸铵(含可燃物≤0.2%)", "cas": "6484-52-2"}, "ammonium nitrate (combustible <= 0.2 %)"),
    ({"name": "硝酸铵（含可燃物<=0.2%）"}, "ammonium nitrate (combustible <= 0.2 %)"),
    ({"name": "汽油", "cas": "8006-61-9"}, "gasoline"),               # a CAS not in Table 1: by name
    ({"name": "一氧化碳"}, "coal gas"),
])
def test_matching_by_cas_then_name(item, key):
    found = inventory_items([inv(dict(item, quantity_t=1))], RULES).iloc[0]
    assert found["substance"] == key and found["source"] == "table_1"
    assert found["problem"] is None


FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
SPELLINGS = {"upper": str.upper, "full width": lambda name: "".join(FULL_WIDTH.get(c, c) for c in name),
             "spaced": lambda name: "  " + " ".join(name) + " "}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_every_table_1_name_finds_its_row(spelling):
    """Each key, Chinese name and alias of the 85 rows, upper-cased, in full-width forms, or with
    blanks between every character, still finds its own row."""
    write = SPELLINGS[spelling]
    found = {(s.key, name): getattr(RULES.substance(write(name)), "key", None)
             for s in RULES.substances for name in (s.key, s.zh, *s.aliases)}
    assert {pair: key for pair, key in found.items() if key != pair[0]} == {}


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
    (_set("substances/chlorine/cas", "7782-50-6"), r"substances\.chlorine: '7782-50-6' is not a CAS number"),
    (_set("substances/benzene/beta", 1.5),
     r"substances\.benzene\.beta: 1\.5 differs from the Table 4 β 1 of flammable_liquid_2 \(W5\.3\)"),
    (_set("substances/benzene/beta_from", "flammable_liquid_9"), r"substances\.benzene\.beta_from: 'flammable_liquid_9'"),
    (_set("substances/benzene/no", 12), r"Table 1 No\. 12 is given to more than one substance"),
    (_set("major_hazard/categories/flammable_liquid_2/beta", 0), r"categories\.flammable_liquid_2\.beta: 0"),
    (_set("major_hazard/categories/flammable_liquid_2/hazard_class", "liquid"), r"'liquid' is not one of"),
    (_set("major_hazard/categories/flammable_liquid_2/symbol", "W5.4"), r"'W5\.4' is also claimed"),
    (_set("major_hazard/categories/chlorine", dict(RAW["major_hazard"]["categories"]["pyrophoric_1"], symbol="X")),
     r"categories\.chlorine: the key is also a substance's"),
    (_set("major_hazard/categories", KeyError), r"major_hazard\.categories: missing"),
])
def test_bad_rule_sets_name_the_key_path(change, key_path):
    with pytest.raises(RuleSetError, match=key_path):
        parse_major_hazard_rules(_mutated(change))
