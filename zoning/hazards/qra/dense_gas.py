"""Dense-gas dispersion by the Britter–McQuaid workbook correlations.

Britter & McQuaid (1988), *Workbook on the Dispersion of Dense Gases*, HSE Contract Research Report
17/1988, collapse the field trials (Thorney Island, Burro, Maplin Sands…) onto charts of the
centreline concentration ratio C/C₀ against a scaled distance. CCPS 1999 ch. 2 gives the charts as
straight-line segments in (α, β), the form used by EPA's TSCREEN; the segments are reproduced in
:data:`PLUME_CHART` and :data:`PUFF_CHART` (facts of a published chart; to confirm against the
workbook's own figures).

Continuous release (plume) of ``q₀`` m³/s of gas of density ρ₀ in wind u (at 10 m), with
``g₀' = g·(ρ₀ − ρa)/ρa`` and ``D = √(q₀/u)``::

    dense if (g₀'·q₀/(u³·D))^(1/3) ≥ 0.15
    α = 0.2·log₁₀(g₀'²·q₀/u⁵)          β = log₁₀(x/D)   at which C/C₀ = 0.1, 0.05, 0.02, 0.01, 0.005, 0.002

Instantaneous release (puff) of ``V₀`` m³::

    dense if √(g₀'·V₀^(1/3))/u ≥ 0.2
    α = 0.5·log₁₀(g₀'·V₀^(1/3)/u²)     β = log₁₀(x/V₀^(1/3))   for C/C₀ = 0.1 … 0.001

Between chart points log C/C₀ is interpolated linearly in β (the charts are log–log); near the
source the workbook's near-field forms ``306·x'⁻²/(1 + 306·x'⁻²)`` (plume, x' = x/D < 30) and
``3.24/(3.24 + x'²)`` (puff) join the first chart point; beyond the last curve the cloud is passive
and the concentration follows the Gaussian model scaled to meet the chart (riskmap's choice, said in
the validity notes). A cold release is corrected for its temperature, ``C = C'/(C' + (1 − C')·T₀/Ta)``
(CCPS 1999 ch. 2).

Cloud extents (workbook estimates, to confirm): plume half-width
``L_H = D + 8·L_b + 2.5·L_b^(1/3)·x^(2/3)`` with ``L_b = g₀'·q₀/u³``; puff radius
``R² = R₀² + 1.2·√(g₀'·V₀)·t`` with R₀ = (3V₀/2π)^(1/3) (a hemisphere) and the cloud centre advected
at 0.4·u.

>>> PLUME_CHART.beta(-0.75).round(3).tolist()        # chart values at α = −0.75 (left plateau)
[1.75, 1.92, 2.08, 2.25, 2.4, 2.6]
>>> PUFF_CHART.beta(0.0).round(3).tolist()
[0.81, 1.0, 1.19, 1.39, 1.62, 1.83, 2.05]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoning.hazards.qra.substances import G

__all__ = ["Chart", "PLUME_CHART", "PUFF_CHART", "reduced_gravity", "is_dense_plume", "is_dense_puff",
           "plume_alpha", "puff_alpha", "centreline_ratio", "plume_half_width", "puff_radius",
           "temperature_corrected", "PUFF_ADVECTION"]

#: Speed of a dense puff's centre as a fraction of the wind speed at 10 m (workbook; to confirm).
PUFF_ADVECTION = 0.4


@dataclass(frozen=True)
class Chart:
    """A Britter–McQuaid chart: per concentration ratio, β(α) as straight segments.

    ``segments[i]`` lists ``(α_upper, slope, intercept)``: β = slope·α + intercept for α up to
    α_upper (the first segment from −∞, the last to +∞).
    """

    name: str
    ratios: tuple[float, ...]
    segments: tuple[tuple[tuple[float, float, float], ...], ...]

    def beta(self, alpha) -> np.ndarray:
        """β for each ratio at ``alpha`` (scalar); α outside [−1, 1] is clamped (the chart's range)."""
        a = float(np.clip(alpha, -1.0, 1.0))
        out = []
        for segs in self.segments:
            for upper, slope, intercept in segs:
                if a <= upper:
                    break
            out.append(slope * a + intercept)
        return np.array(out)


#: Continuous releases: C/C₀ = 0.1 … 0.002 (CCPS 1999 ch. 2 segments after Britter & McQuaid 1988).
PLUME_CHART = Chart("plume", (0.1, 0.05, 0.02, 0.01, 0.005, 0.002), (
    ((-0.55, 0.0, 1.75), (-0.14, 0.24, 1.88), (np.inf, -0.50, 1.78)),
    ((-0.68, 0.0, 1.92), (-0.29, 0.36, 2.16), (-0.18, 0.0, 2.06), (np.inf, -0.56, 1.96)),
    ((-0.69, 0.0, 2.08), (-0.31, 0.45, 2.39), (-0.16, 0.0, 2.25), (np.inf, -0.54, 2.16)),
    ((-0.70, 0.0, 2.25), (-0.29, 0.49, 2.59), (-0.20, 0.0, 2.45), (np.inf, -0.52, 2.35)),
    ((-0.67, 0.0, 2.40), (-0.28, 0.59, 2.80), (-0.15, 0.0, 2.63), (np.inf, -0.49, 2.56)),
    ((-0.69, 0.0, 2.60), (-0.25, 0.39, 2.87), (-0.13, 0.0, 2.77), (np.inf, -0.50, 2.71)),
))

#: Instantaneous releases: C/C₀ = 0.1 … 0.001 (CCPS 1999 ch. 2 segments after Britter & McQuaid 1988).
PUFF_CHART = Chart("puff", (0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001), (
    ((-0.44, 0.0, 0.70), (0.43, 0.26, 0.81), (np.inf, 0.0, 0.93)),
    ((-0.56, 0.0, 0.85), (0.31, 0.26, 1.00), (np.inf, -0.12, 1.12)),
    ((-0.66, 0.0, 0.95), (0.32, 0.36, 1.19), (np.inf, -0.26, 1.38)),
    ((-0.71, 0.0, 1.15), (0.37, 0.34, 1.39), (np.inf, -0.38, 1.66)),
    ((-0.52, 0.0, 1.48), (0.24, 0.26, 1.62), (np.inf, -0.30, 1.75)),
    ((0.27, 0.0, 1.83), (np.inf, -0.32, 1.92)),
    ((-0.10, 0.0, 2.075), (np.inf, -0.27, 2.05)),
))


def reduced_gravity(rho_gas: float, rho_air: float) -> float:
    """``g₀' = g·(ρ₀ − ρa)/ρa`` in m/s² (negative for a buoyant gas)."""
    return G * (rho_gas - rho_air) / rho_air


def is_dense_plume(g0: float, q0_m3_s: float, wind_m_s: float) -> bool:
    """Britter–McQuaid criterion for a continuous release: ``(g₀'·q₀/(u³·D))^(1/3) ≥ 0.15``."""
    if g0 <= 0:
        return False
    d = np.sqrt(q0_m3_s / wind_m_s)
    return bool(np.cbrt(g0 * q0_m3_s / (wind_m_s ** 3 * d)) >= 0.15)


def is_dense_puff(g0: float, v0_m3: float, wind_m_s: float) -> bool:
    """Britter–McQuaid criterion for an instantaneous release: ``√(g₀'·V₀^(1/3))/u ≥ 0.2``."""
    return g0 > 0 and bool(np.sqrt(g0 * np.cbrt(v0_m3)) / wind_m_s >= 0.2)


def plume_alpha(g0: float, q0_m3_s: float, wind_m_s: float) -> float:
    """``α = 0.2·log₁₀(g₀'²·q₀/u⁵)``."""
    return 0.2 * float(np.log10(g0 ** 2 * q0_m3_s / wind_m_s ** 5))


def puff_alpha(g0: float, v0_m3: float, wind_m_s: float) -> float:
    """``α = 0.5·log₁₀(g₀'·V₀^(1/3)/u²)``."""
    return 0.5 * float(np.log10(g0 * np.cbrt(v0_m3) / wind_m_s ** 2))


def _near_field(kind: str, xs):
    if kind == "plume":
        k = 306.0 * np.maximum(xs, 1e-9) ** -2.0
        return k / (1.0 + k)
    return 3.24 / (3.24 + xs ** 2)


def centreline_ratio(x_m, length_scale: float, alpha: float, chart: Chart, passive_shape=None):
    """Isothermal centreline C'/C₀ at downwind distances ``x_m``.

    Parameters
    ----------
    x_m : array_like
        Downwind distances, m.
    length_scale : float
        D = √(q₀/u) for a plume, V₀^(1/3) for a puff.
    alpha : float
        The chart parameter (:func:`plume_alpha` / :func:`puff_alpha`).
    chart : Chart
        :data:`PLUME_CHART` or :data:`PUFF_CHART`.
    passive_shape : callable, optional
        ``f(x)`` proportional to the passive (Gaussian) centreline concentration; beyond the last
        chart point the ratio is ``C_last·f(x)/f(x_last)``. Without it the last chart segment is
        extended in log–log.

    Returns
    -------
    numpy.ndarray
        C'/C₀ in (0, 1].
    """
    x = np.asarray(x_m, dtype=float)
    xs = np.maximum(x / length_scale, 1e-9)
    beta = chart.beta(alpha)
    log_c = np.log10(np.asarray(chart.ratios))
    kind = chart.name
    if kind == "plume" and 30.0 < 10.0 ** beta[0]:
        # the near-field form up to x' = 30, then log–log towards the first chart point
        knots_b = np.concatenate([[np.log10(30.0)], beta])
        knots_c = np.concatenate([[np.log10(_near_field(kind, np.array(30.0)))], log_c])
    else:
        # (puff, or a plume whose first chart point comes before x' = 30): near field down to the chart
        knots_b, knots_c = beta, log_c
    knots_b = np.maximum.accumulate(knots_b)
    b = np.log10(xs)
    inside = np.power(10.0, np.interp(b, knots_b, knots_c))
    near = np.maximum(_near_field(kind, xs), 10.0 ** knots_c[0])
    last_b, last_c = knots_b[-1], 10.0 ** knots_c[-1]
    if passive_shape is not None:
        x_last = length_scale * 10.0 ** last_b
        with np.errstate(divide="ignore", invalid="ignore"):
            far = last_c * passive_shape(np.maximum(x, x_last)) / passive_shape(x_last)
    else:
        slope = (knots_c[-1] - knots_c[-2]) / max(knots_b[-1] - knots_b[-2], 1e-9)
        far = 10.0 ** (knots_c[-1] + slope * (b - last_b))
    out = np.where(b <= knots_b[0], near, np.where(b >= last_b, far, inside))
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


def temperature_corrected(ratio, t_release_k: float, t_ambient_k: float):
    """Non-isothermal correction ``C = C'/(C' + (1 − C')·T₀/Ta)`` (CCPS 1999 ch. 2).

    >>> round(float(temperature_corrected(0.1, 239.1, 289.15)), 4)   # chlorine at its boiling point
    0.1185
    """
    c = np.asarray(ratio, dtype=float)
    return c / (c + (1.0 - c) * t_release_k / t_ambient_k)


def plume_half_width(x_m, g0: float, q0_m3_s: float, wind_m_s: float):
    """Crosswind half-width (m) of a dense plume: ``D + 8·L_b + 2.5·L_b^(1/3)·x^(2/3)``."""
    lb = g0 * q0_m3_s / wind_m_s ** 3
    d = np.sqrt(q0_m3_s / wind_m_s)
    return d + 8.0 * lb + 2.5 * np.cbrt(lb) * np.maximum(np.asarray(x_m, dtype=float), 0.0) ** (2.0 / 3.0)


def puff_radius(x_m, g0: float, v0_m3: float, wind_m_s: float):
    """(radius m, time s) of a dense puff when its centre is ``x_m`` downwind.

    ``R² = R₀² + 1.2·√(g₀'·V₀)·t`` with ``t = x/(0.4·u)`` and R₀ of a hemisphere of volume V₀.
    """
    t = np.maximum(np.asarray(x_m, dtype=float), 0.0) / (PUFF_ADVECTION * wind_m_s)
    r0 = np.cbrt(3.0 * v0_m3 / (2.0 * np.pi))
    return np.sqrt(r0 ** 2 + 1.2 * np.sqrt(g0 * v0_m3) * t), t
