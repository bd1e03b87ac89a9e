"""Loss-of-containment scenarios per site, their frequencies, and the event tree of each.

GB/T 37243-2019 §6 asks for the accident scenarios of each installation and their frequencies and
defers the figures to recognised data; the generic failure frequencies of the Purple Book
(CPR 18E, 2005, ch. 3 "Loss of containment events") are the documented public set, and the rule
set's ``[qra.equipment]`` tables hold them with their table numbers (to confirm against the book):

* stationary **pressure vessel** — G.1 instantaneous release of the complete inventory 5×10⁻⁷/y;
  G.2 continuous release of the complete inventory in 10 min 5×10⁻⁷/y; G.3 continuous release from
  a hole of 10 mm effective diameter 1×10⁻⁵/y;
* **atmospheric tank**, single containment — 5×10⁻⁶/y, 5×10⁻⁶/y, 1×10⁻⁴/y for the same three;
* **pipes**, per metre and year by nominal diameter — full-bore rupture 1×10⁻⁶ (< 75 mm),
  3×10⁻⁷ (75–150 mm), 1×10⁻⁷ (> 150 mm); leak of 10 % of the diameter (at most 50 mm) 5×10⁻⁶,
  2×10⁻⁶, 5×10⁻⁷.

A hazard site records substances and tonnages, not equipment, so :func:`site_scenarios` builds a
*reference installation* per substance: the inventory split over ``ceil(q / max_vessel_t)``
vessels of the substance's equipment type, each with ``pipe_length_m`` of pipe of
``pipe_diameter_mm`` (``[qra.installation]``); the assumption is stated in every result and is the
first thing a site's own QRA replaces.

Event tree (CPR 18E ch. 4): a flammable release ignites directly with a probability by size and
reactivity (rule set ``[qra.ignition]``, CPR 18E direct-ignition table) — a fireball for an
instantaneous release, a jet fire (with the pool fire of its rain-out) for a continuous one —
otherwise, with the delayed-ignition probability, a flash fire or, for a share, an explosion.
A substance both toxic and flammable keeps its toxic branch with the probability of no direct
ignition (the unignited cloud counted as toxic even when it later burns: conservative).

>>> ign = IgnitionRules()
>>> [(o, round(p, 3)) for o, p in outcomes(("flammable",), "average", "instantaneous", 500.0, ign)]
[('fireball', 0.2), ('flash_fire', 0.48), ('explosion', 0.32)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from geo.errors import InputError
from zoning.hazards.qra.source import LOC_KINDS
from zoning.hazards.qra.substances import REACTIVITY, QRASubstance

__all__ = ["LOCDefinition", "Equipment", "PipeBand", "Installation", "IgnitionRules", "Scenario",
           "OUTCOMES", "site_scenarios", "outcomes", "direct_ignition"]

#: Outcomes of a loss of containment, and whether their effect depends on the wind direction.
OUTCOMES = {"toxic": True, "flash_fire": True, "explosion": False, "jet_fire": False, "fireball": False}


@dataclass(frozen=True)
class LOCDefinition:
    """One loss-of-containment event of an equipment type: name, kind, frequency (per year)."""

    name: str
    kind: str
    frequency: float
    diameter_mm: float = 0.0
    duration_s: float = 600.0

    def __post_init__(self):
        if self.kind not in LOC_KINDS:
            raise InputError(f"LOC {self.name!r}: kind {self.kind!r} is not one of {', '.join(LOC_KINDS)}")
        if not 0 < self.frequency < 1:
            raise InputError(f"LOC {self.name!r}: frequency {self.frequency!r} per year is not in (0, 1)")


@dataclass(frozen=True)
class Equipment:
    """An equipment type and its LOC events (CPR 18E ch. 3), with the citation of its table."""

    key: str
    locs: tuple[LOCDefinition, ...]
    citation: str = ""


@dataclass(frozen=True)
class PipeBand:
    """Pipe failure frequencies (per metre per year) up to a nominal diameter (CPR 18E ch. 3)."""

    max_diameter_mm: float
    rupture_per_m: float
    leak_per_m: float


@dataclass(frozen=True)
class Installation:
    """The reference installation of a site: pipe per vessel, and how a pipe leak is sized."""

    pipe_length_m: float = 0.0
    pipe_diameter_mm: float = 50.0
    pipe_bands: tuple[PipeBand, ...] = ()
    leak_fraction: float = 0.1
    leak_max_mm: float = 50.0
    pipe_citation: str = ""


@dataclass(frozen=True)
class IgnitionRules:
    """Direct-ignition probabilities by reactivity and size, delayed ignition, explosion share.

    ``direct[reactivity]`` gives three probabilities for a continuous release below
    ``continuous_kg_s[0]``, up to ``continuous_kg_s[1]``, and above (and likewise for the mass of
    an instantaneous release against ``instantaneous_kg``). Defaults: CPR 18E ch. 4, direct
    ignition of stationary installations (to confirm).
    """

    continuous_kg_s: tuple[float, float] = (10.0, 100.0)
    instantaneous_kg: tuple[float, float] = (1000.0, 10_000.0)
    direct: dict = field(default_factory=lambda: {"low": (0.02, 0.04, 0.09), "average": (0.2, 0.5, 0.7),
                                                  "high": (0.2, 0.5, 0.7)})
    delayed: float = 1.0
    explosion_fraction: float = 0.4


@dataclass(frozen=True)
class Scenario:
    """One loss of containment at a site: what, how, how often (per year, all vessels together)."""

    substance: QRASubstance
    equipment: str
    loc: str
    kind: str
    frequency: float
    mass_kg: float
    diameter_m: float = 0.0
    duration_s: float = 600.0
    vessels: int = 1

    @property
    def label(self) -> str:
        return f"{self.substance.key} {self.equipment} {self.loc}"


def direct_ignition(reactivity: str, kind: str, size: float, rules: IgnitionRules) -> float:
    """Probability of direct ignition for a release of ``size`` (kg/s continuous, kg instantaneous).

    >>> direct_ignition("low", "continuous", 50.0, IgnitionRules())
    0.04
    """
    if reactivity not in REACTIVITY:
        raise InputError(f"reactivity {reactivity!r} is not one of {', '.join(REACTIVITY)}")
    edges = rules.continuous_kg_s if kind == "continuous" else rules.instantaneous_kg
    band = int(np.searchsorted(np.asarray(edges), size, side="right"))
    return float(rules.direct[reactivity][band])


def outcomes(effects, reactivity: str, kind: str, size: float, rules: IgnitionRules) -> list[tuple[str, float]]:
    """(outcome, conditional probability) of one release (see the module docstring)."""
    out = []
    p_direct = 0.0
    if "flammable" in effects:
        p_direct = direct_ignition(reactivity, kind, size, rules)
        late = (1.0 - p_direct) * rules.delayed
        out += [("fireball" if kind == "instantaneous" else "jet_fire", p_direct),
                ("flash_fire", late * (1.0 - rules.explosion_fraction)), ("explosion", late * rules.explosion_fraction)]
    if "toxic" in effects:
        out.insert(0, ("toxic", 1.0 - p_direct))
    return [(o, p) for o, p in out if p > 0]


def site_scenarios(holdings, equipment: dict[str, Equipment], installation: Installation) -> list[Scenario]:
    """The LOC scenarios of a site's reference installation.

    Parameters
    ----------
    holdings : iterable of (QRASubstance, tonnes)
        The modelled substances of the site and the quantity of each.
    equipment : dict
        Equipment types by key (``[qra.equipment]``).
    installation : Installation

    Returns
    -------
    list of Scenario
        Per substance: the LOCs of its equipment type (frequency × number of vessels, each vessel
        holding q/n), then the pipe rupture and leak of its vessels' pipework if any.

    Examples
    --------
    >>> from zoning.hazards.qra.substances import QRASubstance
    >>> cl2 = QRASubstance(key="chlorine", cas="7782-50-5", molar_mass=0.0709, boiling_k=239.1,
    ...     liquid_density=1410.0, liquid_cp=950.0, heat_of_vaporisation=288e3, gamma=1.33,
    ...     storage="liquefied", effects=("toxic",), probit=(-6.35, 0.5, 2.75), max_vessel_t=50.0)
    >>> pv = Equipment("pressure_vessel", (LOCDefinition("G.1", "instantaneous", 5e-7),
    ...                                    LOCDefinition("G.3", "hole", 1e-5, diameter_mm=10.0)))
    >>> [(s.loc, f"{s.frequency:.2g}", s.mass_kg) for s in site_scenarios([(cl2, 120.0)], {"pressure_vessel": pv},
    ...                                                                    Installation())]
    [('G.1', '1.5e-06', 40000.0), ('G.3', '3e-05', 40000.0)]
    """
    out = []
    for substance, tonnes in holdings:
        if tonnes <= 0:
            continue
        if substance.equipment not in equipment:
            raise InputError(f"QRA substance {substance.key!r}: equipment {substance.equipment!r} is not one of "
                             f"{', '.join(equipment)}")
        n = max(1, math.ceil(round(tonnes / substance.max_vessel_t, 9)))
        mass = tonnes * 1000.0 / n
        kind = equipment[substance.equipment]
        for loc in kind.locs:
            out.append(Scenario(substance, kind.key, loc.name, loc.kind, loc.frequency * n, mass,
                                loc.diameter_mm / 1000.0, loc.duration_s, n))
        length = installation.pipe_length_m * n
        if length > 0 and installation.pipe_bands:
            d = installation.pipe_diameter_mm
            band = next((b for b in installation.pipe_bands if d <= b.max_diameter_mm), installation.pipe_bands[-1])
            leak = min(installation.leak_fraction * d, installation.leak_max_mm)
            out.append(Scenario(substance, "pipe", f"full-bore rupture DN{d:g}", "pipe_rupture",
                                band.rupture_per_m * length, mass, d / 1000.0, 600.0, n))
            out.append(Scenario(substance, "pipe", f"leak {leak:g} mm in DN{d:g}", "pipe_leak",
                                band.leak_per_m * length, mass, leak / 1000.0, 600.0, n))
    return out
