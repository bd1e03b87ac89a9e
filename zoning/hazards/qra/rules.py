"""The ``[qra]`` table of a rule set, read and checked into :class:`QRARules`.

Every figure of the QRA lives in the rule set (``data/rules/default.toml``, section "Quantitative
risk assessment") with its source; this module only reads them, checks types and ranges, and
raises :class:`~zoning.errors.RuleSetError` naming the key path. Substances are matched to the
``[substances]`` table (read through :func:`zoning.hazards.major_hazard.parse_major_hazard_rules`)
by CAS number, so a renamed substance key keeps its properties.

>>> from zoning.rules import load_ruleset
>>> rules = parse_qra_rules(load_ruleset())
>>> rules.criterion("high_sensitivity", "new"), rules.criterion("general_3", "existing")
(3e-07, 3e-05)
>>> sorted(rules.substances)[:3]
['ammonia', 'chlorine', 'ethylene oxide']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.errors import InputError
from layers.catalogue.protected_targets import GB36894_CLASSES
from zoning.errors import RuleSetError
from zoning.hazards.major_hazard import parse_major_hazard_rules
from zoning.hazards.qra.dispersion import PUFF_SIGMAS, TERRAINS
from zoning.hazards.qra.footprint import EffectRules, PolarGrid
from zoning.hazards.qra.scenarios import OUTCOMES, Equipment, IgnitionRules, Installation, LOCDefinition, PipeBand
from zoning.hazards.qra.source import ReleaseRules
from zoning.hazards.qra.substances import EFFECTS, REACTIVITY, STORAGE_KINDS, QRASubstance
from zoning.hazards.qra.weather import Weather, WeatherClass, WindRose
from zoning.rules import RuleSet, get

__all__ = ["STATUSES", "QRARules", "parse_qra_rules"]

#: GB 36894-2018 Table 1 columns: new (新建、改建、扩建) and existing (在役) installations.
STATUSES = ("new", "existing")
_CLASSES = tuple(c.value for c in GB36894_CLASSES)
_THREAT_TOXIC = ("lethality_1pct", "aegl3", "aegl2")


@dataclass(frozen=True)
class QRARules:
    """The checked ``[qra]`` table (see ``data/rules/default.toml`` for every figure's source)."""

    site_status: str
    grid: PolarGrid
    grid_cell_m: float
    individual_risk: dict
    fn_upper: float
    fn_lower: float
    fn_n_min: float
    fn_n_max: float
    weather: Weather
    release: ReleaseRules
    ignition: IgnitionRules
    effects: EffectRules
    equipment: dict
    installation: Installation
    substances: dict
    indoor_fraction: float
    indoor_factor: dict
    threat_radiation_kw_m2: tuple[float, ...]
    threat_toxic: tuple[str, ...]
    threat_overpressure_kpa: tuple[float, ...]

    def criterion(self, target_class: str, status: str | None = None) -> float:
        """GB 36894-2018 individual-risk limit (per year) of a protected class for an installation status."""
        return self.individual_risk[status or self.site_status][target_class]

    @property
    def levels(self) -> tuple[float, ...]:
        """Every distinct individual-risk criterion, highest first (the ir_contours levels)."""
        return tuple(sorted({v for row in self.individual_risk.values() for v in row.values()}, reverse=True))


def _path(table: str, key: str) -> str:
    return f'{table}."{key}"' if any(c in key for c in ' ."') else f"{table}.{key}"


def _pos(t: dict, key: str, root: str, *, maximum: float | None = None, default=None) -> float:
    v = get(t, key, float, root=root) if default is None else get(t, key, float, default=default, root=root)
    if not math.isfinite(v) or v <= 0 or (maximum is not None and v > maximum):
        rng = f"in (0, {maximum:g}]" if maximum is not None else "above 0"
        raise RuleSetError(f"{root}.{key}: {v!r} is not {rng}")
    return v


def _fraction(t: dict, key: str, root: str) -> float:
    return get(t, key, float, minimum=0.0, maximum=1.0, root=root)


def _floats(t: dict, key: str, root: str, n: int | None = None) -> tuple[float, ...]:
    values = get(t, key, list, root=root)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) \
            or (n is not None and len(values) != n):
        want = f"{n} numbers" if n is not None else "a list of numbers"
        raise RuleSetError(f"{root}.{key}: expected {want}, got {values!r}")
    return tuple(float(v) for v in values)


def _choice(t: dict, key: str, root: str, allowed, default=None) -> str:
    v = get(t, key, str, root=root) if default is None else get(t, key, str, default=default, root=root)
    if v not in allowed:
        raise RuleSetError(f"{root}.{key}: {v!r} is not one of {', '.join(allowed)}")
    return v


def _rows(rows, root: str, fields: str, build) -> list:
    """``build(row, where)`` for each table of a list, ``where`` its key path; non-tables and the
    model's own InputError become RuleSetError naming the row (``qra.weather.classes[2]: …``)."""
    out = []
    for i, row in enumerate(rows):
        where = f"{root}[{i}]"
        if not isinstance(row, dict):
            raise RuleSetError(f"{where}: expected a table {{{fields}}}")
        try:
            out.append(build(row, where))
        except InputError as exc:
            raise RuleSetError(f"{where}: {exc}") from None
    return out


def _criteria(q: dict) -> tuple[dict, tuple[float, ...]]:
    ir = {}
    for status in STATUSES:
        root = f"qra.criteria.individual_risk.{status}"
        row = get(q, f"criteria.individual_risk.{status}", dict, root="qra")
        ir[status] = {c: _pos(row, c, root, maximum=1.0) for c in _CLASSES}
    fn = get(q, "criteria.societal_risk", dict, root="qra")
    root = "qra.criteria.societal_risk"
    upper, lower = _pos(fn, "upper", root, maximum=1.0), _pos(fn, "lower", root, maximum=1.0)
    n_min, n_max = _pos(fn, "n_min", root), _pos(fn, "n_max", root)
    if lower >= upper or n_min >= n_max:
        raise RuleSetError(f"{root}: need lower < upper and n_min < n_max")
    return ir, (upper, lower, n_min, n_max)


def _weather(q: dict) -> Weather:
    root = "qra.weather"
    w = get(q, "weather", dict, root="qra")
    classes = _rows(get(w, "classes", list, root=root), f"{root}.classes", "name, stability, wind_m_s, probability",
                    lambda row, where: WeatherClass(get(row, "name", str, root=where),
                                                    get(row, "stability", str, root=where),
                                                    get(row, "wind_m_s", float, root=where),
                                                    get(row, "probability", float, root=where)))
    rose = _floats(w, "rose", root)
    if not rose or min(rose) < 0 or sum(rose) <= 0:
        raise RuleSetError(f"{root}.rose: expected relative frequencies ≥ 0, not all 0")
    total = sum(rose)
    try:
        return Weather(tuple(classes), WindRose(tuple(v / total for v in rose), get(w, "source", str, root=root)),
                       ambient_k=273.15 + get(w, "ambient_temperature_c", float, minimum=-50.0, maximum=60.0,
                                              root=root),
                       pressure_pa=_pos(w, "pressure_pa", root), source=get(w, "source", str, root=root))
    except InputError as exc:
        raise RuleSetError(f"{root}: {exc}") from None


def _loc(row: dict, where: str) -> LOCDefinition:
    loc = LOCDefinition(get(row, "name", str, root=where), get(row, "kind", str, root=where),
                        get(row, "frequency", float, root=where),
                        get(row, "diameter_mm", float, default=0.0, minimum=0.0, root=where),
                        get(row, "duration_s", float, default=600.0, minimum=1.0, root=where))
    if loc.kind == "hole" and loc.diameter_mm <= 0:
        raise RuleSetError(f"{where}.diameter_mm: a hole needs a diameter above 0")
    return loc


def _equipment(q: dict) -> dict:
    out = {}
    for key, entry in get(q, "equipment", dict, root="qra").items():
        root = _path("qra.equipment", key)
        locs = _rows(get(entry, "locs", list, root=root) if isinstance(entry, dict) else [None], f"{root}.locs",
                     "name, kind, frequency", _loc)
        if not locs:
            raise RuleSetError(f"{root}.locs: no loss-of-containment event")
        out[key] = Equipment(key, tuple(locs), get(entry, "citation", str, default="", root=root))
    return out


def _installation(q: dict) -> Installation:
    root = "qra.installation"
    t = get(q, "installation", dict, root="qra")
    bands = _rows(get(t, "pipes", list, default=[], root=root), f"{root}.pipes",
                  "max_diameter_mm, rupture_per_m, leak_per_m",
                  lambda row, where: PipeBand(_pos(row, "max_diameter_mm", where),
                                              _pos(row, "rupture_per_m", where, maximum=1.0),
                                              _pos(row, "leak_per_m", where, maximum=1.0)))
    if any(a.max_diameter_mm >= b.max_diameter_mm for a, b in zip(bands, bands[1:])):
        raise RuleSetError(f"{root}.pipes: max_diameter_mm must increase")
    return Installation(get(t, "pipe_length_m", float, minimum=0.0, root=root), _pos(t, "pipe_diameter_mm", root),
                        tuple(bands), _fraction(t, "leak_fraction", root), _pos(t, "leak_max_mm", root),
                        get(t, "pipe_citation", str, default="", root=root))


def _substances(q: dict, ruleset: RuleSet, equipment: dict) -> dict:
    mh = parse_major_hazard_rules(ruleset)
    out = {}
    for key, e in get(q, "substances", dict, root="qra").items():
        root = _path("qra.substances", key)
        if not isinstance(e, dict):
            raise RuleSetError(f"{root}: expected a table")
        cas = get(e, "cas", str, root=root).strip()
        known = mh.substance(cas)
        if known is None:
            raise RuleSetError(f"{root}.cas: {cas!r} is not the CAS number of any [substances] entry")
        effects = tuple(get(e, "effects", list, root=root))
        if not effects or any(x not in EFFECTS for x in effects):
            raise RuleSetError(f"{root}.effects: expected a list among {', '.join(EFFECTS)}, got {list(effects)!r}")
        storage = _choice(e, "storage", root, STORAGE_KINDS)
        liquefied = storage == "liquefied"
        flammable = "flammable" in effects
        probit = _floats(e, "probit", root, 3) if "toxic" in effects else None
        if probit is not None and probit[1] <= 0 or probit is not None and probit[2] <= 0:
            raise RuleSetError(f"{root}.probit: b and n must be above 0, got {list(probit)!r}")
        equip = _choice(e, "equipment", root, tuple(equipment))
        try:
            sub = QRASubstance(
                key=known.key, cas=cas, molar_mass=_pos(e, "molar_mass", root, maximum=1.0),
                boiling_k=_pos(e, "boiling_point_k", root), gamma=_pos(e, "gamma", root), storage=storage,
                effects=effects,
                liquid_density=_pos(e, "liquid_density", root) if liquefied else 0.0,
                liquid_cp=_pos(e, "liquid_cp", root) if liquefied else 0.0,
                heat_of_vaporisation=_pos(e, "heat_of_vaporisation", root) if liquefied else 0.0,
                storage_pressure=_pos(e, "storage_pressure_pa", root) if not liquefied else 0.0,
                probit=probit,
                heat_of_combustion=_pos(e, "heat_of_combustion", root) if flammable else 0.0,
                lfl=_pos(e, "lfl", root, maximum=1.0) if flammable else 0.0,
                reactivity=_choice(e, "reactivity", root, REACTIVITY, default="average"),
                aegl2_ppm=get(e, "aegl2_ppm", float, default=None, root=root),
                aegl3_ppm=get(e, "aegl3_ppm", float, default=None, root=root),
                equipment=equip, max_vessel_t=_pos(e, "max_vessel_t", root),
                source=get(e, "source", str, default="", root=root))
        except InputError as exc:
            raise RuleSetError(f"{root}: {exc}") from None
        if sub.key in out:
            raise RuleSetError(f"{root}: {known.key!r} already has QRA properties")
        out[sub.key] = sub
    return out


def parse_qra_rules(ruleset: RuleSet) -> QRARules:
    """Read and check the ``[qra]`` table of a rule set (with ``[substances]`` and ``[distances]``).

    Raises
    ------
    zoning.errors.RuleSetError
        Naming the key path, e.g. ``qra.weather.classes[2].probability: missing``.
    """
    q = ruleset.table("qra")
    ir, (upper, lower, n_min, n_max) = _criteria(q)
    r_min, r_max = _pos(q, "min_distance_m", "qra"), _pos(q, "max_distance_m", "qra")
    if r_min >= r_max:
        raise RuleSetError("qra: min_distance_m must be below max_distance_m")
    angle = _pos(q, "angle_step_deg", "qra", maximum=10.0)
    if abs(90.0 / angle - round(90.0 / angle)) > 1e-9:
        raise RuleSetError(f"qra.angle_step_deg: {angle!r} must divide 90")
    grid = PolarGrid.build(r_min, r_max, get(q, "radial_steps", int, minimum=10, maximum=2000, root="qra"), angle)
    rel = get(q, "release", dict, root="qra")
    release = ReleaseRules(*(_pos(rel, k, "qra.release") for k in (
        "cd_liquid", "cd_gas", "aerosol_factor", "min_pool_depth_m", "max_pool_area_m2", "ground_conductivity",
        "ground_diffusivity", "schmidt", "release_cap_s")),
        liquid_head_m=get(rel, "liquid_head_m", float, minimum=0.0, root="qra.release"))
    ign = get(q, "ignition", dict, root="qra")
    edges_c = _floats(ign, "continuous_kg_s", "qra.ignition", 2)
    edges_i = _floats(ign, "instantaneous_kg", "qra.ignition", 2)
    direct = {r: _floats(ign, r, "qra.ignition", 3) for r in REACTIVITY}
    if any(not 0 <= p <= 1 for row in direct.values() for p in row) or edges_c[0] >= edges_c[1] \
            or edges_i[0] >= edges_i[1]:
        raise RuleSetError("qra.ignition: probabilities must be in [0, 1] and the size edges increasing")
    ignition = IgnitionRules(edges_c, edges_i, direct, _fraction(ign, "delayed", "qra.ignition"),
                             _fraction(ign, "explosion_fraction", "qra.ignition"))
    eff, disp = get(q, "effects", dict, root="qra"), get(q, "dispersion", dict, root="qra")
    q_tnt = get(ruleset.tables, "distances.blast.q_tnt_kj_kg", float, default=4500.0)
    effects = EffectRules(
        _floats(eff, "thermal_probit", "qra.effects", 3), _pos(eff, "fire_exposure_s", "qra.effects"),
        _pos(eff, "lethal_radiation_kw_m2", "qra.effects") * 1e3,
        _pos(eff, "jet_radiative_fraction", "qra.effects", maximum=1.0),
        _pos(eff, "pool_radiative_fraction", "qra.effects", maximum=1.0),
        _pos(eff, "fireball_emissive_kw_m2", "qra.effects") * 1e3, _pos(eff, "vce_yield", "qra.effects", maximum=1.0),
        q_tnt, _pos(eff, "lethal_overpressure_kpa", "qra.effects"), _pos(rel, "exposure_cap_s", "qra.release"),
        _choice(disp, "terrain", "qra.dispersion", TERRAINS),
        _choice(disp, "puff_sigmas", "qra.dispersion", PUFF_SIGMAS),
        get(disp, "dense_gas", bool, root="qra.dispersion"))
    soc = get(q, "societal", dict, root="qra")
    factors = get(soc, "indoor_factor", dict, root="qra.societal")
    indoor = {o: _fraction(factors, o, "qra.societal.indoor_factor") for o in OUTCOMES}
    tz = get(q, "threat_zones", dict, root="qra")
    toxic = tuple(get(tz, "toxic", list, root="qra.threat_zones"))
    if any(t not in _THREAT_TOXIC for t in toxic):
        raise RuleSetError(f"qra.threat_zones.toxic: {list(toxic)!r} must be among {', '.join(_THREAT_TOXIC)}")
    blast = get(ruleset.tables, "distances.blast.threshold_kpa", dict, default={})
    equipment = _equipment(q)
    return QRARules(
        site_status=_choice(q, "site_status", "qra", STATUSES), grid=grid, grid_cell_m=_pos(q, "grid_cell_m", "qra"),
        individual_risk=ir, fn_upper=upper,
        fn_lower=lower, fn_n_min=n_min, fn_n_max=n_max, weather=_weather(q), release=release, ignition=ignition,
        effects=effects, equipment=equipment, installation=_installation(q),
        substances=_substances(q, ruleset, equipment),
        indoor_fraction=_fraction(soc, "indoor_fraction", "qra.societal"), indoor_factor=indoor,
        threat_radiation_kw_m2=tuple(sorted(_floats(tz, "radiation_kw_m2", "qra.threat_zones"), reverse=True)),
        threat_toxic=toxic,
        threat_overpressure_kpa=tuple(sorted({float(v) for v in blast.values()}, reverse=True)))
