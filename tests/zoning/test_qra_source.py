"""Source terms (CPR 14E ch. 2–3; CCPS 1999 ch. 2; Fauske & Epstein 1988; Mackay & Matsugu 1973), by hand."""

from __future__ import annotations

import math

import pytest

from geo.errors import InputError
from zoning.hazards.qra.source import (ReleaseRules, airborne_fraction, boiling_pool_flux, gas_orifice_rate,
                                       liquid_orifice_rate, mass_transfer_flux, orifice_area, pool_area, source_term,
                                       two_phase_orifice_rate)
from zoning.hazards.qra.substances import QRASubstance

R = 8.314462618
CL2 = QRASubstance(key="chlorine", cas="7782-50-5", molar_mass=0.0709, boiling_k=239.1, liquid_density=1410.0,
                   liquid_cp=950.0, heat_of_vaporisation=288e3, gamma=1.33, storage="liquefied", effects=("toxic",),
                   probit=(-6.35, 0.5, 2.75))
H2 = QRASubstance(key="hydrogen", cas="1333-74-0", molar_mass=0.002016, boiling_k=20.3, gamma=1.41,
                  storage="compressed", storage_pressure=2.0e6, effects=("flammable",), heat_of_combustion=120e6,
                  lfl=0.04, reactivity="high")


def test_choked_gas_outflow_by_hand():
    """Hydrogen, 20 bar, 288.15 K, 10 mm hole, C_d 0.62; p_a/p = 0.05 < (2/2.41)^(1.41/0.41) = 0.527: choked.
    ṁ = C_d·A·p·√(γM/(RT)·(2/(γ+1))^((γ+1)/(γ−1))) = 0.0613 kg/s."""
    g, m, t = 1.41, 0.002016, 288.15
    hand = 0.62 * math.pi * 0.01 ** 2 / 4 * 2.0e6 * math.sqrt(g * m / (R * t) * (2 / (g + 1)) ** ((g + 1) / (g - 1)))
    assert gas_orifice_rate(2.0e6, t, m, g, orifice_area(0.01), 0.62) == pytest.approx(hand, rel=1e-12)
    assert hand == pytest.approx(0.0613, abs=1e-4)


def test_subsonic_gas_outflow_by_hand():
    """1.5 bar abs: p_a/p = 0.6755 > 0.527, subsonic:
    ṁ = C_d·A·p·√(2M/(RT)·γ/(γ−1)·[(p_a/p)^(2/γ) − (p_a/p)^((γ+1)/γ)])."""
    g, m, t, p = 1.41, 0.002016, 288.15, 1.5e5
    r = 101325.0 / p
    flow = 2 * m / (R * t) * g / (g - 1) * (r ** (2 / g) - r ** ((g + 1) / g))
    hand = 0.62 * orifice_area(0.01) * p * math.sqrt(flow)
    assert gas_orifice_rate(p, t, m, g, orifice_area(0.01), 0.62) == pytest.approx(hand, rel=1e-12)


def test_liquid_outflow_by_hand():
    """Bernoulli: 10 mm hole, liquid chlorine at 6 bar abs with 2 m of liquid above the hole:
    ṁ = 0.62·7.854e-5·√(2·1410·(6e5 − 101325) + 2·1410²·9.80665·2) = 1.876 kg/s."""
    hand = 0.62 * math.pi * 0.01 ** 2 / 4 * math.sqrt(2 * 1410 * (6e5 - 101325) + 2 * 1410 ** 2 * 9.80665 * 2)
    assert liquid_orifice_rate(6e5, 1410.0, orifice_area(0.01), 0.62, head_m=2.0) == pytest.approx(hand, rel=1e-12)
    assert hand == pytest.approx(1.876, abs=1e-3)


def test_two_phase_equilibrium_rate_by_hand():
    """Saturated chlorine at 289.15 K through a 50 mm pipe (Fauske's ERM, CCPS 1999 ch. 2):
    p_sat by Clausius–Clapeyron, v_fg = RT/(M·p_sat) − 1/ρ_l, G = ΔHv/v_fg·√(1/(cp·T)), ṁ = C_d·A·G."""
    t = 289.15
    p_sat = 101325 * math.exp(288e3 * 0.0709 / R * (1 / 239.1 - 1 / t))
    v_fg = R * t / (0.0709 * p_sat) - 1 / 1410
    g_erm = 288e3 / v_fg * math.sqrt(1 / (950 * t))
    hand = 0.62 * math.pi * 0.05 ** 2 / 4 * g_erm
    assert two_phase_orifice_rate(CL2, t, p_sat, orifice_area(0.05), 0.62) == pytest.approx(hand, rel=1e-12)
    # subcooled by 1 bar: G² = 2ρ_l·Δp + G_ERM²
    sub = 0.62 * math.pi * 0.05 ** 2 / 4 * math.sqrt(2 * 1410 * 1e5 + g_erm ** 2)
    assert two_phase_orifice_rate(CL2, t, p_sat + 1e5, orifice_area(0.05), 0.62) == pytest.approx(sub, rel=1e-12)


def test_flash_and_rain_out():
    """φ = cp·(T − Tb)/ΔHv = 950·(289.15 − 239.1)/288 000 = 0.1651; airborne min(1, 2φ) = 0.3302."""
    phi = 950 * (289.15 - 239.1) / 288e3
    assert CL2.flash_fraction(289.15) == pytest.approx(phi)
    assert airborne_fraction(phi) == pytest.approx(2 * phi)
    assert pool_area(1410.0 * 5.0, 1410.0, 0.005, 1500.0) == pytest.approx(1000.0)   # 5 m³ at 5 mm
    assert pool_area(1410.0 * 50.0, 1410.0, 0.005, 1500.0) == pytest.approx(1500.0)  # held at the bund


def test_pool_evaporation_by_hand():
    """Boiling pool (CPR 14E ch. 3): mean flux over t = 2λΔT/(ΔHv·√(πat)) = 2·0.9·50.05/(288 000·√(π·4.3e-7·1800));
    non-boiling (Mackay & Matsugu): k = 0.0048·u^(7/9)·D^(−1/9)·Sc^(−2/3), flux = k·M·p_v/(RT)."""
    boil = 2 * 0.9 * (289.15 - 239.1) / (288e3 * math.sqrt(math.pi * 4.3e-7 * 1800))
    assert boiling_pool_flux(289.15, 239.1, 288e3, 0.9, 4.3e-7, 1800.0) == pytest.approx(boil, rel=1e-12)
    k = 0.0048 * 3.0 ** (7 / 9) * 20.0 ** (-1 / 9) * 0.8 ** (-2 / 3)
    assert mass_transfer_flux(80_000.0, 0.02, 289.15, 3.0, 20.0) == pytest.approx(k * 0.02 * 80_000 / (R * 289.15))


def test_instantaneous_release_splits_into_puff_and_pool():
    """10 t of chlorine: puff 2φ·M = 3302 kg; 6698 kg rain out, pool 6698/1410/0.005 = 950 m²."""
    st = source_term("instantaneous", CL2, 10_000.0, ambient_k=289.15, wind_m_s=3.0, rules=ReleaseRules())
    phi = 950 * (289.15 - 239.1) / 288e3
    assert st.kind == "instantaneous" and st.airborne_kg == pytest.approx(2 * phi * 10_000)
    assert st.pool_area_m2 == pytest.approx((1 - 2 * phi) * 10_000 / 1410 / 0.005)
    assert st.pool_rate_kg_s > 0 and st.pool_duration_s <= 1800.0 and st.cloud_temperature_k == 239.1


def test_continuous_releases_take_the_inventory_or_the_cap():
    """G.2: the whole inventory in 600 s → 10 000/600 kg/s; a 10 mm hole empties 10 t in far more than
    30 min, so the release is followed for the 30-min cap (CPR 18E ch. 4)."""
    rules = ReleaseRules()
    g2 = source_term("inventory", CL2, 10_000.0, ambient_k=289.15, wind_m_s=3.0, rules=rules, duration_s=600.0)
    assert g2.rate_kg_s == pytest.approx(10_000 / 600) and g2.duration_s == 600.0
    hole = source_term("hole", CL2, 10_000.0, ambient_k=289.15, wind_m_s=3.0, rules=rules, diameter_m=0.01)
    p = CL2.vapour_pressure(289.15)
    assert hole.rate_kg_s == pytest.approx(float(liquid_orifice_rate(p, 1410.0, orifice_area(0.01), 0.62)))
    assert hole.duration_s == 1800.0
    # airborne: the flashed share plus what the pool gives off, never more than the outflow
    assert 2 * CL2.flash_fraction(289.15) * hole.rate_kg_s <= hole.airborne_rate_kg_s <= hole.rate_kg_s
    gas = source_term("hole", H2, 50.0, ambient_k=289.15, wind_m_s=3.0, rules=rules, diameter_m=0.01)
    assert gas.airborne_rate_kg_s == gas.rate_kg_s and gas.duration_s == pytest.approx(50.0 / gas.rate_kg_s)


def test_unknown_loc_kind_and_a_liquid_that_cannot_flow_are_named():
    with pytest.raises(InputError, match="instantaneous, inventory, hole, pipe_rupture, pipe_leak"):
        source_term("burst", CL2, 1.0, ambient_k=289.15, wind_m_s=3.0, rules=ReleaseRules())
    hf = QRASubstance(key="hydrogen fluoride", cas="7664-39-3", molar_mass=0.02001, boiling_k=292.7,
                      liquid_density=990.0, liquid_cp=2550.0, heat_of_vaporisation=374e3, gamma=1.4,
                      storage="liquefied", effects=("toxic",), probit=(-8.4, 1.0, 1.5))
    with pytest.raises(InputError, match="liquid_head_m"):
        source_term("hole", hf, 1000.0, ambient_k=289.15, wind_m_s=3.0, rules=ReleaseRules(), diameter_m=0.01)
    ok = source_term("hole", hf, 1000.0, ambient_k=289.15, wind_m_s=3.0, rules=ReleaseRules(liquid_head_m=2.0),
                     diameter_m=0.01)
    assert ok.rate_kg_s == pytest.approx(float(liquid_orifice_rate(101325.0, 990.0, orifice_area(0.01), 0.62,
                                                                   head_m=2.0)))
