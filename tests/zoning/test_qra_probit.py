"""Probits (CPR 18E ch. 5; CPR 16E): Pr = a + b·ln(Cⁿ·t), P = ½·[1 + erf((Pr − 5)/√2)], by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoning.hazards.qra.probit import (lethality_from_load, load_for_probability, probability,
                                       probit_for_probability, thermal_lethality, thermal_probit, toxic_probit)


def phi(pr: float) -> float:
    """The standard normal CDF of Pr − 5 written out with math.erf, independently of the module."""
    return 0.5 * (1.0 + math.erf((pr - 5.0) / math.sqrt(2.0)))


@pytest.mark.parametrize("pr, expected", [(5.0, 0.5), (5.0 + 1.2815516, 0.9), (5.0 - 2.3263479, 0.01),
                                          (5.0 + 2.3263479, 0.99)])
def test_probit_to_probability_via_erf_matches_the_normal_table(pr, expected):
    """Finney's table: probit 5 ↔ 50 %, 6.28 ↔ 90 %, 2.67 ↔ 1 %, 7.33 ↔ 99 %."""
    assert probability(pr) == pytest.approx(expected, abs=1e-6)
    assert probability(pr) == pytest.approx(phi(pr), abs=1e-12)
    assert probit_for_probability(expected) == pytest.approx(pr, abs=1e-6)


def test_chlorine_probit_by_hand():
    """CPR 18E chlorine constants a = −6.35, b = 0.5, n = 2.75; 1000 mg/m³ for 10 min:
    Pr = −6.35 + 0.5·(2.75·ln 1000 + ln 10) = −6.35 + 0.5·(18.9963 + 2.3026) = 4.2995 → P = 0.2418."""
    pr = -6.35 + 0.5 * (2.75 * math.log(1000.0) + math.log(10.0))
    assert pr == pytest.approx(4.2995, abs=1e-4)
    assert toxic_probit(1000.0, 10.0, -6.35, 0.5, 2.75) == pytest.approx(pr, rel=1e-12)
    assert lethality_from_load(1000.0 ** 2.75 * 10.0, -6.35, 0.5) == pytest.approx(phi(pr), rel=1e-9)
    assert phi(pr) == pytest.approx(0.2418, abs=1e-4)


def test_ammonia_lethal_load_inverts_the_probit():
    """Ammonia (CPR 18E: a = −15.6, b = 1, n = 2): the 50 % load is e^20.6 (mg/m³)²·min; for 30 min
    that is C = √(e^20.6/30) = 5 431 mg/m³."""
    load = load_for_probability(0.5, -15.6, 1.0)
    assert load == pytest.approx(math.exp(20.6), rel=1e-9)
    assert math.sqrt(load / 30.0) == pytest.approx(5431.0, rel=1e-3)
    assert probability(toxic_probit(math.sqrt(load / 30.0), 30.0, -15.6, 1.0, 2.0)) == pytest.approx(0.5, abs=1e-9)


def test_thermal_probit_and_the_35_kw_rule():
    """Eisenberg as in CPR 18E ch. 5: Pr = −36.38 + 2.56·ln(q^(4/3)·t). 20 kW/m² for 20 s:
    −36.38 + 2.56·(4/3·ln 20 000 + ln 20) = 5.0926 → P = 0.537. 35 kW/m² and above: P = 1."""
    pr = -36.38 + 2.56 * (4.0 / 3.0 * math.log(20_000.0) + math.log(20.0))
    assert thermal_probit(20_000.0, 20.0) == pytest.approx(pr, rel=1e-12)
    assert thermal_lethality(20_000.0, 20.0) == pytest.approx(phi(pr), rel=1e-9)
    assert thermal_lethality([34_999.0, 35_000.0], 1.0).tolist()[1] == 1.0
    assert thermal_lethality(34_999.0, 1.0) < 0.01


def test_zero_dose_is_zero_probability():
    assert probability(toxic_probit(0.0, 10.0, -6.35, 0.5, 2.75)) == 0.0
    assert lethality_from_load(np.array([0.0, 1e30]), -6.35, 0.5).tolist() == [0.0, 1.0]


@given(st.floats(1.0, 1e5), st.floats(1.0, 1e5), st.floats(0.1, 60.0))
def test_lethality_never_falls_when_the_concentration_rises(c1, c2, minutes):
    lo, hi = sorted((c1, c2))
    a, b, n = -6.35, 0.5, 2.75
    assert probability(toxic_probit(hi, minutes, a, b, n)) >= probability(toxic_probit(lo, minutes, a, b, n))
