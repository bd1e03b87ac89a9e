"""Air blast: TNT equivalence, Hopkinson–Cranz scaling, Kingery–Bulmash overpressure and its inverse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from zoning.hazards.blast import (SWISDAK_1994, BlastCurve, distance_to_overpressure, incident_overpressure,
                          scaled_distance, scaled_distance_at, side_on_overpressure, tnt_equivalent)

LOWEST, HIGHEST = SWISDAK_1994.pressure_range


def test_published_reference_case_10t_tnt_at_500m():
    """10 000 kg TNT at 500 m: Z = 500 / 10000^(1/3) = 500 / 21.544 = 23.21 m/kg^(1/3), in the
    middle segment (2.9 < Z ≤ 23.8):
    ln P = 7.5938 − 3.0523·lnZ + 0.40977·lnZ² + 0.0261·lnZ³ − 0.01267·lnZ⁴, lnZ = 3.1445
         = 7.5938 − 9.5979 + 4.0518 + 0.8116 − 1.2387 = 1.6205 → P = 5.055 kPa
    (published ≈ 5.06 kPa; required within 2 %)."""
    assert scaled_distance(500.0, 10_000.0) == pytest.approx(23.208, abs=1e-3)
    assert incident_overpressure(500.0, 10_000.0) == pytest.approx(5.06, rel=0.02)
    assert incident_overpressure(500.0, 10_000.0) == pytest.approx(5.055, abs=1e-3)


@pytest.mark.parametrize("z, by_hand", [
    (1.0, math.exp(7.2106)),                           # lnZ = 0: only A of the near segment
    (10.0, math.exp(sum(c * math.log(10.0) ** k for k, c in
                        enumerate((7.5938, -3.0523, 0.40977, 0.0261, -0.01267))))),
    (100.0, math.exp(6.0536 - 1.4066 * math.log(100.0))),  # far segment: a power law
])
def test_segments_by_hand(z, by_hand):
    assert side_on_overpressure(z) == pytest.approx(by_hand, rel=1e-12)


def test_inverse_of_2kpa_by_hand():
    """2 kPa lies on the far segment: ln 2 = 6.0536 − 1.4066·lnZ → Z = exp((6.0536 − ln 2)/1.4066)
    = 45.19 m/kg^(1/3); for 10 000 kg R = 45.19 × 21.544 = 973.6 m."""
    z = math.exp((6.0536 - math.log(2.0)) / 1.4066)
    assert scaled_distance_at(2.0) == pytest.approx(z, rel=1e-9)
    assert distance_to_overpressure(2.0, 10_000.0) == pytest.approx(z * 10_000.0 ** (1 / 3), rel=1e-9)
    assert distance_to_overpressure(2.0, 10_000.0) == pytest.approx(973.6, abs=0.1)


@pytest.mark.parametrize("p", [0.5, 2.0, 5.0, 5.06, 16.0, 70.0, 124.0, 300.0, 1000.0, 10_000.0])
def test_round_trip_pressure_distance_pressure(p):
    for w in (1.0, 10_000.0, 2e6):
        r = distance_to_overpressure(p, w)
        assert incident_overpressure(r, w) == pytest.approx(p, rel=1e-9)


def test_tnt_equivalent_by_hand():
    """5 t ammonium nitrate, η = 1, Qc = 1590 kJ/kg: W_TNT = 1 × 5000 × 1590 / 4500 = 1766.7 kg;
    with Q_TNT = 4680 kJ/kg: 1698.7 kg."""
    assert tnt_equivalent(5000.0, 1.0, 1590.0) == pytest.approx(1766.667, abs=1e-3)
    assert tnt_equivalent(5000.0, 1.0, 1590.0, q_tnt_kj_kg=4680.0) == pytest.approx(1698.718, abs=1e-3)
    assert tnt_equivalent([1000.0, 2000.0], 0.5, 4500.0).tolist() == [500.0, 1000.0]
    with pytest.raises(InputError):
        tnt_equivalent(-1.0, 1.0, 4500.0)


def test_outside_the_curve_is_nan_not_extrapolated():
    assert np.isnan(side_on_overpressure([0.1, 250.0])).all()
    assert np.isnan(scaled_distance_at([0.1, 20_000.0])).all()
    assert not np.isnan(side_on_overpressure([0.2, 198.5])).any()
    assert scaled_distance_at(LOWEST) == pytest.approx(198.5)


def test_curve_is_monotone_including_the_step_at_z_23_8():
    """The published segments step up 0.7 % at Z = 23.8 (4.895 → 4.929 kPa); the curve holds the
    near segment at the far one's start, so overpressure never rises with distance."""
    z = np.geomspace(0.2, 198.5, 200_001)
    assert (np.diff(side_on_overpressure(z)) <= 0).all()
    assert side_on_overpressure(23.8) == pytest.approx(side_on_overpressure(23.8 + 1e-9), rel=1e-6)
    # 4.91 kPa is reached twice by the raw segments (Z ≈ 23.6 and 23.87); the inverse gives the
    # farther, on the far segment: Z = exp((6.0536 − ln 4.91)/1.4066) (conservative)
    assert scaled_distance_at(4.91) == pytest.approx(math.exp((6.0536 - math.log(4.91)) / 1.4066), rel=1e-9)


def test_broadcasting_thresholds_against_masses():
    d = distance_to_overpressure(np.array([2.0, 5.0]), np.array([[1000.0], [8000.0]]))
    assert d.shape == (2, 2)
    assert d[1] == pytest.approx(2 * d[0])   # 8× the mass, 2× the distance (cube root)
    assert distance_to_overpressure(2.0, 0.0) == 0.0


@pytest.mark.parametrize("edges, coefficients", [((1.0, 0.5), ((1.0,),)), ((1.0, 2.0, 3.0), ((1.0,),)),
                                                 ((0.0, 1.0), ((1.0,),))])
def test_bad_curves_are_refused(edges, coefficients):
    with pytest.raises(InputError):
        BlastCurve("bad", edges, coefficients)


MASS = st.floats(min_value=0.1, max_value=1e7, allow_nan=False)
PRESSURE = st.floats(min_value=LOWEST * 1.0001, max_value=HIGHEST * 0.9999, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(MASS, st.floats(min_value=0.2001, max_value=198.4), st.floats(min_value=0.2001, max_value=198.4))
def test_overpressure_decreases_with_distance(w, z1, z2):
    near, far = sorted((z1, z2))
    r_near, r_far = near * w ** (1 / 3), far * w ** (1 / 3)
    p_near, p_far = incident_overpressure([r_near, r_far], w)
    assert p_near >= p_far
    if far > near * 1.001 and not (23.5 < near < 23.8):   # strictly, off the held level
        assert p_near > p_far


@settings(max_examples=200, deadline=None)
@given(PRESSURE, MASS, MASS)
def test_more_tnt_never_gives_a_smaller_distance(p, w1, w2):
    small, large = sorted((w1, w2))
    assert distance_to_overpressure(p, small) <= distance_to_overpressure(p, large)


@settings(max_examples=200, deadline=None)
@given(PRESSURE)
def test_inverse_is_the_edge_of_the_region_above_the_threshold(p):
    z = float(scaled_distance_at(p))
    assume(z < 198.5 * 0.999)
    assert side_on_overpressure(z * (1 - 1e-9)) >= p * (1 - 1e-9)
    assert side_on_overpressure(z * (1 + 1e-6)) < p
