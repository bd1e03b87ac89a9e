"""Classification rules of the town risk wall, registered by the name the rule set uses.

Each rule is a vectorised function over the plot attributes (one row per plot, every input
column present) that returns ``(levels, reasons)``: a float array holding the level the rule
gives each plot (1 = highest risk) or NaN where it did not fire, and an object array of reason
strings ("" where it did not fire) that name the value that made it fire. A rule's figures come
from its table ``[classification.rules.<name>]`` of the rule set, parsed by the rule's own
parser so that a bad threshold is reported with its key path.

Rules only ever *raise* a plot's level: the classifier takes the highest (numerically smallest)
level over the rules that fired. Every parser checks that its figures keep a rule monotone
(more rented buildings never give a lower risk), a property the tests check with hypothesis.

>>> import pandas as pd
>>> df = pd.DataFrame({"rented_buildings": [14, 6, 0]})
>>> levels, reasons = RULES["rented_buildings"].apply(df, ((5, 3), (10, 2)))
>>> levels.tolist()
[2.0, 3.0, nan]
>>> reasons[0]
'14 rented buildings ≥ 10 (出租厂房 14 栋)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from zoning.errors import RuleSetError
from zoning.rules import get

__all__ = ["PlotRule", "RULES", "COLUMN_DEFAULTS", "COUNT_COLUMNS", "FLAG_COLUMNS", "text", "plural",
           "join_reasons", "level_item"]

#: Count inputs (non-negative integers); a missing column or null counts as 0.
COUNT_COLUMNS = ("risk_major", "risk_large", "risk_general", "risk_low", "rented_buildings", "tenants",
                 "workers", "major_hazard_grade", "dust_workers", "open_major_dangers", "tagged_dangers")
#: Flag inputs; a missing column or null counts as False.
FLAG_COLUMNS = ("key_process", "key_chemical", "dust_explosion", "ammonia_refrigeration",
                "confined_space", "metal_smelting")
COLUMN_DEFAULTS: dict[str, Any] = {**{c: 0 for c in COUNT_COLUMNS}, **{c: False for c in FLAG_COLUMNS}}

RuleResult = tuple[np.ndarray, np.ndarray]

_GRADE_ZH = np.array(["", "一级", "二级", "三级", "四级"], dtype=object)


@dataclass(frozen=True)
class PlotRule:
    """A named classification rule: its parser (table, key path → params) and its function."""

    name: str
    parse: Callable[[dict, str], Any]
    apply: Callable[[pd.DataFrame, Any], RuleResult]
    doc: str


#: The registry, name → rule, in the order rules are reported.
RULES: dict[str, PlotRule] = {}


def _register(name: str, parse: Callable[[dict, str], Any]):
    def wrap(fn: Callable[[pd.DataFrame, Any], RuleResult]):
        RULES[name] = PlotRule(name, parse, fn, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return wrap


# ------------------------------------------------------------------------------- text helpers
def text(*parts) -> np.ndarray:
    """Element-wise concatenation of strings, numbers and arrays into an object array of str.

    >>> text(np.array([2, 14]), " rented buildings").tolist()
    ['2 rented buildings', '14 rented buildings']
    """
    n = max((np.size(p) for p in parts if isinstance(p, np.ndarray)), default=1)
    out = np.full(n, "", dtype=object)
    for p in parts:
        out = out + (np.asarray(p).astype(str).astype(object) if isinstance(p, np.ndarray) else str(p))
    return out


def plural(n: np.ndarray, one: str, many: str) -> np.ndarray:
    """``one`` where ``n == 1`` else ``many``, as an object array."""
    return np.where(np.asarray(n) == 1, one, many).astype(object)


def join_reasons(reasons: list[np.ndarray], n: int) -> np.ndarray:
    """Join per-rule reason arrays ("" = not fired) element-wise with "; ".

    >>> join_reasons([np.array(["a", ""], dtype=object), np.array(["b", "c"], dtype=object)], 2).tolist()
    ['a; b', 'c']
    """
    out = np.full(n, "", dtype=object)
    for r in reasons:
        out = np.where(r == "", out, np.where(out == "", r, out + "; " + r))
    return out.astype(object)


def _fired(mask: np.ndarray, level, reason: np.ndarray) -> RuleResult:
    levels = np.where(mask, level, np.nan).astype(float)
    return levels, np.where(mask, reason, "").astype(object)


# ------------------------------------------------------------------------------- parsers
def _check_keys(table: dict, allowed: set[str], root: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "(none)"
        raise RuleSetError(f"{root}.{unknown[0]}: unknown key; expected one of: {expected}")


def _parse_none(table: dict, root: str) -> None:
    _check_keys(table, set(), root)


def _parse_level(table: dict, root: str) -> int:
    _check_keys(table, {"level"}, root)
    return get(table, "level", int, minimum=1, maximum=4, root=root)


def _parse_steps(table: dict, root: str) -> tuple[tuple[int, int], ...]:
    """``steps = [{at_least, level}, …]`` → ((at_least, level), …) sorted by rising threshold."""
    _check_keys(table, {"steps"}, root)
    raw = get(table, "steps", list, root=root)
    if not raw:
        raise RuleSetError(f"{root}.steps: expected at least one {{at_least, level}} step")
    steps = []
    for i, step in enumerate(raw):
        where = f"{root}.steps[{i}]"
        if not isinstance(step, dict):
            raise RuleSetError(f"{where}: expected a table {{at_least = …, level = …}}, got {step!r}")
        _check_keys(step, {"at_least", "level"}, where)
        steps.append((get(step, "at_least", int, minimum=1, root=where),
                      get(step, "level", int, minimum=1, maximum=4, root=where)))
    steps.sort()
    for (t0, l0), (t1, l1) in zip(steps, steps[1:]):
        if t0 == t1:
            raise RuleSetError(f"{root}.steps: threshold at_least = {t0} given twice")
        if l1 > l0:
            raise RuleSetError(f"{root}.steps: the level must not fall as the count rises, but at_least = {t0} "
                               f"gives level {l0} and at_least = {t1} gives level {l1}")
    return tuple(steps)


def _parse_grades(table: dict, root: str) -> tuple[int, int, int, int]:
    _check_keys(table, {"grade_levels"}, root)
    levels = get(table, "grade_levels", list, root=root)
    if len(levels) != 4:
        raise RuleSetError(f"{root}.grade_levels: expected 4 levels (grades 一级 to 四级), got {len(levels)}")
    out = tuple(level_item(v, f"{root}.grade_levels[{i}]") for i, v in enumerate(levels))
    if any(b < a for a, b in zip(out, out[1:])):
        raise RuleSetError(f"{root}.grade_levels: a more severe grade (一级 is the most severe) must not give a "
                           f"lower risk; got {list(out)}")
    return out  # type: ignore[return-value]


def level_item(v: Any, where: str) -> int:
    """Check one level (an integer 1-4) read from a list of the rule set at ``where``."""
    if not isinstance(v, int) or isinstance(v, bool):
        raise RuleSetError(f"{where}: expected an integer level 1-4, got {v!r}")
    if not 1 <= v <= 4:
        raise RuleSetError(f"{where}: level {v} is outside 1-4")
    return v


def _parse_dust(table: dict, root: str) -> tuple[int, int, int | None]:
    _check_keys(table, {"min_workers", "level", "level_below"}, root)
    min_workers = get(table, "min_workers", int, minimum=0, root=root)
    level = get(table, "level", int, minimum=1, maximum=4, root=root)
    below = get(table, "level_below", int, minimum=1, maximum=4, default=None, root=root)
    if below is not None and below < level:
        raise RuleSetError(f"{root}.level_below: {below} would rank fewer dust workers above "
                           f"level {level} for min_workers = {min_workers}; expected ≥ {level}")
    return min_workers, level, below


# ------------------------------------------------------------------------------- rules
@_register("risk_report", _parse_none)
def risk_report(df: pd.DataFrame, params: None) -> RuleResult:
    """The enterprise risk report (风险报告): 重大 → 1, 较大 → 2, 一般 → 3, otherwise 4 (always fires)."""
    major, large, general, low = (df[c].to_numpy() for c in ("risk_major", "risk_large", "risk_general", "risk_low"))
    conds = [major > 0, large > 0, general > 0]
    levels = np.select(conds, [1, 2, 3], 4).astype(float)
    reasons = np.select(conds, [
        text(major, plural(major, " major-risk item", " major-risk items"), " in the risk report (重大风险 ", major, " 项)"),
        text(large, plural(large, " large-risk item", " large-risk items"), " in the risk report (较大风险 ", large, " 项)"),
        text(general, plural(general, " general-risk item", " general-risk items"),
             " in the risk report (一般风险 ", general, " 项)"),
    ], text("no risk above low in the risk report (低风险 ", low, " 项)")).astype(object)
    return levels, reasons


def _steps_rule(column: str, noun_one: str, noun_many: str, zh_before: str, zh_after: str):
    """A count rule: the level of the highest threshold ``at_least`` the count reaches."""

    def apply(df: pd.DataFrame, steps: tuple[tuple[int, int], ...]) -> RuleResult:
        n = df[column].to_numpy()
        levels = np.full(len(n), np.nan)
        threshold = np.zeros(len(n), dtype=np.int64)
        for at_least, level in steps:  # rising thresholds, falling-or-equal levels: the last match wins
            hit = n >= at_least
            levels = np.where(hit, level, levels)
            threshold = np.where(hit, at_least, threshold)
        bound = np.where(threshold > 1, text(" ≥ ", threshold), "")  # "≥ 1" says nothing
        reason = text(n, plural(n, noun_one, noun_many), bound, f" ({zh_before} ", n, f" {zh_after})")
        return levels, np.where(np.isnan(levels), "", reason).astype(object)

    apply.__doc__ = f"{zh_before}{zh_after}: the count of{noun_many} against the thresholds of the rule set."
    return apply


_register("rented_buildings", _parse_steps)(_steps_rule("rented_buildings", " rented building", " rented buildings",
                                                        "出租厂房", "栋"))
_register("tenants", _parse_steps)(_steps_rule("tenants", " tenant enterprise", " tenant enterprises", "承租企业", "家"))
_register("open_major_dangers", _parse_steps)(_steps_rule(
    "open_major_dangers", " open major hidden danger", " open major hidden dangers", "重大隐患", "项未整改"))
_register("tagged_dangers", _parse_steps)(_steps_rule(
    "tagged_dangers", " major hidden danger under tagged supervision", " major hidden dangers under tagged supervision",
    "挂牌督办重大隐患", "项"))


def _flag_rule(column: str, reason: str):
    def apply(df: pd.DataFrame, level: int) -> RuleResult:
        mask = df[column].to_numpy(dtype=bool)
        return _fired(mask, level, np.full(len(mask), reason, dtype=object))

    apply.__doc__ = f"Flag {column}: {reason}."
    return apply


for _name, _reason in (
    ("key_process", "key-supervised hazardous chemical process (重点监管危险化工工艺)"),
    ("key_chemical", "key-supervised hazardous chemical (重点监管危险化学品)"),
    ("ammonia_refrigeration", "ammonia refrigeration (涉氨制冷)"),
    ("confined_space", "confined-space work (有限空间作业)"),
    ("metal_smelting", "molten metal / metal smelting (金属冶炼)"),
):
    _register(_name, _parse_level)(_flag_rule(_name, _reason))
del _name, _reason


@_register("major_hazard", _parse_grades)
def major_hazard(df: pd.DataFrame, grade_levels: tuple[int, int, int, int]) -> RuleResult:
    """A major hazard source (重大危险源, GB 18218-2018 grades 一级–四级) on the plot."""
    grade = df["major_hazard_grade"].to_numpy()
    graded = (grade >= 1) & (grade <= 4)
    safe = np.where(graded, grade, 1)
    levels = np.where(graded, np.asarray(grade_levels)[safe - 1], np.nan).astype(float)
    reason = text("major hazard source grade ", safe, " on site (", _GRADE_ZH[safe], "重大危险源)")
    return levels, np.where(graded, reason, "").astype(object)


@_register("dust_explosion", _parse_dust)
def dust_explosion(df: pd.DataFrame, params: tuple[int, int, int | None]) -> RuleResult:
    """Combustible dust (粉尘涉爆), ranked by the workers in the dust area (涉粉作业人数)."""
    min_workers, level, below = params
    dust = df["dust_explosion"].to_numpy(dtype=bool)
    n = df["dust_workers"].to_numpy()
    many = dust & (n >= min_workers)
    levels = np.where(many, level, np.where(dust, np.nan if below is None else below, np.nan))
    reason = np.where(
        many,
        text("combustible dust, ", n, plural(n, " worker", " workers"), f" in the dust area ≥ {min_workers}"
             " (粉尘涉爆, 涉粉作业 ", n, " 人)"),
        text("combustible dust, ", n, plural(n, " worker", " workers"), f" in the dust area < {min_workers}"
             " (粉尘涉爆, 涉粉作业 ", n, " 人)"),
    )
    return levels.astype(float), np.where(np.isnan(levels), "", reason).astype(object)
