"""Which sites get a QRA, and the QRA of each: IR table, distances per class, F-N curve, notes.

GB/T 37243-2019 §4 item 2 sends toxic and flammable gases with Σq/Q ≥ 1 to the quantitative risk
assessment of §6 (:func:`zoning.hazards.distances.qra_path`). A site on that path gets a QRA here
when every QRA-path substance it holds has properties in ``[qra.substances]``; otherwise it keeps
the provisional table distance and :attr:`QRAResult.skipped` says why.

For each assessed site (:class:`SiteQRA`): its reference installation and scenarios
(:func:`~zoning.hazards.qra.scenarios.site_scenarios`), its polar IR table
(:func:`~zoning.hazards.qra.individual.site_risk`), the external safety distance of each
GB 36894-2018 protected-target class — the farthest point of the site's own IR contour at that
class's criterion (new or existing installation) —, its F-N curve when people are known
(:func:`~zoning.hazards.qra.societal.site_fn`), and the validity notes of every model it used.

A site's releases start at its representative point; the distances are measured from there, and
:func:`zoning.hazards.distances.safety_buffers` draws them from a polygon site's edge (so a polygon
site's buffer is, if anything, wider than its QRA asks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from geo.crs import require_metric
from zoning.hazards.distances import parse_distance_rules, qra_path
from zoning.hazards.major_hazard import inventory_items, parse_major_hazard_rules
from zoning.hazards.qra import validity
from zoning.hazards.qra.contours import format_rate, ir_contours
from zoning.hazards.qra.individual import SiteRisk, site_risk
from zoning.hazards.qra.rules import QRARules, parse_qra_rules
from zoning.hazards.qra.scenarios import site_scenarios
from zoning.hazards.qra.societal import DIRECTIONS, FNCurve, lethal_reach, site_fn
from zoning.hazards.qra.threat_zones import threat_zones
from zoning.rules import RuleSet

__all__ = ["SiteQRA", "QRAResult", "assess_sites", "people_points", "contour_layer"]


@dataclass
class SiteQRA:
    """The QRA of one site (see the module docstring)."""

    site_id: str
    status: str
    risk: SiteRisk
    holdings: list[tuple[str, float, int]]
    distances: dict[str, float]
    levels: dict[str, float]
    fn: FNCurve | None
    notes: list[str] = field(default_factory=list)

    def reason(self, target_class: str) -> str:
        """The sentence saying where the distance of ``target_class`` comes from."""
        level, d = self.levels[target_class], self.distances[target_class]
        held = ", ".join(f"{k} {t:g} t in {n} vessel{'s' if n > 1 else ''}" for k, t, n in self.holdings)
        where = (f"reached up to {d:,.0f} m from the site" if d > 0 else "not reached anywhere (distance 0)")
        return (f"QRA (GB/T 37243-2019 §6): individual risk {format_rate(level)} (GB 36894-2018 criterion for "
                f"{target_class}, {self.status} installation) {where}; {held}; "
                f"{len(self.risk.footprints)} scenario × weather cases")

    def fn_reason(self) -> str | None:
        """The societal-risk sentence, or None when no population was given."""
        f = self.fn
        if f is None:
            return None
        if not f.n.size:
            return (f"societal risk (GB 36894-2018 F-N): no outcome kills 1 person or more; acceptable "
                    f"(expected {f.expected_deaths:.2g} deaths/a)")
        return (f"societal risk (GB 36894-2018 F-N): {f.verdict} — largest F·N = {f.worst_f * f.worst_n:.2g} at "
                f"N = {f.worst_n:.0f} (F = {f.worst_f:.2g}/a) against the lines {f.upper:g}/N and {f.lower:g}/N")


@dataclass
class QRAResult:
    """The QRA of a set of sites: per assessed site, and the sites on the QRA path left out (why)."""

    sites: dict[str, SiteQRA]
    skipped: dict[str, str]
    rules: QRARules
    crs: CRS
    _spectra: dict = field(default_factory=dict, repr=False)     # F-N sector spectra shared between sites

    def fn_for(self, risk: SiteRisk, people_xy: np.ndarray, people: np.ndarray) -> FNCurve:
        """The F-N curve of a site's risk for the people given (metric (k, 2) points and counts)."""
        r = self.rules
        return site_fn(risk, people_xy, people, rose_weights=r.weather.rose.downwind_weights(DIRECTIONS),
                       indoor_fraction=r.indoor_fraction, indoor_factor=r.indoor_factor, upper=r.fn_upper,
                       lower=r.fn_lower, n_min=r.fn_n_min, n_max=r.fn_n_max, memo=self._spectra)

    def distance_rows(self, classes) -> pd.DataFrame:
        """(site_id, target_class, distance_m, reason, notes) for every assessed site and class."""
        rows = []
        for s in self.sites.values():
            extra = [r for r in (s.fn_reason(),) if r] + [f"validity: {n}" for n in s.notes]
            for c in classes:
                rows.append((s.site_id, c, s.distances[c], s.reason(c), extra))
        return pd.DataFrame(rows, columns=["site_id", "target_class", "distance_m", "reason", "notes"])

    def contours(self) -> gpd.GeoDataFrame:
        """The ``ir_contours`` layer (metric CRS of the assessment)."""
        return contour_layer([s.risk for s in self.sites.values()], self.rules, self.crs)

    def threat_zones(self) -> gpd.GeoDataFrame:
        """The ``threat_zones`` layer (metric CRS of the assessment)."""
        w = self.rules.weather
        return threat_zones([s.risk for s in self.sites.values()], self.crs,
                            radiation_kw_m2=self.rules.threat_radiation_kw_m2, toxic=self.rules.threat_toxic,
                            overpressure_kpa=self.rules.threat_overpressure_kpa, ambient_k=w.ambient_k,
                            pressure_pa=w.pressure_pa)


def contour_layer(risks: list[SiteRisk], rules: QRARules, crs) -> gpd.GeoDataFrame:
    """``ir_contours`` of the sites' IR tables at the rule set's levels, each level naming its criteria."""
    criteria = {}
    for status, row in rules.individual_risk.items():
        for c, v in row.items():
            criteria.setdefault(v, []).append(f"{c} ({status})")
    return ir_contours(risks, rules.levels, rules.grid_cell_m, crs,
                       criteria={k: ", ".join(v) for k, v in criteria.items()})


def people_points(crs, *, population=None, targets: gpd.GeoDataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """People as points in ``crs``: raster cell centres (values, transform, raster CRS) and targets.

    ``population`` is ``(values, affine transform, crs)`` of a persons-per-cell raster (nodata,
    NaN and negative cells count as nobody); ``targets`` protected targets with ``population``
    (their representative points). Returns ``(xy (k, 2), persons (k,))``.
    """
    xy, count = [np.empty((0, 2))], [np.empty(0)]
    if population is not None:
        values, transform, raster_crs = population
        v = np.asarray(values, dtype=float)
        rows, cols = np.nonzero(np.isfinite(v) & (v > 0))
        px = transform.c + transform.a * (cols + 0.5) + transform.b * (rows + 0.5)
        py = transform.f + transform.d * (cols + 0.5) + transform.e * (rows + 0.5)
        if CRS(raster_crs) != CRS(crs):
            px, py = Transformer.from_crs(raster_crs, crs, always_xy=True).transform(px, py)
        xy.append(np.column_stack([px, py]))
        count.append(v[rows, cols])
    if targets is not None and len(targets) and "population" in targets:
        pts = targets.to_crs(crs).geometry.representative_point()
        xy.append(shapely.get_coordinates(pts.to_numpy()))
        count.append(pd.to_numeric(targets["population"], errors="coerce").fillna(0.0).to_numpy(dtype=float))
    return np.concatenate(xy), np.concatenate(count)


def _notes(risk: SiteRisk, distances: dict[str, float], rules: QRARules, scenarios) -> list[str]:
    d = np.array([v for v in distances.values() if v > 0])
    winds = [w.wind_m_s for w in rules.weather.classes]
    models = set().union(*(fp.models for fp in risk.footprints)) if risk.footprints else set()
    out = list(risk.notes)
    for key in ("gaussian_plume", "gaussian_puff"):
        if key in models:
            out += validity.ALL_LIMITS[key].check(distance_m=d, wind_m_s=winds)
    if "britter_mcquaid" in models:
        out += validity.BRITTER_MCQUAID.check(wind_m_s=winds)
    flames = [fp.flame_m for fp in risk.footprints if fp.flame_m > 0]
    if flames and d.size:
        out += validity.POINT_SOURCE.check(distance_over_flame=d / max(flames))
    durations = [sc.duration_s for sc in scenarios if sc.kind == "inventory"]
    out += validity.SOURCE_TERMS.check(release_s=durations) if durations else []
    if d.size and d.max() >= rules.grid.r[-1]:
        out.append(f"individual risk still above a criterion at {rules.grid.r[-1]:,.0f} m, the end of the "
                   "grid (qra.max_distance_m): the distance is at least that")
    if "placeholder" in rules.weather.source:
        out.append(f"weather: {rules.weather.source}")
    out.append("reference installation (qra.installation, max_vessel_t per substance): the store records "
               "substances and tonnes, not equipment; the site's own QRA replaces it")
    return validity.notes(out)


def assess_sites(sites: gpd.GeoDataFrame, ruleset: RuleSet, *, status: str | None = None, population=None,
                 targets: gpd.GeoDataFrame | None = None, rules: QRARules | None = None) -> QRAResult:
    """QRA of every site on the QRA path whose substances are modelled (see the module docstring).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        hazard_sites (``site_id``, ``inventory``, geometry) in a metric CRS (EPSG:4549 …).
    ruleset : RuleSet
    status : {"new", "existing"}, optional
        GB 36894-2018 column; default ``qra.site_status`` of the rule set.
    population : (values, transform, crs), optional
        Persons-per-cell raster for the F-N curves (:func:`people_points`).
    targets : geopandas.GeoDataFrame, optional
        Protected targets with ``population`` (added to the raster's people).
    rules : QRARules, optional
        Already parsed ``[qra]`` table (default: parsed from ``ruleset``).

    Raises
    ------
    geo.errors.CRSError
        If ``sites`` is not in a metric CRS.
    """
    crs = require_metric(sites.crs, what="quantitative risk assessment")
    rules = rules or parse_qra_rules(ruleset)
    mh, dr = parse_major_hazard_rules(ruleset), parse_distance_rules(ruleset)
    status = status or rules.site_status
    ids = sites["site_id"].astype(str).to_numpy()
    items = inventory_items(sites["inventory"], mh, site_ids=ids)
    gas, qra_sites, _ = qra_path(items, dr)
    points = shapely.get_coordinates(sites.geometry.representative_point().to_numpy())
    people = people_points(crs, population=population, targets=targets) \
        if population is not None or (targets is not None and len(targets)) else None
    tree = cKDTree(people[0]) if people is not None and len(people[1]) else None
    result = QRAResult({}, {}, rules, crs)
    shared: dict = {}     # footprints of equal source terms, computed once for all sites
    assessed, skipped = result.sites, result.skipped
    for pos in qra_sites:
        held = gas[gas["site"] == pos].groupby("substance")["quantity_t"].sum()
        missing = [k for k in held.index if k not in rules.substances]
        if missing:
            skipped[ids[pos]] = (f"no QRA properties for {', '.join(missing)} in the rule set ([qra.substances]): "
                                 "table distance, no QRA")
            continue
        holdings = [(rules.substances[k], float(t)) for k, t in held.items()]
        scenarios = site_scenarios(holdings, rules.equipment, rules.installation)
        x, y = points[pos]
        risk = site_risk(ids[pos], x, y, scenarios, rules.weather, rules.grid, release=rules.release,
                         ignition=rules.ignition, effects=rules.effects, cache=shared)
        levels = {c: rules.criterion(c, status) for c in dr.classes}
        distances = {c: risk.distance_to(v) for c, v in levels.items()}
        fn = None
        if people is not None:
            # sorted: people in their own order whatever else the tree holds, so a site's F-N sums
            # are the same in a partition of the province as in the whole (zoning.province)
            near = tree.query_ball_point([x, y], lethal_reach(risk), return_sorted=True) if tree is not None else []
            fn = result.fn_for(risk, people[0][near], people[1][near])
        vessels = {sc.substance.key: sc.vessels for sc in scenarios}
        notes = _notes(risk, distances, rules, scenarios) + (fn.notes if fn is not None else [])
        assessed[ids[pos]] = SiteQRA(ids[pos], status, risk, [(s.key, t, vessels.get(s.key, 1)) for s, t in holdings],
                                     distances, levels, fn, validity.notes(notes))
    return result
