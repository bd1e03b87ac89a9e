"""Individual risk (个人风险): per site on a polar table, summed over sites on any grid window.

The individual (location-based) risk at a point is the yearly probability that an unprotected
person standing there all the time dies (CPR 18E ch. 6; GB/T 37243-2019 §6; GB 36894-2018)::

    IR(x, y) = Σ_scenarios Σ_weather Σ_directions  f_s · p_w · p_d · P_death(s, w, d; x, y)

riskmap evaluates it per site in two steps, both vectorised numpy:

1. **polar table** (:func:`site_risk`): the footprints of every scenario × weather class
   (:func:`zoning.hazards.qra.footprint.footprint`) are weighted by ``f·p_w·p_outcome`` and summed
   into a directional table L(r, α) (α from the downwind axis) and a radial one L(r); the wind rose
   is then applied as a circular convolution over the angle, ``IR(r, θ) = Σ_k w_k·L(r, θ − θ_k) +
   L_radial(r)``, with w_k the probability that the wind blows towards θ_k
   (:meth:`~zoning.hazards.qra.weather.WindRose.downwind_weights`);
2. **grid** (:func:`risk_window`): the IR at cell centres of a window, bilinear in (ln r, θ) on
   each site's table, summed over the sites whose reach meets the window.

:func:`risk_window` is a pure function of (site tables, window): a window's cells get the same
values whatever other windows are computed, so a province-wide grid can be cut into tiles and run
in parallel (e.g. on Dask) with identical results.

The external safety distance of a site for a criterion (:meth:`SiteRisk.distance_to`) is the
farthest point of the site's own IR contour at that level, over all directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoning.hazards.qra.footprint import EffectRules, Footprint, PolarGrid, footprint
from zoning.hazards.qra.scenarios import OUTCOMES, IgnitionRules, Scenario
from zoning.hazards.qra.source import ReleaseRules
from zoning.hazards.qra.weather import Weather

__all__ = ["SiteRisk", "Window", "site_risk", "risk_window", "window_for", "reach_of", "full_circle"]


@dataclass(frozen=True)
class Window:
    """A north-up grid window: lower-left corner (x0, y0), square cells of ``cell`` m, nx × ny cells.

    Cell (row i, column j) is centred at ``(x0 + (j + ½)·cell, y0 + (ny − i − ½)·cell)`` — row 0 at
    the top, as in a raster.
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @property
    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y0 + (self.ny - np.arange(self.ny) - 0.5) * self.cell
        return np.meshgrid(xs, ys)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x0 + self.nx * self.cell, self.y0 + self.ny * self.cell


def window_for(bounds, cell: float) -> Window:
    """The window of cells of the global lattice (multiples of ``cell`` from 0) covering ``bounds``.

    >>> window_for((12.0, 3.0, 61.0, 49.0), 25.0)
    Window(x0=0.0, y0=0.0, cell=25.0, nx=3, ny=2)
    """
    minx, miny, maxx, maxy = bounds
    x0, y0 = np.floor(minx / cell) * cell, np.floor(miny / cell) * cell
    nx = max(1, int(np.ceil((maxx - x0) / cell - 1e-9)))
    ny = max(1, int(np.ceil((maxy - y0) / cell - 1e-9)))
    return Window(float(x0), float(y0), float(cell), nx, ny)


@dataclass
class SiteRisk:
    """A site's QRA on its polar grid: footprints, the IR table and what it rests on.

    ``ir`` is (Nr, Nθ): IR per year at radius ``grid.r[i]`` and math angle ``θ_j = j·Δ`` (counter-
    clockwise from east, Δ = the grid's angle step) around the source at ``(x, y)`` (metric CRS).
    """

    site_id: str
    x: float
    y: float
    grid: PolarGrid
    footprints: list[Footprint]
    ir: np.ndarray
    directional: np.ndarray
    radial: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def n_theta(self) -> int:
        return self.ir.shape[1]

    def reach(self, level: float) -> float:
        """Largest radius (m) at which the IR reaches ``level`` in some direction (0 if nowhere)."""
        hit = (self.ir >= level).any(axis=1)
        return float(self.grid.r[hit].max()) if hit.any() else 0.0

    def distance_to(self, level: float) -> float:
        """Farthest distance (m) of the ``level`` contour over all directions (:func:`reach_of`).

        0 when the IR stays below ``level`` everywhere; the grid's last radius when it is still
        above it there (the result then carries a note).
        """
        return float(np.max(reach_of(self.ir, level, self.grid.r)))

    def at(self, xs, ys) -> np.ndarray:
        """IR (per year) of this site at points (metric CRS); bilinear in (ln r, θ); 0 beyond the grid."""
        dx, dy = np.asarray(xs, dtype=float) - self.x, np.asarray(ys, dtype=float) - self.y
        rr = np.hypot(dx, dy)
        theta = np.degrees(np.arctan2(dy, dx)) % 360.0
        r = self.grid.r
        lr = np.log(np.clip(rr, r[0], r[-1]))
        fi = (lr - np.log(r[0])) / (np.log(r[-1]) - np.log(r[0])) * (r.size - 1)
        i0 = np.clip(np.floor(fi).astype(int), 0, r.size - 2)
        ti = np.clip(fi - i0, 0.0, 1.0)
        step = 360.0 / self.n_theta
        fj = theta / step
        j0 = np.floor(fj).astype(int) % self.n_theta
        j1 = (j0 + 1) % self.n_theta
        tj = fj - np.floor(fj)
        ir = self.ir
        v = ((1 - ti) * ((1 - tj) * ir[i0, j0] + tj * ir[i0, j1])
             + ti * ((1 - tj) * ir[i0 + 1, j0] + tj * ir[i0 + 1, j1]))
        return np.where(rr > r[-1], 0.0, v)


def reach_of(values, threshold: float, r: np.ndarray):
    """Largest radius at which ``values`` (rows on radii ``r``; one column or many) reach ``threshold``.

    Between the last radius at or above the threshold and the next one the crossing is
    interpolated in log–log; 0 where the threshold is never reached; the last radius where it is
    still reached there.

    >>> round(float(reach_of(np.array([100.0, 10.0, 1.0]), 10.0, np.array([1.0, 10.0, 100.0]))), 6)
    10.0
    >>> reach_of(np.array([[100.0, 1.0], [10.0, 0.5], [1.0, 0.1]]), 3.16227766, np.array([1.0, 10.0, 100.0])).round(3)
    array([31.623,  0.   ])
    """
    v = np.asarray(values, dtype=float)
    flat = v.ndim == 1
    v = v[:, None] if flat else v
    above = v >= threshold
    n = r.size
    last = np.where(above.any(axis=0), n - 1 - np.argmax(above[::-1], axis=0), -1)
    i = np.clip(last, 0, n - 2)
    cols = np.arange(v.shape[1])
    hi, lo = v[i, cols], v[i + 1, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(lo > 0, np.log(hi / threshold) / np.log(hi / lo), 1.0)
    t = np.clip(np.nan_to_num(t, nan=1.0), 0.0, 1.0)
    d = np.exp(np.log(r[i]) + t * (np.log(r[i + 1]) - np.log(r[i])))
    d = np.where(last == n - 1, r[-1], np.where(last < 0, 0.0, d))
    return float(d[0]) if flat else d


def full_circle(directional: np.ndarray, n_theta: int) -> np.ndarray:
    """(Nr, Na) half-plane table (α = 0…90°) → (Nr, n_theta) over the circle, 0 beyond ±90°."""
    n_a = directional.shape[1]
    m = np.arange(n_theta)
    k = np.minimum(m, n_theta - m)
    inside = k < n_a
    out = np.zeros((directional.shape[0], n_theta))
    out[:, inside] = directional[:, k[inside]]
    return out


def site_risk(site_id: str, x: float, y: float, scenarios: list[Scenario], weather: Weather, grid: PolarGrid, *,
              release: ReleaseRules, ignition: IgnitionRules, effects: EffectRules,
              cache: dict | None = None) -> SiteRisk:
    """The polar IR table of one site (see the module docstring).

    ``cache``: footprints shared between sites of one run (:func:`~zoning.hazards.qra.footprint.footprint`).

    Examples
    --------
    A site with no scenario has zero risk everywhere:

    >>> from zoning.hazards.qra.weather import Weather, WeatherClass, WindRose
    >>> w = Weather((WeatherClass("D5", "D", 5.0, 1.0),), WindRose.uniform())
    >>> s = site_risk("S", 0.0, 0.0, [], w, PolarGrid.build(10, 1000, 11, 10.0), release=ReleaseRules(),
    ...               ignition=IgnitionRules(), effects=EffectRules())
    >>> float(s.ir.max()), s.distance_to(1e-6)
    (0.0, 0.0)
    """
    n_theta = int(round(360.0 / grid.angle_step_deg))
    directional = np.zeros((grid.r.size, grid.alpha_deg.size))
    radial = np.zeros(grid.r.size)
    prints = []
    for sc in scenarios:
        for wc in weather.classes:
            if wc.probability <= 0:
                continue
            fp = footprint(sc, wc, weather, grid, release=release, ignition=ignition, effects=effects, cache=cache)
            prints.append(fp)
            for name, p in fp.outcomes:
                if OUTCOMES[name]:
                    directional += fp.weight * p * fp.directional[name]
                else:
                    radial += fp.weight * p * fp.radial[name]
    rose = weather.rose.downwind_weights(n_theta)
    full = full_circle(directional, n_theta)
    conv = np.fft.irfft(np.fft.rfft(full, axis=1) * np.fft.rfft(rose)[None, :], n=n_theta, axis=1)
    conv[conv < 1e-12 * max(float(conv.max()), 0.0)] = 0.0     # round-off of the FFT where no wind blows
    ir = conv + radial[:, None]
    notes = list(dict.fromkeys(n for fp in prints for n in fp.notes))
    return SiteRisk(site_id, float(x), float(y), grid, prints, ir, directional, radial, notes)


def risk_window(sites: list[SiteRisk], window: Window, *, floor: float = 0.0) -> np.ndarray:
    """Summed IR (per year) at the cell centres of ``window``: (ny, nx), row 0 at the top.

    Pure: depends only on the site tables and the window (see the module docstring). Sites whose
    reach at ``floor`` (IR below it is ignored; 0 keeps everything on the grid) does not meet the
    window are skipped.
    """
    xs, ys = window.centres
    out = np.zeros(xs.shape)
    minx, miny, maxx, maxy = window.bounds
    for s in sites:
        reach = s.reach(floor) if floor > 0 else float(s.grid.r[-1])
        if reach <= 0 or s.x + reach < minx or s.x - reach > maxx or s.y + reach < miny or s.y - reach > maxy:
            continue
        out += s.at(xs, ys)
    return out
