"""Where a city's plan puts fire stations and how big it makes shelters, done simply for the demo.

The demo city should look like one whose plan works: fire stations placed to cover the built-up
area within the response time (seed 001 sets 城市建成区消防站覆盖率达到100 %), shelters big enough
for the people who will come to them. Both are worked out here with grid distances, numpy and
scipy only (``layers`` may not use the ``zoning`` engine); the engine then measures the result on
the generated roads, as it would for a real city.

* :func:`built_up_cells` — the built-up area as the engine sees it: cells of
  ``coverage_run.population_cell_m`` with at least ``coverage_run.built_up_min_per_km2`` persons
  per km², plus the industrial plots.
* :func:`greedy_cover` — a greedy maximal covering: sites taken one after another, each covering
  the most built-up area not yet covered within reach. The reach is the distance a fire engine
  drives in the driving time at the rule set's speed for streets of no known class
  (``coverage.fallback_speed_kmh`` × ``coverage.driving_min``: 30 km/h × 4 min = 2 km), measured
  along the streets of the demo's grid, which run east–west and north–south: a diamond (the
  points within 2 km east–west plus north–south), not a circle. Each site is then moved, once,
  to the spot covering most of what the others leave.
* :func:`catchments` — the people nearest each shelter along the grid, in the engine's demand
  cells (:func:`demand_cells`), the shelters first drawn to the middle of their people.
"""

from __future__ import annotations

import numpy as np
from rasterio.features import geometry_mask
from scipy import sparse
from scipy.spatial import cKDTree

from geo.errors import InputError
from layers.demo.population import NODATA, Grid
from layers.demo.urban import CELL_M

__all__ = ["CoverRules", "cover_rules", "sum_blocks", "block_sums", "built_up_cells", "greedy_cover", "demand_cells",
           "catchments"]


class CoverRules:
    """The rule-set figures the demo's planning uses (see :func:`cover_rules`)."""

    def __init__(self, reach_m: float, cell_m: float, built_up_per_km2: float):
        self.reach_m, self.cell_m, self.built_up_per_km2 = reach_m, cell_m, built_up_per_km2


def cover_rules(rules: dict) -> CoverRules:
    """Driving reach of a station on the grid, demand cell size and built-up density from the rule set.

    >>> from layers.demo.sampling import read_ruleset
    >>> r = cover_rules(read_ruleset())
    >>> round(r.reach_m), r.cell_m, r.built_up_per_km2
    (2000, 500.0, 1000.0)
    """
    try:
        c, run = rules["coverage"], rules["coverage_run"]
        reach = float(c["fallback_speed_kmh"]) / 3.6 * float(c["driving_min"]) * 60.0
        return CoverRules(reach, float(run["population_cell_m"]), float(run["built_up_min_per_km2"]))
    except (KeyError, TypeError, ValueError):
        raise InputError("the rule set has no usable [coverage] fallback_speed_kmh, driving_min "
                         "or [coverage_run] population_cell_m, built_up_min_per_km2") from None


def sum_blocks(values: np.ndarray, f: int) -> np.ndarray:
    """Sums over blocks of ``f`` × ``f`` cells, counted from the top-left corner (the last ones padded).

    >>> sum_blocks(np.arange(9.0).reshape(3, 3), 2).tolist()
    [[8.0, 7.0], [13.0, 8.0]]
    """
    rows, cols = -(-values.shape[0] // f) * f, -(-values.shape[1] // f) * f
    padded = np.zeros((rows, cols))
    padded[:values.shape[0], :values.shape[1]] = values
    return padded.reshape(rows // f, f, cols // f, f).sum(axis=(1, 3))


def block_sums(grid: Grid, cell_m: float) -> tuple[np.ndarray, int]:
    """Persons per block of ``cell_m`` (whole grid cells, counted from the top-left corner, as the
    engine's ``load_population`` does) and the block side in grid cells."""
    f = max(1, int(round(cell_m / CELL_M)))
    return sum_blocks(np.where(grid.data == NODATA, 0.0, grid.data).astype(float), f), f


def built_up_cells(grid: Grid, rules: CoverRules, plots=None) -> np.ndarray:
    """Mask of the grid cells in the built-up area: dense blocks and (any part of) industrial plots."""
    blocks, f = block_sums(grid, rules.cell_m)
    dense = blocks / (f * CELL_M / 1000.0) ** 2 >= rules.built_up_per_km2
    rows, cols = grid.data.shape
    built = np.repeat(np.repeat(dense, f, axis=0), f, axis=1)[:rows, :cols] & (grid.data != NODATA)
    if plots is not None and len(plots):
        built |= geometry_mask(plots, grid.data.shape, grid.transform, invert=True, all_touched=True)
    return built


def greedy_cover(demand_xy: np.ndarray, weight: np.ndarray, site_xy: np.ndarray, reach_m: float,
                 n: int, swaps: int = 1) -> np.ndarray:
    """Up to ``n`` sites covering as much weight as they can within ``reach_m`` along a grid.

    Distances are grid distances, east–west plus north–south (|dx| + |dy|). Sites are taken
    greedily, each covering the most weight not yet covered (stopping early when none adds
    anything); then, ``swaps`` times over, each site in turn is moved to the site that covers the
    most of what the others leave (vertex substitution, as Teitz and Bart's heuristic for the
    p-median). Returns the chosen site rows, the sites covering the most alone first.

    >>> demand = np.array([[0.0, 0], [10, 0], [100, 0]])
    >>> greedy_cover(demand, np.ones(3), np.array([[5.0, 0], [100, 0], [50, 0]]), 20.0, 3)
    array([0, 1])
    """
    pairs = cKDTree(site_xy).sparse_distance_matrix(cKDTree(demand_xy), reach_m, p=1, output_type="ndarray")
    cover = sparse.csr_array((np.ones(len(pairs)), (pairs["i"], pairs["j"])), shape=(len(site_xy), len(demand_xy)))
    weight = np.asarray(weight, dtype=float)
    covered = np.zeros(len(demand_xy))  # how many chosen sites reach each demand point
    chosen: list[int] = []

    def reached(site: int) -> np.ndarray:
        return cover.indices[cover.indptr[site]:cover.indptr[site + 1]]

    for _ in range(int(n)):
        gain = cover @ (weight * (covered == 0))
        best = int(np.argmax(gain)) if gain.size else 0
        if not gain.size or gain[best] <= 0:
            break
        chosen.append(best)
        covered[reached(best)] += 1
    for _ in range(swaps):
        moved = False
        for pos, site in enumerate(chosen):
            covered[reached(site)] -= 1
            gain = cover @ (weight * (covered == 0))
            best = int(np.argmax(gain))
            if gain[best] > gain[site] + 1e-9:
                chosen[pos], site, moved = best, best, True
            covered[reached(site)] += 1
        if not moved:
            break
    alone = cover[chosen] @ weight if chosen else np.empty(0)
    return np.array(chosen, dtype=np.int64)[np.argsort(-alone, kind="stable")]


def demand_cells(grid: Grid, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres (n, 2) and persons of the engine's demand cells: blocks of ``cell_m`` with people."""
    blocks, f = block_sums(grid, cell_m)
    r, c = np.nonzero(blocks > 0)
    return np.stack(grid.transform @ ((c + 0.5) * f, (r + 0.5) * f), axis=1), blocks[r, c]


def catchments(demand_xy: np.ndarray, people: np.ndarray, shelter_xy: np.ndarray,
               movable: np.ndarray | None = None, rounds: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Persons nearest each shelter, walking along the demo's east–west and north–south streets.

    With ``rounds``, the ``movable`` shelters are first moved, that many times, to the
    population-weighted centre of the people nearest them (Lloyd's iteration), so that
    catchments are compact and the walking routes on the roads end about where these sums say.
    Returns the shelter points (moved) and the persons of each.

    >>> xy, load = catchments(np.array([[0.0, 0], [10, 0], [100, 0]]), np.array([1.0, 1, 5]),
    ...                       np.array([[20.0, 0], [90, 0]]), np.array([True, False]), rounds=2)
    >>> xy.tolist(), load.tolist()
    ([[5.0, 0.0], [90.0, 0.0]], [2.0, 5.0])
    """
    xy = np.asarray(shelter_xy, dtype=float).copy()
    movable = np.zeros(len(xy), bool) if movable is None else np.asarray(movable, bool)
    for _ in range(rounds if movable.any() else 0):
        _, nearest = cKDTree(xy).query(demand_xy, p=1)
        weight = np.bincount(nearest, people, minlength=len(xy))
        moved = movable & (weight > 0)
        for k in range(2):
            total = np.bincount(nearest, people * demand_xy[:, k], minlength=len(xy))
            xy[moved, k] = total[moved] / weight[moved]
    _, nearest = cKDTree(xy).query(demand_xy, p=1)
    return xy, np.bincount(nearest, people, minlength=len(xy))
