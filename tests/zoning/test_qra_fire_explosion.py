"""Heat radiation (CPR 14E ch. 6; CCPS 1999 ch. 3) and TNT-equivalent vapour-cloud explosions, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoning.hazards.qra.explosion import vce_lethality, vce_overpressure, vce_tnt_mass
from zoning.hazards.qra.fire import (fireball_flux, fireball_size, jet_flame_length, point_source_flux,
                                     pool_burning_rate, pool_flame_height)


def test_point_source_by_hand():
    """Jet fire of 2 kg/s of propane (ΔHc 46.3 MJ/kg), χ = 0.2, at 40 m:
    q = χ·ṁ·ΔHc/(4πr²) = 0.2·2·46.3e6/(4π·1600) = 921.1 W/m²; a quarter at twice the distance."""
    q = 0.2 * 2 * 46.3e6 / (4 * math.pi * 40 ** 2)
    assert q == pytest.approx(921.1, abs=0.1)
    assert point_source_flux(2 * 46.3e6, 0.2, [40.0, 80.0]) == pytest.approx([q, q / 4])


def test_pool_fire_by_hand():
    """Burgess & Zabetakis burning rate of benzene-like liquid (ΔHc 40.1 MJ/kg, ΔHv 394 kJ/kg,
    cp 1.74 kJ/(kg·K), Tb 353.2 K, Ta 293.15 K): m'' = 0.001·40.1e6/(394e3 + 1740·60.05) = 0.0804 kg/(m²·s).
    Thomas flame height for D = 10 m: H = 42·10·(0.0804/(1.2·√(9.80665·10)))^0.61 = 19.9 m."""
    m = 0.001 * 40.1e6 / (394e3 + 1740 * (353.2 - 293.15))
    assert pool_burning_rate(40.1e6, 394e3, 1740.0, 353.2, 293.15) == pytest.approx(m)
    assert m == pytest.approx(0.0804, abs=1e-4)
    h = 42 * 10 * (m / (1.2 * math.sqrt(9.80665 * 10))) ** 0.61
    assert pool_flame_height(10.0, m, 1.2) == pytest.approx(h)
    assert h == pytest.approx(19.9, abs=0.1)


def test_jet_flame_length():
    """L = 18.5·ṁ^0.41 (Wertenbach 1971): 5 kg/s → 35.8 m."""
    assert jet_flame_length(5.0) == pytest.approx(18.5 * 5 ** 0.41)
    assert jet_flame_length(5.0) == pytest.approx(35.8, abs=0.1)


def test_fireball_by_hand():
    """Roberts (1981) as in CCPS 1999 ch. 3: M = 50 t: D = 5.8·M^(1/3) = 213.7 m, t = 2.6·M^(1/6) = 15.79 s
    (M > 30 t), centre at 0.75·D; q at 300 m = SEP·(D/2)²/(300² + H²) with SEP 350 kW/m²."""
    d, t, h = fireball_size(50_000.0)
    cube = 50_000 ** (1 / 3)
    assert (d, t, h) == pytest.approx((5.8 * cube, 2.6 * 50_000 ** (1 / 6), 0.75 * 5.8 * cube))
    assert d == pytest.approx(213.7, abs=0.1) and t == pytest.approx(15.79, abs=0.01)
    assert fireball_size(1000.0)[1] == pytest.approx(0.45 * 1000 ** (1 / 3))     # small fireballs: 0.45·M^(1/3)
    assert fireball_flux(50_000.0, 300.0) == pytest.approx(350e3 * (d / 2) ** 2 / (300 ** 2 + h ** 2))
    assert fireball_flux(50_000.0, 0.0) == pytest.approx(350e3 * (d / 2) ** 2 / h ** 2)


def test_vce_reproduces_the_published_tnt_reference_case():
    """A cloud whose TNT equivalent is 10 000 kg (η·m·ΔHc/Q_TNT = 0.03·m·46.3e6/4.5e6 → m = 32 397 kg of
    propane) gives ≈ 5.06 kPa at 500 m: the Kingery–Bulmash reference case (Swisdak 1994)."""
    m = 10_000 * 4.5e6 / (0.03 * 46.3e6)
    w = vce_tnt_mass(m, 46.3e6, 0.03)
    assert w == pytest.approx(10_000.0)
    assert vce_overpressure(500.0, w) == pytest.approx(5.06, abs=0.01)


def test_vce_lethality_steps_at_the_lethal_overpressure():
    """People outdoors die where the overpressure reaches 30 kPa (CPR 18E ch. 5, rule set); none beyond
    the blast curve's far end (Z = 198.5 m/kg^(1/3))."""
    w = 1000.0
    r = np.array([5.0, 30.0, 60.0, 2000.0, 198.5 * 10 + 1])
    p = vce_overpressure(r, w)
    lethal = vce_lethality(r, w, 30.0)
    assert lethal.tolist() == (p >= 30.0).astype(float).tolist()
    assert lethal[0] == 1.0 and p[-1] == 0.0
    assert np.all(np.diff(p) <= 0)
    assert vce_overpressure([10.0], 0.0).tolist() == [0.0]
