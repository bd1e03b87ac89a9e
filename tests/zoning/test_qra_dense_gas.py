"""Britter–McQuaid dense-gas correlations (Britter & McQuaid 1988, HSE CRR 17/1988; the chart segments
of CCPS 1999 ch. 2 as digitised for EPA's TSCREEN), against the chart values and hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoning.hazards.qra.dense_gas import (PLUME_CHART, PUFF_CHART, centreline_ratio, is_dense_plume, is_dense_puff,
                                          plume_alpha, plume_half_width, puff_alpha, puff_radius, reduced_gravity,
                                          temperature_corrected)

G = 9.80665
RHO_CL2 = 101325 * 0.0709 / (8.314462618 * 239.1)     # chlorine vapour at its boiling point, 3.614 kg/m³
RHO_AIR = 101325 * 0.02896 / (8.314462618 * 289.15)   # 1.2206 kg/m³


@pytest.mark.parametrize("alpha, betas", [
    (-0.75, [0.70, 0.85, 0.95, 1.15, 1.48, 1.83, 2.075]),
    (0.0, [0.81, 1.00, 1.19, 1.39, 1.62, 1.83, 2.05]),
    (0.75, [0.93, 1.03, 1.185, 1.375, 1.525, 1.68, 1.8475]),
])
def test_puff_chart_values(alpha, betas):
    """β = log₁₀(x/V₀^(1/3)) of the instantaneous chart for C/C₀ = 0.1 … 0.001 at three α."""
    assert PUFF_CHART.beta(alpha) == pytest.approx(betas, abs=1e-9)


@pytest.mark.parametrize("alpha, betas", [
    (-0.75, [1.75, 1.92, 2.08, 2.25, 2.40, 2.60]),
    (-0.3, [0.24 * -0.3 + 1.88, 0.36 * -0.3 + 2.16, 2.25, 0.49 * -0.3 + 2.59, 0.59 * -0.3 + 2.80, 0.39 * -0.3 + 2.87]),
    (0.5, [-0.5 * 0.5 + 1.78, -0.56 * 0.5 + 1.96, -0.54 * 0.5 + 2.16, -0.52 * 0.5 + 2.35, -0.49 * 0.5 + 2.56,
           -0.5 * 0.5 + 2.71]),
])
def test_plume_chart_values(alpha, betas):
    """β = log₁₀(x/D) of the continuous chart for C/C₀ = 0.1 … 0.002 (segment formulas of CCPS 1999)."""
    assert PLUME_CHART.beta(alpha) == pytest.approx(betas, abs=1e-9)


def test_chlorine_plume_by_hand():
    """5 kg/s of chlorine vapour at 239.1 K in u = 3 m/s: q₀ = 5/3.614 = 1.3835 m³/s,
    g₀' = 9.807·(3.614 − 1.2206)/1.2206 = 19.23 m/s², D = √(q₀/u) = 0.679 m;
    (g₀'q₀/(u³D))^(1/3) = 1.13 ≥ 0.15: dense. α = 0.2·log₁₀(g₀'²q₀/u⁵) = 0.0647;
    C/C₀ = 0.01 at β = −0.52α + 2.35 = 2.3164, x = 10^β·D = 140.7 m."""
    q0 = 5.0 / RHO_CL2
    g0 = G * (RHO_CL2 - RHO_AIR) / RHO_AIR
    d = math.sqrt(q0 / 3.0)
    assert reduced_gravity(RHO_CL2, RHO_AIR) == pytest.approx(g0)
    assert is_dense_plume(g0, q0, 3.0)
    alpha = 0.2 * math.log10(g0 ** 2 * q0 / 3.0 ** 5)
    assert plume_alpha(g0, q0, 3.0) == pytest.approx(alpha) and alpha == pytest.approx(0.0647, abs=1e-3)
    x01 = 10 ** (-0.52 * alpha + 2.35) * d
    assert x01 == pytest.approx(140.7, rel=2e-3)
    assert centreline_ratio(x01, d, alpha, PLUME_CHART) == pytest.approx(0.01, rel=1e-9)
    # half-way (in log x) between the 0.01 and 0.005 points the ratio is √(0.01·0.005) (log–log chart)
    x005 = 10 ** (-0.49 * alpha + 2.56) * d
    assert centreline_ratio(math.sqrt(x01 * x005), d, alpha, PLUME_CHART) == pytest.approx(math.sqrt(0.01 * 0.005))
    # plume half-width: L_b = g₀'q₀/u³ = 0.985 m; D + 8L_b + 2.5·L_b^(1/3)·100^(2/3) = 62.2 m at 100 m
    lb = g0 * q0 / 27.0
    assert plume_half_width(100.0, g0, q0, 3.0) == pytest.approx(d + 8 * lb + 2.5 * lb ** (1 / 3) * 100 ** (2 / 3))
    assert float(plume_half_width(100.0, g0, q0, 3.0)) == pytest.approx(62.2, abs=0.1)


def test_chlorine_puff_by_hand():
    """1 t of chlorine vapour (V₀ = 1000/3.614 = 276.7 m³) in u = 2 m/s: α = 0.5·log₁₀(g₀'V₀^(1/3)/u²) = 0.748;
    C/C₀ = 0.01 at β = −0.38α + 1.66 = 1.3758, x = 10^β·V₀^(1/3) = 154.8 m.
    Cloud radius R² = R₀² + 1.2·√(g₀'V₀)·t, t = x/(0.4u), R₀ = (3V₀/2π)^(1/3)."""
    v0 = 1000.0 / RHO_CL2
    g0 = G * (RHO_CL2 - RHO_AIR) / RHO_AIR
    assert is_dense_puff(g0, v0, 2.0)
    alpha = 0.5 * math.log10(g0 * v0 ** (1 / 3) / 4.0)
    assert puff_alpha(g0, v0, 2.0) == pytest.approx(alpha) and alpha == pytest.approx(0.748, abs=1e-3)
    x = 10 ** (-0.38 * alpha + 1.66) * v0 ** (1 / 3)
    assert x == pytest.approx(154.8, rel=2e-3)
    assert centreline_ratio(x, v0 ** (1 / 3), alpha, PUFF_CHART) == pytest.approx(0.01, rel=1e-9)
    radius, t = puff_radius(300.0, g0, v0, 2.0)
    assert t == pytest.approx(300.0 / 0.8)
    assert radius == pytest.approx(math.sqrt((3 * v0 / (2 * math.pi)) ** (2 / 3) + 1.2 * math.sqrt(g0 * v0) * t))


def test_temperature_correction_by_hand():
    """C = C'/(C' + (1 − C')·T₀/Ta): 0.05 released at 239.1 K into 289.15 K air → 0.05/(0.05 + 0.95·0.8269) = 0.0598."""
    assert temperature_corrected(0.05, 239.1, 289.15) == pytest.approx(0.05 / (0.05 + 0.95 * 239.1 / 289.15))
    assert temperature_corrected(0.05, 289.15, 289.15) == pytest.approx(0.05)


def test_buoyant_gas_is_not_dense():
    rho_h2 = 101325 * 0.002016 / (8.314462618 * 289.15)
    g0 = reduced_gravity(rho_h2, RHO_AIR)
    assert g0 < 0 and not is_dense_plume(g0, 10.0, 2.0) and not is_dense_puff(g0, 100.0, 2.0)


def test_beyond_the_last_curve_the_passive_shape_takes_over():
    """Past C/C₀ = 0.002 the ratio follows the passive shape f(x), scaled to meet the chart: C_last·f(x)/f(x_last)."""
    d, alpha = 1.0, 0.0
    x_last = 10 ** PLUME_CHART.beta(alpha)[-1] * d
    shape = lambda x: 1.0 / np.asarray(x) ** 1.7   # noqa: E731
    far = 3 * x_last
    assert centreline_ratio(far, d, alpha, PLUME_CHART, shape) == pytest.approx(0.002 * 3 ** -1.7)


@given(st.floats(-1.0, 1.0), st.floats(0.5, 50.0))
def test_centreline_ratio_never_rises_downwind(alpha, scale):
    for chart in (PLUME_CHART, PUFF_CHART):
        x = np.geomspace(1.0, 20_000.0, 200)
        c = centreline_ratio(x, scale, alpha, chart)
        assert np.all(np.diff(c) <= 1e-12) and np.all((c > 0) & (c <= 1))
