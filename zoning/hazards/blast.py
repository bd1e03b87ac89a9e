"""Air blast from a condensed explosive: TNT equivalence, scaled distance, side-on overpressure.

The consequence method of GB/T 37243-2019 §5 (事故后果法) takes the worst credible explosion of
the explosives at a site and the distance at which its air-blast overpressure falls to the
threshold of each protected-target class. Three steps, all vectorised:

1. TNT equivalent (§5): ``W_TNT = η·W·Qc/Q_TNT`` (:func:`tnt_equivalent`), Q_TNT = 4500 kJ/kg in
   the default rule set;
2. Hopkinson–Cranz cube-root scaling: ``Z = R / W_TNT^(1/3)`` in m/kg^(1/3)
   (:func:`scaled_distance`);
3. side-on (incident) peak overpressure of a hemispherical surface burst of TNT as a function of
   Z, from the Kingery–Bulmash (1984) curves in the simplified form of M. M. Swisdak,
   *Simplified Kingery Airblast Calculations*, NSWC Indian Head, 1994 (DTIC ADA526744):
   ``ln P = Σₖ cₖ·(ln Z)^k`` over three Z ranges (:data:`SWISDAK_1994`,
   :func:`incident_overpressure`), and its inverse by bisection on ln Z
   (:func:`distance_to_overpressure`).

The published reference case, 10 000 kg of TNT at 500 m (Z = 23.2 m/kg^(1/3)), gives
≈ 5.06 kPa:

>>> round(float(incident_overpressure(500.0, 10_000.0)), 2)
5.05
>>> round(float(distance_to_overpressure(5.055, 10_000.0)))
500

The coefficients are a fit of physics, not a regulatory figure, so they live here with their
citation; the figures a town may change (Q_TNT, η, Qc, the thresholds) are in the rule set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from geo.errors import InputError

__all__ = [
    "BlastCurve", "SWISDAK_1994", "tnt_equivalent", "scaled_distance", "side_on_overpressure",
    "incident_overpressure", "scaled_distance_at", "distance_to_overpressure",
]


@dataclass(frozen=True)
class BlastCurve:
    """A piecewise ln-polynomial curve ``ln P = Σₖ cₖ·(ln Z)^k`` (P in kPa, Z in m/kg^(1/3)).

    Segment ``i`` covers ``z_edges[i] < Z ≤ z_edges[i+1]`` (the first one includes its lower
    edge); outside ``[z_edges[0], z_edges[-1]]`` the curve is undefined (NaN). The published
    segments do not quite meet: where a later segment starts above the end of an earlier one (the
    Swisdak fit steps up by 0.7 % at Z = 23.8) the earlier one is held at that level, the
    conservative monotone envelope, so the overpressure never increases with distance and the
    inverse is unique.
    """

    name: str
    z_edges: tuple[float, ...]
    coefficients: tuple[tuple[float, ...], ...]
    citation: str = ""

    def __post_init__(self):
        if len(self.z_edges) != len(self.coefficients) + 1 or not self.coefficients:
            raise InputError(f"blast curve {self.name!r}: need one more edge than segments")
        if any(a >= b for a, b in zip(self.z_edges, self.z_edges[1:])) or self.z_edges[0] <= 0:
            raise InputError(f"blast curve {self.name!r}: edges must be positive and increasing")

    @cached_property
    def _matrix(self) -> np.ndarray:
        width = max(len(c) for c in self.coefficients)
        return np.array([tuple(c) + (0.0,) * (width - len(c)) for c in self.coefficients])

    @cached_property
    def _floors(self) -> np.ndarray:
        """ln P below which each segment is held: the highest start of any later segment."""
        starts = self._raw(np.log(np.array(self.z_edges[1:-1])), np.arange(1, len(self.coefficients)))
        floors = np.maximum.accumulate(starts[::-1])[::-1] if starts.size else starts
        return np.append(floors, -np.inf)

    def _raw(self, ln_z: np.ndarray, seg: np.ndarray) -> np.ndarray:
        powers = ln_z[..., None] ** np.arange(self._matrix.shape[1])
        return np.sum(self._matrix[seg] * powers, axis=-1)

    def ln_pressure(self, z) -> np.ndarray:
        """ln P (kPa) at scaled distance ``z``; NaN outside the curve's range."""
        z = np.asarray(z, dtype=float)
        edges = np.asarray(self.z_edges)
        inside = (z >= edges[0]) & (z <= edges[-1])
        zc = np.where(inside, z, edges[0])
        seg = np.clip(np.searchsorted(edges, zc, side="left") - 1, 0, len(self.coefficients) - 1)
        ln_p = np.maximum(self._raw(np.log(zc), seg), self._floors[seg])
        return np.where(inside, ln_p, np.nan)

    @property
    def pressure_range(self) -> tuple[float, float]:
        """(lowest, highest) overpressure in kPa the curve covers, at its far and near ends."""
        ln_p = self.ln_pressure(np.array([self.z_edges[-1], self.z_edges[0]]))
        return float(np.exp(ln_p[0])), float(np.exp(ln_p[1]))


#: Side-on peak overpressure (kPa) of a hemispherical TNT surface burst against scaled distance
#: Z (m/kg^(1/3)), 0.2 ≤ Z ≤ 198.5: Kingery & Bulmash (1984) as simplified by Swisdak (1994),
#: metric coefficients A–E of ``ln P = A + B·lnZ + C·(lnZ)² + D·(lnZ)³ + E·(lnZ)⁴``.
SWISDAK_1994 = BlastCurve(
    name="Kingery-Bulmash hemispherical surface burst, incident pressure (Swisdak 1994)",
    z_edges=(0.2, 2.9, 23.8, 198.5),
    coefficients=(
        (7.2106, -2.1069, -0.3229, 0.1117, 0.0685),
        (7.5938, -3.0523, 0.40977, 0.0261, -0.01267),
        (6.0536, -1.4066),
    ),
    citation="M. M. Swisdak, Simplified Kingery Airblast Calculations, NSWC Indian Head, "
             "1994 (DTIC ADA526744), after C. N. Kingery & G. Bulmash, ARBRL-TR-02555, 1984",
)


def tnt_equivalent(mass_kg, eta, qc_kj_kg, q_tnt_kj_kg=4500.0):
    """TNT equivalent mass ``W_TNT = η·W·Qc/Q_TNT`` (GB/T 37243-2019 §5).

    Parameters
    ----------
    mass_kg : float or array_like
        Mass W of the explosive taking part, kg.
    eta : float or array_like
        Efficiency factor η (fraction of the energy that goes into the blast).
    qc_kj_kg : float or array_like
        Heat of explosion Qc of the substance, kJ/kg.
    q_tnt_kj_kg : float
        Heat of explosion of TNT, kJ/kg (4500 in the default rule set; some tools use 4680).

    Returns
    -------
    float or numpy.ndarray
        kg of TNT; the arguments broadcast.

    Examples
    --------
    >>> round(float(tnt_equivalent(5000.0, 1.0, 1590.0)), 1)   # 5 t of ammonium nitrate
    1766.7
    """
    w = np.asarray(mass_kg, dtype=float) * np.asarray(eta, dtype=float) \
        * np.asarray(qc_kj_kg, dtype=float) / float(q_tnt_kj_kg)
    if np.any(w < 0):
        raise InputError("TNT equivalent: mass, η and Qc must not be negative")
    return w


def scaled_distance(distance_m, w_tnt_kg):
    """Hopkinson–Cranz scaled distance ``Z = R / W^(1/3)`` in m/kg^(1/3); arguments broadcast.

    >>> round(float(scaled_distance(500.0, 10_000.0)), 2)
    23.21
    """
    return np.asarray(distance_m, dtype=float) / np.cbrt(np.asarray(w_tnt_kg, dtype=float))


def side_on_overpressure(z, curve: BlastCurve = SWISDAK_1994):
    """Side-on peak overpressure (kPa) at scaled distance ``z`` (m/kg^(1/3)).

    Parameters
    ----------
    z : float or array_like
    curve : BlastCurve
        Default :data:`SWISDAK_1994` (hemispherical surface burst, 0.2 ≤ Z ≤ 198.5).

    Returns
    -------
    float or numpy.ndarray
        kPa; NaN where ``z`` is outside the curve's range (no extrapolation).

    Examples
    --------
    >>> side_on_overpressure([1.0, 10.0, 100.0]).round(2).tolist()
    [1353.7, 14.89, 0.65]
    """
    return np.exp(curve.ln_pressure(z))


def incident_overpressure(distance_m, w_tnt_kg, curve: BlastCurve = SWISDAK_1994):
    """Side-on peak overpressure (kPa) at ``distance_m`` from ``w_tnt_kg`` of TNT; broadcast.

    ``P(R, W) = P(Z)`` with ``Z = R / W^(1/3)`` (Hopkinson–Cranz); NaN outside the curve's range.

    >>> round(float(incident_overpressure(500.0, 10_000.0)), 3)   # the published 5.06 kPa case
    5.055
    """
    return side_on_overpressure(scaled_distance(distance_m, w_tnt_kg), curve)


def scaled_distance_at(p_kpa, curve: BlastCurve = SWISDAK_1994, iterations: int = 64):
    """The scaled distance at which the overpressure falls to ``p_kpa`` (inverse of the curve).

    Vectorised bisection on ln Z: the largest Z with ``P(Z) ≥ p`` (the curve is monotone, see
    :class:`BlastCurve`), returned from the far side, so the distance is never short.

    Parameters
    ----------
    p_kpa : float or array_like
        Overpressure thresholds, kPa.
    curve : BlastCurve
    iterations : int
        Bisection steps; 64 reaches the resolution of a float.

    Returns
    -------
    float or numpy.ndarray
        Z in m/kg^(1/3); NaN where ``p_kpa`` is outside the curve's pressure range.

    Examples
    --------
    >>> round(float(scaled_distance_at(2.0)), 2)   # exp((6.0536 - ln 2) / 1.4066)
    45.19
    """
    p = np.asarray(p_kpa, dtype=float)
    lowest, highest = curve.pressure_range
    valid = (p >= lowest) & (p <= highest)
    ln_p = np.log(np.where(valid, p, highest))
    lo = np.full(p.shape, np.log(curve.z_edges[0]))
    hi = np.full(p.shape, np.log(curve.z_edges[-1]))
    at_far_end = curve.ln_pressure(np.exp(hi)) >= ln_p
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = curve.ln_pressure(np.exp(mid)) >= ln_p
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    z = np.where(at_far_end, curve.z_edges[-1], np.exp(hi))
    return np.where(valid, z, np.nan)


def distance_to_overpressure(p_kpa, w_tnt_kg, curve: BlastCurve = SWISDAK_1994):
    """Distance (m) at which ``w_tnt_kg`` of TNT gives the side-on overpressure ``p_kpa``.

    ``R = Z(p) · W^(1/3)``; arguments broadcast (e.g. thresholds of shape ``(k,)`` against masses
    of shape ``(n, 1)`` give ``(n, k)``). A mass of 0 gives 0 m.

    Examples
    --------
    >>> distance_to_overpressure([2.0, 5.0], [[10_000.0], [80_000.0]]).round(0).tolist()
    [[974.0, 504.0], [1947.0, 1009.0]]
    """
    return scaled_distance_at(p_kpa, curve) * np.cbrt(np.asarray(w_tnt_kg, dtype=float))
