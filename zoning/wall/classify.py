"""The four colours of industrial plots: the town risk wall (四色安全风险墙).

The seeds' town practice (雪堰镇, Wujin) puts every industrial plot on a red / yellow / blue / green
wall "按风险报告辨识出的等级, 出租厂房的数量等情况": by the levels in the enterprise's risk report
and by the number of rented buildings, among other things. Here a plot's level (1 = 重大 red … 4 =
低 green) is the highest level given by the rules of ``[classification]`` in the rule set: the
risk report first, then rules that can only raise it (rented buildings, tenants, 两重点一重大,
special hazards of the 工贸 trades, open and tagged major hidden dangers). Every plot carries the
reasons that fired, each with the value that made it fire, and a 0-100 score for ordering plots
within one colour.

>>> import geopandas as gpd, shapely
>>> from zoning.rules import load_ruleset
>>> plots = gpd.GeoDataFrame({"plot_id": ["P1", "P2"], "town": ["T", "T"], "risk_general": [1, 2],
...                           "rented_buildings": [14, 0]},
...                          geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)], crs=4549)
>>> wall = classify_plots(plots, load_ruleset())
>>> wall[["plot_id", "level", "colour_name"]].to_dict("records")
[{'plot_id': 'P1', 'level': 2, 'colour_name': 'yellow'}, {'plot_id': 'P2', 'level': 3, 'colour_name': 'blue'}]
>>> wall.loc[0, "reasons"]
'1 general-risk item in the risk report (一般风险 1 项); 14 rented buildings ≥ 10 (出租厂房 14 栋)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from zoning._shared import metric_crs, require_columns, resolve_palette
from zoning.errors import RuleSetError
from zoning.rules import LEVELS, Palette, RuleSet, get
from zoning.wall.plot_rules import COLUMN_DEFAULTS, COUNT_COLUMNS, FLAG_COLUMNS, RULES, join_reasons

__all__ = ["ClassificationRules", "ScoreInput", "SCORE_INPUTS", "parse_classification_rules", "classify_plots",
           "summarise_wall", "summarise_areas", "plot_areas", "level_names", "plot_inputs"]

#: Inputs the score may weigh: the plot columns, plus ``major_hazard`` (severity 4 for grade 一级 … 1
#: for 四级, 0 without a major hazard source); ``dust_workers`` counts only with ``dust_explosion``.
SCORE_INPUTS = tuple(c for c in COUNT_COLUMNS if c != "major_hazard_grade") + FLAG_COLUMNS + ("major_hazard",)


@dataclass(frozen=True)
class ScoreInput:
    """One weighted input of the score: contributes ``weight · min(value / full_at, 1)``."""

    name: str
    weight: float
    full_at: float


@dataclass(frozen=True)
class ClassificationRules:
    """The parsed ``[classification]`` table, with the palettes of its rule set.

    ``rules`` holds ``(name, params)`` in rule-set order; names are keys of
    :data:`zoning.wall.plot_rules.RULES`.
    """

    rules: tuple[tuple[str, Any], ...]
    default_level: int
    score: tuple[ScoreInput, ...]
    palettes: Mapping[str, Palette]
    default_palette: str
    label: str


def parse_classification_rules(ruleset: RuleSet) -> ClassificationRules:
    """Parse ``[classification]`` of a rule set; RuleSetError names the key path of a bad figure.

    >>> from zoning.rules import load_ruleset
    >>> rules = parse_classification_rules(load_ruleset())
    >>> [name for name, _ in rules.rules][:3]
    ['risk_report', 'rented_buildings', 'tenants']
    """
    root = "classification"
    table = ruleset.table(root)
    unknown = sorted(set(table) - {"default_level", "rules", "score"})
    if unknown:
        raise RuleSetError(f"{root}.{unknown[0]}: unknown key; expected default_level, rules, score")
    default_level = get(table, "default_level", int, minimum=1, maximum=4, root=root)
    parsed = []
    for name, sub in get(table, "rules", dict, root=root).items():
        where = f"{root}.rules.{name}"
        if name not in RULES:
            raise RuleSetError(f"{where}: unknown rule; known rules: {', '.join(RULES)}")
        if not isinstance(sub, dict):
            raise RuleSetError(f"{where}: expected a table, got {sub!r}")
        parsed.append((name, RULES[name].parse(sub, where)))
    score = []
    for name, sub in get(table, "score", dict, root=root).items():
        where = f"{root}.score.{name}"
        if name not in SCORE_INPUTS:
            raise RuleSetError(f"{where}: unknown score input; known: {', '.join(SCORE_INPUTS)}")
        if not isinstance(sub, dict) or set(sub) - {"weight", "full_at"}:
            raise RuleSetError(f"{where}: expected {{weight = …, full_at = …}}, got {sub!r}")
        full_at = get(sub, "full_at", float, minimum=0, root=where)
        if full_at <= 0:
            raise RuleSetError(f"{where}.full_at: expected a number above 0, got {full_at!r}")
        score.append(ScoreInput(name, get(sub, "weight", float, minimum=0, root=where), full_at))
    if not any(s.weight > 0 for s in score):
        raise RuleSetError(f"{root}.score: at least one input needs a weight above 0")
    palettes = {k: ruleset.palette(k) for k in ruleset.tables.get("palettes", {})}
    return ClassificationRules(tuple(parsed), default_level, tuple(score), palettes,
                               get(ruleset.tables, "default_palette", str), ruleset.label)


def _as_rules(rules: RuleSet | ClassificationRules) -> ClassificationRules:
    if isinstance(rules, ClassificationRules):
        return rules
    if isinstance(rules, RuleSet):
        return parse_classification_rules(rules)
    raise InputError(f"rules: expected a RuleSet or ClassificationRules, got {type(rules).__name__}")


def plot_inputs(plots: pd.DataFrame) -> pd.DataFrame:
    """The rule inputs of ``plots``: every count and flag column, missing ones and nulls as 0/False.

    Raises InputError for a missing ``plot_id`` column or a negative or non-numeric count.

    >>> plot_inputs(pd.DataFrame({"plot_id": ["P1"], "tenants": [None]}))[["tenants", "key_process"]].to_dict("records")
    [{'tenants': 0, 'key_process': False}]
    """
    require_columns(plots, ("plot_id",), "industrial_plots")
    out = pd.DataFrame(index=plots.index)
    for col, default in COLUMN_DEFAULTS.items():
        if col not in plots.columns:
            out[col] = np.full(len(plots), default)
            continue
        raw = plots[col]
        if col in FLAG_COLUMNS:
            out[col] = raw.fillna(False).astype(bool).to_numpy()
            continue
        values = pd.to_numeric(raw, errors="coerce")
        bad = (values.isna() & raw.notna()) | (values < 0) | (values.notna() & (values % 1 != 0))
        if bad.any():
            ids = plots.loc[bad, "plot_id"].astype(str).head(5).tolist()
            raise InputError(f"industrial_plots.{col}: expected non-negative whole numbers; "
                             f"bad in plot(s) {', '.join(ids)}")
        out[col] = values.fillna(0).astype(np.int64).to_numpy()
    return out


def _score(inputs: pd.DataFrame, score: tuple[ScoreInput, ...]) -> np.ndarray:
    total = np.zeros(len(inputs))
    weights = 0.0
    for s in score:
        if s.name == "major_hazard":
            g = inputs["major_hazard_grade"].to_numpy()
            x = np.where((g >= 1) & (g <= 4), 5 - g, 0)
        elif s.name == "dust_workers":
            x = inputs["dust_workers"].to_numpy() * inputs["dust_explosion"].to_numpy()
        else:
            x = inputs[s.name].to_numpy().astype(float)
        total += s.weight * np.minimum(x / s.full_at, 1.0)
        weights += s.weight
    return np.round(100.0 * total / weights, 1)


def classify_plots(plots: pd.DataFrame, rules: RuleSet | ClassificationRules,
                   palette: str | Palette | None = None) -> pd.DataFrame:
    """Classify industrial plots into the four colours of the risk wall.

    Parameters
    ----------
    plots : GeoDataFrame (or DataFrame)
        Layer ``industrial_plots``; only ``plot_id`` is required. Missing count columns count
        as 0, missing flags as False (see :data:`zoning.wall.plot_rules.COLUMN_DEFAULTS`).
    rules : RuleSet or ClassificationRules
        The rule set (its ``[classification]`` table and palettes).
    palette : str or Palette, optional
        ``"wall"`` (red/yellow/blue/green, the town risk wall) or ``"dual_prevention"``
        (red/orange/yellow/blue); default: the rule set's ``default_palette``.

    Returns
    -------
    Same type as ``plots``, a copy with columns ``level`` (1-4, 1 = 重大), ``colour`` (hex),
    ``colour_name``, ``colour_zh``, ``score`` (0-100) and ``reasons`` ("; "-joined reasons of
    every rule that fired, each with its value). ``attrs`` records the rule set and palette.
    """
    rules = _as_rules(rules)
    pal = resolve_palette(palette, rules.palettes, rules.default_palette)
    inputs = plot_inputs(plots)
    n = len(inputs)
    levels = np.full(n, np.nan)
    reasons = []
    for name, params in rules.rules:
        lv, rs = RULES[name].apply(inputs, params)
        levels = np.fmin(levels, lv)  # NaN where a rule did not fire is ignored
        reasons.append(rs)
    level = np.where(np.isnan(levels), rules.default_level, levels).astype(np.int64)
    joined = join_reasons(reasons, n)
    joined = np.where(joined == "", f"no rule fired (default level {rules.default_level})", joined)
    out = plots.copy()
    out["level"] = level
    out["colour"] = np.asarray(pal.colours, dtype=object)[level - 1]
    out["colour_name"] = np.asarray(pal.names, dtype=object)[level - 1]
    out["colour_zh"] = np.asarray(pal.labels_zh, dtype=object)[level - 1]
    out["score"] = _score(inputs, rules.score)
    out["reasons"] = joined.astype(str)
    out.attrs.update({"ruleset": rules.label, "palette": pal.key, "palette_names": list(pal.names)})
    return out


# ------------------------------------------------------------------------------- the wall's table
def level_names(classified: pd.DataFrame, palette: Palette | None) -> list[str]:
    """The names of the four levels in the wall's table: the palette's, else those the plots were coloured with."""
    if palette is not None:
        return list(palette.names)
    if len(classified.attrs.get("palette_names", ())) == 4:
        return list(classified.attrs["palette_names"])
    seen = {}
    if "colour_name" in classified.columns:
        seen = dict(classified[["level", "colour_name"]].drop_duplicates("level").itertuples(index=False))
    return [str(seen.get(lv, f"level{lv}")) for lv in LEVELS]


def summarise_wall(classified: gpd.GeoDataFrame, admin_areas: gpd.GeoDataFrame | None = None, by: str = "town",
                   palette: Palette | None = None) -> pd.DataFrame:
    """Counts and areas of plots per colour per town, with district and city totals.

    Areas are m², measured in a metric CRS (the plots' own if projected, else a CGCS2000
    Gauss-Krüger zone, e.g. EPSG:4549 for Changzhou).

    Parameters
    ----------
    classified : GeoDataFrame
        Output of :func:`classify_plots` (needs ``level``, ``by`` and a CRS).
    admin_areas : GeoDataFrame, optional
        Layer ``admin_areas`` (``code``, ``name``, ``level``, ``parent``): gives names, and totals
        for each parent (district, then city) of the areas in ``by``.
    by : str
        Column of the plots holding the area code (default ``town``).
    palette : Palette, optional
        Names the columns; default: the palette ``classify_plots`` used.

    Returns
    -------
    DataFrame, one row per area: ``code``, ``name``, ``admin_level``, ``parent``,
    ``count_<colour>`` and ``area_<colour>_m2`` for the four levels, ``count_total``,
    ``area_total_m2``. Rolled-up rows (districts, city) follow the rows of ``by``.
    """
    return summarise_areas(plot_areas(classified, by), level_names(classified, palette), admin_areas)


def plot_areas(classified: gpd.GeoDataFrame, by: str = "town") -> pd.DataFrame:
    """What :func:`summarise_wall` needs of each plot: ``code`` (of its area ``by``), ``level``, ``area`` (m²).

    A few bytes a plot: a province zoned city by city keeps these and lets each city's plots go.
    """
    require_columns(classified, ("level", by), "classified plots", "Run classify_plots first.")
    frame = gpd.GeoDataFrame(classified) if not isinstance(classified, gpd.GeoDataFrame) else classified
    area = frame.geometry.to_crs(metric_crs(frame)).area.to_numpy() if len(frame) else np.zeros(0)
    return pd.DataFrame({"code": frame[by].astype(str).to_numpy(), "level": frame["level"].to_numpy(),
                         "area": area})


def summarise_areas(keyed: pd.DataFrame, names: list[str], admin_areas: gpd.GeoDataFrame | None = None
                    ) -> pd.DataFrame:
    """:func:`summarise_wall` from :func:`plot_areas` rows (in plot order) and the four level names."""
    counts = keyed.groupby(["code", "level"]).size().unstack(fill_value=0).reindex(columns=list(LEVELS), fill_value=0)
    areas = keyed.groupby(["code", "level"])["area"].sum().unstack(fill_value=0.0)
    areas = areas.reindex(index=counts.index, columns=list(LEVELS), fill_value=0.0)
    table = pd.concat([counts.set_axis([f"count_{n}" for n in names], axis=1).astype(np.int64),
                       areas.set_axis([f"area_{n}_m2" for n in names], axis=1)], axis=1)
    table["count_total"] = counts.sum(axis=1).astype(np.int64)
    table["area_total_m2"] = areas.sum(axis=1)
    if admin_areas is None:
        table.index.name = "code"
        return table.reset_index().assign(name=None, admin_level=None, parent=None)[_order(names)]
    require_columns(admin_areas, ("code", "name", "level"), "admin_areas")
    admin = pd.DataFrame({"name": admin_areas["name"].to_numpy(), "admin_level": admin_areas["level"].to_numpy(),
                          "parent": (admin_areas["parent"] if "parent" in admin_areas.columns
                                     else pd.Series(None, index=admin_areas.index)).to_numpy()},
                         index=admin_areas["code"].astype(str).to_numpy())
    admin = admin[~admin.index.duplicated()]
    parts = [table]
    frontier = table
    for _ in range(len(admin) + 1):  # one roll-up per level of the hierarchy (bounded against cycles)
        parent = admin["parent"].reindex(frontier.index)
        parent = parent.where(parent.notna() & (parent.astype(str).str.strip() != ""))
        frontier = frontier[parent.notna().to_numpy()].groupby(parent.dropna().astype(str).to_numpy()).sum()
        if frontier.empty:
            break
        parts.append(frontier)
    out = pd.concat(parts)
    out.index.name = "code"
    out = out.join(admin, how="left").reset_index()
    return out[_order(names)]


def _order(names: list[str]) -> list[str]:
    return (["code", "name", "admin_level", "parent"] + [f"count_{n}" for n in names]
            + [f"area_{n}_m2" for n in names] + ["count_total", "area_total_m2"])
