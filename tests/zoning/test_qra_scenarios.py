"""Loss-of-containment scenarios and the event tree (CPR 18E ch. 3–4), as the default rule set holds them."""

from __future__ import annotations

import math

import pytest

from zoning.hazards.qra.rules import parse_qra_rules
from zoning.hazards.qra.scenarios import IgnitionRules, direct_ignition, outcomes, site_scenarios
from zoning.rules import load_ruleset

Q = parse_qra_rules(load_ruleset())


def freq(equipment: str) -> dict:
    return {loc.kind: loc.frequency for loc in Q.equipment[equipment].locs}


def test_purple_book_frequencies_in_the_rule_set():
    """CPR 18E ch. 3: pressure vessel G.1 instantaneous 5×10⁻⁷/y, G.2 complete inventory in 10 min
    5×10⁻⁷/y, G.3 10 mm hole 1×10⁻⁵/y; atmospheric tank 5×10⁻⁶, 5×10⁻⁶, 1×10⁻⁴; pipes per metre:
    rupture 1×10⁻⁶ / 3×10⁻⁷ / 1×10⁻⁷ and leak 5×10⁻⁶ / 2×10⁻⁶ / 5×10⁻⁷ below 75, to 150, above 150 mm."""
    assert freq("pressure_vessel") == {"instantaneous": 5e-7, "inventory": 5e-7, "hole": 1e-5}
    assert freq("atmospheric_tank") == {"instantaneous": 5e-6, "inventory": 5e-6, "hole": 1e-4}
    g2 = next(loc for loc in Q.equipment["pressure_vessel"].locs if loc.kind == "inventory")
    g3 = next(loc for loc in Q.equipment["pressure_vessel"].locs if loc.kind == "hole")
    assert g2.duration_s == 600.0 and g3.diameter_mm == 10.0
    assert [(b.max_diameter_mm, b.rupture_per_m, b.leak_per_m) for b in Q.installation.pipe_bands] == [
        (75.0, 1e-6, 5e-6), (150.0, 3e-7, 2e-6), (100000.0, 1e-7, 5e-7)]


def test_an_inventory_is_split_over_vessels_with_their_pipes():
    """120 t of chlorine, vessels of at most 50 t → ceil(120/50) = 3 vessels of 40 t: each LOC frequency × 3;
    10 m of DN50 pipe per vessel → 30 m: rupture 30·1e-6, leak of min(10 % · 50, 50) = 5 mm 30·5e-6."""
    sc = site_scenarios([(Q.substances["chlorine"], 120.0)], Q.equipment, Q.installation)
    by_kind = {s.kind: s for s in sc}
    assert {s.mass_kg for s in sc} == {40_000.0} and {s.vessels for s in sc} == {3}
    assert by_kind["instantaneous"].frequency == pytest.approx(3 * 5e-7)
    assert by_kind["hole"].frequency == pytest.approx(3 * 1e-5)
    assert by_kind["pipe_rupture"].frequency == pytest.approx(30 * 1e-6)
    assert by_kind["pipe_rupture"].diameter_m == pytest.approx(0.05)
    assert by_kind["pipe_leak"].frequency == pytest.approx(30 * 5e-6)
    assert by_kind["pipe_leak"].diameter_m == pytest.approx(0.005)
    assert sum(s.frequency for s in sc) == pytest.approx(3 * (5e-7 + 5e-7 + 1e-5) + 30 * (1e-6 + 5e-6))


def test_direct_ignition_table():
    """CPR 18E direct ignition (rule set): low reactivity continuous < 10 kg/s 0.02, 10–100 0.04, > 100 0.09;
    average/high instantaneous < 1000 kg 0.2, 1000–10 000 kg 0.5, > 10 000 kg 0.7."""
    ign = Q.ignition
    assert [direct_ignition("low", "continuous", s, ign) for s in (5.0, 50.0, 500.0)] == [0.02, 0.04, 0.09]
    assert [direct_ignition("high", "instantaneous", m, ign) for m in (500.0, 5000.0, 50_000.0)] == [0.2, 0.5, 0.7]


@pytest.mark.parametrize("effects, kind", [(("flammable",), "instantaneous"), (("flammable",), "continuous"),
                                           (("toxic",), "continuous")])
def test_event_tree_probabilities_add_up(effects, kind):
    """With every cloud ignited in the end (delayed = 1) the branches of a flammable release sum to 1; a toxic
    release is toxic with probability 1."""
    out = dict(outcomes(effects, "average", kind, 50.0, IgnitionRules()))
    assert math.fsum(out.values()) == pytest.approx(1.0)
    if "flammable" in effects:
        p = direct_ignition("average", kind, 50.0, IgnitionRules())
        assert out["fireball" if kind == "instantaneous" else "jet_fire"] == pytest.approx(p)
        assert out["explosion"] == pytest.approx((1 - p) * 0.4)


def test_toxic_and_flammable_keeps_the_toxic_branch():
    """Ethylene oxide: toxic with the probability of no direct ignition, plus the fire branches (conservative)."""
    out = dict(outcomes(("toxic", "flammable"), "high", "continuous", 5.0, IgnitionRules()))
    assert out["toxic"] == pytest.approx(0.8) and out["jet_fire"] == pytest.approx(0.2)
    assert out["flash_fire"] + out["explosion"] == pytest.approx(0.8)
