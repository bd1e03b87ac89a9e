"""The derived layers ``ir_contours`` and ``threat_zones``, against the site tables and hand figures."""

from __future__ import annotations

import math

import pytest
import shapely

from qra_cases import reference_site
from zoning.hazards.qra.contours import ir_contours
from zoning.hazards.qra.individual import site_risk
from zoning.hazards.qra.rules import parse_qra_rules
from zoning.hazards.qra.scenarios import site_scenarios
from zoning.hazards.qra.threat_zones import threat_distances, threat_zones
from zoning.rules import load_ruleset

GK = "EPSG:4549"
Q = parse_qra_rules(load_ruleset())


def test_a_lone_site_under_a_uniform_rose_draws_a_disc_of_its_distance():
    """Uniform rose → IR depends on r only: the 1×10⁻⁷/y polygon is the disc of radius distance_to(1e-7),
    traced on 10 m cells (area within 3 %)."""
    s = reference_site("A", 500_000.0, 3_500_000.0)
    d = s.distance_to(1e-7)
    c = ir_contours([s], [1e-7], 10.0, GK)
    assert len(c) == 1 and c.loc[0, "site_ids"] == "A" and c.loc[0, "level_label"] == "1×10⁻⁷/a"
    assert c.loc[0, "area_m2"] == pytest.approx(math.pi * d ** 2, rel=0.03)
    assert c.geometry.iloc[0].contains(shapely.Point(500_000.0, 3_500_000.0))
    assert c.loc[0, "max_ir"] >= 1e-7 and c.attrs["layer"] == "ir_contours"


def test_neighbours_merge_and_both_are_named():
    """Two sites 300 m apart: their 1×10⁻⁷/y contours meet in one polygon naming both; a site 20 km away
    stands alone; a higher level the sites do not reach gives no polygon."""
    a = reference_site("A", 500_000.0, 3_500_000.0)
    b = reference_site("B", 500_300.0, 3_500_000.0)
    far = reference_site("C", 520_000.0, 3_500_000.0)
    c = ir_contours([a, b, far], [1e-7, 1.0], 25.0, GK)
    assert sorted(c["site_ids"]) == ["A; B", "C"] and set(c["level"]) == {1e-7}
    ab = c[c["site_ids"] == "A; B"].geometry.iloc[0]
    assert ab.contains(shapely.Point(500_150.0, 3_500_000.0))


def test_no_site_no_polygon():
    assert len(ir_contours([], [1e-6], 25.0, GK)) == 0


def test_fireball_heat_threat_zone_by_hand():
    """LPG, 50 t in one vessel: the worst heat flux is the G.1 fireball (CCPS 1999 ch. 3, Roberts 1981):
    D = 5.8·M^(1/3), H = 0.75·D, q = SEP·(D/2)²/(x² + H²) = 5 kW/m² at x = √(SEP·(D/2)²/5000 − H²)."""
    lpg = Q.substances["liquefied petroleum gas"]
    sc = site_scenarios([(lpg, 50.0)], Q.equipment, Q.installation)
    s = site_risk("L", 0.0, 0.0, sc, Q.weather, Q.grid, release=Q.release, ignition=Q.ignition, effects=Q.effects)
    d = 5.8 * 50_000 ** (1 / 3)
    x = math.sqrt(350e3 * (d / 2) ** 2 / 5000.0 - (0.75 * d) ** 2)
    rows = {r["threshold"]: r for r in threat_distances(s, radiation_kw_m2=(5.0,), overpressure_kpa=(5.0, 2.0))}
    assert rows["5 kW/m²"]["distance_m"] == pytest.approx(x, rel=0.01)
    assert rows["5 kW/m²"]["hazard"] == "heat_radiation" and rows["5 kW/m²"]["substances"] == "liquefied petroleum gas"
    assert rows["2 kPa"]["distance_m"] > rows["5 kPa"]["distance_m"] > 0


def test_toxic_threat_zones_follow_the_axis_concentration():
    """Chlorine: the AEGL-2 zone (2 ppm = 2·p·M/(R·T) mg/m³) reaches as far as the largest axis
    concentration does; AEGL-3 less far; the 1 % lethality less far still."""
    cl2 = Q.substances["chlorine"]
    sc = site_scenarios([(cl2, 5.0)], Q.equipment, Q.installation)
    s = site_risk("C", 0.0, 0.0, sc, Q.weather, Q.grid, release=Q.release, ignition=Q.ignition, effects=Q.effects)
    rows = {r["threshold"]: r for r in threat_distances(s, toxic=("lethality_1pct", "aegl3", "aegl2"))}
    assert rows["chlorine AEGL2 2 ppm"]["distance_m"] >= rows["chlorine AEGL3 20 ppm"]["distance_m"] \
        > rows["chlorine 1 % lethality"]["distance_m"] > 0
    mg = 2.0 * 101325 * 0.0709 / (8.314462618 * 289.15)
    assert cl2.mg_m3_per_ppm(289.15) * 2.0 == pytest.approx(mg)
    zones = threat_zones([s], GK, toxic=("aegl3",))
    assert len(zones) == 1 and zones.attrs["layer"] == "threat_zones"
    assert zones.geometry.iloc[0].area == pytest.approx(math.pi * zones["distance_m"].iloc[0] ** 2, rel=0.01)
