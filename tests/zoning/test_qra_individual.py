"""Individual risk (CPR 18E ch. 6): the polar tables, the grid and the distances against hand integration.

The reference case (tests/zoning/qra_cases.py): one scenario — 60 t of a light toxic gas (ammonia's
molar mass and probit, compressed, so no flash and no pool) released at 100 kg/s for 600 s, frequency
1×10⁻⁵/y —, one weather class (D, 5 m/s, probability 1), and a wind rose. The hand side is written out
in the tests, not taken from the module: Briggs open-country σ for class D, the ground-level Gaussian
plume C = Q/(π·u·σy·σz)·exp(−y²/2σy²), the probit P = Φ(a + b·ln(Cⁿ·t) − 5) with C in mg/m³ and
t = 10 min, and for a uniform rose IR(r) = f·(1/2π)·∫P(r·cos α, r·sin α) dα by numerical quadrature.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from qra_cases import F, GRID, KW, SCENARIO, p_hand, weather
from zoning.hazards.qra.individual import Window, risk_window, site_risk, window_for
from zoning.hazards.qra.weather import WindRose


def ir_uniform(r: float) -> float:
    """f·(1/2π)·∫P(r cos α, r sin α) dα over the half-plane downwind (P = 0 upwind)."""
    val, _ = integrate.quad(lambda a: p_hand(r * math.cos(a), r * math.sin(a)), -math.pi / 2, math.pi / 2,
                            limit=200, points=[0.0])
    return F * val / (2 * math.pi)


@pytest.fixture(scope="module")
def uniform():
    return site_risk("S", 1000.0, 2000.0, [SCENARIO], weather(WindRose.uniform(12)), GRID, **KW)


@pytest.mark.parametrize("r", [150.0, 400.0, 800.0])
def test_ir_at_distance_matches_the_hand_integral_for_a_uniform_rose(uniform, r):
    hand = ir_uniform(r)
    assert hand > 1e-10
    for bearing in (0.0, 37.0, 123.0, 250.0):
        x = 1000.0 + r * math.cos(math.radians(bearing))
        y = 2000.0 + r * math.sin(math.radians(bearing))
        assert uniform.at(x, y) == pytest.approx(hand, rel=0.02), (r, bearing)


def test_the_grid_carries_the_same_values(uniform):
    """risk_window gives each cell centre the site's IR; a 25 m cell centred 400 m east of the site."""
    w = Window(1000.0 + 400.0 - 12.5, 2000.0 - 12.5, 25.0, 1, 1)
    assert risk_window([uniform], w)[0, 0] == pytest.approx(ir_uniform(400.0), rel=0.02)


def test_distance_to_a_level_matches_the_hand_root(uniform):
    """The 1×10⁻⁷/y contour: the radius where the hand IR(r) falls to 1e-7 (Brent's method)."""
    r_hand = optimize.brentq(lambda r: ir_uniform(r) - 1e-7, 100.0, 3000.0, xtol=0.1)
    assert uniform.distance_to(1e-7) == pytest.approx(r_hand, rel=0.02)
    assert uniform.distance_to(1.0) == 0.0


def test_a_one_sided_rose_puts_the_risk_downwind_only():
    """All wind from the west sector (±15°, spread evenly): IR east at r = f·(1/30°)·∫P over ±15°,
    and nothing to the west."""
    rose = WindRose((0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0))   # 12 sectors clockwise from N: index 9 = W
    s = site_risk("S", 0.0, 0.0, [SCENARIO], weather(rose), GRID, **KW)
    r = 400.0
    val, _ = integrate.quad(lambda a: p_hand(r * math.cos(a), r * math.sin(a)), -math.radians(15), math.radians(15),
                            points=[0.0])
    hand = F * val / math.radians(30)
    assert s.at(r, 0.0) == pytest.approx(hand, rel=0.02)
    assert s.at(-r, 0.0) == 0.0 and s.at(0.0, r) < 1e-3 * hand


def test_windows_are_pure_and_tile_without_seams(uniform):
    """A window computed whole equals its two halves computed apart, cell for cell (the Dask-ready property)."""
    whole = window_for((0.0, 1000.0, 2000.0, 3000.0), 50.0)
    left = Window(whole.x0, whole.y0, 50.0, whole.nx // 2, whole.ny)
    right = Window(whole.x0 + left.nx * 50.0, whole.y0, 50.0, whole.nx - left.nx, whole.ny)
    joined = np.hstack([risk_window([uniform], left), risk_window([uniform], right)])
    assert np.array_equal(joined, risk_window([uniform], whole))
    xs, ys = whole.centres
    assert np.array_equal(risk_window([uniform], whole), uniform.at(xs, ys))


def test_risks_of_sites_add_up(uniform):
    other = site_risk("T", 1300.0, 2000.0, [SCENARIO], weather(WindRose.uniform(12)), GRID, **KW)
    w = window_for((900.0, 1900.0, 1500.0, 2100.0), 25.0)
    xs, ys = w.centres
    assert np.allclose(risk_window([uniform, other], w), uniform.at(xs, ys) + other.at(xs, ys))


def test_no_risk_beyond_the_grid(uniform):
    assert uniform.at(1000.0 + 10_001.0, 2000.0) == 0.0
    assert uniform.reach(1e-12) <= 10_000.0
