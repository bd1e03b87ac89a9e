"""Generated protected targets (防护目标) with their GB 36894-2018 classes.

Targets are footprints (rectangles sized by kind) where the city is built up, more of them where
the urban field is strongest (:mod:`layers.demo.urban`); about one in eight is put deliberately
80–900 m from a hazardous-chemical site, so the separation checks have something to find. The class
follows GB 36894-2018 §4: schools, kindergartens, hospitals, care homes and prisons are
high-sensitivity; cultural relics and military installations important; any other target general
class I, II or III by its number of people (≥ 100, 30–99, < 30).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.demo.sampling import Area, demo_ids, demo_names, rectangles
from layers.demo.urban import UrbanField

__all__ = ["BASE_TARGETS", "KINDS", "NEAR_SITE_SHARE", "gb36894_class", "protected_targets"]

#: Protected targets at scale 1.
BASE_TARGETS = 1500
#: Share of the targets placed near a hazardous-chemical site.
NEAR_SITE_SHARE = 0.12
#: kind: (demo label, share, footprint side min/max m, median people, people min/max)
KINDS = {
    "school": ("学校", 0.10, 80, 250, 1200, 300, 3000),
    "kindergarten": ("幼儿园", 0.08, 40, 90, 200, 50, 500),
    "hospital": ("医院", 0.04, 80, 250, 600, 100, 3000),
    "care_home": ("养老院", 0.04, 40, 120, 120, 20, 400),
    "prison": ("看守所", 0.003, 150, 300, 800, 200, 2000),
    "residential": ("小区", 0.34, 120, 400, 2500, 200, 12000),
    "crowded_place": ("商场", 0.10, 60, 250, 800, 50, 5000),
    "labour_intensive": ("工厂", 0.08, 80, 250, 400, 100, 2000),
    "office": ("办公楼", 0.14, 30, 100, 60, 10, 600),
    "cultural_relic": ("文物保护单位", 0.03, 20, 150, 20, 0, 300),
    "military": ("军事设施", 0.007, 150, 400, 150, 30, 600),
    "other": ("场所", 0.04, 20, 100, 25, 5, 200),
}
_ESTATE_DENSITY_PER_KM2 = (25_000.0, 50_000.0)
_HIGH = ("school", "kindergarten", "hospital", "care_home", "prison")
_IMPORTANT = ("cultural_relic", "military")


def gb36894_class(kind, population) -> np.ndarray:
    """The GB 36894-2018 §4 protected-target class of each target.

    >>> gb36894_class(["school", "military", "office", "office", "office"], [5, 50, 100, 30, 29]).tolist()
    ['high_sensitivity', 'important', 'general_1', 'general_2', 'general_3']
    """
    kind = np.asarray(kind, dtype=object)
    population = np.asarray(population)
    out = np.where(population >= 100, "general_1", np.where(population >= 30, "general_2", "general_3"))
    out = np.where(np.isin(kind, _IMPORTANT), "important", out)
    return np.where(np.isin(kind, _HIGH), "high_sensitivity", out).astype(object)


def protected_targets(
    area: Area, rng: np.random.Generator, n: int, site_x: np.ndarray, site_y: np.ndarray, urban: UrbanField
) -> pd.DataFrame:
    """``n`` generated protected targets (metric footprints), some near the given sites.

    The others stand in the built-up footprint of ``urban``: homes, schools and hospitals are
    where the people are.

    Returns
    -------
    pandas.DataFrame
        The ``protected_targets`` fields and a polygon ``geometry`` (cut to the city's outline).
    """
    kinds = np.array(list(KINDS), dtype=object)
    spec = list(KINDS.values())
    share = np.array([s[1] for s in spec])
    kind_i = rng.choice(kinds.size, size=n, p=share / share.sum())
    kind = kinds[kind_i]

    x, y = urban.sample(rng, n)
    near = (rng.random(n) < NEAR_SITE_SHARE) & (site_x.size > 0)
    if near.any():
        pick = rng.integers(0, site_x.size, int(near.sum()))
        dist = rng.uniform(80.0, 900.0, pick.size)
        turn = rng.uniform(0.0, 2 * np.pi, pick.size)
        x[near], y[near] = area.near(rng, site_x[pick] + dist * np.cos(turn), site_y[pick] + dist * np.sin(turn),
                                     1.0, area.district_of(site_x[pick], site_y[pick]))

    lo = np.array([s[2] for s in spec], dtype=float)[kind_i]
    hi = np.array([s[3] for s in spec], dtype=float)[kind_i]
    width = rng.uniform(lo, hi)
    median = np.array([s[4] for s in spec], dtype=float)[kind_i]
    pmin = np.array([s[5] for s in spec], dtype=float)[kind_i]
    pmax = np.array([s[6] for s in spec], dtype=float)[kind_i]
    population = np.clip(np.round(rng.lognormal(np.log(median), 0.6)), pmin, pmax).astype(int)
    # a housing estate is as big as its people need: 25 000–50 000 residents per km²
    homes = kind == "residential"
    density = rng.uniform(*_ESTATE_DENSITY_PER_KM2, n)
    width = np.where(homes, np.clip(np.sqrt(population / density * 1e6), lo, hi), width)
    height = np.clip(width * rng.uniform(0.6, 1.4, n), lo, hi)
    labels = np.array([s[0] for s in spec], dtype=object)[kind_i]
    return pd.DataFrame(
        {
            "target_id": demo_ids("PT", n),
            "name": demo_names(labels, n),
            "kind": kind,
            "gb36894_class": gb36894_class(kind, population),
            "population": population,
            "town": area.town_of(x, y),
            "generated": True,
            "geometry": area.clip(rectangles(x, y, width, height, rng.uniform(-0.3, 0.3, n))),
        }
    )
