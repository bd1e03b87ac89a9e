"""Passive (neutral-gas) dispersion: Gaussian plume and puff with Pasquill–Gifford/Briggs σ.

Ground-level release, ground-level receptor, total reflection at the ground (CCPS 1999 ch. 2;
CPR 14E ch. 4; Turner 1970)::

    plume   C(x, y) = Q / (π·u·σy·σz) · exp(−y²/2σy²)                                   (kg/m³)
    puff    C(x, y) = 2·M / ((2π)^(3/2)·σx·σy·σz) · exp(−y²/2σy²)   at the puff's centre passage

σ of the plume (continuous release), Briggs (1973) open-country (``rural``) or urban fits by
stability class, x in metres, 100 m ≤ x ≤ 10 km (Hanna, Briggs & Hosker 1982, Table 4; CCPS 1999
ch. 2)::

    class  σy (rural)              σz (rural)               σy (urban)            σz (urban)
    A      0.22x(1+0.0001x)^-½     0.20x                    0.32x(1+0.0004x)^-½   0.24x(1+0.001x)^½
    B      0.16x(1+0.0001x)^-½     0.12x                    0.32x(1+0.0004x)^-½   0.24x(1+0.001x)^½
    C      0.11x(1+0.0001x)^-½     0.08x(1+0.0002x)^-½      0.22x(1+0.0004x)^-½   0.20x
    D      0.08x(1+0.0001x)^-½     0.06x(1+0.0015x)^-½      0.16x(1+0.0004x)^-½   0.14x(1+0.0003x)^-½
    E      0.06x(1+0.0001x)^-½     0.03x(1+0.0003x)^-1      0.11x(1+0.0004x)^-½   0.08x(1+0.0015x)^-½
    F      0.04x(1+0.0001x)^-½     0.016x(1+0.0003x)^-1     0.11x(1+0.0004x)^-½   0.08x(1+0.0015x)^-½

σ of the puff (instantaneous release), σx = σy: by default the plume σ above (``puff_sigmas =
"briggs"`` in the rule set, the common screening choice), or the instantaneous σ of Slade (1968) as
tabulated in CCPS 1999 ch. 2 (and Crowl & Louvar, *Chemical Process Safety*) with ``"slade"``. The
Slade σ are much smaller (F class at 1 km: σy 9.4 m against 38 m) and, without an initial cloud size,
give concentrations above that of the pure vapour a kilometre downwind; which set the Chinese
practice expects is to confirm (GB/T 37243-2019 leaves the model to the assessor)::

    class  A            B            C            D            E            F
    σy     0.18x^0.92   0.14x^0.92   0.10x^0.92   0.06x^0.92   0.04x^0.92   0.02x^0.89
    σz     0.60x^0.75   0.53x^0.73   0.34x^0.71   0.15x^0.70   0.10x^0.65   0.05x^0.61

Time-integrated dose of a puff: with σ frozen while the puff passes a point at speed u,
``∫Cⁿ dt = C_peakⁿ · σx·√(2π/n) / u`` (the Gaussian integral of exp(−n·(x−ut)²/2σx²)).

The models are valid from about 100 m to 10 km and for winds ≥ 1 m/s
(:data:`zoning.hazards.qra.validity.GAUSSIAN_PLUME`); below 100 m they are used all the same (the
IR close to a site needs a value) and the result says so.

>>> sy, sz = plume_sigmas(1000.0, "D")
>>> round(float(sy), 2), round(float(sz), 2)       # 0.08·1000/√1.1, 0.06·1000/√2.5
(76.28, 37.95)
>>> round(float(plume_concentration(1.0, 5.0, 1000.0, 0.0, "D")) * 1e6, 2)   # mg/m³ of 1 kg/s in D5
21.99
"""

from __future__ import annotations

import numpy as np

from geo.errors import InputError
from zoning.hazards.qra.weather import STABILITY_CLASSES

__all__ = ["TERRAINS", "PUFF_SIGMAS", "plume_sigmas", "puff_sigmas", "plume_concentration", "puff_peak_concentration",
           "puff_dose_factor"]

#: Roughness of the σ fits: Briggs open country or urban.
TERRAINS = ("rural", "urban")
#: σ sets for puffs: the plume σ of Briggs (σx = σy) or Slade's instantaneous σ.
PUFF_SIGMAS = ("briggs", "slade")

# σ = a·x·(1 + b·x)^c  per class: ((a, b, c) for σy, (a, b, c) for σz)
_BRIGGS = {
    "rural": {
        "A": ((0.22, 1e-4, -0.5), (0.20, 0.0, 0.0)),
        "B": ((0.16, 1e-4, -0.5), (0.12, 0.0, 0.0)),
        "C": ((0.11, 1e-4, -0.5), (0.08, 2e-4, -0.5)),
        "D": ((0.08, 1e-4, -0.5), (0.06, 1.5e-3, -0.5)),
        "E": ((0.06, 1e-4, -0.5), (0.03, 3e-4, -1.0)),
        "F": ((0.04, 1e-4, -0.5), (0.016, 3e-4, -1.0)),
    },
    "urban": {
        "A": ((0.32, 4e-4, -0.5), (0.24, 1e-3, 0.5)),
        "B": ((0.32, 4e-4, -0.5), (0.24, 1e-3, 0.5)),
        "C": ((0.22, 4e-4, -0.5), (0.20, 0.0, 0.0)),
        "D": ((0.16, 4e-4, -0.5), (0.14, 3e-4, -0.5)),
        "E": ((0.11, 4e-4, -0.5), (0.08, 1.5e-3, -0.5)),
        "F": ((0.11, 4e-4, -0.5), (0.08, 1.5e-3, -0.5)),
    },
}
# σ = a·x^b per class: ((a, b) for σy = σx, (a, b) for σz), Slade 1968
_PUFF = {
    "A": ((0.18, 0.92), (0.60, 0.75)),
    "B": ((0.14, 0.92), (0.53, 0.73)),
    "C": ((0.10, 0.92), (0.34, 0.71)),
    "D": ((0.06, 0.92), (0.15, 0.70)),
    "E": ((0.04, 0.92), (0.10, 0.65)),
    "F": ((0.02, 0.89), (0.05, 0.61)),
}


def _check(stability: str, terrain: str | None = None) -> None:
    if stability not in STABILITY_CLASSES:
        raise InputError(f"stability class {stability!r} is not one of {', '.join(STABILITY_CLASSES)}")
    if terrain is not None and terrain not in TERRAINS:
        raise InputError(f"terrain {terrain!r} is not one of {', '.join(TERRAINS)}")


def plume_sigmas(x_m, stability: str, terrain: str = "rural"):
    """(σy, σz) in m of a continuous plume at downwind distance ``x_m`` (Briggs 1973)."""
    _check(stability, terrain)
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    (ay, by, cy), (az, bz, cz) = _BRIGGS[terrain][stability]
    return ay * x * (1.0 + by * x) ** cy, az * x * (1.0 + bz * x) ** cz


def puff_sigmas(x_m, stability: str, terrain: str = "rural", kind: str = "briggs"):
    """(σx = σy, σz) in m of a puff whose centre has travelled ``x_m``: Briggs plume σ or Slade 1968.

    >>> [round(float(s), 1) for s in puff_sigmas(1000.0, "F", kind="slade")]
    [9.4, 3.4]
    """
    if kind not in PUFF_SIGMAS:
        raise InputError(f"puff sigmas {kind!r} is not one of {', '.join(PUFF_SIGMAS)}")
    if kind == "briggs":
        return plume_sigmas(x_m, stability, terrain)
    _check(stability)
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    (ay, by), (az, bz) = _PUFF[stability]
    return ay * x ** by, az * x ** bz


def plume_concentration(rate_kg_s, wind_m_s, x_m, y_m, stability: str, terrain: str = "rural"):
    """Ground-level concentration (kg/m³) of a ground-level continuous release; 0 upwind (x ≤ 0).

    ``Q/(π·u·σy·σz)·exp(−y²/2σy²)`` (CCPS 1999 ch. 2, ground reflection, release height 0).
    """
    x = np.asarray(x_m, dtype=float)
    sy, sz = plume_sigmas(x, stability, terrain)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.asarray(rate_kg_s, dtype=float) / (np.pi * wind_m_s * sy * sz) \
            * np.exp(-0.5 * (np.asarray(y_m, dtype=float) / sy) ** 2)
    return np.where(x > 0, np.nan_to_num(c, nan=0.0, posinf=0.0), 0.0)


def puff_peak_concentration(mass_kg, x_m, y_m, stability: str, terrain: str = "rural", kind: str = "briggs"):
    """Ground-level peak concentration (kg/m³) as a ground-level puff's centre passes x (y off-axis).

    ``2·M/((2π)^(3/2)·σx·σy·σz)·exp(−y²/2σy²)`` (CCPS 1999 ch. 2, ground reflection).

    >>> round(float(puff_peak_concentration(1000.0, 500.0, 0.0, "D")) * 1e6)   # mg/m³, σy 39.0 m, σz 22.7 m
    3675
    """
    x = np.asarray(x_m, dtype=float)
    sxy, sz = puff_sigmas(x, stability, terrain, kind)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = 2.0 * np.asarray(mass_kg, dtype=float) / ((2.0 * np.pi) ** 1.5 * sxy * sxy * sz) \
            * np.exp(-0.5 * (np.asarray(y_m, dtype=float) / sxy) ** 2)
    return np.where(x > 0, np.nan_to_num(c, nan=0.0, posinf=0.0), 0.0)


def puff_dose_factor(x_m, wind_m_s, stability: str, n: float, terrain: str = "rural", kind: str = "briggs"):
    """Seconds ``σx·√(2π/n)/u`` such that ``∫Cⁿ dt = C_peakⁿ × factor`` for a passing Gaussian puff."""
    sx, _ = puff_sigmas(x_m, stability, terrain, kind)
    return sx * np.sqrt(2.0 * np.pi / n) / wind_m_s
