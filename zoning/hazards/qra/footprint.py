"""The lethality footprint of one scenario in one weather class, on a polar grid around the source.

For a loss of containment (:class:`~zoning.hazards.qra.scenarios.Scenario`) and a weather class,
:func:`footprint` chains the models — source term (:mod:`~zoning.hazards.qra.source`), dispersion
(passive :mod:`~zoning.hazards.qra.dispersion` or dense :mod:`~zoning.hazards.qra.dense_gas`, chosen
by the Britter–McQuaid criterion), effects (:mod:`~zoning.hazards.qra.probit`,
:mod:`~zoning.hazards.qra.fire`, :mod:`~zoning.hazards.qra.explosion`) — and returns, per outcome of
the event tree, the probability of death of a person outdoors:

* **directional** outcomes (toxic cloud, flash fire) on the half-plane grid ``(r, α)``, α the
  angle from the downwind axis, 0…90° (the cloud is symmetric about the axis and nothing reaches
  upwind);
* **radial** outcomes (jet fire, fireball, explosion — centred on the source) as a function of r.

Lethality (CPR 18E ch. 5, people outdoors): toxic by the substance's probit on the toxic load
``Σ clouds ∫Cⁿ dt`` (exposure capped at 30 min); flash fire 1 inside the LFL footprint;
heat radiation by the thermal probit, 1 at 35 kW/m² and above (20 s exposure for jet and pool
fires, the fireball's duration for a fireball); explosion 1 where the overpressure reaches the
rule set's lethal level. The same footprint gives the threat-zone quantities (peak concentration
on the axis, heat flux, overpressure).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from zoning.hazards.qra import dense_gas as bm
from zoning.hazards.qra.dispersion import plume_concentration, plume_sigmas, puff_peak_concentration, puff_sigmas
from zoning.hazards.qra.explosion import vce_overpressure, vce_tnt_mass
from zoning.hazards.qra.fire import (fireball_flux, fireball_size, jet_flame_length, point_source_flux,
                                     pool_burning_rate)
from zoning.hazards.qra.probit import probability, thermal_lethality
from zoning.hazards.qra.scenarios import IgnitionRules, Scenario, outcomes
from zoning.hazards.qra.source import ReleaseRules, source_term
from zoning.hazards.qra.substances import R_GAS
from zoning.hazards.qra.weather import Weather, WeatherClass

__all__ = ["EffectRules", "PolarGrid", "Footprint", "footprint"]


@dataclass(frozen=True)
class EffectRules:
    """Effect and dispersion figures of the rule set (``[qra.effects]``, ``[qra.dispersion]``)."""

    thermal_probit: tuple[float, float, float] = (-36.38, 2.56, 4.0 / 3.0)
    fire_exposure_s: float = 20.0
    lethal_radiation_w_m2: float = 35e3
    jet_radiative_fraction: float = 0.2
    pool_radiative_fraction: float = 0.35
    fireball_emissive_w_m2: float = 350e3
    vce_yield: float = 0.03
    q_tnt_kj_kg: float = 4500.0
    lethal_overpressure_kpa: float = 30.0
    exposure_cap_s: float = 1800.0
    terrain: str = "rural"
    puff_sigmas: str = "briggs"
    dense_gas: bool = True


@dataclass(frozen=True)
class PolarGrid:
    """Radii (geometric, m) and half-plane angles (degrees from the downwind axis, 0…90).

    A cloud is described by functions of the downwind distance on the radii (its centreline); they
    are spread over the half-plane by :meth:`at_x`, interpolating in ln r at ``x = r·cos α``.
    """

    r: np.ndarray
    alpha_deg: np.ndarray

    @classmethod
    def build(cls, r_min: float = 10.0, r_max: float = 10_000.0, steps: int = 121,
              angle_step_deg: float = 1.0) -> "PolarGrid":
        """``steps`` radii from r_min to r_max in geometric progression; angles 0…90° by the step.

        >>> g = PolarGrid.build(10.0, 1000.0, 3, 45.0)
        >>> g.r.tolist(), g.alpha_deg.tolist()
        ([10.0, 100.0, 1000.0], [0.0, 45.0, 90.0])
        """
        n_a = int(round(90.0 / angle_step_deg))
        return cls(np.geomspace(r_min, r_max, steps), np.linspace(0.0, 90.0, n_a + 1))

    @property
    def angle_step_deg(self) -> float:
        return float(self.alpha_deg[1] - self.alpha_deg[0])

    @cached_property
    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Downwind and crosswind distances (Nr, Na)."""
        a = np.radians(self.alpha_deg)
        return self.r[:, None] * np.cos(a)[None, :], self.r[:, None] * np.sin(a)[None, :]

    @cached_property
    def _x_index(self):
        x, _ = self.xy
        lr = np.log(self.r)
        f = (np.log(np.clip(x, self.r[0], self.r[-1])) - lr[0]) / (lr[-1] - lr[0]) * (self.r.size - 1)
        i0 = np.clip(np.floor(f).astype(int), 0, self.r.size - 2)
        return i0, np.clip(f - i0, 0.0, 1.0)

    def at_x(self, values: np.ndarray) -> np.ndarray:
        """A function of downwind distance given on the radii, evaluated at every ``x = r·cos α``."""
        i0, t = self._x_index
        return values[i0] * (1.0 - t) + values[i0 + 1] * t


@dataclass
class _Cloud:
    """One dispersing cloud, by its centreline on the radii: ln of the peak concentration (kg/m³),
    the crosswind profile (``gauss`` with σy, or ``tophat`` with a half-width), and the exposure
    (s) a person on the axis gets — one number for a steady plume; for a Gaussian puff σx on the
    radii, so that the exposure is σx·√(2π/n)/u."""

    ln_centre: np.ndarray
    profile: str
    width: np.ndarray
    exposure: np.ndarray | float
    model: str
    puff_wind: float = 0.0

    def ln_conc(self, grid: PolarGrid) -> np.ndarray:
        """ln of the peak concentration (kg/m³) over the half-plane (−inf outside the cloud)."""
        _, y = grid.xy
        ln_c = grid.at_x(self.ln_centre)
        w = grid.at_x(self.width)
        if self.profile == "gauss":
            with np.errstate(divide="ignore"):
                return ln_c - 0.5 * (y / np.maximum(w, 1e-9)) ** 2
        return np.where(np.abs(y) <= w, ln_c, -np.inf)

    def ln_exposure_min(self, grid: PolarGrid, n: float):
        """ln of the exposure in minutes: a scalar for a steady plume, else over the half-plane."""
        e = self.exposure if not self.puff_wind else self.exposure * np.sqrt(2.0 * np.pi / n) / self.puff_wind
        if np.ndim(e) == 0:
            return float(np.log(max(float(e), 1e-12) / 60.0))
        return np.log(np.maximum(grid.at_x(e), 1e-12) / 60.0)


def _ln(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), -np.inf)


@dataclass
class Footprint:
    """Lethality of each outcome of one scenario in one weather class (see the module docstring).

    ``outcomes`` lists ``(name, conditional probability)``; ``directional[name]`` is (Nr, Na),
    ``radial[name]`` is (Nr,). ``peak_mg_m3`` (Nr,) is the peak concentration on the downwind axis,
    ``heat_w_m2`` and ``overpressure_kpa`` (Nr,) the heat flux of the direct-ignition fire and the
    explosion's overpressure; ``models`` the models used, ``notes`` what fell outside their range.
    """

    scenario: Scenario
    weather: WeatherClass
    outcomes: list[tuple[str, float]]
    directional: dict[str, np.ndarray] = field(default_factory=dict)
    radial: dict[str, np.ndarray] = field(default_factory=dict)
    peak_mg_m3: np.ndarray | None = None
    heat_w_m2: np.ndarray | None = None
    overpressure_kpa: np.ndarray | None = None
    flame_m: float = 0.0
    models: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    @property
    def weight(self) -> float:
        """Frequency per year of this scenario in this weather class: f · p_weather."""
        return self.scenario.frequency * self.weather.probability


def _passive_plume(rate, duration, rho0, wc, grid, rules):
    r = grid.r
    sy, _ = plume_sigmas(r, wc.stability, rules.terrain)
    c = np.minimum(plume_concentration(rate, wc.wind_m_s, r, 0.0, wc.stability, rules.terrain), rho0)
    return _Cloud(_ln(c), "gauss", sy, min(duration, rules.exposure_cap_s), "gaussian_plume")


def _passive_puff(mass, rho0, wc, grid, rules):
    r = grid.r
    sy, _ = puff_sigmas(r, wc.stability, rules.terrain, rules.puff_sigmas)
    c = np.minimum(puff_peak_concentration(mass, r, 0.0, wc.stability, rules.terrain, rules.puff_sigmas), rho0)
    # exposure factor σx·√(2π/n)/u, capped at the exposure limit for every n ≥ 1
    return _Cloud(_ln(c), "gauss", sy, np.minimum(sy, rules.exposure_cap_s * wc.wind_m_s / np.sqrt(2.0 * np.pi)),
                  "gaussian_puff", puff_wind=wc.wind_m_s)


def _dense(kind: str, amount, duration, rho0, t0, g0, weather, wc, grid, rules, notes, sub) -> _Cloud:
    """A Britter–McQuaid cloud: ``plume`` of ``amount`` kg/s for ``duration`` s, or ``puff`` of ``amount`` kg."""
    r, u = grid.r, wc.wind_m_s
    plume = kind == "plume"
    volume = amount / rho0                                   # m³/s for a plume, m³ for a puff
    alpha = bm.plume_alpha(g0, volume, u) if plume else bm.puff_alpha(g0, volume, u)
    if not -1.0 <= alpha <= 1.0:
        notes.append(f"Britter–McQuaid dense {kind} of {sub.key}: α = {alpha:.2f} outside the chart range −1…1 "
                     "(clamped to the edge)")

    def passive(x):   # the Gaussian centreline beyond the charts: 1/(σy·σz) for a plume, 1/(σy²·σz) for a puff
        sy, sz = plume_sigmas(x, wc.stability, rules.terrain)
        return 1.0 / (sy * sz * (1.0 if plume else sy))

    scale = np.sqrt(volume / u) if plume else np.cbrt(volume)
    ratio = bm.centreline_ratio(r, scale, alpha, bm.PLUME_CHART if plume else bm.PUFF_CHART, passive)
    ratio = bm.temperature_corrected(ratio, t0, weather.ambient_k)
    rho_amb = weather.pressure_pa * sub.molar_mass / (R_GAS * weather.ambient_k)
    centre = _ln(np.minimum(ratio * rho_amb, rho0))
    if plume:
        return _Cloud(centre, "tophat", bm.plume_half_width(r, g0, volume, u), min(duration, rules.exposure_cap_s),
                      "britter_mcquaid")
    radius, _ = bm.puff_radius(r, g0, volume, u)
    passage = np.minimum(2.0 * radius / (bm.PUFF_ADVECTION * u), rules.exposure_cap_s)
    return _Cloud(centre, "tophat", radius, passage, "britter_mcquaid")


def _clouds(st, sub, weather, wc, grid, rules, notes) -> list[_Cloud]:
    rho_air = weather.air_density
    out = []
    parts = ([("puff", st.airborne_kg, 0.0, st.cloud_temperature_k)] if st.kind == "instantaneous" else
             [("plume", st.airborne_rate_kg_s, st.duration_s, st.cloud_temperature_k)])
    if st.pool_rate_kg_s > 0:
        parts.append(("plume", st.pool_rate_kg_s, st.pool_duration_s, sub.cloud_temperature(weather.ambient_k)))
    for kind, amount, duration, t0 in parts:
        if amount <= 0:
            continue
        rho0 = float(sub.gas_density(t0, weather.pressure_pa))
        g0 = bm.reduced_gravity(rho0, rho_air)
        if kind == "puff":
            dense = rules.dense_gas and bm.is_dense_puff(g0, amount / rho0, wc.wind_m_s)
            out.append(_dense("puff", amount, 0.0, rho0, t0, g0, weather, wc, grid, rules, notes, sub) if dense
                       else _passive_puff(amount, rho0, wc, grid, rules))
        else:
            dense = rules.dense_gas and bm.is_dense_plume(g0, amount / rho0, wc.wind_m_s)
            out.append(_dense("plume", amount, duration, rho0, t0, g0, weather, wc, grid, rules, notes, sub) if dense
                       else _passive_plume(amount, duration, rho0, wc, grid, rules))
    return out


def footprint(scenario: Scenario, wc: WeatherClass, weather: Weather, grid: PolarGrid, *,
              release: ReleaseRules, ignition: IgnitionRules, effects: EffectRules,
              cache: dict | None = None) -> Footprint:
    """Lethality of each outcome of ``scenario`` in weather class ``wc`` (see the module docstring).

    ``cache`` (a dict kept by the caller for one grid and one set of rules) shares the tables of
    scenarios whose source terms are the same: a 10 mm hole in a 20 t vessel and in a 40 t one
    both run for the 30-min cap at the same rate, so they have one footprint (with each its own
    frequency).
    """
    sub = scenario.substance
    st = source_term(scenario.kind, sub, scenario.mass_kg, ambient_k=weather.ambient_k, wind_m_s=wc.wind_m_s,
                     rules=release, diameter_m=scenario.diameter_m, duration_s=scenario.duration_s,
                     exposure_cap_s=effects.exposure_cap_s)
    key = (sub, replace(st, mass_kg=0.0) if st.kind == "continuous" else st, wc, weather.ambient_k, weather.pressure_pa)
    if cache is not None and key in cache:
        b = cache[key]
        return Footprint(scenario, wc, b.outcomes, b.directional, b.radial, b.peak_mg_m3, b.heat_w_m2,
                         b.overpressure_kpa, b.flame_m, b.models, b.notes)
    notes = list(st.notes)
    if st.kind == "continuous" and st.duration_s < 20.0:
        notes.append(f"{sub.key}: continuous release of {st.duration_s:.0f} s, shorter than the 20 s "
                     "CPR 18E ch. 4 treats as instantaneous; kept as a plume")
    clouds = _clouds(st, sub, weather, wc, grid, effects, notes)
    size = st.mass_kg if st.kind == "instantaneous" else st.rate_kg_s
    fp = Footprint(scenario, wc, outcomes(sub.effects, sub.reactivity, st.kind, size, ignition), notes=notes)
    fp.models = {c.model for c in clouds}
    r = grid.r
    shape = (r.size, grid.alpha_deg.size)
    ln_concs = [c.ln_conc(grid) for c in clouds]
    ln_peak = np.max(ln_concs, axis=0) if clouds else np.full(shape, -np.inf)
    fp.peak_mg_m3 = np.exp(ln_peak[:, 0]) * 1e6
    a_t, b_t, n_t = effects.thermal_probit
    names = {o for o, _ in fp.outcomes}
    if "toxic" in names:
        a, b, n = sub.probit
        # ln of the toxic load Σ (C mg/m³)ⁿ·t(min), in logs to spare the powers
        ln_loads = [n * (lc + np.log(1e6)) + c.ln_exposure_min(grid, n) for c, lc in zip(clouds, ln_concs)]
        ln_load = ln_loads[0] if len(ln_loads) == 1 else np.logaddexp.reduce(ln_loads, axis=0) if ln_loads \
            else np.full(shape, -np.inf)
        fp.directional["toxic"] = probability(a + b * ln_load)
    if sub.flammable:
        lfl = sub.lfl * weather.pressure_pa * sub.molar_mass / (R_GAS * weather.ambient_k)
        fp.directional["flash_fire"] = (ln_peak >= np.log(lfl)).astype(float)
        reach = r[ln_peak[:, 0] >= np.log(lfl)]
        x_lfl = float(reach.max()) if reach.size else 0.0
        cloud_mass = st.airborne_kg if st.kind == "instantaneous" else min(
            st.airborne_rate_kg_s * x_lfl / wc.wind_m_s, st.airborne_rate_kg_s * st.duration_s)
        w = vce_tnt_mass(cloud_mass, sub.heat_of_combustion, effects.vce_yield, effects.q_tnt_kj_kg)
        fp.overpressure_kpa = vce_overpressure(r, w)
        fp.radial["explosion"] = (fp.overpressure_kpa >= effects.lethal_overpressure_kpa).astype(float)
        fp.models.add("tnt_blast")
        if st.kind == "instantaneous":
            fp.heat_w_m2 = fireball_flux(st.mass_kg, r, effects.fireball_emissive_w_m2)
            _, duration, _ = fireball_size(st.mass_kg)
            fp.radial["fireball"] = thermal_lethality(fp.heat_w_m2, duration, a_t, b_t, n_t,
                                                      effects.lethal_radiation_w_m2)
            fp.flame_m = fireball_size(st.mass_kg)[0]
            fp.models.add("fireball")
        else:
            heat = point_source_flux(st.rate_kg_s * sub.heat_of_combustion, effects.jet_radiative_fraction, r)
            fp.flame_m = float(jet_flame_length(st.rate_kg_s))
            if st.pool_area_m2 > 0 and sub.storage == "liquefied":
                burn = pool_burning_rate(sub.heat_of_combustion, sub.heat_of_vaporisation, sub.liquid_cp,
                                         sub.boiling_k, weather.ambient_k)
                heat = heat + point_source_flux(burn * st.pool_area_m2 * sub.heat_of_combustion,
                                                effects.pool_radiative_fraction, r)
                fp.flame_m = max(fp.flame_m, float(np.sqrt(4.0 * st.pool_area_m2 / np.pi)))
            fp.heat_w_m2 = heat
            fp.radial["jet_fire"] = thermal_lethality(heat, effects.fire_exposure_s, a_t, b_t, n_t,
                                                      effects.lethal_radiation_w_m2)
            fp.models.add("point_source")
    if cache is not None:
        cache[key] = fp
    return fp
