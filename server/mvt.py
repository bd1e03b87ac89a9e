"""A vectorised Mapbox Vector Tile (MVT 2.1) writer.

``mapbox_vector_tile.encode`` walks every coordinate in Python, which dominates the time of a
tile with a few thousand plots. This writer encodes the geometry commands of a whole layer at
once with numpy (from ``shapely.to_ragged_array``) and writes the protobuf messages by hand, the
features of a layer assembled with numpy too (:mod:`server.protobuf`); the attributes come from an
:class:`server.mvt_attributes.AttributeTable`. ``mapbox_vector_tile.decode`` (and GDAL's MVT
driver) read what it writes; the tests check both.

Input geometries must already be in integer tile coordinates (y down), valid, and free of
repeated points (see :mod:`server.vector_tiles`). Exterior rings are written with a positive
area in tile coordinates and holes with a negative one, as the specification requires (§4.3.4.4).

>>> import shapely, mapbox_vector_tile, pandas as pd
>>> data = encode_layers({"plots": ([shapely.box(0, 0, 10, 10)], pd.DataFrame({"id": ["P1"]}))})
>>> mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})["plots"]["features"][0]["geometry"]
{'type': 'Polygon', 'coordinates': [[[10, 0], [10, 10], [0, 10], [0, 0], [10, 0]]]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import shapely
from shapely import GeometryType

from server.mvt_attributes import AttributeTable
from server.protobuf import place, segments, varint, varints, zigzag

__all__ = ["encode_layers", "encode_table_layer", "encode_table_layers", "geometry_families"]

_MOVE, _LINE, _CLOSE = 1, 2, 7
_POINT, _LINESTRING, _POLYGON = 1, 2, 3  # MVT GeomType
#: Family of each shapely geometry type id -1..7 (missing, Point, LineString, LinearRing, Polygon,
#: MultiPoint, MultiLineString, MultiPolygon, GeometryCollection): 0 points, 1 lines, 2 polygons, -1 none.
_FAMILIES = np.array([-1, 0, 1, 1, 2, 0, 1, 2, -1], dtype=np.int8)


def geometry_families(geoms) -> np.ndarray:
    """0 for (multi)points, 1 for (multi)lines, 2 for (multi)polygons, -1 for missing or collections.

    (``np.isin`` over the type ids cost a quarter of a millisecond a call, several calls a layer.)

    >>> geometry_families([shapely.Point(0, 0), shapely.box(0, 0, 1, 1), None]).tolist()
    [0, 2, -1]
    """
    return _FAMILIES[shapely.get_type_id(np.asarray(geoms, dtype=object)) + 1]


def _command(cmd: int, count) -> np.ndarray:
    return (np.asarray(count, dtype=np.uint64) << np.uint64(3)) | np.uint64(cmd)


def _parts_stream(coords: np.ndarray, part_offsets: np.ndarray, part_feature: np.ndarray,
                  closed: bool, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Command stream of line parts or polygon rings, and each feature's slice of it.

    ``part_offsets`` delimit each part's points in ``coords`` (rings closed: last == first);
    ``part_feature`` says which feature each part belongs to (non-decreasing).
    """
    starts, ends = part_offsets[:-1], part_offsets[1:]
    counts = ends - starts - (1 if closed else 0)  # points written per part
    first_of_part = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=first_of_part[1:])
    point_part = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(first_of_part[-1]) - first_of_part[:-1][point_part]
    points = coords[starts[point_part] + rank].astype(np.int64)
    deltas = np.diff(points, axis=0, prepend=np.zeros((1, 2), np.int64))
    feature_first_part = np.r_[True, part_feature[1:] != part_feature[:-1]]
    feature_starts = first_of_part[:-1][feature_first_part]
    deltas[feature_starts] = points[feature_starts]  # the cursor starts at (0, 0) in each feature
    zz = zigzag(deltas)  # (n, 2)
    per_part = 2 * counts + 2 + (1 if closed else 0)  # MoveTo, dx, dy, LineTo, pairs…, [ClosePath]
    part_out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(per_part, out=part_out[1:])
    stream = np.empty(part_out[-1], dtype=np.uint64)
    base = part_out[:-1]
    stream[base] = _command(_MOVE, 1)
    stream[base + 3] = _command(_LINE, counts - 1)
    if closed:
        stream[part_out[1:] - 1] = _command(_CLOSE, 1)
    # coordinate pairs: first pair after MoveTo, the others after LineTo
    position = base[point_part] + 1 + 2 * rank + (rank > 0)
    stream[position] = zz[:, 0]
    stream[position + 1] = zz[:, 1]
    feature_out = np.zeros(n_features + 1, np.int64)
    np.add.at(feature_out, part_feature + 1, per_part)
    return stream, np.cumsum(feature_out)


def _points_stream(coords: np.ndarray, offsets: np.ndarray | None, n_features: int):
    if offsets is None:
        offsets = np.arange(n_features + 1)
    counts = np.diff(offsets)
    points = coords.astype(np.int64)
    deltas = np.diff(points, axis=0, prepend=np.zeros((1, 2), np.int64))
    deltas[offsets[:-1][counts > 0]] = points[offsets[:-1][counts > 0]]
    per_feature = 1 + 2 * counts
    out = np.zeros(n_features + 1, np.int64)
    np.cumsum(per_feature, out=out[1:])
    stream = np.empty(out[-1], dtype=np.uint64)
    stream[out[:-1]] = _command(_MOVE, counts)
    feature = np.repeat(np.arange(n_features), counts)
    position = out[:-1][feature] + 1 + 2 * (np.arange(len(points)) - offsets[:-1][feature])
    zz = zigzag(deltas)
    stream[position], stream[position + 1] = zz[:, 0], zz[:, 1]
    return stream, out


def _geometry_streams(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(command stream, offsets per geometry, MVT type) of geometries of one family."""
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    n = len(geoms)
    if kind in (GeometryType.POINT, GeometryType.MULTIPOINT):
        return (*_points_stream(coords, offsets[0] if offsets else None, n), _POINT)
    if kind == GeometryType.LINESTRING:
        part_feature = np.arange(n)
        return (*_parts_stream(coords, offsets[0], part_feature, False, n), _LINESTRING)
    if kind == GeometryType.MULTILINESTRING:
        parts, lines = offsets
        part_feature = np.repeat(np.arange(n), np.diff(lines))
        return (*_parts_stream(coords, parts, part_feature, False, n), _LINESTRING)
    if kind == GeometryType.POLYGON:
        rings, polys = offsets
        ring_feature = np.repeat(np.arange(n), np.diff(polys))
        return (*_parts_stream(coords, rings, ring_feature, True, n), _POLYGON)
    rings, polys, multis = offsets  # MULTIPOLYGON
    ring_feature = np.repeat(np.repeat(np.arange(n), np.diff(multis)), np.diff(polys))
    return (*_parts_stream(coords, rings, ring_feature, True, n), _POLYGON)


def _feature_messages(geometry: np.ndarray, geometry_offsets: np.ndarray, mvt_type: int,
                      tags: np.ndarray, tag_offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``Feature`` messages (field 2 of a layer) of one geometry family, as one byte array.

    ``geometry[geometry_offsets[j]:geometry_offsets[j + 1]]`` is the j-th feature's command
    stream bytes, ``rows[j]`` its row in the tag offsets. A feature is ``tags`` (field 2, packed,
    left out when empty), ``type`` (field 3) and ``geometry`` (field 4, packed); features whose
    geometry is empty are left out. Assembled with numpy: lengths, their varints, then scatters.
    Returns the bytes and where each feature's message starts in them (one more than the
    features; an empty geometry's message is empty).
    """
    glen = np.diff(geometry_offsets)
    keep = glen > 0
    rows, gstart, glen = rows[keep], geometry_offsets[:-1][keep], glen[keep]
    tstart = tag_offsets[rows]
    tlen = tag_offsets[rows + 1] - tstart
    tvar, toff = varints(tlen)
    gvar, goff = varints(glen)
    tvar_len, gvar_len = np.diff(toff), np.diff(goff)
    has_tags = tlen > 0
    body = np.where(has_tags, 1 + tvar_len + tlen, 0) + 2 + 1 + gvar_len + glen
    bvar, boff = varints(body)
    bvar_len = np.diff(boff)
    size = 1 + bvar_len + body
    start = np.zeros(len(size) + 1, np.int64)
    np.cumsum(size, out=start[1:])
    out = np.empty(int(start[-1]), np.uint8)
    at = start[:-1]
    out[at] = 0x12
    place(out, at + 1, bvar, bvar_len)
    at = at + 1 + bvar_len
    tagged = np.flatnonzero(has_tags)
    out[at[tagged]] = 0x12
    place(out, at[tagged] + 1, segments(tvar, toff[:-1][tagged], tvar_len[tagged]), tvar_len[tagged])
    place(out, at[tagged] + 1 + tvar_len[tagged], segments(tags, tstart[tagged], tlen[tagged]), tlen[tagged])
    at = at + np.where(has_tags, 1 + tvar_len + tlen, 0)
    out[at] = 0x18
    out[at + 1] = mvt_type
    out[at + 2] = 0x22
    place(out, at + 3, gvar, gvar_len)
    place(out, at + 3 + gvar_len, segments(geometry, gstart, glen), glen)
    every = np.zeros(len(keep) + 1, np.int64)
    every[1:][keep] = size
    return out, np.cumsum(every)


def _layers(items: Sequence[tuple[str, np.ndarray, AttributeTable, np.ndarray]], extent: int) -> list[bytes]:
    """The ``Layer`` message of each ``(name, geometries, table, rows)`` item (b"" when it has no feature).

    The geometries of all the items are encoded together, one pass per geometry family: a
    combined tile has fourteen layers of a few hundred features each, and numpy's cost per call
    (the same for 10 features as for 1 000) made up most of the time when each layer was encoded
    on its own. Each layer's features are then a contiguous run of each family's messages.
    """
    items = [(name, np.asarray(geoms, dtype=object), table, np.asarray(rows, dtype=np.int64))
             for name, geoms, table, rows in items]
    bounds = np.zeros(len(items) + 1, np.int64)
    np.cumsum([len(geoms) for _, geoms, _, _ in items], out=bounds[1:])
    if not bounds[-1]:
        return [b""] * len(items)
    geoms = np.concatenate([geoms for _, geoms, _, _ in items])
    tags = [table.tags(rows) if len(rows) else None for _, _, table, rows in items]
    tag_bytes = np.concatenate([t[2] for t in tags if t is not None])
    shift, tag_starts = 0, []
    for t in tags:
        if t is not None:
            tag_starts.append(t[3][:-1] + shift)
            shift += len(t[2])
    tag_offsets = np.concatenate([*tag_starts, [shift]])
    family = geometry_families(geoms)
    runs = []  # per family: (its feature messages, where each item's features start in them)
    for fam in (0, 1, 2):
        chosen = np.flatnonzero(family == fam)
        if len(chosen):
            stream, offsets, mvt_type = _geometry_streams(geoms[chosen])
            gbytes, goff = varints(stream)
            messages, starts = _feature_messages(gbytes, goff[offsets], mvt_type, tag_bytes, tag_offsets, chosen)
            runs.append((messages, starts[np.searchsorted(chosen, bounds)]))
    layers = []
    for i, (name, _, table, _) in enumerate(items):
        features = [messages[at[i]:at[i + 1]].tobytes() for messages, at in runs if at[i + 1] > at[i]]
        if not features:
            layers.append(b"")
            continue
        keys, values = tags[i][0], tags[i][1]
        encoded_name = name.encode()
        parts = [b"\x78\x02", b"\x0a" + varint(len(encoded_name)) + encoded_name, *features]
        parts += [table.key_fields[k] for k in keys]
        parts.append(table.value_fields(values))
        parts.append(b"\x28" + varint(extent))
        layer = b"".join(parts)
        layers.append(b"\x1a" + varint(len(layer)) + layer)
    return layers


def encode_table_layers(items: Sequence[tuple[str, Sequence, AttributeTable, Sequence]],
                        extent: int = 4096) -> list[bytes]:
    """The MVT layer of each ``(name, geometries in tile units, table, rows of the table)`` item, encoded
    together (b"" for an item with no feature): the parts of one tile, in the items' order."""
    return _layers(items, extent)


def encode_table_layer(name: str, geoms: Sequence, table: AttributeTable, rows, extent: int = 4096) -> bytes:
    """One MVT layer of ``geoms`` (tile units) whose attributes are ``rows`` of ``table`` (b"" if empty)."""
    return _layers([(name, geoms, table, rows)], extent)[0]


def encode_layers(layers: Mapping[str, tuple[Sequence, pd.DataFrame]], extent: int = 4096) -> bytes:
    """The MVT bytes of ``{name: (geometries in tile units, properties frame)}`` (b"" if empty)."""
    items = [(name, geoms, AttributeTable(props), np.arange(len(geoms))) for name, (geoms, props) in layers.items()
             if len(geoms)]
    return b"".join(_layers(items, extent))
