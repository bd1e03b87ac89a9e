"""Area zoning rules: the level of an area from the plots, safety buffers and hazard sites in it.

The rule (table ``[zoning]`` of the rule set; every figure there is the team's choice):

* **Plots.** A plot counts as *in* an area when at least ``min_plot_overlap`` of the plot lies in
  it, or its representative point does. Each ``[[zoning.area_rules]]`` entry gives its ``level``
  to an area holding ``min_plots`` plots at that level or worse, or whose area is covered to at
  least ``min_share`` by plots at level ≤ ``share_of_level`` (overlap areas summed, capped at 1).
  By default: ≥ 1 red plot or ≥ 30 % of the area in red-or-yellow plots → red; ≥ 1 yellow plot
  or ≥ 30 % in red/yellow/blue plots → yellow; ≥ 1 blue plot → blue.
* **Safety buffers** (layer ``safety_buffers``, GB/T 37243 external safety distances): an area
  covered by their union to more than ``buffers.min_share`` gets at least ``buffers.level``.
* **Hazard sites**: a site of major hazard grade g in the area gives ``sites.grade_levels[g-1]``;
  an ungraded hazardous-chemical site gives ``sites.ungraded_level``.

The area's level is the highest (numerically smallest) level of the conditions met, else
``default_level``; its reasons are the conditions that gave that level, with their values.
Everything here works on shapely arrays in a metric CRS; :mod:`zoning.wall.surface` holds the public
functions over GeoDataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.overlay import covered_area
from zoning._shared import zh_colour
from zoning.errors import RuleSetError
from zoning.rules import Palette, RuleSet, get
from zoning.wall.plot_rules import join_reasons, level_item, plural, text

__all__ = ["AreaRule", "ZoningRules", "parse_zoning_rules", "zone_geometries"]


@dataclass(frozen=True)
class AreaRule:
    """One ``[[zoning.area_rules]]`` entry (see the module docstring)."""

    level: int
    min_plots: int | None
    min_share: float | None
    share_of_level: int


@dataclass(frozen=True)
class ZoningRules:
    """The parsed ``[zoning]`` table, with the palettes of its rule set."""

    area_rules: tuple[AreaRule, ...]
    default_level: int
    min_plot_overlap: float
    buffer_level: int | None
    buffer_min_share: float
    site_grade_levels: tuple[int, int, int, int] | None
    site_ungraded_level: int | None
    palettes: Mapping[str, Palette]
    default_palette: str
    label: str


def _keys(table: dict, allowed: set[str], root: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RuleSetError(f"{root}.{unknown[0]}: unknown key; expected one of: {', '.join(sorted(allowed))}")


def _area_rule(entry, root: str) -> AreaRule:
    if not isinstance(entry, dict):
        raise RuleSetError(f"{root}: expected a table, got {entry!r}")
    _keys(entry, {"level", "min_plots", "min_share", "share_of_level"}, root)
    level = get(entry, "level", int, minimum=1, maximum=4, root=root)
    min_plots = get(entry, "min_plots", int, minimum=1, default=None, root=root)
    min_share = get(entry, "min_share", float, minimum=0.0, maximum=1.0, default=None, root=root)
    if min_share is not None and min_share <= 0:
        raise RuleSetError(f"{root}.min_share: expected a share above 0 (0 would colour every area), got {min_share}")
    if min_plots is None and min_share is None:
        raise RuleSetError(f"{root}: give min_plots, min_share or both")
    share_of = get(entry, "share_of_level", int, minimum=1, maximum=4, default=level, root=root)
    return AreaRule(level, min_plots, min_share, share_of)


def parse_zoning_rules(ruleset: RuleSet) -> ZoningRules:
    """Parse ``[zoning]`` of a rule set; RuleSetError names the key path of a bad figure.

    >>> from zoning.rules import load_ruleset
    >>> zr = parse_zoning_rules(load_ruleset())
    >>> [(r.level, r.min_plots, r.min_share) for r in zr.area_rules]
    [(1, 1, 0.3), (2, 1, 0.3), (3, 1, None)]
    """
    root = "zoning"
    table = ruleset.table(root)
    _keys(table, {"default_level", "min_plot_overlap", "area_rules", "buffers", "sites"}, root)
    rules = get(table, "area_rules", list, default=[], root=root)
    area_rules = tuple(_area_rule(e, f"{root}.area_rules[{i}]") for i, e in enumerate(rules))
    buffers = get(table, "buffers", dict, default={}, root=root)
    _keys(buffers, {"level", "min_share"}, f"{root}.buffers")
    sites = get(table, "sites", dict, default={}, root=root)
    _keys(sites, {"grade_levels", "ungraded_level"}, f"{root}.sites")
    grades = get(sites, "grade_levels", list, default=None, root=f"{root}.sites")
    if grades is not None:
        if len(grades) != 4:
            raise RuleSetError(f"{root}.sites.grade_levels: expected 4 levels (grades 一级 to 四级), got {len(grades)}")
        grades = tuple(level_item(v, f"{root}.sites.grade_levels[{i}]") for i, v in enumerate(grades))
    return ZoningRules(
        area_rules=area_rules,
        default_level=get(table, "default_level", int, minimum=1, maximum=4, root=root),
        min_plot_overlap=get(table, "min_plot_overlap", float, minimum=0.0, maximum=1.0, root=root),
        buffer_level=get(buffers, "level", int, minimum=1, maximum=4, default=None, root=f"{root}.buffers"),
        buffer_min_share=get(buffers, "min_share", float, minimum=0.0, maximum=1.0, default=0.0,
                             root=f"{root}.buffers"),
        site_grade_levels=grades,
        site_ungraded_level=get(sites, "ungraded_level", int, minimum=1, maximum=4, default=None,
                                root=f"{root}.sites"),
        palettes={k: ruleset.palette(k) for k in ruleset.tables.get("palettes", {})},
        default_palette=get(ruleset.tables, "default_palette", str),
        label=ruleset.label,
    )


# ------------------------------------------------------------------------------- computation
def _colour_words(palette: Palette, up_to: int) -> tuple[str, str, str]:
    """Plots at level ≤ ``up_to``: ('red plot', 'red plots', '红色') or ('plot at yellow or above', …, '黄色及以上')."""
    name, zh = palette.name_of(up_to), zh_colour(palette, up_to)
    if up_to == 1:
        return f"{name} plot", f"{name} plots", zh
    return f"plot at {name} or above", f"plots at {name} or above", f"{zh}及以上"


def _percent(share: np.ndarray) -> np.ndarray:
    pct = np.round(share * 100).astype(np.int64)
    return np.where((share > 0) & (pct == 0), "< 1", pct.astype(str)).astype(object)


def _plot_conditions(geoms, area, tree, plots, zr, palette, n):
    p_geom = np.asarray(plots.geometry.to_numpy(), dtype=object)
    p_level = plots["level"].to_numpy().astype(np.int64)
    pi, ai = tree.query(p_geom, predicate="intersects")
    inter = shapely.area(shapely.intersection(p_geom[pi], geoms[ai]))
    rep_in = shapely.intersects(geoms[ai], shapely.point_on_surface(p_geom[pi]))
    counted = rep_in | ((inter > 0) & (inter >= zr.min_plot_overlap * shapely.area(p_geom[pi])))
    lv = p_level[pi]
    n_plots = np.bincount(ai[counted], minlength=n)
    conditions = []
    for rule in zr.area_rules:
        if rule.min_plots is not None:
            cnt = np.bincount(ai[counted & (lv <= rule.level)], minlength=n)
            one, many, zh = _colour_words(palette, rule.level)
            bound = f" ≥ {rule.min_plots}" if rule.min_plots > 1 else ""  # "≥ 1" says nothing
            reason = text(cnt, " ", plural(cnt, one, many), f"{bound} ({zh}地块 ", cnt, " 块)")
            conditions.append((rule.level, cnt >= rule.min_plots, reason))
        if rule.min_share is not None:
            covered = np.bincount(ai[lv <= rule.share_of_level], weights=inter[lv <= rule.share_of_level],
                                  minlength=n)
            share = np.minimum(np.divide(covered, area, out=np.zeros(n), where=area > 0), 1.0)
            _, many, zh = _colour_words(palette, rule.share_of_level)
            pct = _percent(share)
            reason = text(pct, f" % of the area in {many} ≥ {rule.min_share * 100:g} % ({zh}地块占 ", pct, " %)")
            conditions.append((rule.level, share >= rule.min_share, reason))
    return conditions, n_plots


def largest_per_site(buffers) -> np.ndarray:
    """One buffer per site, its widest: a site's buffers are concentric, so it holds the others."""
    if not {"site_id", "distance_m"} <= set(buffers.columns):
        return np.arange(len(buffers))
    order = pd.DataFrame({"site": buffers["site_id"].astype(str).to_numpy(),
                          "d": buffers["distance_m"].to_numpy(dtype=float), "i": np.arange(len(buffers))})
    return order.sort_values("d", ascending=False, kind="stable").drop_duplicates("site")["i"].to_numpy()


def _buffer_condition(geoms, area, tree, buffers, zr, n):
    b_geom = shapely.make_valid(np.asarray(buffers.geometry.to_numpy(), dtype=object)[largest_per_site(buffers)])
    covered = covered_area(geoms, b_geom)
    _, ai = tree.query(b_geom, predicate="intersects")
    share = np.minimum(np.divide(covered, area, out=np.zeros(n), where=area > 0), 1.0)
    n_sites = np.bincount(ai, minlength=n)
    pct = _percent(share)
    reason = text(pct, " % of the area within the external safety distances of ", n_sites,
                  plural(n_sites, " site", " sites"), " (外部安全防护距离内 ", pct, " %)")
    return zr.buffer_level, share > zr.buffer_min_share, reason


def _site_condition(tree, sites, zr, n):
    s_geom = np.asarray(sites.geometry.to_numpy(), dtype=object)
    grade = (pd.to_numeric(sites["major_hazard_grade"], errors="coerce").fillna(0).to_numpy().astype(np.int64)
             if "major_hazard_grade" in sites.columns else np.zeros(len(s_geom), dtype=np.int64))
    graded = (grade >= 1) & (grade <= 4) & (zr.site_grade_levels is not None)
    grade_levels = np.asarray(zr.site_grade_levels or (4, 4, 4, 4))
    ungraded = np.nan if zr.site_ungraded_level is None else zr.site_ungraded_level
    s_level = np.where(graded, grade_levels[np.clip(grade, 1, 4) - 1], ungraded)
    si, ai = tree.query(s_geom, predicate="intersects")
    df = pd.DataFrame({"area": ai, "level": s_level[si], "grade": np.where(graded[si], grade[si], 9)})
    agg = df.groupby("area").agg(level=("level", "min"), grade=("grade", "min"), n=("level", "size"))
    level = np.full(n, np.nan)
    worst = np.full(n, 9, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    idx = agg.index.to_numpy(dtype=np.int64)
    level[idx], worst[idx], count[idx] = agg["level"].to_numpy(), agg["grade"].to_numpy(), agg["n"].to_numpy()
    zh = np.array(["", "一级", "二级", "三级", "四级"] + [""] * 5, dtype=object)[worst]
    sites_txt = text(count, plural(count, " hazardous-chemical site", " hazardous-chemical sites"))
    reason = np.where(worst <= 4,
                      text("major hazard source grade ", worst, " among ", sites_txt, " (", zh, "重大危险源)"),
                      text(sites_txt, " below the major-hazard threshold (危险化学品场所 ", count, " 处)"))
    return level, reason


def zone_geometries(geoms: np.ndarray, plots: gpd.GeoDataFrame, buffers: gpd.GeoDataFrame | None,
                    sites: gpd.GeoDataFrame | None, zr: ZoningRules, palette: Palette) -> dict[str, np.ndarray]:
    """Level, reasons and plot count of each polygon of ``geoms`` (all inputs in one metric CRS).

    Returns a dict of arrays: ``level`` (int), ``reasons`` (str), ``n_plots`` (plots counted in).
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    area = shapely.area(geoms)
    tree = shapely.STRtree(geoms)
    conditions, n_plots = _plot_conditions(geoms, area, tree, plots, zr, palette, n)
    if buffers is not None and len(buffers) and zr.buffer_level is not None:
        conditions.append(_buffer_condition(geoms, area, tree, buffers, zr, n))
    if sites is not None and len(sites):
        s_level, s_reason = _site_condition(tree, sites, zr, n)
        conditions.append((s_level, ~np.isnan(s_level), s_reason))
    level = np.full(n, np.nan)
    for lv, fired, _ in conditions:
        level = np.fmin(level, np.where(fired, lv, np.nan))
    level = np.where(np.isnan(level), zr.default_level, level).astype(np.int64)
    reasons = join_reasons([np.where(fired & (np.broadcast_to(lv, (n,)) == level), reason, "").astype(object)
                            for lv, fired, reason in conditions], n)
    default = text("no condition for a higher level met (", n_plots, plural(n_plots, " plot", " plots"),
                   " in the area)")
    reasons = np.where(reasons == "", default, reasons)
    return {"level": level, "reasons": reasons.astype(str), "n_plots": n_plots.astype(np.int64)}
