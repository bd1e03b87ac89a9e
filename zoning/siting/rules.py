"""The ``[siting]`` table of a rule set: kinds of proposal, decision matrix, colour and service floors.

A siting verdict is one of :data:`VERDICTS`, mildest first. The decision matrix follows the UK HSE
PADHI scheme (three consultation zones × four development sensitivity levels; the matrix is to
confirm, see shared/STANDARDS.md) with the GB 36894-2018 protected-target classes; every figure
lives in ``data/rules/default.toml`` and is parsed here by :func:`parse_siting_rules`.

>>> from zoning.rules import load_ruleset
>>> rules = parse_siting_rules(load_ruleset())
>>> rules.matrix[3]["middle"], rules.kinds["housing"].class_for(150, rules.general_classes)
('advise_against', 'general_1')
>>> rules.kinds["school"].level_for(2500)
4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from layers.catalogue.protected_targets import GB36894_CLASSES
from layers.catalogue.protected_targets import KINDS as TARGET_KINDS
from zoning.errors import RuleSetError
from zoning.rules import LEVELS, RuleSet, get

__all__ = ["VERDICTS", "VERDICT_ZH", "ZONES", "ZONE_ZH", "CLASS_ZH", "SitingKind", "SitingRules",
           "parse_siting_rules", "worst"]

#: Verdicts, mildest first.
VERDICTS = ("permitted", "conditional", "advise_against", "veto")
VERDICT_ZH = {"permitted": "允许", "conditional": "有条件允许", "advise_against": "不建议", "veto": "一票否决"}
#: Consultation zones, innermost first (PADHI inner / middle / outer, and none).
ZONES = ("inner", "middle", "outer", "none")
ZONE_ZH = {"inner": "内区", "middle": "中区", "outer": "外区", "none": "区外"}
#: Chinese names of the GB 36894-2018 classes.
CLASS_ZH = {c.value: c.zh for c in GB36894_CLASSES}
BY_POPULATION = "by_population"


def worst(verdicts) -> str:
    """The most severe of some verdicts (``permitted`` for none).

    >>> worst(["conditional", "veto", "permitted"])
    'veto'
    """
    return max(verdicts, key=VERDICTS.index, default=VERDICTS[0])


@dataclass(frozen=True)
class SitingKind:
    """One kind of proposal: names, the protected-target kind and class it becomes, sensitivity bands."""

    key: str
    zh: str
    en: str
    target_kind: str
    gb36894_class: str
    sensitivity: tuple[tuple[int, int], ...]
    default_population: int
    inventory: bool = False

    def class_for(self, population: float, general: tuple[tuple[int, str], ...]) -> str:
        """GB 36894 class: the fixed one, or the general class of ``population`` (GB 36894-2018 §4)."""
        if self.gb36894_class != BY_POPULATION:
            return self.gb36894_class
        return next(c for minimum, c in general if population >= minimum)

    def level_for(self, population: float) -> int:
        """Development sensitivity level 1–4: the last band whose ``min_population`` ≤ population."""
        return [level for minimum, level in self.sensitivity if population >= minimum][-1]


@dataclass(frozen=True)
class SitingRules:
    """The parsed ``[siting]`` table."""

    kinds: Mapping[str, SitingKind]
    general_classes: tuple[tuple[int, str], ...]
    consultation_m: float
    nearby_m: float
    max_outside_m: float
    veto_classes: tuple[str, ...]
    matrix: Mapping[int, Mapping[str, str]]
    colour: Mapping[int, tuple[str, ...]]
    fire_outside_response: str
    shelter_beyond_radius: str
    plant_other_targets: str
    plant_near: str
    plant_domino: str
    societal_alarp: str = "conditional"
    societal_unacceptable: str = "advise_against"


def _verdict(table: dict, key: str, root: str) -> str:
    value = get(table, key, str, root=root)
    if value not in VERDICTS:
        raise RuleSetError(f"{root}.{key}: {value!r} is not one of {', '.join(VERDICTS)}")
    return value


def _bands(rows, root: str, value: str, valid) -> tuple[tuple[int, object], ...]:
    if not isinstance(rows, list) or not rows:
        raise RuleSetError(f"{root}: expected a non-empty list of {{ min_population = …, {value} = … }}")
    out = []
    for i, row in enumerate(rows):
        where = f"{root}[{i}]"
        if not isinstance(row, dict):
            raise RuleSetError(f"{where}: expected a table, got {row!r}")
        v = get(row, value, (int, str), root=where)
        if v not in valid:
            raise RuleSetError(f"{where}.{value}: {v!r} is not one of {', '.join(map(str, valid))}")
        out.append((get(row, "min_population", int, minimum=0, root=where), v))
    return tuple(out)


def _kind(key: str, entry, classes: tuple[str, ...]) -> SitingKind:
    root = f"siting.kinds.{key}"
    if not isinstance(entry, dict):
        raise RuleSetError(f"{root}: expected a table, got {entry!r}")
    target_kind = get(entry, "target_kind", str, root=root)
    if target_kind not in {k.value for k in TARGET_KINDS}:
        raise RuleSetError(f"{root}.target_kind: {target_kind!r} is not a protected_targets kind "
                           f"({', '.join(k.value for k in TARGET_KINDS)})")
    cls = get(entry, "gb36894_class", str, root=root)
    if cls not in (*classes, BY_POPULATION):
        raise RuleSetError(f"{root}.gb36894_class: {cls!r} is not one of {', '.join(classes)}, {BY_POPULATION}")
    bands = _bands(entry.get("sensitivity"), f"{root}.sensitivity", "level", LEVELS)
    bounds = [b for b, _ in bands]
    if bounds[0] != 0 or any(a >= b for a, b in zip(bounds, bounds[1:])):
        raise RuleSetError(f"{root}.sensitivity: min_population must start at 0 and increase, got {bounds}")
    return SitingKind(key, get(entry, "zh", str, root=root), get(entry, "en", str, root=root), target_kind, cls,
                      bands, get(entry, "default_population", int, minimum=0, root=root),
                      get(entry, "inventory", bool, default=False, root=root))


def parse_siting_rules(ruleset: RuleSet) -> SitingRules:
    """Read and check the ``[siting]`` table of a rule set.

    Raises
    ------
    zoning.errors.RuleSetError
        Naming the key path: an unknown verdict, zone, class or kind, a missing level of the
        matrix, sensitivity bands out of order.
    """
    if isinstance(ruleset, SitingRules):
        return ruleset
    t = ruleset.table("siting")
    classes = tuple(c.value for c in GB36894_CLASSES)
    general = _bands(t.get("general_classes"), "siting.general_classes", "class", classes)
    bounds = [b for b, _ in general]
    if bounds[-1] != 0 or any(a <= b for a, b in zip(bounds, bounds[1:])):
        raise RuleSetError(f"siting.general_classes: min_population must decrease and end at 0, got {bounds}")
    veto = get(t, "veto_classes", list, root="siting")
    if any(c not in classes for c in veto):
        raise RuleSetError(f"siting.veto_classes: {veto!r} must be among {', '.join(classes)}")
    matrix = {lv: {z: _verdict(get(t, f"matrix.level_{lv}", dict, root="siting"), z, f"siting.matrix.level_{lv}")
                   for z in ("inner", "middle", "outer", "none")} for lv in LEVELS}
    colour = {}
    for lv in LEVELS:
        row = get(t, f"colour.level_{lv}", list, root="siting")
        if len(row) != 4 or any(v not in VERDICTS for v in row):
            raise RuleSetError(f"siting.colour.level_{lv}: expected 4 verdicts (sensitivity 1-4) among "
                               f"{', '.join(VERDICTS)}, got {row!r}")
        colour[lv] = tuple(row)
    kinds_t = get(t, "kinds", dict, root="siting")
    if not kinds_t:
        raise RuleSetError("siting.kinds: no kind of proposal defined")
    services = get(t, "services", dict, root="siting")
    plant = get(t, "hazardous_plant", dict, root="siting")
    qra = get(t, "qra", dict, default={"societal_alarp": "conditional", "societal_unacceptable": "advise_against"},
              root="siting")
    return SitingRules(
        kinds={k: _kind(k, v, classes) for k, v in kinds_t.items()},
        general_classes=general,
        consultation_m=get(t, "consultation_m", float, minimum=0.0, root="siting"),
        nearby_m=get(t, "nearby_m", float, minimum=0.0, root="siting"),
        max_outside_m=get(t, "max_outside_m", float, minimum=0.0, root="siting"),
        veto_classes=tuple(veto), matrix=matrix, colour=colour,
        fire_outside_response=_verdict(services, "fire_outside_response", "siting.services"),
        shelter_beyond_radius=_verdict(services, "shelter_beyond_radius", "siting.services"),
        plant_other_targets=_verdict(plant, "other_targets_inside", "siting.hazardous_plant"),
        plant_near=_verdict(plant, "shelter_or_station_near", "siting.hazardous_plant"),
        plant_domino=_verdict(plant, "domino", "siting.hazardous_plant"),
        societal_alarp=_verdict(qra, "societal_alarp", "siting.qra"),
        societal_unacceptable=_verdict(qra, "societal_unacceptable", "siting.qra"),
    )
