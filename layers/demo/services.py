"""Generated fire and rescue stations (消防救援站) and emergency shelters (应急避难场所).

Stations: 43 fire stations at scale 1, the number of stations of all kinds Changzhou reported
reaching in its 14th five-year emergency-management plan (seed 001: "各类消防站总数达到43个"),
mostly class 1 and class 2 standard stations with a few special-service and small ones, near the
town centres and at least 300 m from any hazardous-chemical site (建标152-2017; as far as there is
room at large scales); plus one micro fire station per town and one professional rescue team per
district beside its chemical plants.

Shelters: emergency shelters in school grounds and small parks, short-, medium- and long-term fixed
shelters in larger parks and one central shelter of more than 50 hm² in the city centre.
Capacity is the effective area over the space per person of the rule set's ``[shelters.classes]``
(GB 50413-2007: emergency ≥ 1 m²/person, fixed ≥ 2 m²/person).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from layers.demo.sampling import Area, demo_ids, demo_names, rectangles, scaled

__all__ = ["STATION_MIX", "BASE_SHELTERS", "SHELTER_MIX", "rescue_stations", "shelters"]

#: Fire stations per kind: count at scale 1 (43 in all), label, vehicles min/max, staff min/max.
STATION_MIX = {
    "special_service": (3, "特勤消防站", 10, 14, 45, 60),
    "standard_1": (20, "一级消防站", 6, 8, 30, 45),
    "standard_2": (16, "二级消防站", 3, 5, 15, 25),
    "small": (4, "小型消防站", 2, 2, 10, 15),
}
_MICRO = ("微型消防站", 0, 1, 3, 6)
_TEAM = ("专职救援队", 2, 4, 10, 20)
#: Minimum distance (m) of a fire station from a hazardous-chemical site (建标152-2017).
STATION_SITE_CLEARANCE_M = 300.0
#: Shelters at scale 1 besides the central one.
BASE_SHELTERS = 120
#: Share of each class among them, and side of the site (m, min/max).
SHELTER_MIX = {
    "emergency": (0.80, 40.0, 90.0),
    "fixed_short": (0.10, 110.0, 250.0),
    "fixed_medium": (0.05, 150.0, 300.0),
    "fixed_long": (0.05, 150.0, 300.0),
}
_CENTRAL_SIDE_M = 750.0  # 56 hm², above the 50 hm² of a central shelter (GB 50413-2007)
_SCHOOL_SHARE = 0.4  # share of the emergency shelters set in school grounds
_SHELTER_LABEL = {
    "emergency": "紧急避难场所", "fixed_short": "短期固定避难场所",
    "fixed_medium": "中期固定避难场所", "fixed_long": "长期固定避难场所", "central": "中心避难场所",
}


def _towns_weighted(area: Area, rng: np.random.Generator, n: int) -> np.ndarray:
    w = area.town_weights()
    return rng.choice(len(area.towns), size=n, p=w / w.sum())


def _clear_of_sites(area, rng, town, site_tree, rounds: int = 10):
    """Points near the towns' centres, redrawn while within the clearance of a site.

    Redrawn around the town first, then anywhere in the district; a point still too close after
    ``3 * rounds`` draws is kept. That happens only at large scales, where the clearance circles of
    the sites cover much of the city (at scale 100, 18 000 sites); never at scale 1.
    """
    t = area.towns
    district = area.district_index(t["parent"].to_numpy()[town])
    cx, cy = t["cx"].to_numpy()[town], t["cy"].to_numpy()[town]
    x, y = area.near(rng, cx, cy, 1200.0, district)
    for attempt in range(3 * rounds):
        near = site_tree.query(shapely.points(x, y), predicate="dwithin", distance=STATION_SITE_CLEARANCE_M)
        close = np.unique(near[0])
        if not close.size:
            break
        if attempt < rounds:
            x[close], y[close] = area.near(rng, cx[close], cy[close], 2000.0, district[close])
        else:
            x[close], y[close] = area.uniform(rng, district[close])
    return x, y


def _crews(rng: np.random.Generator, count: int, label: str, vmin: int, vmax: int, smin: int, smax: int):
    """Labels, vehicles and staff of ``count`` stations of one kind."""
    return [label] * count, rng.integers(vmin, vmax + 1, count), rng.integers(smin, smax + 1, count)


def rescue_stations(
    area: Area, rng: np.random.Generator, scale: float, site_x: np.ndarray, site_y: np.ndarray
) -> pd.DataFrame:
    """Fire stations (43 × ``scale``), micro stations and professional rescue teams.

    Returns
    -------
    pandas.DataFrame
        The ``rescue_stations`` fields and a point ``geometry``.
    """
    t = area.towns
    blocks = []  # (kind, labels, vehicles, staff, x, y)
    fire = [(kind, scaled(count, scale), spec) for kind, (count, *spec) in STATION_MIX.items()]
    n_fire = sum(count for _, count, _ in fire)
    site_tree = shapely.STRtree(shapely.points(site_x, site_y))
    x, y = _clear_of_sites(area, rng, _towns_weighted(area, rng, n_fire), site_tree)
    at = np.cumsum([0] + [count for _, count, _ in fire])
    for (kind, count, spec), lo, hi in zip(fire, at[:-1], at[1:]):
        blocks.append((kind, *_crews(rng, count, *spec), x[lo:hi], y[lo:hi]))

    n_micro = scaled(len(t), scale)
    town = np.arange(n_micro) % len(t)
    mx, my = area.near(
        rng, t["cx"].to_numpy()[town], t["cy"].to_numpy()[town], 600.0,
        area.district_index(t["parent"].to_numpy()[town]),
    )
    blocks.append(("micro", *_crews(rng, n_micro, *_MICRO), mx, my))

    # one professional team per district, 300-600 m from one of its hazardous-chemical sites
    site_district = area.district_of(site_x, site_y) if site_x.size else np.empty(0, dtype=int)
    tx, ty, tdist = [], [], []
    for d in range(len(area.districts)):
        mine = np.flatnonzero(site_district == d)
        if mine.size:
            s = rng.choice(mine)
            turn, dist = rng.uniform(0, 2 * np.pi), rng.uniform(300.0, 600.0)
            tx.append(site_x[s] + dist * np.cos(turn))
            ty.append(site_y[s] + dist * np.sin(turn))
            tdist.append(d)
    tx, ty = area.near(rng, np.array(tx), np.array(ty), 100.0, np.array(tdist, dtype=int))
    blocks.append(("professional_team", *_crews(rng, tx.size, *_TEAM), tx, ty))

    kinds = np.concatenate([np.full(len(b[1]), b[0], dtype=object) for b in blocks])
    labels = np.concatenate([np.array(b[1], dtype=object) for b in blocks])
    all_x, all_y = np.concatenate([b[4] for b in blocks]), np.concatenate([b[5] for b in blocks])
    n = kinds.size
    return pd.DataFrame(
        {
            "station_id": demo_ids("FS", n),
            "name": demo_names(labels, n),
            "kind": kinds,
            "vehicles": np.concatenate([b[2] for b in blocks]),
            "staff": np.concatenate([b[3] for b in blocks]),
            "town": area.town_of(all_x, all_y),
            "generated": True,
            "geometry": shapely.points(all_x, all_y),
        }
    )


def _school_grounds(rng: np.random.Generator, schools: np.ndarray, n: int) -> np.ndarray:
    """Playgrounds: the middle 60 % (each way) of ``n`` school footprints (rectangles only)."""
    rect = schools[shapely.get_num_coordinates(schools) == 5]
    if rect.size == 0 or n == 0:
        return np.empty(0, dtype=object)
    pick = rng.choice(rect.size, size=min(n, rect.size), replace=False)
    rings = shapely.get_coordinates(shapely.get_exterior_ring(rect[pick])).reshape(-1, 5, 2)
    centre = rings[:, :4].mean(axis=1, keepdims=True)
    return shapely.polygons(centre + 0.6 * (rings - centre))


def shelters(
    area: Area, rng: np.random.Generator, scale: float, schools: np.ndarray, rules: dict
) -> pd.DataFrame:
    """Emergency, fixed and central shelters (metric polygons).

    Parameters
    ----------
    schools : numpy.ndarray of Polygon
        School footprints (metric); some emergency shelters are set in their grounds.
    rules : dict
        The rule set; ``shelters.classes.<class>.m2_per_person`` gives the space per person.

    Returns
    -------
    pandas.DataFrame
        The ``shelters`` fields and a polygon ``geometry``.
    """
    try:
        per_person = {c: float(v["m2_per_person"]) for c, v in rules["shelters"]["classes"].items()}
    except (KeyError, TypeError, ValueError):
        raise InputError("the rule set has no usable [shelters.classes.<class>] m2_per_person") from None
    n = scaled(BASE_SHELTERS, scale)
    names = np.array(list(SHELTER_MIX), dtype=object)
    share = np.array([v[0] for v in SHELTER_MIX.values()])
    cls = np.sort(rng.choice(names.size, size=n, p=share / share.sum()))
    klass = names[cls]
    n_school = int(round(_SCHOOL_SHARE * np.count_nonzero(klass == "emergency")))
    grounds = _school_grounds(rng, np.asarray(schools, dtype=object), n_school)
    in_park = np.arange(n) >= grounds.size  # emergency classes sort first: schools take those

    m = int(in_park.sum())
    town = _towns_weighted(area, rng, m)
    t = area.towns
    px, py = area.near(
        rng, t["cx"].to_numpy()[town], t["cy"].to_numpy()[town], 1000.0,
        area.district_index(t["parent"].to_numpy()[town]),
    )
    lo = np.array([SHELTER_MIX[k][1] for k in klass[in_park]])
    hi = np.array([SHELTER_MIX[k][2] for k in klass[in_park]])
    side = rng.uniform(lo, hi)
    parks = rectangles(px, py, side, side * rng.uniform(0.7, 1.0, m), rng.uniform(-0.3, 0.3, m))

    ccx, ccy = area.core_centre()
    (cx,), (cy,) = area.near(rng, [ccx], [ccy], 500.0, area.district_of([ccx], [ccy]))
    central = rectangles([cx], [cy], [_CENTRAL_SIDE_M], [_CENTRAL_SIDE_M])

    geom = area.clip(np.concatenate([grounds, parks, central]))
    klass = np.append(klass, "central")
    site_area = shapely.area(geom)
    usable = np.where(np.arange(n + 1) < grounds.size, 0.85, rng.uniform(0.55, 0.8, n + 1))
    effective = np.round(site_area * usable)
    capacity = np.floor(effective / np.array([per_person[k] for k in klass])).astype(int)
    centre = shapely.centroid(geom)
    town_code = area.town_of(shapely.get_x(centre), shapely.get_y(centre))
    town_name = dict(zip(t["code"], t["name"]))
    labels = np.array([_SHELTER_LABEL[k] for k in klass], dtype=object)
    return pd.DataFrame(
        {
            "shelter_id": demo_ids("SH", n + 1),
            "name": demo_names(labels, n + 1),
            "class": klass,
            "effective_area_m2": effective,
            "capacity": capacity,
            "address": [f"{town_name[c]}演示路{i}号" for i, c in enumerate(town_code, start=1)],
            "town": town_code,
            "generated": True,
            "geometry": geom,
        }
    )
