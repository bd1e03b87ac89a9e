"""Probit functions: from a dose to a probability of death.

A probit ``Pr`` is a normally distributed variable with mean 5 and standard deviation 1; the
probability of death is its cumulative distribution (CPR 18E ch. 5; CPR 16E *Green Book* ch. 1;
GB/T 37243-2019 Annex, to confirm)::

    P = ½·[1 + erf((Pr − 5)/√2)]

Doses by hazard (the constants are in the rule set, ``[qra.substances]`` and ``[qra.effects]``):

* toxic: ``Pr = a + b·ln(Cⁿ·t)``, C in mg/m³ and t in minutes (CPR 18E ch. 5 convention), or for a
  time-varying exposure ``Pr = a + b·ln(∫Cⁿ dt)`` — the *toxic load*, additive over exposures;
* heat radiation: ``Pr = a + b·ln(q^(4/3)·t)``, q in W/m² and t in s (Eisenberg 1975 as used in
  CPR 18E ch. 5: a = −36.38, b = 2.56);

Every function is vectorised: arrays in, arrays out, zeros where the dose is zero.

>>> round(float(probability(5.0)), 3), round(float(probability(7.326)), 3)
(0.5, 0.99)
>>> round(float(probit_for_probability(0.01)), 3)
2.674
"""

from __future__ import annotations

import numpy as np

__all__ = ["probability", "probit_for_probability", "toxic_probit", "lethality_from_load",
           "thermal_probit", "thermal_lethality", "load_for_probability"]

_SQRT2 = np.sqrt(2.0)


def probability(pr):
    """Probability ``½·[1 + erf((Pr − 5)/√2)]`` of a probit value (−inf gives 0).

    >>> probability([-np.inf, 3.0, 5.0]).round(4).tolist()
    [0.0, 0.0228, 0.5]

    Beyond 9 standard deviations the value is exactly 0 or 1 (erf is evaluated only in between,
    which keeps large grids cheap).
    """
    from scipy.special import erf  # scipy loads in about a second: imported when used, not when the rule set is checked

    z = np.atleast_1d(np.asarray(pr, dtype=float) - 5.0)
    out = (z > 9.0).astype(float)
    mid = np.abs(z) <= 9.0
    out[mid] = 0.5 * (1.0 + erf(z[mid] / _SQRT2))
    return out if np.ndim(pr) else float(out[0])


def probit_for_probability(p):
    """Inverse of :func:`probability`: the probit giving probability ``p`` (0 < p < 1)."""
    from scipy.special import erfinv

    return 5.0 + _SQRT2 * erfinv(2.0 * np.asarray(p, dtype=float) - 1.0)


def _ln(x):
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), -np.inf)


def toxic_probit(concentration_mg_m3, minutes, a: float, b: float, n: float):
    """``Pr = a + b·ln(Cⁿ·t)`` for a constant concentration C (mg/m³) over t minutes (CPR 18E ch. 5).

    Examples
    --------
    Chlorine, CPR 18E constants a = −6.35, b = 0.5, n = 2.75, 100 mg/m³ for 30 min:
    ``−6.35 + 0.5·(2.75·ln 100 + ln 30) = 1.6827``

    >>> round(float(toxic_probit(100.0, 30.0, -6.35, 0.5, 2.75)), 4)
    1.6827
    """
    c = np.asarray(concentration_mg_m3, dtype=float)
    return a + b * (n * _ln(c) + _ln(minutes))


def lethality_from_load(load, a: float, b: float):
    """Probability of death for a toxic load ``∫Cⁿ dt`` (mg/m³)ⁿ·min: ``Φ(a + b·ln L − 5)``."""
    return probability(a + b * _ln(load))


def load_for_probability(p, a: float, b: float):
    """The toxic load giving probability ``p``: ``exp((Pr(p) − a)/b)``.

    >>> f"{float(load_for_probability(0.5, -6.35, 0.5)):.4g}"   # chlorine LL50 = e^22.7, (mg/m³)^2.75·min
    '7.219e+09'
    """
    return np.exp((probit_for_probability(p) - a) / b)


def thermal_probit(q_w_m2, seconds, a: float = -36.38, b: float = 2.56, n: float = 4.0 / 3.0):
    """``Pr = a + b·ln(qⁿ·t)``, q in W/m², t in s (Eisenberg 1975 as in CPR 18E ch. 5).

    >>> round(float(thermal_probit(10_000.0, 20.0)), 3)   # 10 kW/m² for 20 s: −36.38 + 2.56·(4/3·ln 10⁴ + ln 20)
    2.727
    """
    return a + b * (n * _ln(q_w_m2) + _ln(seconds))


def thermal_lethality(q_w_m2, seconds, a: float = -36.38, b: float = 2.56, n: float = 4.0 / 3.0,
                      lethal_w_m2: float = 35_000.0):
    """Probability of death from heat radiation q (W/m²) for ``seconds``.

    CPR 18E ch. 5: people outdoors exposed to 35 kW/m² or more die (clothing ignites); below, the
    thermal probit applies.

    >>> thermal_lethality([1_000.0, 20_000.0, 40_000.0], 20.0).round(3).tolist()
    [0.0, 0.537, 1.0]
    """
    q = np.asarray(q_w_m2, dtype=float)
    return np.where(q >= lethal_w_m2, 1.0, probability(thermal_probit(q, seconds, a, b, n)))
