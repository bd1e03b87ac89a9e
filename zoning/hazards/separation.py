"""Separation checks: who stands inside whose distance (the ``separation_violations`` layer).

Five rules, each a vectorised spatial query (a shapely 2 ``STRtree`` of the sites' envelopes
widened by their distance, queried by the subjects; :func:`_candidates`) followed by an exact
distance between the two geometries; a pair violates a rule when that distance
is *strictly* below the required one, so a target exactly on the edge of a distance is compliant.

=========================  ===================================================================
rule                       who, and the required distance
=========================  ===================================================================
``class_buffer``           protected target within the site's external safety distance for its
                           own GB 36894 class (GB/T 37243-2019 §4; ``safety_buffers``)
``crowded_in_any_buffer``  crowded place or labour-intensive works (targets of the rule set's
                           ``crowded_kinds``; industrial plots with ≥ ``labour_intensive_min_workers``
                           workers, other than the site's own plot) within the site's largest
                           external safety distance, whatever its class
``shelter_near_hazard``    shelter within ``shelter_min_distance_m`` (1000 m, GB 50413-2007) of a
                           site holding a flammable or explosive substance
``station_near_hazard``    fire station within ``station_min_distance_m`` (300 m, 建标152-2017) of
                           a hazardous-chemical site
``domino``                 two hazard sites closer than ``domino_min_distance_m`` (each pair once)
=========================  ===================================================================

All layers must share one metric CRS (``geo.errors.CRSError`` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_metric, require_same_crs
from geo.errors import InputError
from geo.threads import threaded, threaded_query
from layers.catalogue.protected_targets import KINDS
from zoning.errors import RuleSetError
from zoning.hazards.major_hazard import MajorHazardRules, inventory_items
from zoning.rules import RuleSet, get

__all__ = ["class_pairs", "RULES", "SeparationRules", "parse_separation_rules", "find_violations"]

#: Values of the ``rule`` column, in the order rows are reported.
RULES = ("class_buffer", "crowded_in_any_buffer", "shelter_near_hazard", "station_near_hazard", "domino")
_COLUMNS = ["rule", "subject_layer", "subject_id", "site_id", "target_class", "required_m", "actual_m",
            "shortfall_m", "reason"]


@dataclass(frozen=True)
class SeparationRules:
    """The ``[separation]`` table of a rule set, checked."""

    crowded_kinds: tuple[str, ...]
    labour_intensive_min_workers: int
    shelter_min_distance_m: float
    station_min_distance_m: float
    domino_min_distance_m: float


def parse_separation_rules(ruleset: RuleSet) -> SeparationRules:
    """Read and check the ``[separation]`` table of a rule set.

    Raises
    ------
    zoning.errors.RuleSetError
        Naming the key path, e.g. ``separation.shelter_min_distance_m: -1.0 is below the minimum 0``
        or an unknown kind in ``separation.crowded_kinds`` (listing the valid ones).

    Examples
    --------
    >>> from zoning.rules import load_ruleset
    >>> parse_separation_rules(load_ruleset()).shelter_min_distance_m
    1000.0
    """
    t = ruleset.table("separation")
    kinds = get(t, "crowded_kinds", list, root="separation")
    valid = tuple(k.value for k in KINDS)
    if any(k not in valid for k in kinds):
        raise RuleSetError(f"separation.crowded_kinds: {kinds!r} must be among {', '.join(valid)}")
    return SeparationRules(
        crowded_kinds=tuple(kinds),
        labour_intensive_min_workers=get(t, "labour_intensive_min_workers", int, minimum=1, root="separation"),
        **{k: get(t, k, float, minimum=0, root="separation")
           for k in ("shelter_min_distance_m", "station_min_distance_m", "domino_min_distance_m")},
    )


def _require(frame, columns: tuple[str, ...], layer: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{layer}: required column(s) {', '.join(missing)} missing; columns present: "
                         f"{', '.join(map(str, frame.columns)) or '(none)'}")


def _geoms(frame) -> np.ndarray:
    return np.asarray(frame.geometry.array, dtype=object)


def _candidates(subjects: np.ndarray, sites: np.ndarray, reach: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(subject index, site index, envelope gap) of the pairs whose envelopes are within reach.

    ``reach`` holds one distance per site (NaN or ≤ 0: the site is skipped). The tree holds the
    few site envelopes widened by their reach (cheap to build); the subjects query it on all
    cores. The gap between two envelopes is a lower bound of the true distance, so pairs whose
    gap exceeds the reach are dropped with array arithmetic before any exact distance.
    """
    keep = np.flatnonzero(np.isfinite(reach) & (reach > 0))
    if len(subjects) == 0 or len(keep) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    x0, y0, x1, y1 = shapely.bounds(sites[keep]).T
    r = reach[keep]
    subject, k = threaded_query(shapely.STRtree(shapely.box(x0 - r, y0 - r, x1 + r, y1 + r)), subjects)
    b = shapely.bounds(subjects)[subject]
    gap = np.hypot(np.maximum(np.maximum(b[:, 0] - x1[k], x0[k] - b[:, 2]), 0.0),
                   np.maximum(np.maximum(b[:, 1] - y1[k], y0[k] - b[:, 3]), 0.0))
    near = gap <= r[k]
    return subject[near], keep[k[near]], gap[near]


def _near(subjects: np.ndarray, sites: np.ndarray, within) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(subject index, site index, exact distance) of the pairs within ``within`` metres.

    ``within`` is one distance or one per site (NaN or ≤ 0: the site is skipped), so a site with
    a short distance never drags in the candidates of the longest one.
    """
    within = np.broadcast_to(np.asarray(within, dtype=float), (len(sites),))
    subject, site, _ = _candidates(subjects, sites, within)
    actual = threaded(shapely.distance, subjects[subject], sites[site])
    close = actual <= within[site]
    return subject[close], site[close], actual[close]


def class_pairs(target_geoms: np.ndarray, target_class: np.ndarray, site_geoms: np.ndarray,
                site_ids: np.ndarray, required: pd.DataFrame) -> pd.DataFrame:
    """The (target, site) pairs closer than the site's distance for the target's GB 36894 class.

    The search core of the ``class_buffer`` rule, kept apart so it can be measured against a
    buffer-and-join baseline: one STRtree over the sites' envelopes widened by their largest
    distance (a few thousand boxes: cheap to build), queried with every target on all cores; each
    candidate is then held to the distance for its own class, first by the gap between envelopes
    (arrays), then by the exact distance (on all cores).

    Parameters
    ----------
    target_geoms, target_class : numpy.ndarray
        Protected targets' geometries and GB 36894 classes.
    site_geoms, site_ids : numpy.ndarray
        Hazard sites' geometries and ids.
    required : pandas.DataFrame
        ``site_id``, ``target_class``, ``required`` (metres).

    Returns
    -------
    pandas.DataFrame
        ``t`` (target index), ``s`` (site index), ``required`` (the site's distance for the
        target's class) and ``actual`` (metres, ≤ required), all numeric: no string is built for
        the pairs here.
    """
    table = required.pivot_table(index="site_id", columns="target_class", values="required", aggfunc="max")
    table = table.reindex(index=site_ids)
    # Column -1 (all NaN) is the distance for a class the site has no figure for: never closer.
    need_of = np.column_stack([table.to_numpy(dtype=float), np.full(len(site_ids), np.nan)])
    codes, classes = pd.factorize(np.asarray(target_class, dtype=object))  # hash 200 000 strings once
    column = np.append(pd.Index(table.columns).get_indexer(classes), -1)[codes]  # code -1 (missing) → -1
    reach = np.nanmax(need_of, axis=1, initial=-np.inf) if len(site_ids) else np.empty(0)
    t, site, gap = _candidates(target_geoms, site_geoms, reach)
    need = need_of[site, column[t]]
    near = gap <= need  # the envelope gap already drops the other classes' candidates
    t, site, need = t[near], site[near], need[near]
    actual = threaded(shapely.distance, target_geoms[t], site_geoms[site])
    close = actual <= need
    return pd.DataFrame({"t": t[close], "s": site[close], "required": need[close], "actual": actual[close]})


def _f(values) -> pd.Series:
    return pd.Series(np.char.mod("%.1f", np.asarray(values, dtype=float)), dtype=object)


def _rows(rule: str, layer: str, subject_ids, site_ids, target_class, required, actual, geoms,
          reason_head) -> gpd.GeoDataFrame:
    """Violation rows (``actual < required``) with the standard columns; reason = head + figures."""
    required, actual = np.asarray(required, dtype=float), np.asarray(actual, dtype=float)
    keep = actual < required
    df = pd.DataFrame({
        "rule": rule, "subject_layer": layer,
        "subject_id": np.asarray(subject_ids, dtype=object)[keep],
        "site_id": np.asarray(site_ids, dtype=object)[keep],
        "target_class": np.asarray(target_class, dtype=object)[keep],
        "required_m": required[keep], "actual_m": actual[keep],
    })
    df["shortfall_m"] = df["required_m"] - df["actual_m"]
    head = pd.Series(np.asarray(reason_head, dtype=object)[keep])
    df["reason"] = (head + ": " + _f(df["actual_m"]) + " m < " + _f(df["required_m"])
                    + " m required, short by " + _f(df["shortfall_m"]) + " m")
    df["geometry"] = np.asarray(geoms, dtype=object)[keep]
    return df


def find_violations(targets, buffers, sites, plots=None, shelters=None, stations=None, *,
                    rules: SeparationRules, major_hazard_rules: MajorHazardRules | None = None
                    ) -> gpd.GeoDataFrame:
    """Find every separation violation (the ``separation_violations`` layer).

    Parameters
    ----------
    targets : geopandas.GeoDataFrame
        protected_targets: ``target_id``, ``kind``, ``gb36894_class``.
    buffers : pandas.DataFrame or geopandas.GeoDataFrame
        The ``safety_buffers`` layer (or the :func:`~zoning.hazards.distances.safety_distances` frame):
        ``site_id``, ``target_class``, ``distance_m`` (and ``method``). Only the figures are used;
        distances are measured from the site geometry itself, not from the buffer polygon.
    sites : geopandas.GeoDataFrame
        hazard_sites: ``site_id`` (``plot_id`` to spare a site's own plot; ``inventory`` when
        ``shelters`` are checked).
    plots, shelters, stations : geopandas.GeoDataFrame, optional
        industrial_plots (``plot_id``, ``workers``), shelters (``shelter_id``), rescue_stations
        (``station_id``). A rule whose layer is not given is not checked.
    rules : SeparationRules
    major_hazard_rules : MajorHazardRules, optional
        The substance table, needed with ``shelters`` to tell flammable/explosive sites.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``rule`` (:data:`RULES`), ``subject_layer``, ``subject_id``, ``site_id``,
        ``target_class`` (None for the shelter, station and domino rules), ``required_m``,
        ``actual_m``, ``shortfall_m`` (required − actual, > 0), ``reason`` and ``geometry`` (the
        subject's), in the layers' metric CRS. ``attrs["layer"] == "separation_violations"``.

    Raises
    ------
    geo.errors.CRSError
        If the layers are not all in one projected CRS in metres.
    geo.errors.InputError
        If a required column is missing, a buffer names an unknown site, or ``shelters`` are given
        without ``major_hazard_rules``.
    """
    crs = require_metric(sites.crs, what="separation checks")
    layers = {"protected_targets": targets, "safety_buffers": buffers, "industrial_plots": plots,
              "shelters": shelters, "rescue_stations": stations}
    for name, layer in layers.items():
        if isinstance(layer, gpd.GeoDataFrame):
            require_same_crs(sites, layer, names=("hazard_sites", name))
    _require(sites, ("site_id",), "hazard_sites")
    _require(targets, ("target_id", "kind", "gb36894_class"), "protected_targets")
    _require(buffers, ("site_id", "target_class", "distance_m"), "safety_buffers")
    site_ids = sites["site_id"].astype(str).to_numpy()
    site_geoms = _geoms(sites)
    if len(set(site_ids)) != len(site_ids):
        raise InputError("hazard_sites: site_id values must be unique")
    req = pd.DataFrame({"site_id": buffers["site_id"].astype(str).to_numpy(dtype=object),
                        "target_class": buffers["target_class"].to_numpy(dtype=object),
                        "required": buffers["distance_m"].to_numpy(dtype=float),
                        "method": buffers["method"].to_numpy() if "method" in buffers else "?"})
    unknown = sorted(set(req["site_id"]) - set(site_ids))
    if unknown:
        raise InputError(f"safety_buffers: site(s) {', '.join(unknown[:5])} are not in hazard_sites")
    found: list[gpd.GeoDataFrame] = []

    # class_buffer: a target inside the distance for its own class.
    t_geoms = _geoms(targets)
    t_ids = targets["target_id"].astype(str).to_numpy()
    t_kind, t_class = targets["kind"].astype(str).to_numpy(), targets["gb36894_class"].to_numpy()
    pairs = class_pairs(t_geoms, t_class, site_geoms, site_ids, req)
    t = pairs["t"].to_numpy()
    pair_site = pd.Series(site_ids[pairs["s"].to_numpy()], dtype=object)
    pair_class = pd.Series(np.asarray(t_class, dtype=object)[t], dtype=object)
    methods = req.drop_duplicates(["site_id", "target_class"]).set_index(["site_id", "target_class"])["method"]
    method = methods.reindex(pd.MultiIndex.from_arrays([pair_site, pair_class])).astype(str).to_numpy()
    found.append(_rows(
        "class_buffer", "protected_targets", t_ids[t], pair_site, pair_class, pairs["required"], pairs["actual"],
        t_geoms[t],
        "防护目标 " + pd.Series(t_kind[t]) + " '" + pd.Series(t_ids[t]) + "' (" + pair_class
        + ") is inside the external safety distance of hazard site '" + pair_site + "' for its class ("
        + method + "; GB/T 37243-2019 §4, GB 36894-2018)"))

    # crowded_in_any_buffer: crowded places and labour-intensive works inside the largest distance.
    largest = req.sort_values("required", ascending=False, kind="stable").drop_duplicates("site_id")
    largest = largest.set_index("site_id").reindex(site_ids)
    crowded = np.isin(t_kind, rules.crowded_kinds)
    subjects = [("protected_targets", t_ids[crowded], t_geoms[crowded],
                 "人员密集场所/劳动密集型企业 " + pd.Series(t_kind[crowded]).astype(object) + " '"
                 + pd.Series(t_ids[crowded], dtype=object) + "'", np.full(crowded.sum(), None, object))]
    if plots is not None:
        _require(plots, ("plot_id", "workers"), "industrial_plots")
        workers = pd.to_numeric(plots["workers"], errors="coerce").fillna(0).to_numpy()
        busy = workers >= rules.labour_intensive_min_workers
        p_ids = plots["plot_id"].astype(str).to_numpy()[busy]
        subjects.append(("industrial_plots", p_ids, _geoms(plots)[busy],
                         "劳动密集型企业 labour-intensive plot '" + pd.Series(p_ids, dtype=object) + "' ("
                         + pd.Series(workers[busy]).astype(int).astype(str) + " workers)", p_ids))
    own_plot = sites["plot_id"].astype(str).to_numpy() if "plot_id" in sites else np.full(len(sites), None)
    for layer, ids, geoms, head, plot_of in subjects:
        i, s, actual = _near(geoms, site_geoms, largest["required"].to_numpy())
        other = pd.isna(plot_of[i]) | (plot_of[i] != own_plot[s])
        i, s, actual = i[other], s[other], actual[other]
        lg = largest.iloc[s]
        found.append(_rows(
            "crowded_in_any_buffer", layer, ids[i], site_ids[s], lg["target_class"], lg["required"], actual,
            geoms[i], head.iloc[i].to_numpy() + " is inside the external safety distance of hazard site '"
            + site_ids[s] + "' (its largest, for " + lg["target_class"].astype(str).to_numpy()
            + "); crowded places and labour-intensive works may not stand inside any"))

    # shelter_near_hazard and station_near_hazard: fixed distances from (some) sites.
    if shelters is not None:
        _require(shelters, ("shelter_id",), "shelters")
        if major_hazard_rules is None:
            raise InputError("find_violations: checking shelters needs major_hazard_rules (the substance "
                             "table) to tell flammable/explosive sites")
        _require(sites, ("inventory",), "hazard_sites")
        items = inventory_items(sites["inventory"], major_hazard_rules, site_ids=site_ids)
        burns = items["flammable"].astype(bool) | (items["hazard_class"] == "explosive")
        burning = items[items["known"] & burns]
        fire = np.isin(np.arange(len(sites)), burning["site"].to_numpy())
        found.append(_fixed("shelter_near_hazard", "shelters", shelters, "shelter_id",
                            site_geoms[fire], site_ids[fire], rules.shelter_min_distance_m,
                            "避难场所 shelter", "flammable/explosive site", "GB 50413-2007"))
    if stations is not None:
        _require(stations, ("station_id",), "rescue_stations")
        found.append(_fixed("station_near_hazard", "rescue_stations", stations, "station_id", site_geoms,
                            site_ids, rules.station_min_distance_m, "消防站 fire station",
                            "hazardous-chemical site", "建标152-2017"))

    # domino: each pair of sites once.
    a, b, actual = _near(site_geoms, site_geoms, rules.domino_min_distance_m)
    once = a < b
    a, b, actual = a[once], b[once], actual[once]
    found.append(_rows(
        "domino", "hazard_sites", site_ids[b], site_ids[a], np.full(len(a), None, object),
        np.full(len(a), rules.domino_min_distance_m), actual, site_geoms[b],
        "多米诺 domino: hazard sites '" + pd.Series(site_ids[a], dtype=object) + "' and '"
        + pd.Series(site_ids[b], dtype=object) + "' are closer than the screening distance "
        "(separation.domino_min_distance_m)"))

    found = [f for f in found if len(f)]
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=_COLUMNS)
    geometry = gpd.GeoSeries(out["geometry"].to_numpy(dtype=object) if found else [], crs=crs)
    out = gpd.GeoDataFrame(out[_COLUMNS], geometry=geometry.to_numpy(), crs=crs)
    out.attrs["layer"] = "separation_violations"
    return out


def _fixed(rule, layer, frame, id_field, site_geoms, site_ids, required, what, site_what, clause):
    """Rows of a fixed-distance rule between a layer and some sites."""
    geoms, ids = _geoms(frame), frame[id_field].astype(str).to_numpy()
    i, s, actual = _near(geoms, site_geoms, required)
    return _rows(rule, layer, ids[i], site_ids[s], np.full(len(i), None, object), np.full(len(i), required),
                 actual, geoms[i], what + " '" + pd.Series(ids[i], dtype=object) + "' is too close to "
                 + site_what + " '" + pd.Series(site_ids[s], dtype=object) + f"' ({clause})")
