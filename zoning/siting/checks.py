"""The checks of a siting review (internal to :mod:`zoning.siting.review`), one function per concern.

Each ``check_*`` function takes the proposal geometry in the context's metric CRS and returns its
findings and a list of :class:`Reason` (the least verdict each imposes, Chinese and English texts,
figures). :func:`zoning.siting.review.review_site` calls them in order and takes the worst verdict.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph

from geo.crs import STORE_CRS
from geo.errors import InputError
from layers.errors import ValidationError
from zoning.coverage.network import coverage_rules, representative_points
from zoning.coverage.shelters import assess_shelters
from zoning.hazards.distances import parse_distance_rules, safety_buffers, safety_distances
from zoning.hazards.major_hazard import grade_sites, parse_major_hazard_rules
from zoning.hazards.qra.assess import assess_sites
from zoning.hazards.separation import find_violations, parse_separation_rules
from zoning.siting.rules import CLASS_ZH, ZONE_ZH, SitingRules

if TYPE_CHECKING:  # pragma: no cover
    from zoning.siting.context import SitingContext

__all__ = ["Reason", "PROPOSAL_ID", "check_data_area", "check_zone", "check_colour", "check_fire", "check_shelter",
           "check_nearby", "check_plant", "map_features", "records", "clean"]

PROPOSAL_ID = "proposal"
_PEOPLE_RADIUS_M = 500.0  # GB 18218-2018 §4.2: α counts the people within 500 m of the fence
_MAP_REACH_M = 3000.0     # the nearest station / shelter is drawn when this close
#: Distances are compared to the millimetre: a proposal on the very edge of a distance stands outside
#: it (as in zoning.hazards.separation), and lon/lat round-off of the stored layers cannot put it inside.
EDGE_M = 1e-3


@dataclass(frozen=True)
class Reason:
    """One reason of a verdict: the rule, the least verdict it imposes, texts and figures."""

    rule: str
    verdict: str
    zh: str
    en: str
    figures: dict = field(default_factory=dict)


def _f(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def clean(value):
    """Plain Python numbers/None for JSON (numpy scalars, NaN and pandas NA → None)."""
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def records(frame: pd.DataFrame, columns) -> list[dict]:
    cols = [c for c in columns if c in frame]
    return [{c: clean(v) for c, v in zip(cols, row)} for row in frame[cols].itertuples(index=False)]


# --- checks -----------------------------------------------------------------------------------

def check_data_area(geom, ctx: SitingContext, rules: SitingRules) -> list[Reason]:
    if ctx.data_area.contains(geom):
        return []
    gap = float(shapely.distance(ctx.data_area, geom))
    if gap > rules.max_outside_m:
        raise InputError(f"the proposal lies {gap / 1000:.1f} km outside the data area of this store (more than "
                         f"siting.max_outside_m = {rules.max_outside_m:g} m): nothing here can assess it")
    where = "partly" if gap == 0 else f"{_f(gap)} m"
    return [Reason("outside_data_area", "conditional",
                   f"项目{'部分' if gap == 0 else '距数据范围 ' + _f(gap) + ' m, '}位于本库数据范围之外, 邻近辖区的危险源未纳入评估",
                   f"the proposal lies {where} outside the data area; hazard sites of the neighbouring "
                   "authority are not in the store", {"outside_m": gap})]


def check_zone(geom, cls: str, kind, level: int, ctx: SitingContext, rules: SitingRules, crowded) -> tuple:
    """(zone, buffer rows it falls in, reasons, ids of the sites concerned)."""
    b, sites = ctx.safety_buffers, ctx.hazard_sites
    if b is None or sites is None or not len(b):
        return "none", [], [Reason("zone", rules.matrix[level]["none"], "附近无外部安全防护距离 (无危险源缓冲区)",
                                   "no external safety distance in the store reaches the proposal")], []
    geom_of = pd.Series(sites.geometry.to_numpy(), index=sites["site_id"].astype(str))
    name_of = sites.set_index(sites["site_id"].astype(str))["name"] if "name" in sites else pd.Series(dtype=object)
    ids = b["site_id"].astype(str)
    known = ids.isin(geom_of.index).to_numpy()
    rows = pd.DataFrame({"site_id": ids[known].to_numpy(), "target_class": b["target_class"].to_numpy()[known],
                         "method": b["method"].to_numpy()[known] if "method" in b else None,
                         "basis": b["reasons"].astype(str).to_numpy()[known] if "reasons" in b else None,
                         "required_m": b["distance_m"].to_numpy(float)[known]})
    rows["actual_m"] = shapely.distance(geom_of.reindex(rows["site_id"]).to_numpy(), geom)
    rows["name"] = name_of.reindex(rows["site_id"]).to_numpy() if len(name_of) else None
    rows["shortfall_m"] = rows["required_m"] - rows["actual_m"]
    rows["own_class"] = rows["target_class"] == cls
    inside = rows[rows["actual_m"] < rows["required_m"] - EDGE_M].sort_values("shortfall_m", ascending=False)
    largest = rows.sort_values("required_m", ascending=False).drop_duplicates("site_id")
    near = largest[largest["actual_m"] < largest["required_m"] + rules.consultation_m]
    own = inside[inside["own_class"]]
    zone = "inner" if len(own) else "middle" if len(inside) else "outer" if len(near) else "none"
    reasons = []
    cls_zh = CLASS_ZH.get(cls, cls)
    if zone in ("inner", "middle"):
        top = (own if len(own) else inside).iloc[0]
        which_zh = f"本类别({cls_zh})" if zone == "inner" else f"{CLASS_ZH.get(top.target_class, top.target_class)}"
        text_zh = (f"位于危险源 {top.site_id} 对{which_zh}的外部安全防护距离内: 实际 {_f(top.actual_m)} m < 要求 "
                   f"{_f(top.required_m)} m, 不足 {_f(top.shortfall_m)} m ({ZONE_ZH[zone]}, 敏感度 {level} 级)")
        text_en = (f"inside the external safety distance of hazard site {top.site_id} for "
                   f"{'its own class ' + cls if zone == 'inner' else 'class ' + str(top.target_class)}: "
                   f"{_f(top.actual_m)} m < {_f(top.required_m)} m required, short by {_f(top.shortfall_m)} m "
                   f"({zone} zone, sensitivity level {level}; GB/T 37243-2019 §4)")
        figures = {"site_id": top.site_id, "target_class": top.target_class, "required_m": float(top.required_m),
                   "actual_m": float(top.actual_m), "shortfall_m": float(top.shortfall_m)}
    elif zone == "outer":
        top = near.sort_values("actual_m").iloc[0]
        text_zh = (f"位于危险源 {top.site_id} 最大外部安全防护距离 {_f(top.required_m)} m 之外 {_f(top.actual_m - top.required_m)} m, "
                   f"在咨询距离 {_f(rules.consultation_m)} m 内 (外区, 敏感度 {level} 级)")
        text_en = (f"{_f(top.actual_m - top.required_m)} m beyond the largest external safety distance "
                   f"({_f(top.required_m)} m) of hazard site {top.site_id}, within the "
                   f"{_f(rules.consultation_m)} m consultation distance (outer zone, sensitivity level {level})")
        figures = {"site_id": top.site_id, "largest_m": float(top.required_m), "actual_m": float(top.actual_m),
                   "consultation_m": rules.consultation_m}
    else:
        text_zh = f"不在任何危险源外部安全防护距离及其咨询距离 {_f(rules.consultation_m)} m 内 (区外)"
        text_en = (f"outside every external safety distance and its {_f(rules.consultation_m)} m "
                   "consultation distance (no zone)")
        figures = {}
    reasons.append(Reason("zone", rules.matrix[level][zone], text_zh, text_en,
                          {"zone": zone, "sensitivity": level, **figures}))
    if cls in rules.veto_classes:
        for r in own.drop_duplicates("site_id").itertuples():
            reasons.append(Reason(
                "veto_own_class", "veto",
                f"一票否决: {cls_zh}不得位于危险源 {r.site_id} 对其类别的外部安全防护距离内 (实际 {_f(r.actual_m)} m < "
                f"要求 {_f(r.required_m)} m, 不足 {_f(r.shortfall_m)} m; GB/T 37243-2019, GB 36894-2018)",
                f"veto: a {cls} target may not stand inside the external safety distance of hazard site "
                f"{r.site_id} for its class ({_f(r.actual_m)} m < {_f(r.required_m)} m, short by "
                f"{_f(r.shortfall_m)} m; GB/T 37243-2019 §4, GB 36894-2018)",
                {"site_id": r.site_id, "target_class": r.target_class, "required_m": r.required_m,
                 "actual_m": r.actual_m, "shortfall_m": r.shortfall_m}))
    if kind.target_kind in crowded:
        for r in largest[largest["actual_m"] < largest["required_m"] - EDGE_M].itertuples():
            reasons.append(Reason(
                "veto_crowded", "veto",
                f"一票否决: {kind.zh}不得位于任何外部安全防护距离内: 危险源 {r.site_id} 最大距离 {_f(r.required_m)} m, "
                f"实际 {_f(r.actual_m)} m",
                f"veto: a {kind.en} may not stand inside any external safety distance: hazard site {r.site_id}, "
                f"largest distance {_f(r.required_m)} m, actual {_f(r.actual_m)} m (separation.crowded_kinds)",
                {"site_id": r.site_id, "required_m": float(r.required_m), "actual_m": float(r.actual_m)}))
    buffers = records(inside, ["site_id", "name", "target_class", "method", "required_m", "actual_m",
                                "shortfall_m", "own_class", "basis"])
    return zone, buffers, reasons, list(dict.fromkeys([*inside["site_id"], *near["site_id"]]))


def _colour_at(geom, zones, kind: str):
    if zones is None or "zone_kind" not in zones:
        return None
    sub = zones[zones["zone_kind"] == kind]
    hit = shapely.STRtree(sub.geometry.to_numpy()).query(geom, predicate="intersects")
    if not len(hit):
        return None
    row = sub.iloc[hit].sort_values("level").iloc[0]
    return {"zone_kind": kind, "zone_id": str(row["zone_id"]), "level": int(row["level"]),
            "colour": row.get("colour"), "colour_name": row.get("colour_name"), "colour_zh": row.get("colour_zh")}


def check_colour(geom, ctx, rules: SitingRules, level: int) -> tuple:
    grid, town = _colour_at(geom, ctx.risk_zones, "grid"), _colour_at(geom, ctx.risk_zones, "town")
    at = grid or town
    if at is None:
        return None, town, [Reason("zone_colour", "permitted", "该处无四色分区 (risk_zones)", "no four-colour zone here")]
    where_zh = "网格" if at["zone_kind"] == "grid" else "镇街"
    v = rules.colour[at["level"]][level - 1]
    return at, town, [Reason(
        "zone_colour", v, f"所在{where_zh} {at['zone_id']} 为{at['colour_zh']}",
        f"the {at['zone_kind']} zone {at['zone_id']} here is {at['colour_name']} (level {at['level']}; "
        f"least verdict for sensitivity {level}: {v})", dict(at))]


def check_fire(geom, ctx: SitingContext, rules: SitingRules) -> tuple:
    r = coverage_rules(ctx.ruleset)
    fire = ctx.fire
    if fire is None or not len(fire):
        return None, [Reason("fire", rules.fire_outside_response, "本库无消防站, 无法评估消防响应时间",
                             "no fire station in the store: response time unknown")]
    p = representative_points([geom])
    straight = shapely.distance(fire.geometry.to_numpy(), p[0])
    drive = straight * r.detour_factor / (r.fallback_speed_kmh / 3.6)  # radius fallback for all
    method = np.full(len(fire), "radius fallback", dtype=object)
    g = ctx.graph
    if g is not None and g.n_nodes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (p_node,), (p_snap,) = g.snap(p)
            s_node, s_snap = g.snap(fire.geometry.to_numpy())
        if p_snap <= r.snap_tolerance_m:
            to_p = csgraph.dijkstra(ctx.reverse_time, indices=int(p_node))
            v = r.fallback_speed_kmh / 3.6
            net = to_p[s_node] + (s_snap + p_snap) / v
            use = (s_snap <= r.snap_tolerance_m) & np.isfinite(net)
            drive = np.where(use, net, drive)
            method[use] = "network"
    best = int(np.argmin(drive))
    row = fire.iloc[best]
    response = (r.turnout_s + drive[best]) / 60
    info = {"station_id": str(row["station_id"]), "name": clean(row.get("name")), "kind": row.get("kind"),
            "method": method[best], "distance_m": float(straight[best]), "driving_min": float(drive[best] / 60),
            "response_min": float(response), "budget_min": r.response_s / 60,
            "within": bool(response <= r.response_s / 60 + 1e-9)}
    how_zh = "路网" if info["method"] == "network" else "直线距离×绕行系数"
    ok_zh = "满足" if info["within"] else "超过"
    verdict = "permitted" if info["within"] else rules.fire_outside_response
    return info, [Reason(
        "fire", verdict,
        f"最近消防站 {info['station_id']} 响应时间 {response:.1f} min ({how_zh}, 含出动 {r.turnout_s / 60:g} min), "
        f"{ok_zh} {r.response_s / 60:g} min (GB 51080-2015 §4.1.3)",
        f"nearest fire station {info['station_id']}: response {response:.1f} min ({info['method']}, incl. "
        f"{r.turnout_s / 60:g} min turnout) {'within' if info['within'] else 'exceeds'} the "
        f"{r.response_s / 60:g} min of GB 51080-2015 §4.1.3", info)]


def check_shelter(geom, population: int, ctx: SitingContext, rules: SitingRules) -> tuple:
    if ctx.shelters is None or not len(ctx.shelters):
        return None, [Reason("shelter", rules.shelter_beyond_radius, "本库无应急避难场所", "no shelter in the store")]
    demand = gpd.GeoDataFrame({"population": [population]}, geometry=[geom], crs=ctx.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-capacity shelters: `riskmap coverage` reports them
        a = assess_shelters(demand, ctx.shelters, ctx.ruleset, ctx.graph).assignments.iloc[0]
    if a["shelter_id"] is None:
        return None, [Reason("shelter", rules.shelter_beyond_radius, "无可用应急避难场所 (容量均为零)",
                             "no usable shelter (all have zero capacity)")]
    info = {"shelter_id": str(a["shelter_id"]), "class": a["shelter_class"], "distance_m": float(a["distance_m"]),
            "method": a["method"], "service_radius_m": float(a["service_radius_m"]),
            "within": bool(a["within_radius"])}
    verdict = "permitted" if info["within"] else rules.shelter_beyond_radius
    return info, [Reason(
        "shelter", verdict,
        f"最近应急避难场所 {info['shelter_id']} ({info['class']}) 步行 {_f(info['distance_m'])} m, "
        f"{'在' if info['within'] else '超出'}服务半径 {_f(info['service_radius_m'])} m{'内' if info['within'] else ''} (GB 50413-2007)",
        f"nearest shelter {info['shelter_id']} ({info['class']}): {_f(info['distance_m'])} m walking "
        f"({info['method']}), {'within' if info['within'] else 'beyond'} its {_f(info['service_radius_m'])} m "
        "service radius (GB 50413-2007)", info)]


def check_nearby(geom, ctx: SitingContext, radius: float) -> dict:
    out = {}
    for key, frame, cols in (
            ("plots", ctx.risk_wall, ["plot_id", "enterprise", "level", "colour", "colour_name", "colour_zh"]),
            ("sites", ctx.hazard_sites, ["site_id", "name", "major_hazard_grade"]),
            ("targets", ctx.protected_targets, ["target_id", "name", "kind", "gb36894_class", "population"])):
        if frame is None or not len(frame):
            out[key] = []
            continue
        d = shapely.distance(frame.geometry.to_numpy(), geom)
        near = frame.assign(distance_m=d)[d <= radius].sort_values("distance_m")
        out[key] = records(near, [*cols, "distance_m"])
    return out


def check_plant(geom, inventory, ctx: SitingContext, rules: SitingRules) -> tuple:
    """A new hazardous plant: grade, own distances and buffers, and what they would swallow.

    On the QRA path (GB/T 37243-2019 §4) its distances come from its own QRA as a *new*
    installation (GB 36894-2018 Table 1, first column).
    """
    mh, dr = parse_major_hazard_rules(ctx.ruleset), parse_distance_rules(ctx.ruleset)
    targets = ctx.protected_targets
    people = 0
    if targets is not None and len(targets) and "population" in targets:
        close = shapely.dwithin(targets.geometry.to_numpy(), geom, _PEOPLE_RADIUS_M)
        people = int(pd.to_numeric(targets["population"], errors="coerce").fillna(0).to_numpy()[close].sum())
    site = gpd.GeoDataFrame({"site_id": [PROPOSAL_ID], "name": ["proposal"],
                             "inventory": [json.dumps(inventory, ensure_ascii=False)], "people_500m": [people]},
                            geometry=[geom], crs=ctx.crs)
    try:
        graded = grade_sites(site, mh).iloc[0]
        qra = assess_sites(site, ctx.ruleset, status="new", population=ctx.population, targets=targets) \
            if "qra" in ctx.ruleset.tables else None
        distances = safety_distances(site, dr, mh, qra=qra)
    except ValidationError as exc:
        raise InputError("inventory: " + "; ".join(p.message for p in exc.problems)) from None
    if distances.empty:
        names = ", ".join(str(i.get("name") or i.get("cas")) for i in inventory)
        raise InputError(f"inventory: no substance the rule set knows ({names}); known substances: "
                         f"{', '.join(s.key for s in mh.substances)}")
    own = safety_buffers(site, distances, crs=ctx.crs)
    reasons = [Reason("plant_grade", "permitted",
                      f"重大危险源辨识: Σq/Q = {graded['ratio_sum']:.3g}, R = {graded['R']:.3g}, "
                      + (f"{'一二三四'[int(graded['grade']) - 1]}级重大危险源" if graded["grade"] else "不构成重大危险源")
                      + f" (500 m 内 {people} 人; GB 18218-2018)",
                      "; ".join(graded["reasons"]), {"ratio_sum": float(graded["ratio_sum"]), "R": float(graded["R"]),
                                                     "alpha": float(graded["alpha"]), "grade": int(graded["grade"]),
                                                     "people_500m": people})]
    largest = float(distances["distance_m"].max())
    reasons.append(Reason("plant_distances", "permitted",
                          "拟建装置外部安全防护距离: " + ", ".join(
                              f"{CLASS_ZH.get(c, c)} {_f(d)} m" for c, d in zip(distances["target_class"], distances["distance_m"])),
                          "external safety distances of the proposed plant (GB/T 37243-2019): " + ", ".join(
                              f"{c} {_f(d)} m ({m})" for c, d, m in zip(distances["target_class"], distances["distance_m"],
                                                                          distances["method"])),
                          {"largest_m": largest}))
    existing = ctx.hazard_sites
    keep = [c for c in ("site_id", "plot_id", "inventory", "geometry") if existing is not None and c in existing]
    sites = site if existing is None or not len(existing) else gpd.GeoDataFrame(
        pd.concat([site[["site_id", "inventory", "geometry"]], existing[keep]], ignore_index=True),
        geometry="geometry", crs=ctx.crs)
    empty = gpd.GeoDataFrame({"target_id": [], "kind": [], "gb36894_class": []}, geometry=[], crs=ctx.crs)
    plots = ctx.risk_wall if ctx.risk_wall is not None and {"plot_id", "workers"} <= set(ctx.risk_wall) else None
    found = find_violations(targets if targets is not None else empty, own, sites, plots=plots,
                            shelters=ctx.shelters, stations=ctx.fire, rules=parse_separation_rules(ctx.ruleset),
                            major_hazard_rules=mh)
    found = found[(found["site_id"] == PROPOSAL_ID) | (found["subject_id"] == PROPOSAL_ID)]
    names = {}
    for frame, key, label in ((targets, "target_id", "name"), (ctx.shelters, "shelter_id", "name"),
                              (ctx.fire, "station_id", "name"), (plots, "plot_id", "enterprise")):
        if frame is not None and label in frame:
            names.update(zip(frame[key].astype(str), frame[label]))
    found = found.assign(name=found["subject_id"].map(names))
    swallowed = records(found, ["rule", "subject_layer", "subject_id", "name", "target_class", "required_m",
                                 "actual_m", "shortfall_m"])
    veto = found[(found["rule"] == "crowded_in_any_buffer")
                 | ((found["rule"] == "class_buffer") & found["target_class"].isin(rules.veto_classes))]
    other = found[(found["rule"] == "class_buffer") & ~found.index.isin(veto.index)]
    near = found[found["rule"].isin(["shelter_near_hazard", "station_near_hazard"])]
    domino = found[found["rule"] == "domino"]
    for rows, verdict, head_zh, head_en in (
            (veto, "veto", "一票否决: 拟建装置的外部安全防护距离将覆盖现有防护目标",
             "veto: the plant's external safety distance would swallow existing protected targets"),
            (other, rules.plant_other_targets, "拟建装置的外部安全防护距离将覆盖一般防护目标",
             "the plant's external safety distance would swallow general protected targets"),
            (near, rules.plant_near, "拟建装置距避难场所/消防站过近", "the plant would stand too close to shelters or fire stations"),
            (domino, rules.plant_domino, "与现有危险源存在多米诺效应风险", "domino risk with existing hazard sites")):
        if not len(rows):
            continue
        rows = rows.sort_values("shortfall_m", ascending=False).drop_duplicates(["subject_id", "site_id"])
        listed = [f"{'/'.join(x for x in (str(s), n) if x and x != 'nan')} ({_f(a)} m < {_f(q)} m)"
                  for s, n, a, q in zip(np.where(rows["subject_id"] == PROPOSAL_ID, rows["site_id"], rows["subject_id"]),
                                        rows["name"].fillna(""), rows["actual_m"], rows["required_m"])]
        text = "; ".join(listed[:10]) + (f"; … {len(listed) - 10} more" if len(listed) > 10 else "")
        reasons.append(Reason(f"plant_{rows['rule'].iloc[0]}" if verdict != "veto" else "plant_swallows", verdict,
                              f"{head_zh}: {text}", f"{head_en}: {text}",
                              {"subjects": rows["subject_id"].astype(str).tolist()}))
    info = {"grade": int(graded["grade"]), "ratio_sum": float(graded["ratio_sum"]), "R": float(graded["R"]),
            "alpha": float(graded["alpha"]), "people_500m": people, "grade_reasons": list(graded["reasons"]),
            "distances": records(distances, ["target_class", "method", "distance_m"]),
            "swallowed": swallowed, "warnings": list(distances.attrs.get("warnings", []))}
    return info, own, reasons


def map_features(geom_m, ctx: SitingContext, rules: SitingRules, cls: str, site_ids, own_buffers, nearby,
              fire, shelter) -> list[dict]:
    """Map features (lon/lat): proposal, the buffers that concern it, nearby features, risk zones."""
    feats = []

    def add(layer, frame, id_field, label=None, **extra):
        if frame is None or not len(frame):
            return
        ll = frame.to_crs(STORE_CRS)
        for i, (fid, g) in enumerate(zip(ll[id_field].astype(str), ll.geometry)):
            feats.append({"layer": layer, "id": fid, "label": (label[i] if label is not None else fid),
                          **{k: clean(v[i]) for k, v in extra.items()}, "geometry": g})

    extent = geom_m.buffer(rules.nearby_m)
    contours = ctx.ir_contours
    if contours is not None and len(contours) and len(site_ids):
        near = contours[shapely.intersects(contours.geometry.to_numpy(), geom_m.buffer(2 * rules.nearby_m))]
        add("ir_contour", near, "level_label", (near["level_label"] + " " + near["site_ids"].astype(str)).to_numpy(),
            level=near["level"].to_numpy(float), site_ids=near["site_ids"].astype(str).to_numpy())
    if ctx.risk_zones is not None and "zone_kind" in ctx.risk_zones:
        grid = ctx.risk_zones[ctx.risk_zones["zone_kind"] == "grid"]
        grid = grid[shapely.intersects(grid.geometry.to_numpy(), extent)]
        add("risk_zone", grid, "zone_id", None, colour=grid["colour"].to_numpy(), level=grid["level"].to_numpy())
    if ctx.safety_buffers is not None and len(site_ids):
        b = ctx.safety_buffers[ctx.safety_buffers["site_id"].astype(str).isin(site_ids)]
        biggest = b.sort_values("distance_m", ascending=False).drop_duplicates("site_id")
        b = pd.concat([b[b["target_class"] == cls], biggest]).drop_duplicates(["site_id", "target_class"])
        add("safety_buffer", b, "site_id", (b["site_id"].astype(str) + " " + b["target_class"]).to_numpy(),
            target_class=b["target_class"].to_numpy(), own_class=(b["target_class"] == cls).to_numpy(),
            distance_m=b["distance_m"].to_numpy(float))
    if own_buffers is not None:
        add("plant_buffer", own_buffers, "site_id", own_buffers["target_class"].to_numpy(),
            target_class=own_buffers["target_class"].to_numpy(), distance_m=own_buffers["distance_m"].to_numpy(float))
    for layer, frame, key, ids in (("plot", ctx.risk_wall, "plot_id", [p["plot_id"] for p in nearby["plots"]]),
                                   ("hazard_site", ctx.hazard_sites, "site_id",
                                    list({*site_ids, *[s["site_id"] for s in nearby["sites"]]})),
                                   ("target", ctx.protected_targets, "target_id", [t["target_id"] for t in nearby["targets"]]),
                                   ("fire_station", ctx.fire, "station_id",
                                    [fire["station_id"]] if fire and fire["distance_m"] <= _MAP_REACH_M else []),
                                   ("shelter", ctx.shelters, "shelter_id",
                                    [shelter["shelter_id"]] if shelter and shelter["distance_m"] <= _MAP_REACH_M else [])):
        if frame is None or not ids:
            continue
        sub = frame[frame[key].astype(str).isin(ids)]
        colours = sub["colour"].to_numpy() if "colour" in sub else np.full(len(sub), None)
        names = sub["name"].fillna("").astype(str).to_numpy() if "name" in sub else sub[key].astype(str).to_numpy()
        add(layer, sub, key, np.char.add(np.char.add(sub[key].astype(str).to_numpy().astype(str), " "), names.astype(str)),
            colour=colours)
    feats.append({"layer": "proposal", "id": PROPOSAL_ID, "label": "拟建项目 proposal",
                  "geometry": gpd.GeoSeries([geom_m], crs=ctx.crs).to_crs(STORE_CRS).iloc[0]})
    return feats
