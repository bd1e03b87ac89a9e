"""Reference cases shared by the QRA tests: a light toxic gas released at a known rate, one weather class.

60 t of a gas with ammonia's molar mass and probit (a = −15.6, b = 1, n = 2), stored compressed (no
flash, no pool), released at 100 kg/s for 600 s with frequency 1×10⁻⁵/y; weather D, 5 m/s. The
hand side of each test writes the Gaussian plume and the probit out itself.
"""

from __future__ import annotations

import math

from zoning.hazards.qra.footprint import EffectRules, PolarGrid
from zoning.hazards.qra.individual import SiteRisk, site_risk
from zoning.hazards.qra.scenarios import IgnitionRules, Scenario
from zoning.hazards.qra.source import ReleaseRules
from zoning.hazards.qra.substances import QRASubstance
from zoning.hazards.qra.weather import Weather, WeatherClass, WindRose

GAS = QRASubstance(key="ammonia", cas="7664-41-7", molar_mass=0.01703, boiling_k=239.8, gamma=1.31,
                   storage="compressed", storage_pressure=10e5, effects=("toxic",), probit=(-15.6, 1.0, 2.0))
F, Q, U = 1e-5, 100.0, 5.0
SCENARIO = Scenario(GAS, "pressure_vessel", "G.2", "inventory", F, Q * 600.0, duration_s=600.0)
GRID = PolarGrid.build(10.0, 10_000.0, 121, 1.0)
KW = dict(release=ReleaseRules(), ignition=IgnitionRules(), effects=EffectRules())


def weather(rose: WindRose | None = None) -> Weather:
    """Weather class D5 with probability 1 and ``rose`` (default: uniform, 12 sectors)."""
    return Weather((WeatherClass("D5", "D", U, 1.0),), rose or WindRose.uniform(12), ambient_k=289.15)


def reference_site(site_id: str = "S", x: float = 0.0, y: float = 0.0, rose: WindRose | None = None) -> SiteRisk:
    return site_risk(site_id, x, y, [SCENARIO], weather(rose), GRID, **KW)


def p_hand(x: float, y: float) -> float:
    """Probability of death at (x downwind, y crosswind): Briggs D σ, ground-level Gaussian plume,
    C in mg/m³ for t = 10 min, Pr = −15.6 + ln(C²·t), P = Φ(Pr − 5)."""
    if x <= 0:
        return 0.0
    sy, sz = 0.08 * x / math.sqrt(1 + 1e-4 * x), 0.06 * x / math.sqrt(1 + 1.5e-3 * x)
    ln_c = math.log(Q / (math.pi * U * sy * sz) * 1e6) - 0.5 * (y / sy) ** 2
    pr = -15.6 + (2.0 * ln_c + math.log(10.0))
    return 0.5 * (1 + math.erf((pr - 5) / math.sqrt(2)))
