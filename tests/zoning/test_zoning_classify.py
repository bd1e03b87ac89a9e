"""The town risk wall (四色安全风险墙): plot classification, its rules, palettes and summary table."""

from __future__ import annotations

import copy
import dataclasses
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, InputError
from zoning.wall.classify import classify_plots, parse_classification_rules, plot_inputs, summarise_wall
from zoning.errors import RuleSetError
from zoning.wall.plot_rules import COUNT_COLUMNS, FLAG_COLUMNS, RULES
from ruleset_edits import DELETE, set_key
from zoning.rules import load_ruleset


@pytest.fixture(scope="module")
def rs():
    return load_ruleset()


def plots_frame(rows: list[dict], crs=4549) -> gpd.GeoDataFrame:
    """Plots as 100 m squares in a row along x (metres in EPSG:4549), towns T1 unless given."""
    geoms = [shapely.box(i * 200.0, 0.0, i * 200.0 + 100.0, 100.0) for i in range(len(rows))]
    frame = pd.DataFrame([{"plot_id": f"P{i}", "town": "T1", **r} for i, r in enumerate(rows)])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)


# One plot per rule: inputs, expected level, the reason that must appear (None: only the report's).
CASES = [
    ("report: major", {"risk_major": 2, "risk_large": 3}, 1, "2 major-risk items in the risk report (重大风险 2 项)"),
    ("report: large", {"risk_large": 1}, 2, "1 large-risk item in the risk report (较大风险 1 项)"),
    ("report: general", {"risk_general": 3}, 3, "3 general-risk items in the risk report (一般风险 3 项)"),
    ("report: low only", {"risk_low": 4}, 4, "no risk above low in the risk report (低风险 4 项)"),
    ("rented ≥ 10", {"rented_buildings": 14}, 2, "14 rented buildings ≥ 10 (出租厂房 14 栋)"),
    ("rented ≥ 5", {"rented_buildings": 5}, 3, "5 rented buildings ≥ 5 (出租厂房 5 栋)"),
    ("rented 4", {"rented_buildings": 4}, 4, None),
    ("tenants ≥ 10", {"tenants": 12}, 2, "12 tenant enterprises ≥ 10 (承租企业 12 家)"),
    ("tenants ≥ 5", {"tenants": 7}, 3, "7 tenant enterprises ≥ 5 (承租企业 7 家)"),
    ("key process", {"key_process": True}, 2, "key-supervised hazardous chemical process (重点监管危险化工工艺)"),
    ("key chemical", {"key_chemical": True}, 2, "key-supervised hazardous chemical (重点监管危险化学品)"),
    ("major hazard 2", {"major_hazard_grade": 2}, 1, "major hazard source grade 2 on site (二级重大危险源)"),
    ("major hazard 1", {"major_hazard_grade": 1}, 1, "major hazard source grade 1 on site (一级重大危险源)"),
    ("major hazard 3", {"major_hazard_grade": 3}, 2, "major hazard source grade 3 on site (三级重大危险源)"),
    ("major hazard 4", {"major_hazard_grade": 4}, 2, "major hazard source grade 4 on site (四级重大危险源)"),
    ("dust ≥ 10", {"dust_explosion": True, "dust_workers": 25}, 2,
     "combustible dust, 25 workers in the dust area ≥ 10 (粉尘涉爆, 涉粉作业 25 人)"),
    ("dust < 10", {"dust_explosion": True, "dust_workers": 4}, 3,
     "combustible dust, 4 workers in the dust area < 10 (粉尘涉爆, 涉粉作业 4 人)"),
    ("dust workers, no dust", {"dust_workers": 50}, 4, None),
    ("ammonia", {"ammonia_refrigeration": True}, 2, "ammonia refrigeration (涉氨制冷)"),
    ("confined space", {"confined_space": True}, 3, "confined-space work (有限空间作业)"),
    ("smelting", {"metal_smelting": True}, 2, "molten metal / metal smelting (金属冶炼)"),
    ("open major danger", {"open_major_dangers": 1}, 1, "1 open major hidden danger (重大隐患 1 项未整改)"),
    ("tagged danger", {"tagged_dangers": 2}, 1,
     "2 major hidden dangers under tagged supervision (挂牌督办重大隐患 2 项)"),
]


@pytest.mark.parametrize("inputs, level, reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_gives_its_level_and_reason(rs, inputs, level, reason):
    wall = classify_plots(plots_frame([inputs]), rs)
    assert wall.loc[0, "level"] == level
    reasons = wall.loc[0, "reasons"].split("; ")
    assert reasons[0].endswith("项)"), "the risk report always speaks first"
    if reason is None:
        assert len(reasons) == 1
    else:
        assert reason in reasons


def test_all_cases_in_one_frame_match_one_by_one(rs):
    wall = classify_plots(plots_frame([c[1] for c in CASES]), rs)
    assert wall["level"].tolist() == [c[2] for c in CASES]


def test_rules_only_raise_the_level(rs):
    wall = classify_plots(plots_frame([
        {"risk_major": 1, "confined_space": True},           # red stays red
        {"risk_general": 1, "rented_buildings": 14},          # blue raised to yellow
        {"risk_large": 1, "tagged_dangers": 1, "tenants": 6},  # worst of all rules
    ]), rs)
    assert wall["level"].tolist() == [1, 2, 1]
    assert wall.loc[1, "reasons"] == ("1 general-risk item in the risk report (一般风险 1 项); "
                                      "14 rented buildings ≥ 10 (出租厂房 14 栋)")
    assert wall.loc[2, "reasons"].count("; ") == 2


def test_every_registered_rule_is_in_the_default_rule_set(rs):
    names = [name for name, _ in parse_classification_rules(rs).rules]
    assert set(names) == set(RULES)


@pytest.mark.parametrize("palette, names, colours", [
    ("wall", ["red", "yellow", "blue", "green"], ["#d7191c", "#f5d000", "#2b83ba", "#1a9641"]),
    ("dual_prevention", ["red", "orange", "yellow", "blue"], ["#d7191c", "#fd8d3c", "#f5d000", "#2b83ba"]),
])
def test_four_colours_in_both_palettes(rs, palette, names, colours):
    frame = plots_frame([{"risk_major": 1}, {"risk_large": 1}, {"risk_general": 1}, {"risk_low": 1}])
    wall = classify_plots(frame, rs, palette=palette)
    assert wall["level"].tolist() == [1, 2, 3, 4]
    assert wall["colour_name"].tolist() == names
    assert wall["colour"].tolist() == colours
    assert wall.attrs["palette"] == palette


def test_default_palette_is_the_wall_and_unknown_palette_is_refused(rs):
    wall = classify_plots(plots_frame([{"risk_low": 1}]), rs)
    assert wall.loc[0, "colour_name"] == "green"
    assert wall.loc[0, "colour_zh"] == "绿色(低风险)"
    with pytest.raises(RuleSetError, match="palettes.rainbow: unknown palette; known: dual_prevention, wall"):
        classify_plots(plots_frame([{}]), rs, palette="rainbow")


def test_missing_optional_columns_and_nulls_count_as_zero():
    frame = pd.DataFrame({"plot_id": ["P1", "P2"], "tenants": [None, 3], "key_process": [None, True]})
    inputs = plot_inputs(frame)
    assert inputs["tenants"].tolist() == [0, 3]
    assert inputs["key_process"].tolist() == [False, True]
    assert set(inputs.columns) == set(COUNT_COLUMNS) | set(FLAG_COLUMNS)


def test_plain_dataframe_and_empty_frame(rs):
    wall = classify_plots(pd.DataFrame({"plot_id": ["P1"], "risk_large": [2]}), rs)
    assert wall.loc[0, "level"] == 2
    empty = classify_plots(plots_frame([]).assign(plot_id=pd.Series(dtype=str)), rs)
    assert len(empty) == 0 and "level" in empty.columns


def test_missing_plot_id_is_a_clear_error(rs):
    with pytest.raises(InputError, match="industrial_plots: required column\\(s\\) plot_id missing"):
        classify_plots(pd.DataFrame({"risk_major": [1]}), rs)


@pytest.mark.parametrize("value", [-1, 2.5, "many"])
def test_bad_counts_name_the_field_and_the_plot(rs, value):
    frame = pd.DataFrame({"plot_id": ["P1", "P2"], "tenants": [1, value]})
    with pytest.raises(InputError, match="industrial_plots.tenants: .* plot\\(s\\) P2"):
        classify_plots(frame, rs)


def test_score_orders_plots_within_a_colour(rs):
    wall = classify_plots(plots_frame([{"risk_major": 1}, {"risk_major": 3, "workers": 400, "key_process": True},
                                       {}]), rs)
    assert wall["level"].tolist()[:2] == [1, 1]
    assert wall.loc[1, "score"] > wall.loc[0, "score"] > wall.loc[2, "score"] == 0.0
    everything = {c: 10**6 for c in COUNT_COLUMNS} | {c: True for c in FLAG_COLUMNS} | {"major_hazard_grade": 1}
    assert classify_plots(plots_frame([everything]), rs).loc[0, "score"] == 100.0


# ------------------------------------------------------------------------------- monotonicity
COUNT_INPUTS = [c for c in COUNT_COLUMNS if c != "major_hazard_grade"]
plot_strategy = st.fixed_dictionaries({
    **{c: st.integers(0, 25) for c in COUNT_INPUTS},
    **{c: st.booleans() for c in FLAG_COLUMNS},
    "major_hazard_grade": st.integers(0, 4),
})
rise_strategy = st.one_of(
    st.tuples(st.just("count"), st.sampled_from(COUNT_INPUTS), st.integers(1, 30)),
    st.tuples(st.just("flag"), st.sampled_from(FLAG_COLUMNS), st.just(0)),
    st.tuples(st.just("grade"), st.just("major_hazard_grade"), st.integers(1, 4)),
)


def _raise(plot: dict, rise: tuple) -> dict:
    kind, column, amount = rise
    out = dict(plot)
    if kind == "count":
        out[column] += amount
    elif kind == "flag":
        out[column] = True
    else:  # a graver major hazard source: none → some grade, or a lower grade number (一级 gravest)
        grade = out[column]
        out[column] = amount if grade == 0 else max(1, grade - amount)
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(plot_strategy, rise_strategy), min_size=1, max_size=25))
def test_level_never_improves_and_score_never_falls_when_a_risk_input_rises(rs, pairs):
    before = classify_plots(plots_frame([p for p, _ in pairs]), rs)
    after = classify_plots(plots_frame([_raise(p, r) for p, r in pairs]), rs)
    assert (after["level"].to_numpy() <= before["level"].to_numpy()).all()
    assert (after["score"].to_numpy() >= before["score"].to_numpy()).all()
    assert after["score"].between(0, 100).all()


# ------------------------------------------------------------------------------- bad rule sets
def _with(rs, edit) -> object:
    tables = copy.deepcopy(rs.tables)
    edit(tables["classification"])
    return dataclasses.replace(rs, tables=tables)


def _set(path: str, value):
    return lambda table: set_key(table, path, value)


_DELETE = DELETE


@pytest.mark.parametrize("path, value, message", [
    ("rules.rented_buildings.steps.0.at_least", 0,
     "classification.rules.rented_buildings.steps[0].at_least: 0 is below the minimum 1"),
    ("rules.tenants.steps.1.at_least", "five", "classification.rules.tenants.steps[1].at_least: expected an integer"),
    ("rules.rented_buildings.steps", [{"at_least": 10, "level": 3}, {"at_least": 5, "level": 2}],
     "classification.rules.rented_buildings.steps: the level must not fall as the count rises"),
    ("rules.rented_buildings.steps", [{"at_least": 5, "level": 3}, {"at_least": 5, "level": 2}],
     "classification.rules.rented_buildings.steps: threshold at_least = 5 given twice"),
    ("rules.rented_buildings.steps", [], "classification.rules.rented_buildings.steps: expected at least one"),
    ("rules.tenants.steps.0", {"at_lest": 10, "level": 2},
     "classification.rules.tenants.steps[0].at_lest: unknown key"),
    ("rules.key_process.level", 5, "classification.rules.key_process.level: 5 is above the maximum 4"),
    ("rules.key_chemical.level", "red", "classification.rules.key_chemical.level: expected an integer"),
    ("rules.major_hazard.grade_levels", [2, 1, 2, 2],
     "classification.rules.major_hazard.grade_levels: a more severe grade"),
    ("rules.major_hazard.grade_levels", [1, 1, 2], "classification.rules.major_hazard.grade_levels: expected 4 levels"),
    ("rules.major_hazard.grade_levels", [1, 1, 2, 9], "classification.rules.major_hazard.grade_levels[3]: level 9"),
    ("rules.dust_explosion.level_below", 1, "classification.rules.dust_explosion.level_below: 1 would rank"),
    ("rules.dust_explosion.min_workers", -3, "classification.rules.dust_explosion.min_workers: -3 is below"),
    ("rules.rented_flats", {"steps": []}, "classification.rules.rented_flats: unknown rule; known rules: risk_report"),
    ("rules.confined_space", 3, "classification.rules.confined_space: expected a table"),
    ("default_level", _DELETE, "classification.default_level: missing"),
    ("default_level", 0, "classification.default_level: 0 is below the minimum 1"),
    ("score.workers.weight", -1, "classification.score.workers.weight: -1.0 is below the minimum 0"),
    ("score.workers.full_at", 0, "classification.score.workers.full_at: expected a number above 0"),
    ("score.hats", {"weight": 1, "full_at": 1}, "classification.score.hats: unknown score input"),
    ("colours", "red", "classification.colours: unknown key"),
])
def test_bad_rule_sets_name_the_key_path(rs, path, value, message):
    with pytest.raises(RuleSetError, match=re.escape(message)):
        parse_classification_rules(_with(rs, _set(path, value)))


def test_all_weights_zero_is_refused(rs):
    def zero(table):
        for entry in table["score"].values():
            entry["weight"] = 0
    with pytest.raises(RuleSetError, match="classification.score: at least one input needs a weight above 0"):
        parse_classification_rules(_with(rs, zero))


def test_a_bad_threshold_is_reported_when_the_file_is_loaded(tmp_path, rs):
    text = rs.path.read_text(encoding="utf-8")
    old = "steps = [{ at_least = 10, level = 2 }, { at_least = 5, level = 3 }]"
    assert old in text
    bad = tmp_path / "town.toml"
    bad.write_text(text.replace(old, "steps = [{ at_least = 10, level = 2 }, { at_least = 5, level = 0 }]", 1),
                   encoding="utf-8")
    with pytest.raises(RuleSetError, match="classification.rules.rented_buildings.steps\\[1\\].level: 0 is below"):
        load_ruleset(bad)


def test_dropping_a_rule_table_drops_the_rule(rs):
    def drop(table):
        del table["rules"]["rented_buildings"]
    wall = classify_plots(plots_frame([{"rented_buildings": 30}]), parse_classification_rules(_with(rs, drop)))
    assert wall.loc[0, "level"] == 4


# ------------------------------------------------------------------------------- the wall's table
def test_summarise_wall_counts_and_areas_per_town(rs):
    frame = plots_frame([{"risk_major": 1}, {"risk_major": 1}, {"risk_general": 1}, {"town": "T2"}])
    table = summarise_wall(classify_plots(frame, rs)).set_index("code")
    assert table.loc["T1", ["count_red", "count_yellow", "count_blue", "count_green"]].tolist() == [2, 0, 1, 0]
    assert table.loc["T1", "area_red_m2"] == pytest.approx(20_000.0)
    assert table.loc["T2", "count_green"] == 1 and table.loc["T2", "count_total"] == 1
    assert table["area_total_m2"].sum() == pytest.approx(40_000.0)


def test_summarise_wall_measures_geographic_plots_in_metres_and_rolls_up(rs):
    lonlat = gpd.GeoDataFrame(
        {"plot_id": ["A", "B", "C"], "town": ["320412100", "320412101", "320412101"],
         "risk_large": [1, 0, 1], "tenants": [0, 6, 0]},
        geometry=[shapely.box(120.05, 31.55, 120.06, 31.56), shapely.box(120.10, 31.60, 120.11, 31.605),
                  shapely.box(120.12, 31.60, 120.125, 31.605)], crs=4490)
    admin = pd.DataFrame({"code": ["320412100", "320412101", "320412", "320400"],
                          "name": ["雪堰镇", "前黄镇", "武进区", "常州市"],
                          "level": ["town", "town", "district", "city"],
                          "parent": ["320412", "320412", "320400", None]})
    wall = classify_plots(lonlat, rs, palette="dual_prevention")
    table = summarise_wall(wall, admin).set_index("code")
    expected = lonlat.to_crs(4549).area.to_numpy()
    assert table.loc["320412100", "area_orange_m2"] == pytest.approx(expected[0])
    assert table.loc["320412101", "area_yellow_m2"] == pytest.approx(expected[1])
    assert table.loc["320412", "count_orange"] == 2 and table.loc["320412", "count_yellow"] == 1
    assert table.loc["320400", "area_total_m2"] == pytest.approx(expected.sum())
    assert table.loc["320412", "name"] == "武进区" and table.loc["320400", "admin_level"] == "city"


def test_summarise_wall_needs_a_crs_and_the_town_column(rs):
    wall = classify_plots(plots_frame([{}]), rs)
    with pytest.raises(CRSError):
        summarise_wall(wall.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="required column\\(s\\) street missing"):
        summarise_wall(wall, by="street")
