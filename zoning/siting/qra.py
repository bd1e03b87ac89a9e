"""The QRA part of a siting review: individual risk at the proposal, F-N curves with its people.

For the hazard sites whose external safety distance came from riskmap's QRA (method ``qra`` in
``safety_buffers``) and that concern the proposal (it stands inside one of their distances or in
their consultation zone), :func:`check_qra` re-runs the site's QRA
(:func:`zoning.hazards.qra.assess.assess_sites`, the same rules and data as ``riskmap zone``) and
reports:

* the individual risk at the proposal (per year, each site's own and summed) against the
  GB 36894-2018 criterion of the proposal's class — informational: the verdict on distance is the
  zone rule's;
* each site's F-N curve as it stands and with the proposal's people added at its location, and the
  least verdict of the GB 36894-2018 lines for the curve *with* the proposal (``[siting.qra]``):
  ALARP → ``societal_alarp``, above the upper line → ``societal_unacceptable``;
* the sites' threat zones and the validity notes of the models behind the figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from zoning.hazards.qra.assess import assess_sites, people_points
from zoning.hazards.qra.contours import format_rate
from zoning.siting.checks import PROPOSAL_ID, Reason, records
from zoning.siting.rules import CLASS_ZH, SitingRules

if TYPE_CHECKING:  # pragma: no cover
    from zoning.siting.context import SitingContext

__all__ = ["check_qra"]

_FN_ZH = {"acceptable": "可接受", "alarp": "尽可能降低 (ALARP)", "unacceptable": "不可接受"}


def _sample_points(geom) -> np.ndarray:
    """Where the IR at a proposal is read: its representative point and, for a polygon, its vertices."""
    pts = [shapely.get_coordinates(geom.representative_point())]
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        pts.append(shapely.get_coordinates(geom.boundary))
    return np.concatenate(pts)


def check_qra(geom, cls: str, population: int, ctx: SitingContext, rules: SitingRules, site_ids) -> tuple:
    """(info dict or None, reasons) for the QRA sites among ``site_ids`` (see the module docstring)."""
    b, sites = ctx.safety_buffers, ctx.hazard_sites
    if b is None or sites is None or "method" not in b or "qra" not in ctx.ruleset.tables:
        return None, []
    ids = [i for i in dict.fromkeys(site_ids)
           if (b["site_id"].astype(str).eq(i) & b["method"].eq("qra")).any()]
    if not ids:
        return None, []
    chosen = sites[sites["site_id"].astype(str).isin(ids)]
    result = assess_sites(chosen, ctx.ruleset, population=ctx.population, targets=ctx.protected_targets)
    if not result.sites:
        return None, []
    xy = _sample_points(geom)
    people = people_points(ctx.crs, population=ctx.population, targets=ctx.protected_targets)
    here = shapely.get_coordinates(geom.representative_point())
    with_xy = np.concatenate([people[0], here])
    with_n = np.concatenate([people[1], [float(population)]])
    level = result.rules.criterion(cls)
    rows, fn_worst = [], "acceptable"
    total = np.zeros(len(xy))
    zones_all = result.threat_zones()
    for sid, s in result.sites.items():
        ir = s.risk.at(xy[:, 0], xy[:, 1])
        total += ir
        fn_with = result.fn_for(s.risk, with_xy, with_n)
        order = ("acceptable", "alarp", "unacceptable")
        fn_worst = max(fn_worst, fn_with.verdict, key=order.index)
        name = chosen.loc[chosen["site_id"].astype(str) == sid, "name"].iloc[0] if "name" in chosen else None
        zones = records(zones_all[zones_all["site_id"] == sid],
                        ["hazard", "threshold", "distance_m", "at_least", "source"])
        rows.append({"site_id": sid, "name": name, "status": s.status, "holdings": s.holdings,
                     "distances": s.distances, "levels": s.levels, "ir_here": float(ir.max()),
                     "fn": s.fn.to_dict() if s.fn is not None else None, "fn_with": fn_with.to_dict(),
                     "threat_zones": zones, "notes": s.notes})
    ir_total = float(total.max())
    over = ir_total >= level
    cls_zh = CLASS_ZH.get(cls, cls)
    reasons = [Reason(
        "qra_individual_risk", "permitted",
        f"拟建项目处个人风险 {format_rate(ir_total, 2)} ({'高于' if over else '低于'} {cls_zh}的 GB 36894-2018 风险基准 "
        f"{format_rate(level)}; 危险源 {', '.join(result.sites)})",
        f"individual risk at the proposal {format_rate(ir_total, 2)} ({'at or above' if over else 'below'} the "
        f"GB 36894-2018 criterion {format_rate(level)} of class {cls}, {result.rules.site_status} installation; "
        f"QRA sites {', '.join(result.sites)}; the verdict on distance is the zone rule's)",
        {"ir": ir_total, "criterion": level, "sites": list(result.sites)})]
    verdict = {"acceptable": "permitted", "alarp": rules.societal_alarp,
               "unacceptable": rules.societal_unacceptable}[fn_worst]
    if rows:
        worst = max(rows, key=lambda r: r["fn_with"]["worst_ratio"])
        f = worst["fn_with"]
        reasons.append(Reason(
            "qra_societal_risk", verdict,
            f"加入拟建项目 {population} 人后, 危险源 {worst['site_id']} 的社会风险 (F-N 曲线) {_FN_ZH[f['verdict']]}: "
            f"最大 F·N = {f['worst_f'] * f['worst_n']:.2g} (N = {f['worst_n']:.0f}; GB 36894-2018)",
            f"with the proposal's {population} people added, the societal risk (F-N curve) of hazard site "
            f"{worst['site_id']} is {f['verdict']}: largest F·N = {f['worst_f'] * f['worst_n']:.2g} at "
            f"N = {f['worst_n']:.0f} against the lines {f['upper']:g}/N and {f['lower']:g}/N (GB 36894-2018)",
            {"site_id": worst["site_id"], "verdict": f["verdict"], "worst_n": f["worst_n"], "worst_f": f["worst_f"]}))
    info = {"criterion": level, "target_class": cls, "status": result.rules.site_status, "ir_total": ir_total,
            "sites": rows, "proposal_id": PROPOSAL_ID, "weather": result.rules.weather.source}
    return info, reasons
