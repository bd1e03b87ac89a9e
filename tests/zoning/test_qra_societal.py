"""Societal risk (GB 36894-2018 F-N lines; CPR 18E ch. 6 for N), against hand-made footprints."""

from __future__ import annotations

import numpy as np
import pytest

from zoning.hazards.qra.footprint import Footprint, PolarGrid
from zoning.hazards.qra.individual import SiteRisk
from zoning.hazards.qra.scenarios import Scenario
from zoning.hazards.qra.societal import DIRECTIONS, fn_curve, site_fn
from zoning.hazards.qra.substances import QRASubstance
from zoning.hazards.qra.weather import WeatherClass

GRID = PolarGrid.build(10.0, 1000.0, 41, 1.0)
GAS = QRASubstance(key="chlorine", cas="7782-50-5", molar_mass=0.0709, boiling_k=239.1, liquid_density=1410.0,
                   liquid_cp=950.0, heat_of_vaporisation=288e3, gamma=1.33, storage="liquefied", effects=("toxic",),
                   probit=(-6.35, 0.5, 2.75))
INDOOR = {"toxic": 0.1, "flash_fire": 0.0, "jet_fire": 0.0, "fireball": 0.0, "explosion": 1.0}


def site(footprints) -> SiteRisk:
    return SiteRisk("S", 0.0, 0.0, GRID, footprints, np.zeros((GRID.r.size, 360)), np.zeros(0), np.zeros(0))


def fp(outcome: str, frequency: float, **tables) -> Footprint:
    sc = Scenario(GAS, "pressure_vessel", "G.1", "instantaneous", frequency, 1000.0)
    return Footprint(sc, WeatherClass("D5", "D", 5.0, 1.0), [(outcome, 1.0)], **tables)


def test_fn_curve_cumulates_and_checks_the_lines():
    """Events (F, N): (1e-4, 1.5), (1e-5, 12), (2e-7, 300), (1e-6, 0.5). Below N = 1 an event is not drawn.
    F(N ≥ 1.5) = 1.102e-4, F(≥ 12) = 1.02e-5, F(≥ 300) = 2e-7. Largest F·N = 1.653e-4 at N = 1.5:
    between 1e-5 and 1e-3 → ALARP."""
    c = fn_curve([1e-4, 1e-5, 2e-7, 1e-6], [1.5, 12.0, 300.0, 0.5], upper=1e-3, lower=1e-5)
    assert c.n.tolist() == [1.5, 12.0, 300.0]
    assert c.f == pytest.approx([1.102e-4, 1.02e-5, 2e-7])
    assert (c.verdict, c.worst_n) == ("alarp", 1.5) and c.worst_f * c.worst_n == pytest.approx(1.653e-4)
    assert c.expected_deaths == pytest.approx(1e-4 * 1.5 + 1e-5 * 12 + 2e-7 * 300 + 1e-6 * 0.5)


@pytest.mark.parametrize("f, verdict", [(1e-5, "acceptable"), (1.0001e-5, "alarp"), (1e-3, "alarp"),
                                        (1.0001e-3, "unacceptable")])
def test_the_lines_are_boundaries(f, verdict):
    """One event killing 1: on the lower line still acceptable, on the upper line still ALARP (strict '>')."""
    assert fn_curve([f], [1.0], upper=1e-3, lower=1e-5).verdict == verdict


def test_beyond_n_max_the_result_says_the_lines_are_extended():
    c = fn_curve([1e-9], [5000.0], upper=1e-3, lower=1e-5, n_max=1000.0)
    assert c.verdict == "acceptable" and "beyond the end of the GB 36894 lines" in c.notes[0]


def test_radial_outcome_counts_everyone_it_reaches():
    """An explosion killing everyone within 100 m (lethality 1 on the radii ≤ 100 m): 120 people at 50 m
    and 500 at 600 m → N = 120 (indoors too: factor 1), F = 2e-6."""
    table = (GRID.r <= 100.0).astype(float)
    s = site([fp("explosion", 2e-6, radial={"explosion": table})])
    c = site_fn(s, np.array([[50.0, 0.0], [0.0, 600.0]]), np.array([120.0, 500.0]), rose_weights=None,
                indoor_fraction=0.93, indoor_factor=INDOOR, upper=1e-3, lower=1e-5)
    assert c.n.tolist() == [pytest.approx(120.0)] and c.f.tolist() == [pytest.approx(2e-6)]


def test_directional_outcome_by_sector():
    """A toxic cloud lethal (P = 1) within 10° of the wind axis, up to 500 m; 200 people 300 m east; the
    wind blows towards each of 72 sectors of 5° with probability 1/72. The sector of the wind holding the
    people and its two neighbours give P = 1 (1° columns −2…2, 3…7 all within 10°); the next ones average
    (1, 1, 1, 0, 0) = 0.6. Indoors 93 % at a tenth of the outdoor lethality: shield 0.07 + 0.93·0.1 = 0.163.
    Events: N = 200·0.163 = 32.6 three times, 200·0.6·0.163 = 19.56 twice, each F = 1e-5/72."""
    table = np.where((GRID.r[:, None] <= 500.0) & (GRID.alpha_deg[None, :] <= 10.0), 1.0, 0.0)
    s = site([fp("toxic", 1e-5, directional={"toxic": table})])
    c = site_fn(s, np.array([[300.0, 0.0]]), np.array([200.0]), rose_weights=None, indoor_fraction=0.93,
                indoor_factor=INDOOR, upper=1e-3, lower=1e-5)
    shield = 0.07 + 0.93 * 0.1
    assert c.n == pytest.approx([200 * 0.6 * shield, 200 * shield])
    assert c.f == pytest.approx([5e-5 / 72, 3e-5 / 72])
    assert c.expected_deaths == pytest.approx(1e-5 / 72 * (3 * 200 * shield + 2 * 200 * 0.6 * shield))


def test_a_rose_weighs_the_directions():
    """All the wind towards the east sector: one event, N = 32.6, F = 1e-5."""
    table = np.where((GRID.r[:, None] <= 500.0) & (GRID.alpha_deg[None, :] <= 10.0), 1.0, 0.0)
    s = site([fp("toxic", 1e-5, directional={"toxic": table})])
    east = np.zeros(DIRECTIONS)
    east[0] = 1.0
    c = site_fn(s, np.array([[300.0, 0.0]]), np.array([200.0]), rose_weights=east, indoor_fraction=0.93,
                indoor_factor=INDOOR, upper=1e-3, lower=1e-5)
    assert c.n == pytest.approx([200 * 0.163]) and c.f == pytest.approx([1e-5])


def test_nobody_around_is_acceptable():
    table = np.ones(GRID.r.size)
    c = site_fn(site([fp("explosion", 1e-4, radial={"explosion": table})]), np.empty((0, 2)), np.empty(0),
                rose_weights=None, indoor_fraction=0.93, indoor_factor=INDOOR, upper=1e-3, lower=1e-5)
    assert c.verdict == "acceptable" and not c.n.size
