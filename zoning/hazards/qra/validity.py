"""Where each model holds, stated the way ALOHA states its limits, and notes when a result leaves them.

Every model of the QRA (:mod:`~zoning.hazards.qra.dispersion`, :mod:`~zoning.hazards.qra.dense_gas`,
:mod:`~zoning.hazards.qra.fire`, :mod:`~zoning.hazards.qra.explosion`, :mod:`~zoning.hazards.qra.source`)
declares a :class:`Limits`: the ranges of its inputs (wind speed, distance, …) in which its source
validated it, and the cases it does not cover (obstacles, terrain). A computation that uses a model
outside a range does not fail: it goes on (a planner needs an answer) and carries a *note* saying
which model, which quantity, how far outside, and whose limit it is. The notes travel with the site's
result into the distance reasons and the siting report (the ``validity`` list).

ALOHA (US EPA / NOAA, *ALOHA Technical Documentation*, Jones et al. 2013) warns that its Gaussian
results within about 100 m and beyond 10 km are unreliable and gives no answer for winds below 1 m/s
at 10 m; the limits below follow the same spirit with the ranges of the correlations riskmap uses.
Sources are cited by chapter: CCPS 1999 = *Guidelines for Consequence Analysis of Chemical Releases*
(AIChE/CCPS), CPR 14E = TNO *Yellow Book* (3rd ed. 1997), CPR 18E = *Purple Book* (2005).

>>> GAUSSIAN_PLUME.check(distance_m=[50.0, 500.0], wind_m_s=3.0)[0].split(" (")[0]
'Gaussian plume: distance 50 m below its range 100–10 000 m'
>>> GAUSSIAN_PLUME.check(distance_m=500.0, wind_m_s=3.0)
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Limits", "notes", "GAUSSIAN_PLUME", "GAUSSIAN_PUFF", "BRITTER_MCQUAID", "POINT_SOURCE",
           "FIREBALL", "TNT_BLAST", "SOURCE_TERMS", "PROBIT", "ALL_LIMITS"]


def _label(name: str) -> str:
    """``distance_m`` → ``distance``: the quantity without its unit suffix."""
    return re.sub(r"_(m_s|m|s|min|kg)$", "", name).replace("_", " ")


def _with_unit(value: str, unit: str) -> str:
    return f"{value} {unit}" if unit else value


def _fmt(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.3g}"


@dataclass(frozen=True)
class Limits:
    """The validity range of one model.

    Parameters
    ----------
    model : str
        Its name as shown in notes, e.g. ``"Gaussian plume"``.
    ranges : dict
        Quantity name → ``(low, high, unit, source)``: the range the model was fitted or validated
        on and who says so.
    cases : tuple of str
        Conditions it does not cover, stated once in :meth:`describe` (not checked).
    """

    model: str
    ranges: dict = field(default_factory=dict)
    cases: tuple[str, ...] = ()

    def check(self, **values) -> list[str]:
        """Notes for the values (scalars or arrays; NaN ignored) outside their ranges.

        One note per quantity and side, giving the most extreme value found.
        """
        out = []
        for name, value in values.items():
            if name not in self.ranges:
                raise KeyError(f"{self.model}: no validity range for {name!r}; known: {', '.join(self.ranges)}")
            low, high, unit, source = self.ranges[name]
            arr = np.asarray(value, dtype=float).ravel()
            arr = arr[np.isfinite(arr)]
            if not arr.size:
                continue
            rng = _with_unit(f"{_fmt(low)}–{_fmt(high)}", unit)
            if arr.min() < low:
                out.append(f"{self.model}: {_label(name)} {_with_unit(_fmt(arr.min()), unit)} below its range "
                           f"{rng} ({source})")
            if arr.max() > high:
                out.append(f"{self.model}: {_label(name)} {_with_unit(_fmt(arr.max()), unit)} above its range "
                           f"{rng} ({source})")
        return out

    def describe(self) -> str:
        """One line: every range and case, for reports and the rule set's documentation."""
        parts = [f"{_label(name)} {_with_unit(f'{_fmt(lo)}–{_fmt(hi)}', unit)}"
                 for name, (lo, hi, unit, _) in self.ranges.items()]
        return f"{self.model}: " + "; ".join(parts + list(self.cases))


def notes(*groups) -> list[str]:
    """Concatenate lists of notes, keeping the first occurrence of each, in order.

    >>> notes(["a", "b"], ["b", "c"])
    ['a', 'b', 'c']
    """
    return list(dict.fromkeys(n for group in groups for n in group))


_BRIGGS = "Briggs 1973 open-country σ fitted 100 m–10 km; ALOHA 2013"
#: Gaussian plume with Briggs (1973) σ: fitted from 100 m to 10 km; ALOHA gives no answer below 1 m/s.
GAUSSIAN_PLUME = Limits("Gaussian plume", {
    "distance_m": (100.0, 10_000.0, "m", _BRIGGS),
    "wind_m_s": (1.0, 20.0, "m/s", "ALOHA 2013: no Gaussian answer below 1 m/s at 10 m"),
}, ("flat, unobstructed terrain", "passive (neutrally buoyant) gas", "steady wind over the release"))

#: Gaussian puff with the instantaneous σ of Slade (1968) (CCPS 1999 ch. 2).
GAUSSIAN_PUFF = Limits("Gaussian puff", {
    "distance_m": (100.0, 10_000.0, "m", "Slade 1968 puff σ, CCPS 1999 ch. 2"),
    "wind_m_s": (1.0, 20.0, "m/s", "ALOHA 2013"),
}, ("flat, unobstructed terrain", "passive gas", "σ frozen while the puff passes a point"))

#: Britter–McQuaid workbook correlations (Britter & McQuaid 1988, HSE CRR 17/1988; CCPS 1999 ch. 2).
BRITTER_MCQUAID = Limits("Britter–McQuaid dense gas", {
    "alpha": (-1.0, 1.0, "", "chart range of Britter & McQuaid 1988 Figs. as fitted in CCPS 1999 ch. 2"),
    "concentration_ratio": (0.001, 1.0, "", "last chart curve C/C0 = 0.002 (plume), 0.001 (puff)"),
    "wind_m_s": (1.0, 20.0, "m/s", "ALOHA 2013"),
}, ("ground-level release with no momentum", "flat, unobstructed terrain",
    "crosswind extent from gravity spreading (workbook estimates)"))

#: Point-source radiation model (CPR 14E ch. 6; CCPS 1999 ch. 3): poor within about two flame sizes.
POINT_SOURCE = Limits("point-source radiation", {
    "distance_over_flame": (2.0, float("inf"), "× flame length", "CCPS 1999 ch. 3: point source only far "
                            "from the flame (≥ 2 flame lengths / pool diameters)"),
}, ("transmissivity 1 (no absorption)", "receptor facing the flame"))

#: Fireball (Roberts 1981 correlations; CPR 14E ch. 6; CCPS 1999 ch. 3).
FIREBALL = Limits("fireball", {
    "mass_kg": (1.0, 1e6, "kg", "Roberts 1981 correlations, CCPS 1999 ch. 3"),
}, ("surface emissive power fixed (rule set)", "view factor of a sphere facing the receptor"))

#: TNT equivalence with the Kingery–Bulmash curve of :mod:`zoning.hazards.blast` for a vapour cloud.
TNT_BLAST = Limits("TNT-equivalent vapour-cloud explosion", {
    "scaled_distance": (0.2, 198.5, "m/kg^(1/3)", "Kingery–Bulmash / Swisdak 1994 curve range"),
}, ("blast strength of a confined cloud: yield factor from the rule set (CCPS 1994: 1–10 %)",
    "explosion centred on the source (the cloud's drift ignored)"))

#: Source terms: orifice and flash correlations (CPR 14E ch. 2; CCPS 1999 ch. 2).
SOURCE_TERMS = Limits("source term", {
    "release_s": (20.0, 1800.0, "s", "CPR 18E ch. 4: continuous releases of 20 s to 30 min; shorter "
                  "ones are taken as instantaneous"),
}, ("hole in the liquid phase of a liquefied gas, gas phase of a compressed gas",
    "storage pressure held during the release (no depressurisation): conservative rate"))

#: Probits: fitted on 1–60 min exposures for toxics (CPR 18E ch. 5; CPR 16E).
PROBIT = Limits("probit", {
    "exposure_min": (1.0, 60.0, "min", "CPR 16E (Green Book): toxic probits fitted for 1–60 min"),
})

#: Every model's limits, by key, for reports.
ALL_LIMITS = {"gaussian_plume": GAUSSIAN_PLUME, "gaussian_puff": GAUSSIAN_PUFF,
              "britter_mcquaid": BRITTER_MCQUAID, "point_source": POINT_SOURCE, "fireball": FIREBALL,
              "tnt_blast": TNT_BLAST, "source_terms": SOURCE_TERMS, "probit": PROBIT}
