"""A generated, routable road network: a jittered hierarchical grid, denser where the city is built.

One lattice covers the whole city (so the grids of two districts line up), its nodes shifted by
a random fifth of the spacing so the roads are not ruler-straight. In open country the lattice
lines are classed by how far apart lines of each class stand (:data:`CLASS_SPACING_M`: trunk every
8 km, primary 4 km, secondary 2 km, tertiary 1 km, residential streets between). Where the city is
built up (:mod:`layers.demo.urban`) each lattice cell is cut into smaller blocks, streets at most
:data:`URBAN_SPACING_M` apart (a city block: 172 m at scale 1), and every class stands a step
closer (:data:`URBAN_CLASS_SPACING_M`: arterials every 2 km, secondary roads every kilometre), as
in a city's road plan. Speeds are the rule set's fire-engine speeds by class (``[coverage.speed_kmh]``
of ``data/rules/default.toml``), so the demo holds no speed of its own.

Each edge runs between two consecutive intersections, so the layer is routable as it is; edges
crossing a district's boundary are cut at it. Away from the towns half the open-country residential
streets are left out (and, once the lattice is as fine as city blocks, half those of industrial
parks away from where people live), and in each district only the largest connected piece of
network is kept, so every edge can be reached from every other (one-way streets aside: they are
only made where both ends have other ways in and out).

The spacing is :data:`BASE_SPACING_M` at scale 1 and shrinks as 1/√scale (down to
:data:`MIN_SPACING_M`), so the number of edges grows about linearly with the scale; once the
lattice itself is finer than :data:`URBAN_SPACING_M` the built-up cells are not cut further.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.errors import InputError
from layers.demo.sampling import Area, demo_ids
from layers.demo.urban import CELL_M, UrbanField

__all__ = ["BASE_SPACING_M", "MIN_SPACING_M", "URBAN_SPACING_M", "CLASS_SPACING_M", "URBAN_CLASS_SPACING_M",
           "CLASSES", "ONEWAY_SHARE", "road_speeds", "roads"]

#: Grid spacing (m) at scale 1, and the smallest spacing any scale gets.
BASE_SPACING_M = 515.0
MIN_SPACING_M = 60.0
#: Largest distance (m) between streets in a built-up lattice cell.
URBAN_SPACING_M = 200.0
#: Distance between lattice lines of each class (m) in open country; lines of no class here are
#: residential.
CLASS_SPACING_M = (("trunk", 8000.0), ("primary", 4000.0), ("secondary", 2000.0), ("tertiary", 1000.0))
#: The same in built-up cells: every class a step closer.
URBAN_CLASS_SPACING_M = (("trunk", 8000.0), ("primary", 2000.0), ("secondary", 1000.0), ("tertiary", 500.0))
#: The classes the generator makes, fastest first.
CLASSES = tuple(c for c, _ in CLASS_SPACING_M) + ("residential",)
#: Share of the secondary, tertiary and residential edges made one-way.
ONEWAY_SHARE = 0.02
_RURAL_M = 2500.0  # beyond this distance from a town centre, residential streets are thinned
_RURAL_KEEP = 0.5
_JITTER = 0.2
_FINE_JITTER = 0.15
_URBAN_CELL_SHARE = 2.0 / 9.0  # a lattice cell gets city streets when this share of it is built up
_RESIDENTIAL = len(CLASSES) - 1
_NAMED = {"trunk", "primary", "secondary"}


def road_speeds(rules: dict) -> np.ndarray:
    """The rule set's ``[coverage.speed_kmh]`` for :data:`CLASSES`, in that order; InputError if one is missing.

    >>> from layers.demo.sampling import read_ruleset
    >>> road_speeds(read_ruleset()).tolist()
    [50.0, 40.0, 35.0, 30.0, 20.0]
    """
    try:
        table = rules["coverage"]["speed_kmh"]
        return np.array([float(table[c]) for c in CLASSES])
    except (KeyError, TypeError, ValueError):
        raise InputError("the rule set has no usable [coverage.speed_kmh] for the classes "
                         + ", ".join(CLASSES)) from None


def _line_class(index: np.ndarray, spacing: float, table) -> np.ndarray:
    """Class number (position in :data:`CLASSES`) of lattice lines with global ``index``."""
    out = np.full(index.shape, _RESIDENTIAL, dtype=int)
    for c, (_, every_m) in reversed(list(enumerate(table))):
        k = max(1, int(round(every_m / spacing)))
        out[index % k == 0] = c
    return out


def _largest_component(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of the edges in the largest connected component, and each edge-end's node degree."""
    # one int64 key per point from its coordinates in whole centimetres, counted from the
    # south-west corner (30 bits each way: good for areas up to 10 000 km across)
    cm = np.round(np.concatenate([start, end]) * 100.0).astype(np.int64)
    cm -= cm.min(axis=0) if len(cm) else 0
    _, node = np.unique((cm[:, 0] << 30) | cm[:, 1], return_inverse=True)
    n = start.shape[0]
    a, b = node[:n], node[n:]
    m = int(node.max()) + 1 if node.size else 0
    graph = coo_matrix((np.ones(n), (a, b)), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    biggest = np.bincount(label[a]).argmax() if n else 0
    keep = label[a] == biggest
    degree = np.bincount(np.concatenate([a[keep], b[keep]]), minlength=m)
    return keep, np.stack([degree[a], degree[b]], axis=1)


class _Lattice:
    """The jittered lattice: coarse nodes (spacing ``s``) and the finer nodes of built-up cells (``s / k``)."""

    def __init__(self, area: Area, urban: UrbanField, built: np.ndarray, rng: np.random.Generator, scale: float):
        s = self.spacing = max(MIN_SPACING_M, BASE_SPACING_M / np.sqrt(scale))
        self.k = max(1, int(round(s / URBAN_SPACING_M)))
        x0, y0, x1, y1 = shapely.bounds(area.city)
        self.x0, self.y0 = np.floor(x0 / s - 2) * s, np.floor(y0 / s - 2) * s
        nx, ny = int(np.ceil((x1 - self.x0) / s)) + 4, int(np.ceil((y1 - self.y0) / s)) + 4
        gx, gy = np.meshgrid(self.x0 + s * np.arange(nx), self.y0 + s * np.arange(ny))
        self.X = gx + rng.uniform(-_JITTER, _JITTER, gx.shape) * s
        self.Y = gy + rng.uniform(-_JITTER, _JITTER, gy.shape) * s
        self.fine_jitter = rng.uniform(-_FINE_JITTER, _FINE_JITTER, (2, (ny - 1) * self.k + 1,
                                                                        (nx - 1) * self.k + 1)) * (s / self.k)
        self.urban = self._built_cells(urban, built)
        self.peopled = urban.built_up  # (x, y) -> in the footprint where people live

    def _built_cells(self, urban: UrbanField, built: np.ndarray) -> np.ndarray:
        """(ny - 1, nx - 1) mask of the lattice cells that are partly built up (sampled on a sub-grid)."""
        ny, nx = self.X.shape
        m = 3 if self.spacing > 2 * CELL_M else 1
        offsets = (np.arange(m) + 0.5) / m
        cx = self.x0 + self.spacing * (np.arange(nx - 1)[None, :, None, None] + offsets[None, None, :, None])
        cy = self.y0 + self.spacing * (np.arange(ny - 1)[:, None, None, None] + offsets[None, None, None, :])
        cx, cy = np.broadcast_arrays(cx, cy)
        hit = built.ravel()[urban.cell_of(cx.ravel(), cy.ravel())].reshape(cx.shape)
        return hit.mean(axis=(2, 3)) >= _URBAN_CELL_SHARE

    def is_urban(self, j, i) -> np.ndarray:
        """Whether lattice cell (row ``j``, column ``i``) is built up (False off the lattice)."""
        j, i = np.asarray(j), np.asarray(i)
        ok = (j >= 0) & (i >= 0) & (j < self.urban.shape[0]) & (i < self.urban.shape[1])
        out = np.zeros(j.shape, bool)
        out[ok] = self.urban[j[ok], i[ok]]
        return out

    def fine_xy(self, I: np.ndarray, J: np.ndarray) -> np.ndarray:
        """(n, 2) coordinates of fine nodes (column ``I``, row ``J``): bilinear between the coarse nodes, jittered."""
        k = self.k
        i, a = np.divmod(I, k)
        j, b = np.divmod(J, k)
        i2, j2 = np.minimum(i + 1, self.X.shape[1] - 1), np.minimum(j + 1, self.X.shape[0] - 1)
        a, b = a / k, b / k
        out = []
        for grid, jitter in ((self.X, self.fine_jitter[0]), (self.Y, self.fine_jitter[1])):
            v = ((1 - a) * (1 - b) * grid[j, i] + a * (1 - b) * grid[j, i2]
                 + (1 - a) * b * grid[j2, i] + a * b * grid[j2, i2])
            coarse_node = (I % k == 0) & (J % k == 0)
            out.append(np.where(coarse_node, v, v + jitter[J, I]))
        return np.stack(out, axis=1)

    def edges(self, i0: int, i1: int, j0: int, j1: int):
        """Every edge in lattice window [i0, i1] × [j0, j1] (coarse units).

        Lattice edges along no built-up cell are open-country roads; along a built-up cell they are
        city streets (classed by :data:`URBAN_CLASS_SPACING_M`), cut into the finer streets of the
        cell when the lattice is coarser than :data:`URBAN_SPACING_M`.

        Returns ((n, 2, 2) coordinates, class number, horizontal?, line index for names, open country?).
        """
        k, s = self.k, self.spacing
        parts = []
        ii, jj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1 + 1))  # horizontal: (i, j) -> (i + 1, j)
        vi, vj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1))  # vertical: (i, j) -> (i, j + 1)
        for horizontal, (ei, ej) in ((True, (ii.ravel(), jj.ravel())), (False, (vi.ravel(), vj.ravel()))):
            if horizontal:
                beside = self.is_urban(ej, ei) | self.is_urban(ej - 1, ei)
                fi, fj = ei + 1, ej
            else:
                beside = self.is_urban(ej, ei) | self.is_urban(ej, ei - 1)
                fi, fj = ei, ej + 1
            if k > 1:  # edges along built-up cells are made of their finer pieces below
                ei, ej, fi, fj, beside = ei[~beside], ej[~beside], fi[~beside], fj[~beside], beside[~beside]
            coords = np.stack([np.stack([self.X[ej, ei], self.Y[ej, ei]], 1),
                               np.stack([self.X[fj, fi], self.Y[fj, fi]], 1)], axis=1)
            line = ej if horizontal else ei
            klass = np.where(beside, _line_class(line, s, URBAN_CLASS_SPACING_M), _line_class(line, s, CLASS_SPACING_M))
            parts.append((coords, klass, np.full(line.size, horizontal), line, ~beside))
        if k > 1:
            parts += self._fine_edges(i0, i1, j0, j1)
        return tuple(np.concatenate(p) for p in zip(*parts))

    def _fine_edges(self, i0: int, i1: int, j0: int, j1: int) -> list:
        """The streets of the built-up cells in the window, every k-th of them on a lattice line."""
        k, s = self.k, self.spacing
        cj, ci = np.nonzero(self.urban[j0:j1, i0:i1])
        ci, cj = ci + i0, cj + j0
        r = np.arange(k + 1)
        c = np.arange(k)
        width = (self.X.shape[1] - 1) * k + 2
        parts = []
        for horizontal in (True, False):
            # every street of a built-up cell, its four sides included; sides shared by two cells once
            if horizontal:
                I = (ci[:, None, None] * k + c[None, None, :]).repeat(k + 1, axis=1)
                J = (cj[:, None, None] * k + r[None, :, None]).repeat(k, axis=2)
            else:
                I = (ci[:, None, None] * k + r[None, None, :]).repeat(k, axis=1)
                J = (cj[:, None, None] * k + c[None, :, None]).repeat(k + 1, axis=2)
            key = np.unique(J.ravel().astype(np.int64) * width + I.ravel())
            J, I = np.divmod(key, width)
            start = self.fine_xy(I, J)
            end = self.fine_xy(I + 1, J) if horizontal else self.fine_xy(I, J + 1)
            fine_line = J if horizontal else I
            klass = np.where(fine_line % k == 0, _line_class(fine_line // k, s, URBAN_CLASS_SPACING_M), _RESIDENTIAL)
            parts.append((np.stack([start, end], axis=1), klass, np.full(I.size, horizontal), fine_line // k,
                          np.zeros(I.size, bool)))
        return parts


def _district_edges(area: Area, d: int, lattice: _Lattice, rng: np.random.Generator, centres: cKDTree):
    """Edges (coordinates, class, horizontal, line index) of district ``d``, clipped and pruned."""
    geom = area.districts.geometry.values[d]
    s = lattice.spacing
    bx0, by0, bx1, by1 = shapely.bounds(geom)
    i0, i1 = int(np.floor((bx0 - lattice.x0) / s)) - 1, int(np.ceil((bx1 - lattice.x0) / s)) + 1
    j0, j1 = int(np.floor((by0 - lattice.y0) / s)) - 1, int(np.ceil((by1 - lattice.y0) / s)) + 1
    i0, j0 = max(i0, 0), max(j0, 0)
    i1, j1 = min(i1, lattice.X.shape[1] - 1), min(j1, lattice.X.shape[0] - 1)
    ends, klass, horiz, line, rural = lattice.edges(i0, i1, j0, j1)
    sin = shapely.contains_xy(geom, ends[:, 0, 0], ends[:, 0, 1])
    ein = shapely.contains_xy(geom, ends[:, 1, 0], ends[:, 1, 1])
    keep = sin | ein
    # thin the residential streets of open country far from the towns; once the lattice is itself
    # as fine as city blocks (k = 1), also those of built-up cells where nobody lives (parks)
    street = keep & (klass == _RESIDENTIAL)
    if lattice.k == 1:
        parks = np.flatnonzero(street & ~rural)
        mid = ends[parks].mean(axis=1)
        rural = rural.copy()
        rural[parks] = ~lattice.peopled(mid[:, 0], mid[:, 1])
    street = np.flatnonzero(street & rural)
    far, _ = centres.query(ends[street].mean(axis=1))
    keep[street[(far > _RURAL_M) & (rng.random(street.size) > _RURAL_KEEP)]] = False
    whole = np.flatnonzero(keep & sin & ein)
    whole = whole[shapely.contains(geom, shapely.linestrings(ends[whole]))]  # not across a notch
    cut = np.flatnonzero(keep & (sin ^ ein))
    clipped = shapely.intersection(shapely.linestrings(ends[cut]), geom)
    pieces, owner = shapely.get_parts(clipped, return_index=True)
    ok = (shapely.get_type_id(pieces) == 1) & (shapely.length(pieces) > 0.5)  # LineStrings
    pieces, owner = pieces[ok], cut[owner[ok]]
    coords = np.concatenate([ends[whole], shapely.get_coordinates(pieces).reshape(-1, 2, 2)])
    src = np.concatenate([whole, owner])
    return coords, klass[src], horiz[src], line[src]


def roads(area: Area, rng: np.random.Generator, scale: float, urban: UrbanField, rules: dict,
          built: np.ndarray | None = None) -> pd.DataFrame:
    """A routable road network over every district (metric LineStrings, one per edge).

    Parameters
    ----------
    area : Area
    rng : numpy.random.Generator
    scale : float
    urban : UrbanField
        The grid the city is drawn on.
    rules : dict
        The rule set; ``coverage.speed_kmh`` gives the speed of each class.
    built : numpy.ndarray of bool, optional
        Built-up cells of that grid (default: the footprint of ``urban``): lattice cells partly
        built up get city streets.

    Returns
    -------
    pandas.DataFrame
        The ``roads`` fields (``road_id``, ``name``, ``class``, ``speed_kmh``, ``oneway``,
        ``generated``) and a LineString ``geometry``.
    """
    speeds = road_speeds(rules)
    lattice = _Lattice(area, urban, urban.footprint if built is None else built, rng, scale)
    centres = cKDTree(area.towns[["cx", "cy"]].to_numpy())
    chunks = []
    for d in range(len(area.districts)):
        coords, klass, horiz, line = _district_edges(area, d, lattice, rng, centres)
        keep, degree = _largest_component(coords[:, 0], coords[:, 1])
        coords, klass, horiz, line, degree = coords[keep], klass[keep], horiz[keep], line[keep], degree[keep]
        minor = klass >= 2  # secondary and below
        oneway = minor & (degree.min(axis=1) >= 3) & (rng.random(klass.size) < ONEWAY_SHARE)
        flip = oneway & (rng.random(klass.size) < 0.5)  # one-way in either direction
        coords[flip] = coords[flip, ::-1]
        chunks.append((coords, klass, horiz, line, oneway))
    coords, klass, horiz, line, oneway = (np.concatenate(c) for c in zip(*chunks))
    cls = np.array(CLASSES, dtype=object)[klass]
    named = np.isin(cls, list(_NAMED))
    name = np.full(cls.size, None, dtype=object)
    name[named] = [f"演示{'横' if h else '纵'}{k}路" for h, k in zip(horiz[named], line[named])]
    return pd.DataFrame(
        {
            "road_id": demo_ids("RD", cls.size),
            "name": name,
            "class": cls,
            "speed_kmh": speeds[klass],
            "oneway": oneway,
            "generated": True,
            "geometry": shapely.linestrings(coords),
        }
    )
