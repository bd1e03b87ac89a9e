"""Societal risk (社会风险): the F-N curve of a site against the GB 36894-2018 lines.

Every outcome of every scenario, in every weather class and wind direction, kills an expected
number N of the people around (CPR 18E ch. 6)::

    N = Σ_cells  persons · P_out · [(1 − f_in) + f_in · k_in]

with P_out the outdoor lethality of the footprint at the cell, f_in the share of people indoors and
k_in the indoor lethality relative to outdoors (rule set ``[qra.societal]``). The event's frequency
is ``f_scenario · p_weather · p_outcome · p_direction``. The F-N curve gives, for each N, the
frequency F of events killing N or more; GB 36894-2018 draws two lines ``F = C/N`` (C = 10⁻³
upper, 10⁻⁵ lower, N from 1 to 1000; end points to confirm): above the upper line the risk is
unacceptable, below the lower acceptable, in between it must be reduced as low as reasonably
practicable (ALARP). A step curve is worst at the right end of each step, so the check is
``max F_i·N_i`` against C.

People come from the store's ``population`` raster (persons per cell, at the cell centre) and from
the protected targets' ``population`` field, added together (a school's pupils also live
somewhere: conservative). People are binned on the site's polar grid and the wind direction is
taken every 5° (:data:`DIRECTIONS` sectors) with the wind rose's weights.

>>> curve = fn_curve(np.array([1e-5, 1e-6, 1e-7]), np.array([2.0, 30.0, 500.0]), upper=1e-3, lower=1e-5)
>>> curve.n.tolist(), [f"{f:.2e}" for f in curve.f]
([2.0, 30.0, 500.0], ['1.11e-05', '1.10e-06', '1.00e-07'])
>>> curve.verdict, round(curve.worst_ratio, 2)      # max F·N = 1e-7·500 = 5e-5; / upper C 1e-3
('alarp', 0.05)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoning.hazards.qra.individual import SiteRisk
from zoning.hazards.qra.scenarios import OUTCOMES

__all__ = ["FNCurve", "fn_curve", "site_fn", "lethal_reach", "VERDICTS", "DIRECTIONS"]

#: Verdicts of an F-N curve, mildest first.
VERDICTS = ("acceptable", "alarp", "unacceptable")
#: Wind directions (equal sectors) of the F-N sum.
DIRECTIONS = 72


@dataclass
class FNCurve:
    """An F-N curve: ``n`` (ascending, ≥ 1) and ``f`` (per year, F(N ≥ n)), checked against the lines."""

    n: np.ndarray
    f: np.ndarray
    upper: float
    lower: float
    verdict: str
    worst_n: float = 0.0
    worst_f: float = 0.0
    worst_ratio: float = 0.0
    expected_deaths: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"n": self.n.tolist(), "f": self.f.tolist(), "upper": self.upper, "lower": self.lower,
                "verdict": self.verdict, "worst_n": self.worst_n, "worst_f": self.worst_f,
                "worst_ratio": self.worst_ratio, "expected_deaths": self.expected_deaths, "notes": list(self.notes)}


def fn_curve(frequencies, deaths, *, upper: float, lower: float, n_min: float = 1.0,
             n_max: float = 1000.0) -> FNCurve:
    """F-N curve of events (frequency per year, expected deaths) checked against ``C/N`` lines.

    Events with N below ``n_min`` do not enter the curve (GB 36894 draws it from N = 1).
    """
    f = np.asarray(frequencies, dtype=float)
    n = np.asarray(deaths, dtype=float)
    expected = float((f * n).sum())
    n = np.round(n, 6)   # the same N reached by different sums (FFT round-off) is one point of the curve
    keep = (n >= n_min) & (f > 0)
    f, n = f[keep], n[keep]
    if not n.size:
        return FNCurve(np.array([]), np.array([]), upper, lower, "acceptable", expected_deaths=expected)
    order = np.argsort(n)
    n, f = n[order], f[order]
    un, start = np.unique(n, return_index=True)
    total = np.add.reduceat(f, start)
    cum = np.cumsum(total[::-1])[::-1]
    product = cum * un
    i = int(np.argmax(product))
    ratio = float(product[i] / upper)
    verdict = "unacceptable" if product[i] > upper else "alarp" if product[i] > lower else "acceptable"
    notes = []
    if un[-1] > n_max:
        notes.append(f"F-N curve reaches N = {un[-1]:.0f} beyond the end of the GB 36894 lines (N = {n_max:g}); "
                     "the lines are extended with slope −1 (to confirm)")
    return FNCurve(un, cum, upper, lower, verdict, float(un[i]), float(cum[i]), ratio, expected, notes)


def _reach(fp, name: str, radii: np.ndarray, floor: float = 1e-6) -> float:
    """Largest radius at which an outcome's lethality exceeds ``floor`` (0 if nowhere)."""
    table = fp.directional[name] if OUTCOMES[name] else fp.radial[name]
    hit = (table.max(axis=1) if table.ndim == 2 else table) > floor
    return float(radii[min(int(np.flatnonzero(hit).max()) + 1, radii.size - 1)]) if hit.any() else 0.0


def lethal_reach(site: SiteRisk, floor: float = 1e-6) -> float:
    """Largest radius at which any outcome of the site kills with probability above ``floor``."""
    return max((_reach(fp, name, site.grid.r, floor) for fp in site.footprints for name, _ in fp.outcomes),
               default=0.0)


def _polar_people(site: SiteRisk, xy: np.ndarray, pop: np.ndarray, n_dir: int) -> np.ndarray:
    """People binned on the site's radii (nearest in ln r) and ``n_dir`` sectors centred on k·360°/n_dir."""
    r = site.grid.r
    d = np.hypot(xy[:, 0] - site.x, xy[:, 1] - site.y)
    inside = (pop > 0) & (d <= r[-1])
    d, theta = d[inside], np.degrees(np.arctan2(xy[inside, 1] - site.y, xy[inside, 0] - site.x))
    f = (np.log(np.clip(d, r[0], r[-1])) - np.log(r[0])) / (np.log(r[-1]) - np.log(r[0])) * (r.size - 1)
    i = np.clip(np.rint(f).astype(int), 0, r.size - 1)
    k = np.rint(theta / (360.0 / n_dir)).astype(int) % n_dir
    out = np.zeros((r.size, n_dir))
    np.add.at(out, (i, k), pop[inside])
    return out


def _sector_columns(n_alpha: int, step_deg: float, n_dir: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns, weights), each (n_dir, k): averaging a half-plane table (α = 0…90° by ``step_deg``)
    over ``n_dir`` sectors of the circle centred on k·360°/n_dir.

    The half-plane table is mirrored (symmetric about the downwind axis) and zero beyond ±90°, as in
    :func:`~zoning.hazards.qra.individual.full_circle`; a gather, not a matrix product (small BLAS
    calls cost more in thread start-up than in arithmetic).
    """
    n_theta = int(round(360.0 / step_deg))
    per = n_theta // n_dir
    j = (np.arange(n_dir)[:, None] * per + np.arange(per)[None, :] - per // 2) % n_theta
    alpha = np.minimum(j, n_theta - j)
    inside = alpha < n_alpha
    return np.where(inside, alpha, 0), inside / per


def site_fn(site: SiteRisk, people_xy: np.ndarray, people: np.ndarray, *, rose_weights: np.ndarray | None,
            indoor_fraction: float, indoor_factor: dict, upper: float, lower: float, n_min: float = 1.0,
            n_max: float = 1000.0, memo: dict | None = None) -> FNCurve:
    """The F-N curve of a site for people at ``people_xy`` (metric, (k, 2)) numbering ``people``.

    People are binned on the site's polar grid (its radii × :data:`DIRECTIONS` sectors); for the
    wind blowing towards sector d the deaths of a directional outcome are
    ``Σ_r Σ_k people[r, k]·L[r, k − d]`` (a circular correlation, computed by FFT), with L the
    outcome's lethality averaged over each sector. ``rose_weights`` are the probabilities of the
    wind blowing towards each sector (:meth:`~zoning.hazards.qra.weather.WindRose.downwind_weights`
    with :data:`DIRECTIONS` bins); None means uniform. ``memo`` (a dict kept by the caller) keeps the
    sector spectra of lethality tables that sites share (footprints of equal source terms).
    """
    n_dir = DIRECTIONS
    grid = np.asarray(_polar_people(site, np.asarray(people_xy, dtype=float).reshape(-1, 2),
                                    np.asarray(people, dtype=float), n_dir))
    q = np.full(n_dir, 1.0 / n_dir) if rose_weights is None else np.asarray(rose_weights, dtype=float)
    ring = grid.sum(axis=1)
    spectrum = np.fft.rfft(grid, axis=1)
    columns, weights = _sector_columns(site.grid.alpha_deg.size, site.grid.angle_step_deg, n_dir)
    freqs, deaths = [], []
    for fp in site.footprints:
        for name, p in fp.outcomes:
            shield = (1.0 - indoor_fraction) + indoor_fraction * indoor_factor.get(name, 1.0)
            if OUTCOMES[name]:
                table = fp.directional[name]
                key = (id(table), n_dir)
                lethal = memo.get(key) if memo is not None else None
                if lethal is None:
                    lethal = np.conj(np.fft.rfft((table[:, columns] * weights).sum(axis=2), axis=1))
                    if memo is not None:
                        memo[key] = lethal
                n = np.fft.irfft((lethal * spectrum).sum(axis=0), n=n_dir)
                deaths.append(np.clip(n, 0.0, None) * shield)
                freqs.append(fp.weight * p * q)
            else:
                deaths.append(np.array([float((ring * fp.radial[name]).sum()) * shield]))
                freqs.append(np.array([fp.weight * p]))
    if not freqs:
        return fn_curve([], [], upper=upper, lower=lower, n_min=n_min, n_max=n_max)
    return fn_curve(np.concatenate(freqs), np.concatenate(deaths), upper=upper, lower=lower, n_min=n_min, n_max=n_max)
