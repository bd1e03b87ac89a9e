"""A generated, routable road network: a jittered hierarchical grid clipped to each district.

One lattice covers the whole city (so the grids of two districts line up), its nodes shifted by
a random fifth of the spacing so the roads are not ruler-straight. Lattice lines are classed by how
far apart lines of each class stand (trunk every 8 km, primary 4 km, secondary 2 km, tertiary 1 km,
residential streets between). Each edge runs between two consecutive intersections, so the layer is
routable as it is; edges crossing a district's boundary are cut at it. Away from the towns half the
residential streets are left out (rural areas are sparser), and in each district only the largest
connected piece of network is kept, so every edge can be reached from every other (one-way
streets aside: they are only made where both ends have other ways in and out).

The spacing is :data:`BASE_SPACING_M` at scale 1 and shrinks as 1/√scale (down to
:data:`MIN_SPACING_M`), so the number of edges grows about linearly with the scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from layers.demo.sampling import Area, demo_ids

__all__ = ["BASE_SPACING_M", "MIN_SPACING_M", "CLASS_SPACING_M", "SPEED_KMH", "ONEWAY_SHARE", "roads"]

#: Grid spacing (m) at scale 1, and the smallest spacing any scale gets.
BASE_SPACING_M = 515.0
MIN_SPACING_M = 60.0
#: Distance between lattice lines of each class (m); lines of no class here are residential.
CLASS_SPACING_M = (("trunk", 8000.0), ("primary", 4000.0), ("secondary", 2000.0), ("tertiary", 1000.0))
#: Typical driving speed by class (km/h): demo figures, not design speeds of a standard.
SPEED_KMH = {"trunk": 60.0, "primary": 50.0, "secondary": 40.0, "tertiary": 30.0, "residential": 20.0}
#: Share of the secondary, tertiary and residential edges made one-way.
ONEWAY_SHARE = 0.02
_RURAL_M = 2500.0  # beyond this distance from a town centre, residential streets are thinned
_RURAL_KEEP = 0.5
_JITTER = 0.2
_CLASSES = np.array([c for c, _ in CLASS_SPACING_M] + ["residential"], dtype=object)
_SPEEDS = np.array([SPEED_KMH[c] for c in _CLASSES], dtype=float)
_NAMED = {"trunk", "primary", "secondary"}


def _line_class(index: np.ndarray, spacing: float) -> np.ndarray:
    """Class number (position in :data:`_CLASSES`) of lattice lines with global ``index``."""
    out = np.full(index.shape, len(CLASS_SPACING_M), dtype=int)
    for c, (_, every_m) in reversed(list(enumerate(CLASS_SPACING_M))):
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


def _district_edges(area, d, X, Y, x0, y0, spacing, rng, centres):
    """Edges (start, end, class, horizontal, line index) of district ``d``, clipped and pruned."""
    geom = area.districts.geometry.values[d]
    bx0, by0, bx1, by1 = shapely.bounds(geom)
    i0, i1 = int(np.floor((bx0 - x0) / spacing)) - 1, int(np.ceil((bx1 - x0) / spacing)) + 1
    j0, j1 = int(np.floor((by0 - y0) / spacing)) - 1, int(np.ceil((by1 - y0) / spacing)) + 1
    i0, j0 = max(i0, 0), max(j0, 0)
    wx, wy = X[j0:j1 + 1, i0:i1 + 1], Y[j0:j1 + 1, i0:i1 + 1]
    inside = shapely.contains_xy(geom, wx, wy)
    ii = np.arange(i0, i0 + wx.shape[1])
    jj = np.arange(j0, j0 + wx.shape[0])
    parts = []
    # horizontal edges (along rows j) and vertical edges (along columns i)
    for horizontal in (True, False):
        if horizontal:
            sx, sy, ex, ey = wx[:, :-1], wy[:, :-1], wx[:, 1:], wy[:, 1:]
            sin, ein = inside[:, :-1], inside[:, 1:]
            line = np.broadcast_to(jj[:, None], sx.shape)
        else:
            sx, sy, ex, ey = wx[:-1, :], wy[:-1, :], wx[1:, :], wy[1:, :]
            sin, ein = inside[:-1, :], inside[1:, :]
            line = np.broadcast_to(ii[None, :], sx.shape)
        parts.append((sx.ravel(), sy.ravel(), ex.ravel(), ey.ravel(), sin.ravel(), ein.ravel(),
                      line.ravel(), np.full(sx.size, horizontal)))
    sx, sy, ex, ey, sin, ein, line, horiz = (np.concatenate(p) for p in zip(*parts))
    klass = _line_class(line, spacing)
    keep = sin | ein
    # thin the rural residential streets
    street = np.flatnonzero(keep & (klass == len(CLASS_SPACING_M)))
    far, _ = centres.query(np.stack([(sx[street] + ex[street]) / 2.0, (sy[street] + ey[street]) / 2.0], 1))
    keep[street[(far > _RURAL_M) & (rng.random(street.size) > _RURAL_KEEP)]] = False
    ends = np.stack([np.stack([sx, sy], 1), np.stack([ex, ey], 1)], axis=1)
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


def roads(area: Area, rng: np.random.Generator, scale: float) -> pd.DataFrame:
    """A routable road network over every district (metric LineStrings, one per edge).

    Returns
    -------
    pandas.DataFrame
        The ``roads`` fields (``road_id``, ``name``, ``class``, ``speed_kmh``, ``oneway``,
        ``generated``) and a LineString ``geometry``.
    """
    spacing = max(MIN_SPACING_M, BASE_SPACING_M / np.sqrt(scale))
    x0, y0, x1, y1 = shapely.bounds(area.city)
    x0, y0 = np.floor(x0 / spacing - 2) * spacing, np.floor(y0 / spacing - 2) * spacing
    nx, ny = int(np.ceil((x1 - x0) / spacing)) + 4, int(np.ceil((y1 - y0) / spacing)) + 4
    gx, gy = np.meshgrid(x0 + spacing * np.arange(nx), y0 + spacing * np.arange(ny))
    X = gx + rng.uniform(-_JITTER, _JITTER, gx.shape) * spacing
    Y = gy + rng.uniform(-_JITTER, _JITTER, gy.shape) * spacing
    centres = cKDTree(area.towns[["cx", "cy"]].to_numpy())
    chunks = []
    for d in range(len(area.districts)):
        coords, klass, horiz, line = _district_edges(area, d, X, Y, x0, y0, spacing, rng, centres)
        keep, degree = _largest_component(coords[:, 0], coords[:, 1])
        coords, klass, horiz, line, degree = coords[keep], klass[keep], horiz[keep], line[keep], degree[keep]
        minor = klass >= 2  # secondary and below
        oneway = minor & (degree.min(axis=1) >= 3) & (rng.random(klass.size) < ONEWAY_SHARE)
        flip = oneway & (rng.random(klass.size) < 0.5)  # one-way in either direction
        coords[flip] = coords[flip, ::-1]
        chunks.append((coords, klass, horiz, line, oneway))
    coords, klass, horiz, line, oneway = (np.concatenate(c) for c in zip(*chunks))
    cls = _CLASSES[klass]
    named = np.isin(cls, list(_NAMED))
    name = np.full(cls.size, None, dtype=object)
    name[named] = [f"演示{'横' if h else '纵'}{k}路" for h, k in zip(horiz[named], line[named])]
    return pd.DataFrame(
        {
            "road_id": demo_ids("RD", cls.size),
            "name": name,
            "class": cls,
            "speed_kmh": _SPEEDS[klass],
            "oneway": oneway,
            "generated": True,
            "geometry": shapely.linestrings(coords),
        }
    )
