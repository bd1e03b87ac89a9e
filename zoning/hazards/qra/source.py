"""Source terms: how much leaves the vessel, how fast, and how much of it becomes a cloud.

Outflow through a hole of area A with discharge coefficient C_d (CPR 14E ch. 2; CCPS 1999 ch. 2):

* **gas**, choked when p_a/p ≤ (2/(γ+1))^(γ/(γ−1))::

      ṁ = C_d·A·p·√(γ·M/(R·T)·(2/(γ+1))^((γ+1)/(γ−1)))                      (choked)
      ṁ = C_d·A·p·√(2·M/(R·T)·γ/(γ−1)·[(p_a/p)^(2/γ) − (p_a/p)^((γ+1)/γ)])    (subsonic)

* **liquid** (Bernoulli; also a pressurised liquefied gas through a hole in the vessel wall, which
  flashes only outside a short hole, L < 0.1 m — CPR 14E ch. 2), with a liquid head h above the
  hole (rule set ``liquid_head_m``; the store holds no vessel geometry)::

      ṁ = C_d·A·√(2·ρ_l·(p − p_a) + 2·ρ_l²·g·h)

* **two-phase** through a pipe (L > 0.1 m: flashing in the pipe, equilibrium), Fauske's equilibrium
  rate model with the subcooling term (Fauske & Epstein 1988; CCPS 1999 ch. 2)::

      G_ERM = ΔHv/v_fg·√(1/(cp·T)),   ṁ = C_d·A·√(2·ρ_l·(p − p_sat) + G_ERM²)

Flash and rain-out: the flashing fraction φ = cp·(T − Tb)/ΔHv (:meth:`QRASubstance.flash_fraction`)
leaves as vapour and drags an equal mass of aerosol with it — airborne fraction ``min(1, k·φ)``
with k = 2 in the default rule set (a common rule, CCPS 1999 ch. 2; to confirm against
CPR 18E ch. 4) — the rest rains out into a pool.

Pool (CPR 14E ch. 3): spreads to ``min(V/h_min, A_max)`` (minimum depth and the largest area the
site allows, rule set); a pool below ambient temperature boils off the heat conducted from a
semi-infinite ground, averaged over t seconds::

      E/A = 2·λ·(T_g − Tb)/(ΔHv·√(π·a·t))        (kg/(m²·s))

and a pool above its boiling point loses mass by diffusion into the wind (Mackay & Matsugu 1973)::

      E/A = k_m·M·p_v/(R·T),   k_m = 0.0048·u^(7/9)·D^(−1/9)·Sc^(−2/3)

>>> round(float(gas_orifice_rate(20e5, 288.15, 0.016, 1.31, orifice_area(0.010), 0.62)), 4)
0.1684
>>> round(float(liquid_orifice_rate(6.0e5, 1410.0, orifice_area(0.010), 0.62)), 3)
1.826
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.errors import InputError
from zoning.hazards.qra.substances import G, P_ATM, R_GAS, QRASubstance

__all__ = ["ReleaseRules", "SourceTerm", "orifice_area", "gas_orifice_rate", "liquid_orifice_rate",
           "two_phase_orifice_rate", "airborne_fraction", "pool_area", "boiling_pool_flux",
           "mass_transfer_flux", "pool_evaporation", "source_term", "LOC_KINDS"]

#: Kinds of loss of containment a source term knows (see :mod:`zoning.hazards.qra.scenarios`).
LOC_KINDS = ("instantaneous", "inventory", "hole", "pipe_rupture", "pipe_leak")


@dataclass(frozen=True)
class ReleaseRules:
    """Source-term figures of the rule set (``[qra.release]``)."""

    cd_liquid: float = 0.62
    cd_gas: float = 0.62
    aerosol_factor: float = 2.0
    min_pool_depth_m: float = 0.005
    max_pool_area_m2: float = 1500.0
    ground_conductivity: float = 0.9
    ground_diffusivity: float = 4.3e-7
    schmidt: float = 0.8
    release_cap_s: float = 1800.0
    liquid_head_m: float = 0.0


@dataclass(frozen=True)
class SourceTerm:
    """What one loss of containment puts into the air (for one wind speed).

    ``kind`` is ``"instantaneous"`` (a puff of ``airborne_kg``, plus a rain-out pool feeding a
    plume of ``pool_rate_kg_s`` for ``pool_duration_s``) or ``"continuous"`` (a plume of
    ``airborne_rate_kg_s`` for ``duration_s``, the pool's evaporation included). ``rate_kg_s``
    and ``mass_kg`` are the outflow itself (jet fires and fireballs burn all of it).
    """

    kind: str
    mass_kg: float
    rate_kg_s: float
    duration_s: float
    airborne_kg: float
    airborne_rate_kg_s: float
    pool_rate_kg_s: float
    pool_duration_s: float
    pool_area_m2: float
    cloud_temperature_k: float
    notes: tuple[str, ...] = ()


def orifice_area(diameter_m) -> np.ndarray:
    """πd²/4 (m²)."""
    return np.pi * np.asarray(diameter_m, dtype=float) ** 2 / 4.0


def gas_orifice_rate(p_pa, t_k, molar_mass, gamma, area_m2, cd, p_amb=P_ATM):
    """Gas outflow (kg/s) through an orifice, choked or subsonic (CPR 14E ch. 2)."""
    p = np.asarray(p_pa, dtype=float)
    ratio = np.clip(p_amb / p, 0.0, 1.0)
    critical = (2.0 / (gamma + 1.0)) ** (gamma / (gamma - 1.0))
    choked = np.sqrt(gamma * molar_mass / (R_GAS * t_k) * (2.0 / (gamma + 1.0)) ** ((gamma + 1.0) / (gamma - 1.0)))
    sub = np.sqrt(np.maximum(2.0 * molar_mass / (R_GAS * t_k) * gamma / (gamma - 1.0)
                             * (ratio ** (2.0 / gamma) - ratio ** ((gamma + 1.0) / gamma)), 0.0))
    return cd * area_m2 * p * np.where(ratio <= critical, choked, sub)


def liquid_orifice_rate(p_pa, rho, area_m2, cd, p_amb=P_ATM, head_m=0.0):
    """Liquid outflow (kg/s) by Bernoulli, ``C_d·A·√(2ρ(p − p_a) + 2ρ²·g·h)``.

    >>> round(float(liquid_orifice_rate(P_ATM, 1000.0, orifice_area(0.01), 0.62, head_m=2.0)), 4)   # 2 m of water
    0.305
    """
    dp = np.maximum(np.asarray(p_pa, dtype=float) - p_amb, 0.0)
    return cd * area_m2 * np.sqrt(2.0 * rho * dp + 2.0 * rho ** 2 * G * head_m)


def two_phase_orifice_rate(substance: QRASubstance, t_k, p_pa, area_m2, cd):
    """Flashing two-phase outflow (kg/s), Fauske's equilibrium rate model with subcooling.

    >>> from zoning.hazards.qra.substances import QRASubstance
    >>> cl2 = QRASubstance(key="chlorine", cas="7782-50-5", molar_mass=0.0709, boiling_k=239.1,
    ...     liquid_density=1410.0, liquid_cp=950.0, heat_of_vaporisation=288e3, gamma=1.33,
    ...     storage="liquefied", effects=("toxic",), probit=(-6.35, 0.5, 2.75))
    >>> round(float(two_phase_orifice_rate(cl2, 289.15, cl2.vapour_pressure(289.15), orifice_area(0.05), 0.62)), 1)
    12.0
    """
    p_sat = substance.vapour_pressure(t_k)
    v_fg = R_GAS * t_k / (substance.molar_mass * p_sat) - 1.0 / substance.liquid_density
    g_erm = substance.heat_of_vaporisation / v_fg * np.sqrt(1.0 / (substance.liquid_cp * t_k))
    sub = 2.0 * substance.liquid_density * np.maximum(np.asarray(p_pa, dtype=float) - p_sat, 0.0)
    return cd * area_m2 * np.sqrt(sub + g_erm ** 2)


def airborne_fraction(flash_fraction, aerosol_factor: float = 2.0):
    """Share of a flashing outflow that stays airborne: ``min(1, k·φ)``.

    >>> airborne_fraction([0.0, 0.2, 0.6]).tolist()
    [0.0, 0.4, 1.0]
    """
    return np.minimum(1.0, aerosol_factor * np.asarray(flash_fraction, dtype=float))


def pool_area(mass_kg, liquid_density, min_depth_m, max_area_m2):
    """Area (m²) of a pool of ``mass_kg``: spread to the minimum depth, no larger than ``max_area_m2``."""
    return np.minimum(np.asarray(mass_kg, dtype=float) / liquid_density / min_depth_m, max_area_m2)


def boiling_pool_flux(ground_k, boiling_k, heat_of_vaporisation, conductivity, diffusivity, seconds):
    """Mean evaporation flux (kg/(m²·s)) of a boiling pool over ``seconds`` from ground conduction.

    ``2·λ·(T_g − Tb)/(ΔHv·√(π·a·t))`` (CPR 14E ch. 3, semi-infinite ground, heat flux
    λ·ΔT/√(π·a·t) integrated over t and divided by t).

    >>> round(float(boiling_pool_flux(289.15, 239.1, 288e3, 0.9, 4.3e-7, 600.0)), 5)
    0.01099
    """
    dt = np.maximum(ground_k - boiling_k, 0.0)
    t = np.asarray(seconds, dtype=float)
    return 2.0 * conductivity * dt / (heat_of_vaporisation * np.sqrt(np.pi * diffusivity * t))


def mass_transfer_flux(vapour_pressure_pa, molar_mass, t_k, wind_m_s, pool_diameter_m, schmidt=0.8):
    """Evaporation flux (kg/(m²·s)) of a non-boiling pool (Mackay & Matsugu 1973).

    >>> round(float(mass_transfer_flux(10_000.0, 0.02, 289.15, 5.0, 10.0)) * 1e3, 4)   # g/(m²·s)
    1.2544
    """
    u, d = np.asarray(wind_m_s, dtype=float), np.asarray(pool_diameter_m, dtype=float)
    km = 0.0048 * u ** (7.0 / 9.0) * d ** (-1.0 / 9.0) * schmidt ** (-2.0 / 3.0)
    return km * molar_mass * np.asarray(vapour_pressure_pa, dtype=float) / (R_GAS * t_k)


def pool_evaporation(substance: QRASubstance, area_m2: float, ambient_k: float, wind_m_s: float, seconds: float,
                     rules: ReleaseRules) -> float:
    """Evaporation rate (kg/s) of a pool of ``area_m2``: boiling (ground heat) or mass transfer."""
    if area_m2 <= 0:
        return 0.0
    if substance.boiling_k < ambient_k:
        flux = boiling_pool_flux(ambient_k, substance.boiling_k, substance.heat_of_vaporisation,
                                 rules.ground_conductivity, rules.ground_diffusivity, seconds)
    else:
        diameter = np.sqrt(4.0 * area_m2 / np.pi)
        flux = mass_transfer_flux(substance.vapour_pressure(ambient_k), substance.molar_mass, ambient_k,
                                  wind_m_s, diameter, rules.schmidt)
    return float(flux * area_m2)


def _outflow(kind: str, substance: QRASubstance, mass_kg: float, diameter_m: float, duration_s: float,
             ambient_k: float, rules: ReleaseRules) -> tuple[float, float]:
    """(rate kg/s, duration s) of a continuous release."""
    if kind == "inventory":
        return mass_kg / duration_s, duration_s
    p = substance.storage_pressure_at(ambient_k)
    area = float(orifice_area(diameter_m))
    if substance.storage == "compressed":
        rate = float(gas_orifice_rate(p, ambient_k, substance.molar_mass, substance.gamma, area, rules.cd_gas))
    elif kind == "hole" or substance.boiling_k >= ambient_k:
        # a short hole, or a liquid below its boiling point (no flashing): Bernoulli with the head
        rate = float(liquid_orifice_rate(p, substance.liquid_density, area, rules.cd_liquid,
                                         head_m=rules.liquid_head_m))
    else:
        rate = float(two_phase_orifice_rate(substance, ambient_k, p, area, rules.cd_liquid))
    if rate <= 0:
        raise InputError(f"{substance.key}: no outflow at {p / 1e5:.3g} bar and no liquid head "
                         "(qra.release.liquid_head_m): a liquid below its boiling point needs a head to flow")
    return rate, min(mass_kg / rate, rules.release_cap_s)


def source_term(kind: str, substance: QRASubstance, mass_kg: float, *, ambient_k: float, wind_m_s: float,
                rules: ReleaseRules, diameter_m: float = 0.0, duration_s: float = 600.0,
                exposure_cap_s: float = 1800.0) -> SourceTerm:
    """The source term of one loss of containment of ``mass_kg`` (one vessel's inventory).

    Parameters
    ----------
    kind : str
        One of :data:`LOC_KINDS`: ``instantaneous`` (the whole inventory at once), ``inventory``
        (the whole inventory at a constant rate over ``duration_s``), ``hole`` (a hole of
        ``diameter_m`` in the vessel wall), ``pipe_rupture`` / ``pipe_leak`` (outflow through a
        connected pipe of bore ``diameter_m``).
    substance : QRASubstance
    mass_kg : float
    ambient_k, wind_m_s : float
        Ambient (and storage) temperature; wind speed at 10 m (pool evaporation).
    rules : ReleaseRules
    """
    if kind not in LOC_KINDS:
        raise InputError(f"loss of containment kind {kind!r} is not one of {', '.join(LOC_KINDS)}")
    liquefied = substance.storage == "liquefied"
    a = float(airborne_fraction(substance.flash_fraction(ambient_k), rules.aerosol_factor)) if liquefied else 1.0
    t_cloud = substance.cloud_temperature(ambient_k)
    notes = []
    if kind == "instantaneous":
        rain = (1.0 - a) * mass_kg
        area = float(pool_area(rain, substance.liquid_density, rules.min_pool_depth_m, rules.max_pool_area_m2)) \
            if liquefied and rain > 0 else 0.0
        pool_rate = pool_evaporation(substance, area, ambient_k, wind_m_s, exposure_cap_s, rules)
        pool_duration = min(rain / pool_rate, exposure_cap_s) if pool_rate > 0 else 0.0
        if area and area >= rules.max_pool_area_m2:
            notes.append(f"{substance.key}: rain-out pool held at the largest area {rules.max_pool_area_m2:g} m² "
                         "(qra.release.max_pool_area_m2)")
        return SourceTerm("instantaneous", mass_kg, 0.0, 0.0, a * mass_kg, 0.0, pool_rate, pool_duration, area,
                          t_cloud, tuple(notes))
    rate, duration = _outflow(kind, substance, mass_kg, diameter_m, duration_s, ambient_k, rules)
    airborne = a * rate
    rain_rate = rate - airborne
    area = 0.0
    if rain_rate > 0:
        area = float(pool_area(rain_rate * duration, substance.liquid_density, rules.min_pool_depth_m,
                               rules.max_pool_area_m2))
        airborne += min(rain_rate, pool_evaporation(substance, area, ambient_k, wind_m_s, duration, rules))
    return SourceTerm("continuous", mass_kg, rate, duration, 0.0, airborne, 0.0, 0.0, area, t_cloud, tuple(notes))
