"""Heat radiation of fires: jet fire, pool fire, fireball (point source and sphere models).

A directly ignited release burns where it leaks (CPR 18E ch. 4 event trees): a continuous release
as a **jet fire**, an instantaneous one as a **fireball**, a liquid pool as a **pool fire**. The
heat flux a person receives at distance r (W/m²) — transmissivity taken as 1, the conservative end
(CPR 14E ch. 6; CCPS 1999 ch. 3):

* point source (jet and pool fires), ``q = χ·Q̇·τ/(4π·r²)`` with Q̇ = ṁ·ΔHc the burning power and χ
  the fraction radiated (rule set: 0.2 for jets, 0.35 for pools, to confirm — CCPS 1999 ch. 3
  gives 0.15–0.35);
* pool burning rate (Burgess & Zabetakis 1962; CCPS 1999 ch. 3),
  ``m'' = 0.001·ΔHc/(ΔHv + cp·max(Tb − Ta, 0))`` kg/(m²·s), and flame height (Thomas 1963)
  ``H = 42·D·(m''/(ρa·√(g·D)))^0.61``;
* jet flame length ``L = 18.5·ṁ^0.41`` m (Wertenbach 1971, used only for the point source's
  validity: it is poor within two flame lengths; to confirm);
* fireball (CCPS 1999 ch. 3 after Roberts 1981): ``D = 5.8·M^(1/3)``, duration
  ``t = 0.45·M^(1/3)`` (M < 30 000 kg) or ``2.6·M^(1/6)``, centre at ``H = 0.75·D``; flux
  ``q = SEP·(D/2)²/L²`` with L the distance to the centre (view factor of a sphere facing the
  receptor) and SEP the surface emissive power (rule set, 350 kW/m², to confirm).

>>> round(float(point_source_flux(100e6, 0.2, 50.0)))          # 100 MW, χ 0.2, 50 m: W/m²
637
>>> [round(float(v), 2) for v in fireball_size(10_000.0)]    # D m, duration s, height m
[124.96, 9.69, 93.72]
"""

from __future__ import annotations

import numpy as np

from zoning.hazards.qra.substances import G

__all__ = ["point_source_flux", "jet_flame_length", "pool_burning_rate", "pool_flame_height",
           "fireball_size", "fireball_flux"]


def point_source_flux(power_w, radiative_fraction, distance_m, transmissivity=1.0):
    """Heat flux (W/m²) at ``distance_m`` from a point source radiating χ of ``power_w``."""
    r = np.maximum(np.asarray(distance_m, dtype=float), 1e-3)
    return radiative_fraction * np.asarray(power_w, dtype=float) * transmissivity / (4.0 * np.pi * r ** 2)


def jet_flame_length(rate_kg_s):
    """Jet flame length (m), ``18.5·ṁ^0.41`` (Wertenbach 1971).

    >>> round(float(jet_flame_length(10.0)), 1)
    47.6
    """
    return 18.5 * np.asarray(rate_kg_s, dtype=float) ** 0.41


def pool_burning_rate(heat_of_combustion, heat_of_vaporisation, liquid_cp, boiling_k, ambient_k):
    """Burning rate of a pool (kg/(m²·s)), ``0.001·ΔHc/(ΔHv + cp·max(Tb − Ta, 0))``.

    >>> round(float(pool_burning_rate(46.3e6, 426e3, 2500.0, 231.1, 289.15)), 4)   # propane
    0.1087
    """
    sensible = liquid_cp * max(boiling_k - ambient_k, 0.0)
    return 0.001 * heat_of_combustion / (heat_of_vaporisation + sensible)


def pool_flame_height(diameter_m, burning_rate, air_density=1.2):
    """Flame height (m) of a pool fire, ``42·D·(m''/(ρa·√(g·D)))^0.61`` (Thomas 1963)."""
    d = np.asarray(diameter_m, dtype=float)
    return 42.0 * d * (burning_rate / (air_density * np.sqrt(G * d))) ** 0.61


def fireball_size(mass_kg):
    """(diameter m, duration s, centre height m) of a fireball of ``mass_kg`` fuel (Roberts 1981)."""
    m = float(mass_kg)
    d = 5.8 * m ** (1.0 / 3.0)
    t = 0.45 * m ** (1.0 / 3.0) if m < 30_000.0 else 2.6 * m ** (1.0 / 6.0)
    return d, t, 0.75 * d


def fireball_flux(mass_kg, ground_distance_m, emissive_power_w_m2=350e3):
    """Heat flux (W/m²) at ground distance from the point under a fireball's centre.

    ``SEP·(D/2)²/(x² + H²)``, capped at the SEP itself (a receptor inside the ball).

    >>> round(float(fireball_flux(10_000.0, 200.0)))
    28007
    """
    d, _, h = fireball_size(mass_kg)
    x = np.asarray(ground_distance_m, dtype=float)
    return np.minimum(emissive_power_w_m2 * (d / 2.0) ** 2 / (x ** 2 + h ** 2), emissive_power_w_m2)
