"""Vapour-cloud explosion (VCE) by TNT equivalence, on the blast curve of :mod:`zoning.hazards.blast`.

A flammable cloud ignited late may explode (CPR 18E ch. 4 event tree: a share of the delayed
ignitions). The TNT method (CCPS 1994 *Guidelines for Evaluating the Characteristics of VCEs,
Flash Fires and BLEVEs*; CCPS 1999 ch. 3) turns the flammable mass m_f of the cloud into a TNT
charge with a yield factor η (1–10 %, rule set ``qra.effects.vce_yield``, to confirm)::

    W_TNT = η·m_f·ΔHc/Q_TNT

and reads the side-on overpressure at distance R from the Kingery–Bulmash curve at
``Z = R/W_TNT^(1/3)`` (:func:`zoning.hazards.blast.incident_overpressure`, valid for
0.2 ≤ Z ≤ 198.5 m/kg^(1/3)). The TNO multi-energy method (CPR 14E ch. 5), which ties the blast to
the congestion of the cloud's surroundings rather than to its mass, needs the obstacle layout of
each plant, which the store does not hold; the TNT method is the one the rule set can feed.

People outdoors die where the overpressure reaches ``lethal_kpa`` (30 kPa in the default rule set,
the CPR 18E ch. 5 criterion for outdoor lethality, to confirm), and not below.

>>> w = vce_tnt_mass(1000.0, 46.3e6, 0.03)       # 1 t of propane in the cloud, 3 % yield
>>> round(w, 1)
308.7
>>> [round(float(p), 1) for p in vce_overpressure([50.0, 200.0], w)]   # kPa
[22.9, 3.6]
"""

from __future__ import annotations

import numpy as np

from zoning.hazards.blast import SWISDAK_1994, BlastCurve, incident_overpressure

__all__ = ["vce_tnt_mass", "vce_overpressure", "vce_lethality"]


def vce_tnt_mass(flammable_mass_kg: float, heat_of_combustion_j_kg: float, yield_factor: float,
                 q_tnt_kj_kg: float = 4500.0) -> float:
    """TNT equivalent (kg) ``η·m_f·ΔHc/Q_TNT`` of a flammable cloud (ΔHc in J/kg, Q_TNT in kJ/kg)."""
    return yield_factor * flammable_mass_kg * heat_of_combustion_j_kg / (q_tnt_kj_kg * 1000.0)


def vce_overpressure(distance_m, w_tnt_kg: float, curve: BlastCurve = SWISDAK_1994):
    """Side-on overpressure (kPa) at ``distance_m``; beyond the curve's far end 0, inside its near end
    the near-end value (the curve is not extrapolated)."""
    r = np.asarray(distance_m, dtype=float)
    if w_tnt_kg <= 0:
        return np.zeros_like(r)
    w3 = np.cbrt(w_tnt_kg)
    z = np.clip(r / w3, curve.z_edges[0], None)
    p = incident_overpressure(z * w3, w_tnt_kg, curve)
    return np.where(r / w3 > curve.z_edges[-1], 0.0, np.nan_to_num(p, nan=0.0))


def vce_lethality(distance_m, w_tnt_kg: float, lethal_kpa: float, curve: BlastCurve = SWISDAK_1994):
    """1 where the overpressure reaches ``lethal_kpa``, else 0 (people outdoors, CPR 18E ch. 5)."""
    return (vce_overpressure(distance_m, w_tnt_kg, curve) >= lethal_kpa).astype(float)
