"""OpenStreetMap roads into the ``roads`` layer: classes, one-way streets, speed limits, junctions.

An OSM extract comes as an ``.osm.pbf`` (or ``.osm``) file, read with GDAL's OSM driver (its
``lines`` layer), or as a GeoPackage / GeoJSON made from one by ``ogr2ogr`` or ``osmium export``.
Either way the ways carry OSM tags: ``highway``, ``name``, ``oneway``, ``maxspeed``, ``junction``
and an id (``osm_id``, ``id`` or ``@id``), as columns or inside ``other_tags`` (ogr2ogr's
``"key"=>"value"`` list). :func:`roads_from_osm` maps them onto the ``roads`` layer:

* ``class``: the ``highway`` value when a fire engine can drive it (the classes of
  :mod:`layers.catalogue.roads`: motorway … residential, living_street, service, road, track and
  the ``*_link`` ramps). Other ways (footway, cycleway, path, steps, pedestrian, platform…) are
  dropped, and counted in a note.
* ``oneway``: ``yes``/``true``/``1`` one-way as drawn; ``-1``/``reverse`` one-way against the
  drawing, so the line is turned round; ``no``/``false``/``0`` both ways. Without a tag,
  ``junction=roundabout`` or ``circular`` and ``highway=motorway`` are one-way as drawn (OSM's
  implied one-way; the iD editor assumes the same). Other values (``reversible``,
  ``alternating``: direction changing with the time of day) are taken as both ways, noted.
* ``speed_kmh``: ``maxspeed`` read by :func:`parse_maxspeed` (``50``, ``50 km/h``, ``30 mph``,
  ``50;30`` → the lowest); a value it cannot read (``CN:urban``, ``signals``, ``none``…) leaves
  the speed empty, so the engine takes the class speed of the rule set, noted.
* ``road_id``: ``w`` + the OSM way id; ``name``: ``name:zh`` where given, else ``name``.
* geometry: OSM ways meet at shared nodes, not only at their ends, so each way is cut at every
  vertex it shares with another driving way (:func:`split_at_junctions`) and kept as one row, a
  MultiLineString when cut. The road graph then has a node at every junction.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from layers.catalogue.roads import CLASSES

__all__ = ["DRIVING_CLASSES", "ONEWAY_FORWARD", "ONEWAY_REVERSE", "ONEWAY_BOTH", "MPH_KMH", "is_osm",
           "osm_tag", "parse_maxspeed", "oneway_direction", "split_at_junctions", "roads_from_osm"]

#: ``highway`` values kept: the road classes of the catalogue.
DRIVING_CLASSES = tuple(c.value for c in CLASSES)
#: ``oneway`` values meaning: one-way as drawn, one-way against the drawing, both ways.
ONEWAY_FORWARD = ("yes", "true", "1")
ONEWAY_REVERSE = ("-1", "reverse")
ONEWAY_BOTH = ("no", "false", "0")
#: km/h in a mile per hour.
MPH_KMH = 1.609344
#: Columns holding the OSM id, in the order they are looked for.
ID_COLUMNS = ("osm_id", "id", "@id", "osm_way_id")
_IMPLIED_JUNCTION = ("roundabout", "circular")
_IMPLIED_HIGHWAY = ("motorway",)
_MAX_KMH = 150.0  # the roads layer's largest speed_kmh
_LISTED = 6


def is_osm(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` looks like OSM ways (a ``highway`` column and no ``class`` one)."""
    return "highway" in frame.columns and "class" not in frame.columns


def osm_tag(frame: pd.DataFrame, key: str) -> pd.Series:
    """Values of OSM tag ``key`` (text, missing as NA): its column, else from ``other_tags``/``tags``.

    ``other_tags`` is ogr2ogr's ``"key"=>"value"`` list, ``tags`` the JSON object pyrosm writes.

    >>> frame = pd.DataFrame({"other_tags": ['"lanes"=>"2","oneway"=>"-1"', None]})
    >>> osm_tag(frame, "oneway").tolist()
    ['-1', <NA>]
    """
    if key in frame.columns:
        return frame[key].astype("string")
    escaped = re.escape(key)
    for column, pattern in (("other_tags", rf'"{escaped}"=>"([^"]*)"'), ("tags", rf'"{escaped}"\s*:\s*"([^"]*)"')):
        if column in frame.columns:
            return frame[column].astype("string").str.extract(pattern, expand=False)
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def parse_maxspeed(values) -> tuple[np.ndarray, np.ndarray]:
    """Speed limits in km/h from OSM ``maxspeed`` values, and which given values could not be read.

    Reads a number with an optional unit (``km/h``, ``kmh``, ``kph``; ``mph`` converted at
    :data:`MPH_KMH`); several values separated by ``;`` give the lowest. Anything else (a zone
    such as ``CN:urban``, ``none``, ``signals``, ``walk``) and limits above 150 km/h give NaN and
    are flagged unreadable; missing values give NaN and are not flagged.

    >>> kmh, bad = parse_maxspeed(["50", "50 km/h", "30 mph", "60;40", "CN:urban", None, "signals"])
    >>> kmh.round(1).tolist(), bad.tolist()
    ([50.0, 50.0, 48.3, 40.0, nan, nan, nan], [False, False, False, False, True, False, True])
    """
    text = pd.Series(np.asarray(values, dtype=object), dtype="string").str.strip().str.lower()
    given = text.notna() & (text != "")
    parts = text.str.split(";").explode()
    found = parts.str.strip().str.extract(r"^(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?$")
    number = pd.to_numeric(found[0], errors="coerce") * np.where(found[1] == "mph", MPH_KMH, 1.0)
    number = number.where((number > 0) & (number <= _MAX_KMH))
    kmh = number.groupby(level=0).min().reindex(text.index).to_numpy(dtype=float, copy=True)
    unread = number.isna().groupby(level=0).any().reindex(text.index, fill_value=False).to_numpy(dtype=bool)
    bad = given.to_numpy(dtype=bool) & unread
    kmh[bad] = np.nan
    return kmh, bad


def oneway_direction(oneway, junction=None, highway=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-way flags from OSM tags: (one-way?, drawn against the traffic?, value not understood?).

    >>> one, rev, odd = oneway_direction(["yes", "-1", "no", None, None, "reversible"],
    ...                                  [None, None, "roundabout", "roundabout", None, None])
    >>> one.astype(int).tolist(), rev.astype(int).tolist(), odd.astype(int).tolist()
    ([1, 1, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1])
    """
    value = pd.Series(oneway, dtype="string").str.strip().str.lower()
    n = len(value)
    forward = value.isin(ONEWAY_FORWARD).to_numpy(dtype=bool)
    reverse = value.isin(ONEWAY_REVERSE).to_numpy(dtype=bool)
    both = value.isin(ONEWAY_BOTH).to_numpy(dtype=bool)
    missing = (value.isna() | (value == "")).to_numpy(dtype=bool)
    implied = np.zeros(n, bool)
    for tags, implying in ((junction, _IMPLIED_JUNCTION), (highway, _IMPLIED_HIGHWAY)):
        if tags is not None:
            implied |= pd.Series(tags, dtype="string").str.strip().str.lower().isin(implying).to_numpy(dtype=bool)
    one = forward | reverse | (missing & implied)
    return one, reverse, ~(forward | reverse | both | missing)


def _vertex_keys(xy: np.ndarray, precision: float) -> np.ndarray:
    """One int64 per coordinate pair, equal for points in the same ``precision`` cell."""
    cells = np.round(xy / precision).astype(np.int64)
    cells -= cells.min(axis=0) if len(cells) else 0
    return cells[:, 0] * (int(cells[:, 1].max()) + 1 if len(cells) else 1) + cells[:, 1]


def split_at_junctions(geoms, precision: float) -> np.ndarray:
    """Each line cut at every interior vertex it shares with any line (itself included).

    Vertices within ``precision`` (coordinate units) of each other are one. Direction is kept;
    a line not cut stays a LineString, a cut one becomes a MultiLineString of its pieces in
    order; repeated consecutive vertices are dropped first, and a line left with no length is
    None. Multi-part lines are cut part by part.

    >>> from shapely import LineString
    >>> out = split_at_junctions([LineString([(0, 0), (1, 0), (2, 0)]), LineString([(1, 0), (1, 1)])], 1e-9)
    >>> [g.wkt for g in out]
    ['MULTILINESTRING ((0 0, 1 0), (1 0, 2 0))', 'LINESTRING (1 0, 1 1)']
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    key = _vertex_keys(xy, precision)
    repeat = np.r_[False, (part[1:] == part[:-1]) & (key[1:] == key[:-1])]
    xy, part, key = xy[~repeat], part[~repeat], key[~repeat]
    ok = np.bincount(part, minlength=len(parts))[part] >= 2  # a part shrunk to one point is dropped
    xy, part, key = xy[ok], part[ok], key[ok]
    first = np.r_[True, part[1:] != part[:-1]]
    last = np.r_[part[1:] != part[:-1], True]
    _, where, count = np.unique(key, return_inverse=True, return_counts=True)
    cut = (count[where] > 1) & ~first & ~last
    copies = 1 + cut.astype(np.int64)
    at = np.cumsum(copies) - copies  # position of each vertex's first copy
    starts = np.zeros(int(copies.sum()), bool)
    starts[at[first]] = True
    starts[at[cut] + 1] = True
    piece = np.cumsum(starts) - 1
    lines = shapely.linestrings(np.repeat(xy, copies, axis=0), indices=piece)
    line_owner = owner[np.repeat(part, copies)[starts]]
    out = np.empty(len(geoms), dtype=object)
    pieces = np.bincount(line_owner, minlength=len(geoms))
    single = pieces == 1
    first_piece = np.searchsorted(line_owner, np.arange(len(geoms)))
    out[single] = lines[first_piece[single]]
    multi = np.flatnonzero(pieces > 1)
    if multi.size:
        mine = np.isin(line_owner, multi)
        out[multi] = shapely.multilinestrings(lines[mine], indices=np.searchsorted(multi, line_owner[mine]))
    return out


def _ids(frame: pd.DataFrame, notes: list[str]) -> np.ndarray:
    """``w`` + OSM way id (row numbers when there is no id column); repeats get ``-2``, ``-3``…"""
    column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    if column is None:
        notes.append(f"no OSM id column ({', '.join(ID_COLUMNS)}): road_id numbered by row")
        raw = pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype("string")
    else:
        raw = frame[column].astype("string").str.strip().str.replace(r"^(way/|w)", "", regex=True)
        number = pd.to_numeric(raw, errors="coerce")
        whole = number.notna() & (number == np.floor(number))
        raw = raw.where(~whole, number.astype("Int64").astype("string"))
    ids = ("w" + raw.fillna("?")).to_numpy(dtype=object)
    seen = pd.Series(ids).groupby(ids).cumcount().to_numpy()
    ids[seen > 0] = [f"{i}-{k + 1}" for i, k in zip(ids[seen > 0], seen[seen > 0])]
    return ids


def _counted(values: pd.Series) -> str:
    counts = values.fillna("(no value)").value_counts()
    listed = ", ".join(f"{n} {v}" for v, n in counts.iloc[:_LISTED].items())
    return listed + (f" and {int(counts.iloc[_LISTED:].sum())} more" if len(counts) > _LISTED else "")


def roads_from_osm(frame, precision: float | None = None):
    """Map OSM ways onto the ``roads`` layer (see the module docstring).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        OSM ways with a ``highway`` column (and the other tags as columns or in ``other_tags``).
    precision : float, optional
        Vertices closer than this (CRS units) are one junction: default 1e-7 (about 1 cm, OSM's
        own precision) in a geographic CRS, 0.01 (1 cm) in a projected one.

    Returns
    -------
    geopandas.GeoDataFrame
        ``road_id``, ``name``, ``class``, ``speed_kmh``, ``oneway`` and geometry, in the CRS of
        ``frame``; ``attrs["notes"]`` says what was dropped, turned round, implied or not read.

    Raises
    ------
    InputError
        No way is left that a fire engine can drive.
    """
    import geopandas  # here, not at import: layers.io imports this module

    notes: list[str] = []
    highway = osm_tag(frame, "highway").str.strip().str.lower()
    geoms = frame.geometry.to_numpy()
    linear = np.isin(shapely.get_type_id(geoms), (1, 5))
    driving = highway.isin(DRIVING_CLASSES).to_numpy(dtype=bool)
    if (~linear).any():
        notes.append(f"OSM: {int((~linear).sum())} feature(s) that are not lines (nodes, areas) dropped")
    dropped = linear & ~driving
    if dropped.any():
        notes.append(f"OSM: {int(dropped.sum())} way(s) not for driving dropped ({_counted(highway[dropped])})")
    keep = linear & driving
    if not keep.any():
        raise InputError(f"no roads a fire engine can drive (highway={', '.join(DRIVING_CLASSES)}) among "
                         f"{len(frame)} OSM feature(s)")
    ways = frame[keep]
    ids = _ids(ways, notes)
    one, reverse, odd = oneway_direction(osm_tag(ways, "oneway"), osm_tag(ways, "junction"),
                                         highway[keep])
    if reverse.any():
        notes.append(f"OSM: {int(reverse.sum())} way(s) one-way against their drawing (oneway=-1/reverse) "
                     "turned round")
    if odd.any():
        notes.append(f"OSM: {int(odd.sum())} way(s) with a oneway value taken as both ways "
                     f"({_counted(osm_tag(ways, 'oneway')[odd])})")
    kmh, bad = parse_maxspeed(osm_tag(ways, "maxspeed"))
    if bad.any():
        notes.append(f"OSM: {int(bad.sum())} maxspeed value(s) not read ({_counted(osm_tag(ways, 'maxspeed')[bad])}): "
                     "the class speed of the rule set is used")
    name = osm_tag(ways, "name:zh").fillna(osm_tag(ways, "name"))
    lines = np.asarray(ways.geometry.to_numpy(), dtype=object).copy()
    lines[reverse] = shapely.reverse(lines[reverse])
    crs = ways.crs
    if precision is None:
        precision = 1e-7 if crs is None or crs.is_geographic else 0.01
    cut = split_at_junctions(lines, precision)
    n_cut = int((shapely.get_num_geometries(cut) > 1).sum())
    if n_cut:
        notes.append(f"OSM: {n_cut} way(s) cut where other roads join them mid-way "
                     f"({int(shapely.get_num_geometries(cut).sum())} edges in all)")
    empty = shapely.is_missing(cut)
    if empty.any():
        notes.append(f"OSM: {int(empty.sum())} way(s) of no length dropped")
    out = geopandas.GeoDataFrame({
        "road_id": ids,
        "name": name.to_numpy(dtype=object),
        "class": highway[keep].to_numpy(dtype=object),
        "speed_kmh": kmh,
        "oneway": one,
    }, geometry=cut, crs=crs)[~empty].reset_index(drop=True)
    out.attrs["notes"] = notes
    return out
