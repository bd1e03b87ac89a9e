"""Generated industrial plots (工业地块), clustered in industrial parks inside the real districts.

Parks are placed on the edge of the built-up area of a town (:mod:`layers.demo.urban`), where
towns put their industrial zones, more of them in the industrial districts (Wujin, Xinbei); every
town of a district is as likely to have them (southern Jiangsu's township industry).
Inside a park, plots are rectangles 40–300 m a side laid out in rows (shelf packing) with a 12 m
gap for the park roads, so plots of one park never overlap; the whole park is turned by a random
angle. Where two parks meet, the later park's plots that touch an earlier plot are dropped and laid
out again in new parks, so plots do not overlap (except, after a few such rounds, when parks are
crowded at a large ``scale``).
Attributes follow the shapes of real risk-report data: most plots carry only general and low risks,
about a fifth have large (较大) risks, a few per cent major (重大) ones; special hazards and open
major hidden dangers are rare.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from layers.demo.sampling import Area, demo_ids, demo_names, rectangles
from layers.demo.urban import UrbanField

__all__ = ["BASE_PLOTS", "PLOTS_PER_PARK", "INDUSTRY_WEIGHT", "industrial_plots", "supervision_grades"]

#: Plots at scale 1.
BASE_PLOTS = 1200
#: Average number of plots per industrial park.
PLOTS_PER_PARK = 40
#: Share of the plots per district (industry is concentrated in Wujin and Xinbei).
INDUSTRY_WEIGHT = {
    "320402": 0.07, "320404": 0.07, "320411": 0.25, "320412": 0.33, "320413": 0.12, "320481": 0.16,
}
_GAP_M = 12.0
_FRINGE = 0.3  # parks take cells where the urban field is between this and 1 (scale 1)
_CLASH_ROUNDS = 4
_MAX_ROUNDS = 100
_LAND_USES = np.array(["M1", "M2", "M3", "W", "other"], dtype=object)
_LAND_USE_P = [0.25, 0.55, 0.08, 0.10, 0.02]
_FIRST_INSPECTION = np.datetime64("2025-01-01")
_INSPECTION_DAYS = 670


def _park_centres(area: Area, rng: np.random.Generator, n_parks: int, urban: UrbanField, edge: float,
                  uniform: float):
    """Park centres, districts weighted by industry, then a town of the district at random: on the
    edge of the built-up area in that town (cells where the urban field is between ``edge`` and
    1), or, for a share ``uniform`` of them (and in a town with no such edge), anywhere in the
    district."""
    codes = area.districts["code"].to_numpy(dtype=object)
    weight = np.array([INDUSTRY_WEIGHT.get(c, 0.1) for c in codes])
    district = rng.choice(len(codes), size=n_parks, p=weight / weight.sum())
    town_district = area.district_index(area.towns["parent"])
    town = np.empty(n_parks, dtype=int)
    for d in np.unique(district):
        sel = district == d
        town[sel] = rng.choice(np.flatnonzero(town_district == d), size=int(sel.sum()))
    fringe = np.flatnonzero(((urban.field >= edge) & (urban.field < 1.0)).ravel())
    fringe_town = urban.town.ravel()[fringe]
    order = np.argsort(fringe_town, kind="stable")
    fringe, fringe_town = fringe[order], fringe_town[order]
    lo, hi = np.searchsorted(fringe_town, town), np.searchsorted(fringe_town, town, side="right")
    anywhere = (rng.random(n_parks) < uniform) | (hi == lo)
    cell = fringe[np.minimum(lo + (rng.random(n_parks) * (hi - lo)).astype(int), max(fringe.size - 1, 0))]
    x, y = urban.centres(cell) if fringe.size else (np.zeros(n_parks), np.zeros(n_parks))
    half = urban.transform.a / 2.0
    x, y = x + rng.uniform(-half, half, n_parks), y + rng.uniform(-half, half, n_parks)
    x[anywhere], y[anywhere] = area.uniform(rng, district[anywhere])
    return x, y, district


def _layout(rng: np.random.Generator, park: np.ndarray, px, py, angle):
    """Rows of rectangles per park (``park`` sorted); returns the rectangles and their centres."""
    n = park.size
    w = np.clip(rng.lognormal(np.log(110.0), 0.45, n), 40.0, 300.0)
    h = np.clip(w * rng.lognormal(0.0, 0.3, n), 40.0, 300.0)
    gw, gh = w + _GAP_M, h + _GAP_M
    n_parks = px.size
    row_len = np.sqrt(np.bincount(park, gw * gh, minlength=n_parks))
    ends = np.cumsum(gw)
    first = np.searchsorted(park, np.arange(n_parks))  # index of each park's first plot
    offset = (ends - gw)[np.minimum(first, n - 1)]
    start = (ends - gw) - offset[park]
    row = np.floor(start / row_len[park]).astype(int)
    local_x = start - row * row_len[park]
    # height of each (park, row): the tallest plot in it; rows stacked upwards
    key = park.astype(np.int64) * (row.max() + 1) + row
    keys, inverse = np.unique(key, return_inverse=True)
    row_h = np.zeros(keys.size)
    np.maximum.at(row_h, inverse, gh)
    key_park = keys // (row.max() + 1)
    row_base = np.cumsum(row_h) - row_h
    park_first_row = np.searchsorted(key_park, np.arange(n_parks))
    row_base -= row_base[np.minimum(park_first_row, keys.size - 1)][key_park]
    park_h = np.bincount(key_park, row_h, minlength=n_parks)
    lx = local_x + w / 2.0 - row_len[park] / 2.0
    ly = row_base[inverse] + _GAP_M / 2.0 + h / 2.0 - park_h[park] / 2.0
    a = angle[park]
    cx = px[park] + lx * np.cos(a) - ly * np.sin(a)
    cy = py[park] + lx * np.sin(a) + ly * np.cos(a)
    return rectangles(cx, cy, w, h, a), cx, cy


def _place(area: Area, rng: np.random.Generator, n: int, urban: UrbanField):
    """``n`` plot rectangles wholly inside their park's district.

    Plots that leave their district or meet a plot already placed (of another park) are dropped,
    and the shortfall is laid out in new parks, round after round. After :data:`_CLASH_ROUNDS`
    rounds (reached only when parks are crowded, at a large ``scale``) plots of different parks
    are allowed to overlap.
    """
    geoms = np.empty(0, dtype=object)
    xs, ys = np.empty(0), np.empty(0)
    need = n
    # as parks grow in number (large scales) the band of the built-up edge they take widens, and
    # more of them go anywhere in their district, so that they do not crowd one another
    crowd = max(1.0, n / BASE_PLOTS)
    edge, anywhere = _FRINGE / crowd ** 0.5, 1.0 - crowd ** -0.25
    rounds = 0
    while need > 0:
        if rounds == _MAX_ROUNDS:
            raise InputError(f"cannot place {n} plots inside the districts ({n - need} placed)")
        first, rounds = rounds == 0, rounds + 1
        n_parks = max(2 * len(area.districts), int(np.ceil(need / PLOTS_PER_PARK)))
        px, py, pdist = _park_centres(area, rng, n_parks, urban, edge, anywhere if first else max(anywhere, 0.5))
        angle = rng.uniform(-np.pi / 6, np.pi / 6, n_parks)
        size = rng.lognormal(0.0, 0.6, n_parks)
        m = int(need * 1.25) + 16 if first else 2 * need + 64
        park = np.sort(rng.choice(n_parks, size=m, p=size / size.sum()))
        poly, cx, cy = _layout(rng, park, px, py, angle)
        ok = shapely.contains(area.districts.geometry.values[pdist[park]], poly)
        if rounds <= _CLASH_ROUNDS:  # drop plots meeting a plot of another park placed before
            every = np.concatenate([geoms, poly])
            owner = np.concatenate([np.full(geoms.size, -1), park])
            i, j = shapely.STRtree(every).query(every, predicate="intersects")
            bad = np.unique(i[(i > j) & (owner[i] != owner[j])]) - geoms.size
            ok[bad[bad >= 0]] = False
        kept = np.flatnonzero(ok)
        if kept.size > need:
            kept = np.sort(rng.choice(kept, size=need, replace=False))
        geoms = np.concatenate([geoms, poly[kept]])
        xs, ys = np.concatenate([xs, cx[kept]]), np.concatenate([ys, cy[kept]])
        need -= kept.size
    return geoms, xs, ys


def _chance(rng: np.random.Generator, p: float, n: int) -> np.ndarray:
    return rng.random(n) < p


def industrial_plots(area: Area, rng: np.random.Generator, n: int, urban: UrbanField) -> pd.DataFrame:
    """``n`` generated industrial plots with their risk-wall attributes (metric geometry), in parks
    on the edge of the built-up area of ``urban``.

    Returns
    -------
    pandas.DataFrame
        The ``industrial_plots`` fields (see :mod:`layers.catalogue.industrial_plots`) and a
        ``geometry`` column of polygons in :attr:`Area.crs`. ``major_hazard_grade``,
        ``key_process`` and ``supervision_grade`` are provisional: the hazard sites and
        :func:`supervision_grades` complete them.
    """
    geom, cx, cy = _place(area, rng, n, urban)
    plot_area = shapely.area(geom)
    land_use = rng.choice(_LAND_USES, size=n, p=_LAND_USE_P)
    workers = np.round(rng.lognormal(np.log(30.0), 0.9, n) * (plot_area / 10_000.0) ** 0.6).astype(int) + 2
    risk_low = rng.poisson(4.0, n) + 1
    risk_general = rng.poisson(2.0, n)
    risk_large = np.where(_chance(rng, 0.22, n), 1 + rng.poisson(1.5, n), 0)
    risk_major = np.where(_chance(rng, 0.025, n), 1 + _chance(rng, 0.2, n), 0)
    rented = np.where(_chance(rng, 0.28, n), np.minimum(rng.geometric(0.3, n), 20), 0)
    tenants = np.where(rented > 0, rented + rng.poisson(0.4 * rented), 0)
    heavy = np.isin(land_use, ["M2", "M3"])
    dust = _chance(rng, 0.07, n)
    dust_workers = np.where(dust, np.minimum(workers, 3 + rng.poisson(12.0, n)), 0)
    open_major = np.where(_chance(rng, 0.015, n), 1 + _chance(rng, 0.15, n), 0)
    tagged = np.where((open_major > 0) & _chance(rng, 0.3, n), 1, 0)
    days = rng.integers(0, _INSPECTION_DAYS, n)
    return pd.DataFrame(
        {
            "plot_id": demo_ids("P", n),
            "town": area.town_of(cx, cy),
            "enterprise": demo_names("企业", n),
            "contact": [f"演示联系人 0519-0000-{i % 10_000:04d}" for i in range(1, n + 1)],
            "land_use": land_use,
            "risk_major": risk_major,
            "risk_large": risk_large,
            "risk_general": risk_general,
            "risk_low": risk_low,
            "rented_buildings": rented,
            "tenants": tenants,
            "workers": workers,
            "key_process": False,
            "key_chemical": _chance(rng, 0.01, n),
            "major_hazard_grade": 0,
            "dust_explosion": dust,
            "dust_workers": dust_workers,
            "ammonia_refrigeration": _chance(rng, 0.02, n),
            "confined_space": _chance(rng, 0.25, n),
            "metal_smelting": heavy & _chance(rng, 0.06, n),
            "open_major_dangers": open_major,
            "tagged_dangers": tagged,
            "supervision_grade": "C",
            "last_inspection": (_FIRST_INSPECTION + days).astype("datetime64[ms]"),
            "generated": True,
            "geometry": geom,
        }
    )


def supervision_grades(plots: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Supervision grades A–D consistent with each plot's hazards (A = closest supervision).

    A: a major risk, a major hazard source, an open major hidden danger or a key-supervised
    process; B: large risks, key chemicals or special hazards (dust, ammonia, molten metal);
    C: the rest; D: a random third of the small, hazard-free plots of class C.
    """
    grade = np.full(len(plots), "C", dtype=object)
    special = plots["dust_explosion"] | plots["ammonia_refrigeration"] | plots["metal_smelting"]
    b = (plots["risk_large"] > 0) | plots["key_chemical"] | special
    a = (
        (plots["risk_major"] > 0) | (plots["major_hazard_grade"] > 0)
        | (plots["open_major_dangers"] > 0) | plots["key_process"]
    )
    small = (plots["workers"] < 30) & ~b & ~a
    grade[small.to_numpy() & (rng.random(len(plots)) < 1 / 3)] = "D"
    grade[b.to_numpy()] = "B"
    grade[a.to_numpy()] = "A"
    return grade
