"""Siting review: may this project go here? (``riskmap site``; the server's ``POST /api/siting``).

:func:`review_site` takes a proposed project (a shapely point or polygon in lon/lat, EPSG:4490),
its kind (:data:`KINDS` of the rule set: school, kindergarten, hospital, care_home, housing,
crowded_place, labour_intensive, office, hazardous_plant) and population, and returns a
:class:`SitingVerdict`: ``permitted``, ``conditional``, ``advise_against`` or ``veto`` (一票否决),
with every reason and its figures. The verdict is the most severe of:

1. **the decision matrix** (``[siting.matrix]``, PADHI-like): development sensitivity level
   (1 people at work … 4 very vulnerable or very large; per kind and population) × zone:
   *inner* inside a hazard site's external safety distance (GB/T 37243-2019) for the proposal's
   own GB 36894-2018 class, *middle* inside one for any class, *outer* within
   ``siting.consultation_m`` beyond a site's largest distance, *none* farther;
2. **vetoes** (GB/T 37243-2019 §4 with GB 36894-2018): a proposal of ``siting.veto_classes``
   (high-sensitivity, important, general I) inside the distance of its own class; a crowded
   place or labour-intensive works (``separation.crowded_kinds``) inside any distance;
3. **the zone colour** where it stands (``risk_zones``: the grid cell, else the town), a least
   verdict per colour and sensitivity (``[siting.colour]``);
4. **services**: the response time of the nearest fire station (network travel time from the
   roads, or the radius fallback) against GB 51080-2015 §4.1.3, the nearest shelter by walking
   against its class's service radius (GB 50413-2007) (``[siting.services]``);
5. for a **hazardous plant**: its inventory graded (GB 18218-2018), its own external safety
   distances (GB/T 37243-2019), and the existing targets, shelters, stations and hazard sites
   they would swallow (:func:`zoning.hazards.separation.find_violations`) (``[siting.hazardous_plant]``).

Bad input is refused with one clear error: an unknown kind (InputError listing the kinds), an
empty proposal (InputError), an invalid geometry (GeometryError with the reason), coordinates
that are not lon/lat. **Outside the data area**: a proposal within ``siting.max_outside_m`` of
the data area (admin_areas) but not inside it gets at least ``conditional`` and a warning (the
neighbouring authority's sites are not in the store); farther out it is refused (InputError).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import STORE_CRS
from geo.errors import GeometryError, InputError
from zoning.hazards.separation import parse_separation_rules
from zoning.rules import RuleSet
from zoning.siting.checks import (Reason, check_colour, check_data_area, check_fire, check_nearby,
                                  check_plant, check_shelter, check_zone, clean, map_features)
from zoning.siting.context import SitingContext
from zoning.siting.qra import check_qra
from zoning.siting.report import render_siting_report
from zoning.siting.rules import CLASS_ZH, VERDICT_ZH, VERDICTS, ZONE_ZH, ZONES, parse_siting_rules, worst

__all__ = ["SitingVerdict", "Reason", "review_site", "proposal_geometry", "render_siting_report",
           "VERDICTS", "ZONES", "parse_siting_rules"]

_GEOM_TYPES = ("Point", "MultiPoint", "Polygon", "MultiPolygon")


@dataclass
class SitingVerdict:
    """The answer of :func:`review_site`; :meth:`to_dict` for JSON, :func:`render_siting_report` for HTML."""

    verdict: str
    kind: str
    kind_zh: str
    kind_en: str
    population: int
    population_assumed: bool
    gb36894_class: str
    sensitivity: int
    zone: str
    reasons: list[Reason]
    buffers: list[dict]
    zone_colour: dict | None
    town_colour: dict | None
    nearby: dict
    fire: dict | None
    shelter: dict | None
    plant: dict | None
    warnings: list[str]
    ruleset: str
    geometry: shapely.Geometry
    features: list[dict] = field(default_factory=list)
    qra: dict | None = None
    deciding: dict | None = None

    def to_dict(self) -> dict:
        """A JSON-able dict (no NaN, no numpy scalars): verdict, reasons, figures, map features (GeoJSON, lon/lat)."""
        return _jsonable({
            "verdict": self.verdict, "verdict_zh": VERDICT_ZH[self.verdict],
            "kind": self.kind, "kind_zh": self.kind_zh, "kind_en": self.kind_en,
            "population": self.population, "population_assumed": self.population_assumed,
            "gb36894_class": self.gb36894_class, "gb36894_class_zh": CLASS_ZH.get(self.gb36894_class, ""),
            "sensitivity": self.sensitivity, "zone": self.zone, "zone_zh": ZONE_ZH[self.zone],
            "zone_colour": self.zone_colour, "town_colour": self.town_colour,
            "reasons": [{"rule": r.rule, "verdict": r.verdict, "zh": r.zh, "en": r.en, "figures": r.figures}
                        for r in self.reasons],
            "buffers": self.buffers, "nearby": self.nearby, "fire": self.fire, "shelter": self.shelter,
            "plant": self.plant, "warnings": self.warnings, "ruleset": self.ruleset,
            "qra": self.qra, "deciding": self.deciding,
            "geometry": _geojson(self.geometry),
            "map": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": _geojson(f["geometry"]),
                 "properties": {k: v for k, v in f.items() if k != "geometry"}} for f in self.features]},
        })


def _jsonable(value):
    """``value`` with numpy scalars as Python ones and NaN/inf as None, through dicts and lists."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return clean(value)


def _geojson(geom) -> dict:
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-7)))


# --- input checks ---------------------------------------------------------------------------------

def proposal_geometry(obj) -> shapely.Geometry:
    """The proposal's geometry from parsed GeoJSON: a Feature, a FeatureCollection or a geometry (lon/lat).

    A collection of several features is one project on several parcels: their union. A GeoJSON
    ``crs`` member naming anything but lon/lat (CRS84, EPSG:4326, EPSG:4490) is refused.

    >>> proposal_geometry({"type": "Feature", "properties": {},
    ...                    "geometry": {"type": "Point", "coordinates": [119.9, 31.8]}}).wkt
    'POINT (119.9 31.8)'
    """
    if not isinstance(obj, Mapping) or not isinstance(obj.get("type"), str):
        raise InputError("proposal: expected a GeoJSON object with a \"type\" (Feature, FeatureCollection or a geometry)")
    crs = obj.get("crs") or {"properties": {"name": "CRS84"}}
    crs = str(crs.get("properties", {}).get("name", "")) if isinstance(crs, Mapping) and isinstance(
        crs.get("properties", {}), Mapping) else str(crs)
    if not any(code in crs.upper() for code in ("CRS84", "4326", "4490")):
        raise InputError(f"proposal: coordinates are declared in {crs}; give them in lon/lat (EPSG:4490 or WGS84)")
    kind = obj["type"]
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            raise InputError("proposal: the FeatureCollection has no features")
        geoms = [proposal_geometry(f) for f in features]
        return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    if kind == "Feature":
        if obj.get("geometry") is None:
            raise InputError("proposal: the Feature has no geometry")
        return _check_geometry(obj["geometry"])
    return _check_geometry(obj)


def _check_geometry(geom) -> shapely.Geometry:
    if isinstance(geom, Mapping):
        try:
            geom = shapely.geometry.shape(geom)
        except Exception as exc:  # shapely raises several types for bad GeoJSON
            raise GeometryError(f"proposal geometry cannot be read as GeoJSON: {exc}") from None
    if geom is None or not isinstance(geom, shapely.Geometry):
        raise InputError(f"proposal geometry: expected a shapely geometry (lon/lat), got {type(geom).__name__}")
    if geom.is_empty:
        raise InputError("proposal geometry is empty: give the site as a point or a polygon in lon/lat")
    if geom.geom_type not in _GEOM_TYPES:
        raise GeometryError(f"proposal geometry is a {geom.geom_type}; a site is a point or a polygon "
                            f"({', '.join(_GEOM_TYPES)})")
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise GeometryError("proposal geometry has non-finite coordinates (NaN or infinity)")
    if not geom.is_valid:
        raise GeometryError(f"proposal geometry is invalid: {shapely.is_valid_reason(geom)}; repair it "
                            "(e.g. remove the self-intersection) and resubmit")
    if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise InputError(f"proposal coordinates {xy[0].round(3).tolist()} are not longitude/latitude; "
                         "give them in EPSG:4490 (CGCS2000 lon/lat), not projected metres")
    return geom


def _population(population, kind) -> tuple[int, bool]:
    if population is None:
        return kind.default_population, True
    try:
        value = float(population)
    except (TypeError, ValueError):
        raise InputError(f"population: expected a number of persons, got {population!r}") from None
    if not np.isfinite(value) or value < 0 or value != int(value):
        raise InputError(f"population: expected a whole number of persons ≥ 0, got {population!r}")
    return int(value), False


def _inventory(inventory) -> list[dict]:
    if isinstance(inventory, str):
        try:
            inventory = json.loads(inventory)
        except json.JSONDecodeError as exc:
            raise InputError(f"inventory: not valid JSON ({exc})") from None
    if isinstance(inventory, Mapping) and "inventory" in inventory:
        inventory = inventory["inventory"]
    if not isinstance(inventory, list) or not inventory or not all(isinstance(i, Mapping) for i in inventory):
        raise InputError('inventory: expected a non-empty list of {"name": …, "quantity_t": …} items')
    return [dict(i) for i in inventory]


def review_site(proposal_geometry, kind: str, *, context: SitingContext, ruleset: RuleSet | None = None,
                population=None, inventory=None) -> SitingVerdict:
    """Review a proposed project: the verdict and every reason behind it (see the module docstring).

    Parameters
    ----------
    proposal_geometry : shapely.Geometry or GeoJSON-like mapping
        The site, a point or (multi)polygon in lon/lat (EPSG:4490).
    kind : str
        A kind of ``[siting.kinds]``: school, kindergarten, hospital, care_home, housing,
        crowded_place, labour_intensive, office, hazardous_plant.
    context : SitingContext
        The store's layers (:meth:`SitingContext.from_store`).
    ruleset : RuleSet, optional
        Default: the context's.
    population : int, optional
        Persons (pupils, beds, residents, workers); default: the kind's ``default_population``,
        said in the reasons.
    inventory : list of dict or JSON text, optional
        For a ``hazardous_plant`` (required there, refused elsewhere): ``[{"name", "quantity_t"}]``
        (``cas`` optional), as in ``hazard_sites.inventory``.

    Raises
    ------
    InputError
        Unknown kind (the message lists the kinds), empty proposal, population not a whole number
        ≥ 0, missing or unusable inventory, proposal far outside the data area.
    GeometryError
        Invalid geometry (with the reason), or a geometry that is not a point or polygon.
    """
    rs = ruleset if ruleset is not None else context.ruleset
    rules = parse_siting_rules(rs)
    if kind not in rules.kinds:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(rules.kinds)}")
    k = rules.kinds[kind]
    geom_ll = _check_geometry(proposal_geometry)
    pop, assumed = _population(population, k)
    if inventory is not None and not k.inventory:
        raise InputError(f"an inventory is only for kind hazardous_plant, not {kind!r}")
    if k.inventory and inventory is None:
        raise InputError(f"kind {kind!r} needs an inventory: a list of {{\"name\": …, \"quantity_t\": …}} items")
    items = _inventory(inventory) if k.inventory else None
    cls, level = k.class_for(pop, rules.general_classes), k.level_for(pop)
    geom = gpd.GeoSeries([geom_ll], crs=STORE_CRS).to_crs(context.crs).iloc[0]
    warn = list(context.warnings)
    reasons = [Reason("population", "permitted",
                      f"{k.zh}, {pop} 人{'(未给出, 按默认值)' if assumed else ''}: {CLASS_ZH.get(cls, cls)}, 开发敏感度 {level} 级",
                      f"{k.en}, {pop} persons{' (not given: siting.kinds.' + kind + '.default_population assumed)' if assumed else ''}"
                      f": GB 36894 class {cls}, development sensitivity level {level}",
                      {"population": pop, "assumed": assumed, "gb36894_class": cls, "sensitivity": level})]
    outside = check_data_area(geom, context, rules)
    reasons += outside
    warn += [r.en for r in outside]
    crowded = parse_separation_rules(rs).crowded_kinds
    zone, buffers, zone_reasons, site_ids = check_zone(geom, cls, k, level, context, rules, crowded)
    reasons += zone_reasons
    colour, town, colour_reasons = check_colour(geom, context, rules, level)
    reasons += colour_reasons
    fire, fire_reasons = check_fire(geom, context, rules)
    shelter, shelter_reasons = check_shelter(geom, pop, context, rules)
    reasons += fire_reasons + shelter_reasons
    plant, own = None, None
    if k.inventory:
        plant, own, plant_reasons = check_plant(geom, items, context, rules)
        reasons += plant_reasons
        warn += plant["warnings"]
    qra, qra_reasons = check_qra(geom, cls, pop, context, rules, site_ids)
    reasons += qra_reasons
    nearby = check_nearby(geom, context, rules.nearby_m)
    verdict = worst(r.verdict for r in reasons)
    return SitingVerdict(
        verdict=verdict, kind=kind, kind_zh=k.zh, kind_en=k.en, population=pop,
        population_assumed=assumed, gb36894_class=cls, sensitivity=level, zone=zone, reasons=reasons,
        buffers=buffers, zone_colour=colour, town_colour=town, nearby=nearby, fire=fire, shelter=shelter,
        plant=plant, warnings=warn, ruleset=rs.label, geometry=geom_ll,
        features=map_features(geom, context, rules, cls, site_ids, own, nearby, fire, shelter),
        qra=qra, deciding=deciding_distance(verdict, reasons, buffers))


def deciding_distance(verdict: str, reasons: list[Reason], buffers: list[dict]) -> dict | None:
    """The distance behind the verdict: the first reason giving the verdict that measures one.

    Returns the rule, site, class, required and actual distances, and the method and basis of the
    required distance (``table``, ``qra``…, with the reasons of ``safety_buffers``); None when the
    verdict does not rest on a distance (e.g. a zone colour or a service).

    >>> deciding_distance("permitted", [Reason("zone", "permitted", "", "", {})], []) is None
    True
    """
    for r in reasons:
        if r.verdict != verdict or "required_m" not in r.figures or "site_id" not in r.figures:
            continue
        f = r.figures
        cls = f.get("target_class")
        match = [b for b in buffers if b["site_id"] == f["site_id"] and (cls is None or b["target_class"] == cls)]
        row = max(match, key=lambda b: b["required_m"]) if match else {}
        return {"rule": r.rule, "site_id": f["site_id"], "target_class": row.get("target_class", cls),
                "required_m": float(f["required_m"]), "actual_m": float(f["actual_m"]),
                "shortfall_m": float(f["required_m"]) - float(f["actual_m"]), "method": row.get("method"),
                "basis": row.get("basis"), "en": r.en, "zh": r.zh}
    return None
