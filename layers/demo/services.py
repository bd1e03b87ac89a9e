"""Generated fire and rescue stations (消防救援站) and emergency shelters (应急避难场所).

Stations: 43 fire stations at scale 1, the number of stations of all kinds Changzhou reported
reaching in its 14th five-year emergency-management plan (seed 001: "各类消防站总数达到43个"),
placed where the plan of a city aiming at 城市建成区消防站覆盖率达到100 % (the same seed) would put
them: one after another on the built-up area, each where it covers the most built-up land not yet
covered within the rule set's 4 minutes of driving along the grid (:func:`layers.demo.cover.greedy_cover`),
at least 300 m from any hazardous-chemical site (建标152-2017). The first taken, covering the most,
are the special-service and class 1 stations; the last, on small towns, the class 2 and small ones
(建标152-2017 gives them districts of ≤ 4 and ≤ 2 km²). Stations left over once the built-up area is
covered (at large scales) stand where people live. Plus one micro fire station per town and one
professional rescue team per district beside its chemical plants.

Shelters: set where people live (drawn with the population grid; some in school grounds), plus
one central shelter of more than 50 hm² in the city centre; the parks then drawn to the middle of
the people nearest them, and each shelter sized to its catchment, the people nearer to it than to
any other shelter along the streets (:func:`layers.demo.cover.catchments`), with a
reserve of :data:`SHELTER_RESERVE`. The shelters with the largest catchments are the fixed ones
(short-, medium- and long-term: they need the most room); a school ground too small for its
catchment gives way to a park at the same place. Capacity is the effective area over the space
per person of the rule set's ``[shelters.classes]`` (GB 50413-2007: emergency ≥ 1 m²/person, fixed
≥ 2 m²/person).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.errors import InputError
from layers.demo.cover import CoverRules, catchments, demand_cells, greedy_cover, sum_blocks
from layers.demo.population import Grid
from layers.demo.sampling import Area, demo_ids, demo_names, rectangles, scaled
from layers.demo.urban import UrbanField

__all__ = ["STATION_MIX", "BASE_SHELTERS", "SHELTER_MIX", "SHELTER_RESERVE", "rescue_stations", "shelters"]

#: Fire stations per kind, in the order the placement hands them out: count at scale 1 (43 in
#: all), label, vehicles min/max, staff min/max.
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
#: Share of each class among them, and smallest side of the site (m).
SHELTER_MIX = {
    "emergency": (0.80, 40.0),
    "fixed_short": (0.10, 110.0),
    "fixed_medium": (0.05, 150.0),
    "fixed_long": (0.05, 150.0),
}
#: Capacity planned above the catchment's people (a demo choice: walking routes on the roads
#: are not the grid distances the sizing uses).
SHELTER_RESERVE = 0.3
_CENTRAL_SIDE_M = 750.0  # 56 hm², above the 50 hm² of a central shelter (GB 50413-2007)
_SCHOOL_SHARE = 0.4  # share of the emergency shelters first sought in school grounds
_SCHOOL_USABLE = 0.85
_BALANCE_ROUNDS = 5  # Lloyd iterations drawing the parks to the middle of their people
_STATION_JITTER_M = 50.0
_CANDIDATE_EVERY = 3  # candidate station sites: every third built-up grid cell each way (300 m)
_MAX_CANDIDATES = 4000  # … or sparser, to keep about this many
_MAX_DEMAND = 40_000  # built cells are summed into blocks beyond this many
_SHELTER_LABEL = {
    "emergency": "紧急避难场所", "fixed_short": "短期固定避难场所",
    "fixed_medium": "中期固定避难场所", "fixed_long": "长期固定避难场所", "central": "中心避难场所",
}


def _where_people_live(urban: UrbanField, grid: Grid, rng: np.random.Generator, n: int):
    """``n`` points drawn with the population grid (uniform within each 100 m cell)."""
    return urban.sample(rng, n, weight=np.clip(grid.data, 0.0, None))


def _station_sites(urban: UrbanField, grid: Grid, rng: np.random.Generator, n: int, site_tree, built: np.ndarray,
                   rules: CoverRules) -> np.ndarray:
    """(n, 2) fire-station points: greedy cover of the ``built`` cells, then where people live."""
    # demand: the built cells, summed into blocks when there are very many (large scales)
    f = max(1, int(np.ceil(np.sqrt(built.sum() / _MAX_DEMAND))))
    count = sum_blocks(built, f)
    br, bc = np.nonzero(count)
    demand = np.stack(urban.transform @ ((bc + 0.5) * f, (br + 0.5) * f), axis=1)
    # candidates: built cells on a lattice of ≥ 300 m
    every = max(_CANDIDATE_EVERY, int(np.ceil(np.sqrt(built.sum() / _MAX_CANDIDATES))))
    row, col = np.nonzero(built)
    on = (row % every == every // 2) & (col % every == every // 2)
    cand = np.stack(urban.transform @ (col[on] + 0.5, row[on] + 0.5), axis=1)
    clear = STATION_SITE_CLEARANCE_M + _STATION_JITTER_M * np.sqrt(2.0)
    if site_tree is not None and len(cand):
        gap, _ = site_tree.query(cand)
        cand = cand[gap >= clear]
    chosen = greedy_cover(demand, count[br, bc], cand, rules.reach_m, n)
    xy = cand[chosen] + rng.uniform(-_STATION_JITTER_M, _STATION_JITTER_M, (chosen.size, 2))
    extra = n - chosen.size
    if extra:  # the built-up area is covered: the rest stand where people live, clear of sites if they can
        x, y = _where_people_live(urban, grid, rng, extra)
        for _ in range(30):
            close = np.flatnonzero(site_tree.query(np.stack([x, y], 1))[0] < STATION_SITE_CLEARANCE_M) \
                if site_tree is not None else np.empty(0, int)
            if not close.size:
                break
            x[close], y[close] = _where_people_live(urban, grid, rng, close.size)
        xy = np.concatenate([xy, np.stack([x, y], axis=1)])
    return xy


def _crews(rng: np.random.Generator, count: int, label: str, vmin: int, vmax: int, smin: int, smax: int):
    """Labels, vehicles and staff of ``count`` stations of one kind."""
    return [label] * count, rng.integers(vmin, vmax + 1, count), rng.integers(smin, smax + 1, count)


def rescue_stations(
    area: Area, rng: np.random.Generator, scale: float, site_x: np.ndarray, site_y: np.ndarray,
    urban: UrbanField, grid: Grid, built: np.ndarray, rules: CoverRules,
) -> pd.DataFrame:
    """Fire stations (43 × ``scale``), micro stations and professional rescue teams.

    Parameters
    ----------
    urban, grid
        Where the city is built up and where its people live.
    built : numpy.ndarray of bool
        The built-up cells of the grid (:func:`layers.demo.cover.built_up_cells`): what the
        stations are placed to cover.
    rules : CoverRules
        Reach and built-up figures of the rule set (:func:`layers.demo.cover.cover_rules`).

    Returns
    -------
    pandas.DataFrame
        The ``rescue_stations`` fields and a point ``geometry``.
    """
    t = area.towns
    blocks = []  # (kind, labels, vehicles, staff, x, y)
    fire = [(kind, scaled(count, scale), spec) for kind, (count, *spec) in STATION_MIX.items()]
    n_fire = sum(count for _, count, _ in fire)
    site_tree = cKDTree(np.stack([site_x, site_y], axis=1)) if site_x.size else None
    xy = _station_sites(urban, grid, rng, n_fire, site_tree, built, rules)
    at = np.cumsum([0] + [count for _, count, _ in fire])
    for (kind, count, spec), lo, hi in zip(fire, at[:-1], at[1:]):
        blocks.append((kind, *_crews(rng, count, *spec), xy[lo:hi, 0], xy[lo:hi, 1]))

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


def _sized_sites(rng, cx, cy, need_m2, min_side, usable) -> np.ndarray:
    """Park rectangles centred on (cx, cy) with ``need_m2`` of effective area at least (sides ≥ ``min_side``)."""
    aspect = rng.uniform(0.7, 1.0, cx.size)
    side = np.maximum(np.sqrt(need_m2 / usable / aspect), min_side)
    return rectangles(cx, cy, side, side * aspect, rng.uniform(-0.3, 0.3, cx.size))


def shelters(
    area: Area, rng: np.random.Generator, scale: float, schools: np.ndarray, rules: dict,
    urban: UrbanField, grid: Grid, cell_m: float,
) -> pd.DataFrame:
    """Emergency, fixed and central shelters (metric polygons), each sized to its catchment.

    Parameters
    ----------
    schools : numpy.ndarray of Polygon
        School footprints (metric); some emergency shelters are set in their grounds.
    rules : dict
        The rule set; ``shelters.classes.<class>.m2_per_person`` gives the space per person.
    urban, grid
        Where the city is built up and where its people live.
    cell_m : float
        Side of the demand cells the engine sends to shelters (``coverage_run.population_cell_m``).

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
    n_school = int(round(_SCHOOL_SHARE * SHELTER_MIX["emergency"][0] * n))
    grounds = _school_grounds(rng, np.asarray(schools, dtype=object), n_school)
    gx, gy = shapely.get_x(shapely.centroid(grounds)), shapely.get_y(shapely.centroid(grounds))
    px, py = _where_people_live(urban, grid, rng, n - grounds.size)
    ccx, ccy = area.core_centre()
    (cx,), (cy,) = area.near(rng, [ccx], [ccy], 500.0, area.district_of([ccx], [ccy]))
    movable = np.r_[np.zeros(grounds.size, bool), np.ones(px.size, bool), False]  # the parks
    demand, people = demand_cells(grid, cell_m)
    start = np.stack([np.r_[gx, px, cx], np.r_[gy, py, cy]], axis=1)
    xy, load = catchments(demand, people, start, movable, _BALANCE_ROUNDS)
    astray = ~shapely.contains_xy(area.city, xy[:, 0], xy[:, 1])  # drawn out of a concave district
    if astray.any():
        xy[astray] = start[astray]
        xy, load = catchments(demand, people, xy)
    x, y = xy[:, 0], xy[:, 1]
    need = load * (1.0 + SHELTER_RESERVE)

    # the largest catchments of the parks are the fixed shelters, the longest-term first
    klass = np.full(n + 1, "emergency", dtype=object)
    klass[-1] = "central"
    park = np.arange(grounds.size, n)
    order = park[np.argsort(-need[park], kind="stable")]
    fixed = [(c, scaled(SHELTER_MIX[c][0] * BASE_SHELTERS, scale))
             for c in ("fixed_long", "fixed_medium", "fixed_short")]
    at = 0
    for c, count in fixed:
        klass[order[at:at + count]] = c
        at += count
    space = np.array([per_person[k] for k in klass])
    ground_cap = shapely.area(grounds) * _SCHOOL_USABLE / space[:grounds.size]
    in_school = np.flatnonzero(ground_cap >= need[:grounds.size])  # too small a ground: a park instead
    usable = rng.uniform(0.55, 0.8, n + 1)
    usable[in_school] = _SCHOOL_USABLE
    min_side = np.array([SHELTER_MIX.get(k, (0, _CENTRAL_SIDE_M))[1] for k in klass])
    geom = _sized_sites(rng, x, y, need * space, min_side, usable)
    geom[in_school] = grounds[in_school]
    geom[-1] = rectangles([cx], [cy], [_CENTRAL_SIDE_M], [_CENTRAL_SIDE_M])[0]
    usable[-1] = rng.uniform(0.55, 0.8)

    geom = area.clip(geom)
    effective = np.round(shapely.area(geom) * usable)
    capacity = np.floor(effective / space).astype(int)
    centre = shapely.centroid(geom)
    town_code = area.town_of(shapely.get_x(centre), shapely.get_y(centre))
    town_name = dict(zip(area.towns["code"], area.towns["name"]))
    order = np.lexsort((np.arange(n + 1), [list(_SHELTER_LABEL).index(k) for k in klass]))  # by class
    klass, geom, effective, capacity, town_code = (v[order] for v in (klass, geom, effective, capacity, town_code))
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
