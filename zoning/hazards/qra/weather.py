"""Weather for the risk sum: stability classes × wind speeds, and a wind rose.

CPR 18E ch. 4 represents the weather of a site by a handful of *weather classes* — a Pasquill
stability class with a wind speed at 10 m (B3, D1.5, D5, D9, E5, F1.5 in the Netherlands) — each
with its probability, and a wind rose giving, per sector, how often the wind blows *from* it.
The individual risk at a point sums over classes and directions (CPR 18E ch. 6).

Conventions here: a rose lists sector probabilities clockwise from north, for the direction the
wind comes **from** (meteorological convention); the polar risk tables of
:mod:`zoning.hazards.qra.individual` use the **math angle** of the projected CRS (counter-clockwise
from east, the x axis of EPSG:4549 and friends). :meth:`WindRose.downwind_weights` converts.

>>> rose = WindRose((0.5, 0.0, 0.5, 0.0))   # sectors N, E, S, W: half from N, half from S
>>> rose.downwind_weights(4).tolist()      # math angles 0° (E), 90° (N), 180° (W), 270° (S)
[0.0, 0.5, 0.0, 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.errors import InputError

__all__ = ["STABILITY_CLASSES", "WeatherClass", "WindRose", "Weather"]

#: Pasquill–Gifford stability classes, A (very unstable) to F (moderately stable).
STABILITY_CLASSES = ("A", "B", "C", "D", "E", "F")


@dataclass(frozen=True)
class WeatherClass:
    """One weather class: Pasquill stability, wind speed at 10 m (m/s) and its probability."""

    name: str
    stability: str
    wind_m_s: float
    probability: float

    def __post_init__(self):
        if self.stability not in STABILITY_CLASSES:
            raise InputError(f"weather class {self.name!r}: stability {self.stability!r} is not one of "
                             f"{', '.join(STABILITY_CLASSES)}")
        if not self.wind_m_s > 0 or not 0 <= self.probability <= 1:
            raise InputError(f"weather class {self.name!r}: need wind > 0 m/s and 0 ≤ probability ≤ 1")


@dataclass(frozen=True)
class WindRose:
    """Sector probabilities of the direction the wind blows from, clockwise from north.

    ``probabilities[0]`` is the sector centred on north; the sectors are equal (360°/n wide) and
    within a sector the direction is taken as uniformly spread.
    """

    probabilities: tuple[float, ...]
    source: str = ""

    def __post_init__(self):
        p = np.asarray(self.probabilities, dtype=float)
        if p.ndim != 1 or len(p) < 1 or (p < 0).any() or not np.isclose(p.sum(), 1.0, atol=1e-6):
            raise InputError(f"wind rose: expected sector probabilities ≥ 0 summing to 1, got {self.probabilities!r}")

    @classmethod
    def uniform(cls, sectors: int = 12, source: str = "uniform") -> "WindRose":
        """Every direction equally likely."""
        return cls(tuple([1.0 / sectors] * sectors), source)

    def downwind_weights(self, bins: int) -> np.ndarray:
        """Probability that the wind blows *towards* each math-angle bin (centred on k·360°/bins).

        Returns an array of ``bins`` weights summing to 1: bin ``k`` covers math angles
        ``k·Δ ± Δ/2`` (counter-clockwise from east); a sector's probability is spread over the
        bins whose centre falls in it (half-open on its clockwise edge).
        """
        n = len(self.probabilities)
        width = 360.0 / n
        theta = np.arange(bins) * 360.0 / bins
        towards = (90.0 - theta) % 360.0            # compass bearing the wind blows towards
        frm = (towards + 180.0) % 360.0             # compass bearing it comes from
        sector = np.floor((frm + width / 2.0) / width + 1e-9).astype(int) % n
        counts = np.bincount(sector, minlength=n).astype(float)
        p = np.asarray(self.probabilities, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(counts[sector] > 0, p[sector] / counts[sector], 0.0)
        return w / w.sum()


@dataclass(frozen=True)
class Weather:
    """The weather of a site: classes (probabilities summing to 1), one rose, ambient conditions.

    ``source`` says where the figures come from; a placeholder is named as such in every result.
    """

    classes: tuple[WeatherClass, ...]
    rose: WindRose
    ambient_k: float = 289.15
    pressure_pa: float = 101_325.0
    source: str = ""

    def __post_init__(self):
        total = sum(c.probability for c in self.classes)
        if not self.classes or not np.isclose(total, 1.0, atol=1e-6):
            raise InputError(f"weather: class probabilities must sum to 1, got {total:.6g}")

    @property
    def air_density(self) -> float:
        """Dry air density (kg/m³) at the ambient temperature and pressure, M = 28.96 g/mol."""
        return self.pressure_pa * 0.02896 / (8.314462618 * self.ambient_k)
