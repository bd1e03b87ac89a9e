"""External safety distances (外部安全防护距离) after GB/T 37243-2019, and their buffers.

§4 of the standard picks the method per installation:

1. explosives (爆炸物) → **consequence method** (§5, 事故后果法): the distance at which the air
   blast of the site's explosives, as TNT equivalent, falls to the overpressure threshold of each
   GB 36894 protected-target class (:mod:`zoning.hazards.blast`);
2. toxic or flammable gases with Σ q/Q ≥ 1 (GB 18218-2018 critical quantities) →
   **quantitative risk assessment** (§6, 定量风险评价法): riskmap's QRA where the rule set models the
   site's substances (:mod:`zoning.hazards.qra`: the distance to the individual-risk contour at the
   GB 36894-2018 criterion of each class), and the site's own assessed distance
   (``declared_distance_m``) when it has one; with neither, a conservative provisional distance
   from the rule set ("provisional, QRA pending", flagged "table distance, no QRA");
3. everything else → the specialist code's distance (a table in the rule set).

A site holding several kinds of substance gets, per protected class, the largest distance of the
methods that apply, and its reasons list every candidate. All figures come from the rule set's
``[distances]`` table (see ``data/rules/default.toml``).

>>> from zoning.rules import load_ruleset
>>> rules = parse_distance_rules(load_ruleset())
>>> rules.threshold_kpa["high_sensitivity"], rules.q_tnt_kj_kg
(2.0, 4500.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs_for, require_metric
from geo.errors import InputError
from layers.catalogue.protected_targets import GB36894_CLASSES
from layers.errors import Problem, ValidationError
from zoning.errors import RuleSetError
from zoning.hazards.blast import SWISDAK_1994, BlastCurve, distance_to_overpressure, scaled_distance_at
from zoning.hazards.major_hazard import HAZARD_CLASSES, MajorHazardRules, inventory_items
from zoning.rules import RuleSet, get

__all__ = ["METHODS", "Explosive", "DistanceRules", "parse_distance_rules", "qra_path", "safety_distances",
           "safety_buffers"]

#: Values of the ``method`` column: GB/T 37243-2019 §5, §6 (riskmap's QRA / provisional / the site's
#: declared assessment) and §4 item 3.
METHODS = ("consequence", "qra", "qra_provisional", "qra_declared", "table")
_PROTECTED = tuple(c.value for c in GB36894_CLASSES)
_TABLE_CLASSES = tuple(c for c in HAZARD_CLASSES if c != "explosive")
_COLUMNS = ["site_id", "target_class", "method", "distance_m", "reasons"]


@dataclass(frozen=True)
class Explosive:
    """TNT-equivalence factors of one explosive substance: η and heat of explosion Qc (kJ/kg)."""

    eta: float
    qc_kj_kg: float


@dataclass(frozen=True)
class DistanceRules:
    """The ``[distances]`` table of a rule set, checked (see :func:`parse_distance_rules`)."""

    classes: tuple[str, ...]
    qra_hazard_classes: tuple[str, ...]
    qra_ratio_threshold: float
    q_tnt_kj_kg: float
    reference_substance: str
    threshold_kpa: dict[str, float]
    explosives: dict[str, Explosive]
    qra_provisional: dict[str, dict[str, float]]
    table: dict[str, dict[str, float]]
    curve: BlastCurve = field(default=SWISDAK_1994)


def _path(table: str, key: str) -> str:
    return f'{table}."{key}"' if any(c in key for c in ' ."') else f"{table}.{key}"


def _names(d: dict, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = get(d, key, list, root="distances")
    bad = [v for v in values if v not in allowed]
    if not values or bad or len(set(values)) != len(values):
        raise RuleSetError(f"distances.{key}: expected distinct values among {', '.join(allowed)}, "
                           f"got {values!r}")
    return tuple(values)


def _positive(d: dict, path: str, root: str) -> float:
    v = get(d, path, float, root=root)
    if not math.isfinite(v) or v <= 0:
        raise RuleSetError(f"{root}.{path}: {v!r} is not above 0")
    return v


def parse_distance_rules(ruleset: RuleSet) -> DistanceRules:
    """Read and check the ``[distances]`` table of a rule set.

    Checks every figure's type and range, that each overpressure threshold lies within the blast
    curve's range (0.25–17 000 kPa for :data:`~zoning.hazards.blast.SWISDAK_1994`), that every hazard
    class has a table distance for every protected class, and, when the rule set has a
    ``[substances]`` table, that every substance of hazard class ``explosive`` has η and Qc.

    Raises
    ------
    zoning.errors.RuleSetError
        Naming the key path, e.g. ``distances.table.flammable_liquid.general_2: missing``.
    """
    d = ruleset.table("distances")
    classes = _names(d, "classes", _PROTECTED)
    qra_classes = _names(d, "qra_hazard_classes", _TABLE_CLASSES)
    ratio = _positive(d, "qra_ratio_threshold", "distances")
    blast = get(d, "blast", dict, root="distances")
    q_tnt = _positive(blast, "q_tnt_kj_kg", "distances.blast")
    reference = get(blast, "reference_substance", str, root="distances.blast")
    lowest, highest = SWISDAK_1994.pressure_range
    thresholds = {c: get(blast, f"threshold_kpa.{c}", float, minimum=round(lowest, 3) + 0.001,
                         maximum=round(highest), root="distances.blast") for c in classes}
    explosives = {}
    for key, entry in get(blast, "substances", dict, default={}, root="distances.blast").items():
        root = _path("distances.blast.substances", key)
        eta = get(entry, "eta", float, maximum=1.0, root=root) if isinstance(entry, dict) else None
        if eta is None or eta <= 0:
            raise RuleSetError(f"{root}: expected a table with 0 < eta ≤ 1 and qc_kj_kg > 0")
        explosives[key] = Explosive(eta, _positive(entry, "qc_kj_kg", root))

    def _matrix(name: str, hazard_classes: tuple[str, ...]) -> dict[str, dict[str, float]]:
        return {hc: {c: get(d, f"{name}.{hc}.{c}", float, minimum=0, root="distances")
                     for c in classes} for hc in hazard_classes}

    substances = ruleset.tables.get("substances", {})
    if substances and reference not in substances:
        raise RuleSetError(f"distances.blast.reference_substance: {reference!r} is not a key of "
                           "[substances]")
    for key, entry in substances.items():
        if isinstance(entry, dict) and entry.get("hazard_class") == "explosive" \
                and key != reference and key not in explosives:
            raise RuleSetError(f"{_path('distances.blast.substances', key)}: missing; "
                               f"{_path('substances', key)} is an explosive and needs eta and qc_kj_kg")
    return DistanceRules(classes, qra_classes, ratio, q_tnt, reference, thresholds, explosives,
                         _matrix("qra_provisional", qra_classes), _matrix("table", _TABLE_CLASSES))


def _f(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float)).map(
        lambda x: f"{x:.1f}".rstrip("0").rstrip(".") if abs(x) >= 100 else f"{x:.4g}").astype(str)


def _consequence(known: pd.DataFrame, rules: DistanceRules) -> pd.DataFrame:
    """(site, target_class, method, distance_m, reason) for the sites holding explosives (§5)."""
    ex = known[known["hazard_class"] == "explosive"].reset_index(drop=True)
    if ex.empty:
        return pd.DataFrame()
    missing = sorted(set(ex["substance"]) - set(rules.explosives) - {rules.reference_substance})
    if missing:
        raise RuleSetError(f"{_path('distances.blast.substances', missing[0])}: missing "
                           "(an explosive in an inventory needs eta and qc_kj_kg)")
    factors = pd.DataFrame({k: (e.eta, e.qc_kj_kg) for k, e in rules.explosives.items()},
                           index=["eta", "qc"]).T
    ex = ex.join(factors, on="substance")
    is_ref = (ex["substance"] == rules.reference_substance).to_numpy()
    mass = ex["quantity_t"].to_numpy() * 1000.0
    ex["w"] = np.where(is_ref, mass, mass * ex["eta"].fillna(1) * ex["qc"].fillna(0) / rules.q_tnt_kj_kg)
    ex["why"] = ex["substance"] + " " + _f(mass) + " kg → " + np.where(
        is_ref, "W_TNT = W = " + _f(ex["w"]) + " kg (reference explosive)",
        "W_TNT = η·W·Qc/Q_TNT = " + _f(ex["eta"]) + "×" + _f(mass) + "×" + _f(ex["qc"]) + "/"
        + f"{rules.q_tnt_kj_kg:.4g} = " + _f(ex["w"]) + " kg")
    per_site = ex.groupby("site").agg(w=("w", "sum"), why=("why", "; ".join)).reset_index()
    thr = np.array([rules.threshold_kpa[c] for c in rules.classes])
    dist = distance_to_overpressure(thr[None, :], per_site["w"].to_numpy()[:, None], rules.curve)
    k = len(rules.classes)
    out = pd.DataFrame({
        "site": np.repeat(per_site["site"].to_numpy(), k),
        "target_class": np.tile(rules.classes, len(per_site)),
        "method": "consequence", "distance_m": dist.ravel(),
    })
    z = _f(np.tile(scaled_distance_at(thr, rules.curve), len(per_site)))
    w = _f(np.repeat(per_site["w"].to_numpy(), k))
    out["reason"] = ("consequence method (GB/T 37243-2019 §5): " + np.repeat(per_site["why"].to_numpy(), k)
                     + "; total W_TNT = " + w.to_numpy() + " kg; side-on overpressure falls to "
                     + _f(np.tile(thr, len(per_site))).to_numpy() + " kPa (threshold of "
                     + out["target_class"] + ") at Z = " + z.to_numpy() + " m/kg^(1/3), R = Z·W^(1/3) = "
                     + _f(out["distance_m"]).to_numpy() + " m (Kingery–Bulmash, Swisdak 1994)")
    return out


def _by_table(present: pd.DataFrame, matrix: dict, classes, method: str, label: str) -> pd.DataFrame:
    """Largest distance per (site, class) over the hazard classes present, from a rule-set table."""
    if present.empty:
        return pd.DataFrame()
    rows = present.merge(pd.DataFrame({"target_class": classes}), how="cross")
    lookup = pd.Series({(hc, c): v for hc, row in matrix.items() for c, v in row.items()})
    rows["distance_m"] = lookup.reindex(pd.MultiIndex.from_frame(rows[["hazard_class", "target_class"]])
                                        ).to_numpy(dtype=float)
    rows = rows.sort_values("distance_m", ascending=False, kind="stable")
    rows = rows.drop_duplicates(["site", "target_class"])
    rows["method"] = method
    rows["reason"] = (label + _f(rows["distance_m"]).to_numpy() + " m for " + rows["hazard_class"]
                      + " / " + rows["target_class"])
    return rows.drop(columns="hazard_class")


def qra_path(items: pd.DataFrame, rules: DistanceRules) -> tuple[pd.DataFrame, pd.Index, pd.Series]:
    """Which sites take the QRA path of GB/T 37243-2019 §4 item 2.

    Parameters
    ----------
    items : pandas.DataFrame
        :func:`zoning.hazards.major_hazard.inventory_items` of the sites.
    rules : DistanceRules

    Returns
    -------
    (gas_items, sites, ratio)
        The known items of ``rules.qra_hazard_classes`` (toxic and flammable gases), the positions
        of the sites whose Σq/Q over them reaches ``rules.qra_ratio_threshold``, and that Σq/Q per
        site holding any.
    """
    known = items[items["known"]]
    gas = known[known["hazard_class"].isin(rules.qra_hazard_classes)]
    gas_ratio = gas.groupby("site")["ratio"].sum()
    qra_sites = gas_ratio.index[np.round(gas_ratio.to_numpy(), 9) >= rules.qra_ratio_threshold]
    return gas, qra_sites, gas_ratio


def safety_distances(sites_gdf, rules: DistanceRules, major_hazard_rules: MajorHazardRules,
                     qra=None) -> pd.DataFrame:
    """External safety distance of every site for every protected class (GB/T 37243-2019 §4).

    Parameters
    ----------
    sites_gdf : pandas.DataFrame or geopandas.GeoDataFrame
        hazard_sites rows: ``site_id``, ``inventory`` and optionally ``declared_distance_m``.
    rules : DistanceRules
    major_hazard_rules : MajorHazardRules
        The substance table (critical quantities, hazard classes).
    qra : zoning.hazards.qra.assess.QRAResult, optional
        The QRA of the sites on the QRA path (:func:`zoning.hazards.qra.assess.assess_sites`). A
        site it assessed gets the distance of its individual-risk contour at each class's
        GB 36894 criterion (method ``qra``) instead of the provisional table distance, its F-N
        verdict and the models' validity notes in the reasons; a QRA-path site it left out keeps
        the provisional distance, flagged "table distance, no QRA" with the reason. Without it
        every QRA-path site is provisional (or declared).

    Returns
    -------
    pandas.DataFrame
        One row per site × protected class (``rules.classes`` order): ``site_id``,
        ``target_class``, ``method`` (one of :data:`METHODS`, the method giving the largest
        distance), ``distance_m`` and ``reasons`` (list; the governing candidate first).
        A site with no substance the rule set knows gets no row; ``attrs["warnings"]`` says so,
        and lists unknown substances.

    Examples
    --------
    >>> import pandas as pd
    >>> from zoning.rules import load_ruleset
    >>> from zoning.hazards.major_hazard import parse_major_hazard_rules
    >>> rs = load_ruleset()
    >>> sites = pd.DataFrame({"site_id": ["M"], "inventory": ['[{"name": "tnt", "quantity_t": 10}]']})
    >>> d = safety_distances(sites, parse_distance_rules(rs), parse_major_hazard_rules(rs))
    >>> d[["target_class", "method"]].iloc[[0, 4]].values.tolist(), d["distance_m"].round(0).tolist()
    ([['high_sensitivity', 'consequence'], ['general_3', 'consequence']], [974.0, 974.0, 504.0, 504.0, 504.0])
    """
    n = len(sites_gdf)
    ids = sites_gdf["site_id"].astype(str).to_numpy()
    if len(set(ids)) != n:
        raise InputError("hazard_sites: site_id values must be unique")
    items = inventory_items(sites_gdf["inventory"], major_hazard_rules, site_ids=ids)
    known = items[items["known"]]
    gas, qra_sites, gas_ratio = qra_path(items, rules)
    declared = pd.to_numeric(pd.Series(sites_gdf.get("declared_distance_m", pd.Series([None] * n))
                                       .to_numpy()), errors="coerce")
    if (declared < 0).any():
        raise ValidationError("hazard_sites", [Problem(ids[i], "declared_distance_m", "negative distance")
                                               for i in np.flatnonzero(declared.to_numpy() < 0)])
    has_declared = qra_sites[declared.iloc[qra_sites].notna().to_numpy()] if len(qra_sites) else qra_sites
    qra_head = (f"QRA path (GB/T 37243-2019 §4, §6): Σq/Q of {'/'.join(rules.qra_hazard_classes)} = "
                + gas_ratio.map(lambda x: f"{x:.4g}").astype(str) + f" ≥ {rules.qra_ratio_threshold:.4g}; ")
    frames = [_consequence(known, rules)]
    pos_of = pd.Series(np.arange(n), index=ids)
    qra_rows = qra.distance_rows(rules.classes) if qra is not None else pd.DataFrame(
        columns=["site_id", "target_class", "distance_m", "reason", "notes"])
    qra_rows = qra_rows[qra_rows["site_id"].isin(pos_of.index)]
    assessed = pos_of.reindex(qra_rows["site_id"].unique()).to_numpy(dtype=int)
    if len(qra_rows):
        q = pd.DataFrame({"site": pos_of.reindex(qra_rows["site_id"]).to_numpy(dtype=int),
                          "target_class": qra_rows["target_class"].to_numpy(), "method": "qra",
                          "distance_m": qra_rows["distance_m"].to_numpy(dtype=float)})
        q["reason"] = qra_head.reindex(q["site"]).to_numpy() + qra_rows["reason"].to_numpy()
        frames.append(q)
    if len(has_declared):
        dec = pd.DataFrame({"site": np.asarray(has_declared)}).merge(
            pd.DataFrame({"target_class": rules.classes}), how="cross")
        dec["distance_m"] = declared.iloc[dec["site"]].to_numpy(dtype=float)
        dec["method"] = "qra_declared"
        dec["reason"] = (qra_head.reindex(dec["site"]).to_numpy() + "assessed distance "
                         + _f(dec["distance_m"]).to_numpy() + " m (hazard_sites.declared_distance_m)")
        frames.append(dec)
    provisional = gas[gas["site"].isin(qra_sites.difference(has_declared).difference(assessed))]
    prov = _by_table(provisional[["site", "hazard_class"]].drop_duplicates(), rules.qra_provisional,
                     rules.classes, "qra_provisional", "provisional, QRA pending: conservative distance ")
    if not prov.empty:
        why = pd.Series(getattr(qra, "skipped", {}) or {}, dtype=object)
        why = why.reindex(ids[prov["site"].to_numpy(dtype=int)]).fillna("table distance, no QRA").to_numpy()
        prov["reason"] = qra_head.reindex(prov["site"]).to_numpy() + prov["reason"].to_numpy() \
            + " (distances.qra_provisional): " + why
    frames.append(prov)
    rest = known[(known["hazard_class"] != "explosive")
                 & ~(known["site"].isin(qra_sites) & known["hazard_class"].isin(rules.qra_hazard_classes))]
    frames.append(_by_table(rest[["site", "hazard_class"]].drop_duplicates(), rules.table, rules.classes,
                            "table", "table distance, no QRA: specialist-code distance (GB/T 37243-2019 §4 item 3, "
                                     "distances.table) "))
    frames = [f for f in frames if not f.empty]
    cand = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["site", "target_class", "method", "distance_m", "reason"])
    cand["order"] = cand["target_class"].map({c: i for i, c in enumerate(rules.classes)})
    cand = cand.sort_values(["site", "order", "distance_m"], ascending=[True, True, False], kind="stable")
    out = cand.groupby(["site", "order"], sort=True).agg(
        target_class=("target_class", "first"), method=("method", "first"),
        distance_m=("distance_m", "first"), reasons=("reason", list)).reset_index()
    unknown = items[~items["known"]]
    note = ("substance '" + unknown["name"].fillna(unknown["cas"]).astype(str)
            + "' not in the rule set's table; not counted").groupby(unknown["site"]).agg(list)
    qra_notes = pd.Series({pos_of[k]: v for k, v in qra_rows.drop_duplicates("site_id")[["site_id", "notes"]]
                           .itertuples(index=False)}, dtype=object)
    out["reasons"] = [r + note.get(s, []) + (list(qra_notes.get(s, [])) if m == "qra" else [])
                      for s, r, m in zip(out["site"], out["reasons"], out["method"])]
    out.insert(0, "site_id", ids[out["site"].to_numpy(dtype=int)] if len(out) else [])
    warnings = [f"site {ids[s]}: {m}" for s, ms in note.items() for m in ms]
    warnings += [f"site {ids[s]}: no substance of the rule set's table; no external safety distance"
                 for s in sorted(set(range(n)) - set(out["site"]))]
    out = out[_COLUMNS].astype({"site_id": object, "target_class": object, "method": object,
                                "distance_m": float, "reasons": object})
    out.attrs["warnings"] = warnings
    return out


#: Smallest buffer width (m): a site needing no distance is drawn as its footprint widened by 1 cm.
FOOTPRINT_M = 0.01


def safety_buffers(sites_gdf: gpd.GeoDataFrame, distances_df: pd.DataFrame, crs=None,
                   quad_segs: int = 32) -> gpd.GeoDataFrame:
    """The ``safety_buffers`` layer: each site's geometry buffered by each of its distances.

    Parameters
    ----------
    sites_gdf : geopandas.GeoDataFrame
        hazard_sites with ``site_id`` and a CRS (typically EPSG:4490, the store's).
    distances_df : pandas.DataFrame
        Output of :func:`safety_distances`.
    crs : CRS-like, optional
        Metric CRS of the result. Default: the sites' own CRS if it is metric, else
        :func:`geo.crs.metric_crs_for` (the Gauss-Krüger zone of the data, e.g. EPSG:4549).
    quad_segs : int
        Segments per quarter circle of the buffer (32: the polygon's chord error is < 0.05 % of
        the distance).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``site_id``, ``target_class``, ``method``, ``distance_m``, ``reasons`` (joined
        with "; ") and ``geometry``: the site's geometry buffered by ``distance_m`` (a polygon
        site from its edge), in the metric CRS. ``attrs["layer"] == "safety_buffers"``.

    Raises
    ------
    geo.errors.CRSError
        If ``crs`` is geographic or not in metres, or the sites have no CRS.
    geo.errors.InputError
        If a distance names a site that is not in ``sites_gdf``.
    """
    if crs is not None:
        target = require_metric(crs, what="safety buffers")
    elif sites_gdf.crs is not None and sites_gdf.crs.is_projected:
        target = require_metric(sites_gdf.crs, what="safety buffers")
    else:
        target = metric_crs_for(sites_gdf)
    sites = sites_gdf.to_crs(target)
    by_id = pd.Series(np.arange(len(sites)), index=sites["site_id"].astype(str).to_numpy())
    if not by_id.index.is_unique:
        raise InputError("hazard_sites: site_id values must be unique")
    ids = distances_df["site_id"].astype(str)
    unknown = sorted(set(ids) - set(by_id.index))
    if unknown:
        raise InputError(f"safety buffers: site(s) {', '.join(unknown[:5])} are in the distances "
                         "but not in hazard_sites")
    geoms = np.asarray(sites.geometry.array, dtype=object)[by_id.reindex(ids).to_numpy(dtype=int)]
    # A zero distance still draws the site's own footprint: widened by FOOTPRINT_M so that a point
    # site keeps a polygon and every buffer contains its site.
    widths = np.maximum(distances_df["distance_m"].to_numpy(dtype=float), FOOTPRINT_M)
    buffered = shapely.buffer(geoms, widths, quad_segs=quad_segs)
    out = gpd.GeoDataFrame({
        "site_id": ids.to_numpy(), "target_class": distances_df["target_class"].to_numpy(),
        "method": distances_df["method"].to_numpy(),
        "distance_m": distances_df["distance_m"].to_numpy(dtype=float),
        "reasons": [r if isinstance(r, str) else "; ".join(r) for r in distances_df["reasons"]],
    }, geometry=buffered, crs=target)
    out.attrs["layer"] = "safety_buffers"
    return out
