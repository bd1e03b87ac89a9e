"""A vectorised Mapbox Vector Tile (MVT 2.1) writer.

``mapbox_vector_tile.encode`` walks every coordinate in Python, which dominates the time of a
tile with a few thousand plots. This writer encodes the geometry commands of a whole layer at
once with numpy (from ``shapely.to_ragged_array``) and writes the protobuf messages by hand; only
the final assembly of each feature's bytes is a Python loop. ``mapbox_vector_tile.decode`` (and
GDAL's MVT driver) read what it writes; the tests check both.

Input geometries must already be in integer tile coordinates (y down), valid, and free of
repeated points (see :mod:`server.vector_tiles`). Exterior rings are written with a positive
area in tile coordinates and holes with a negative one, as the specification requires (§4.3.4.4).

>>> import shapely, mapbox_vector_tile, pandas as pd
>>> data = encode_layers({"plots": ([shapely.box(0, 0, 10, 10)], pd.DataFrame({"id": ["P1"]}))})
>>> mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})["plots"]["features"][0]["geometry"]
{'type': 'Polygon', 'coordinates': [[[10, 0], [10, 10], [0, 10], [0, 0], [10, 0]]]}
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import shapely
from shapely import GeometryType

__all__ = ["encode_layers"]

_MOVE, _LINE, _CLOSE = 1, 2, 7
_POINT, _LINESTRING, _POLYGON = 1, 2, 3  # MVT GeomType


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varint bytes of non-negative integers: (all bytes, byte offset of each value; n + 1)."""
    values = np.asarray(values, dtype=np.uint64)
    sizes = np.ones(len(values), dtype=np.int64)
    for k in range(1, 10):
        sizes += values >= np.uint64(1 << (7 * k))
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty(offsets[-1], dtype=np.uint8)
    for k in range(int(sizes.max()) if len(values) else 0):
        has = sizes > k
        byte = ((values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        more = (sizes[has] > k + 1).astype(np.uint8) << 7
        out[offsets[:-1][has] + k] = byte | more
    return out, offsets


def _zigzag(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.int64)
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


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
    zz = _zigzag(deltas)  # (n, 2)
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
    zz = _zigzag(deltas)
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


def _value_bytes(value) -> bytes:
    if isinstance(value, (bool, np.bool_)):
        return b"\x38" + _varint(int(value))
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if value >= 0:
            return b"\x28" + _varint(value)
        return b"\x30" + _varint((value << 1) ^ (value >> 63))
    if isinstance(value, (float, np.floating)):
        return b"\x19" + struct.pack("<d", float(value))
    text = str(value).encode()
    return b"\x0a" + _varint(len(text)) + text


#: Up to this many rows a column is factorised by a plain dict: ``pd.factorize`` costs about half a
#: millisecond a call whatever the size (an Arrow string column more), which dominated a combined
#: tile of many small layers; beyond it pandas' vectorised factorize wins.
_SMALL = 1024


def _factorize(series: pd.Series) -> tuple[np.ndarray, Sequence]:
    """``pd.factorize(series, use_na_sentinel=True)``: codes (-1 for missing) and the uniques in order
    of first appearance.

    >>> codes, uniques = _factorize(pd.Series(["a", None, "b", "a"], dtype="string"))
    >>> codes.tolist(), list(uniques)
    ([0, -1, 1, 0], ['a', 'b'])
    """
    if len(series) > _SMALL:
        return pd.factorize(series, use_na_sentinel=True)
    found: dict = {}
    codes = np.empty(len(series), np.int64)
    for i, value in enumerate(series.to_numpy(dtype=object, na_value=None)):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            codes[i] = -1
        else:
            codes[i] = found.setdefault((type(value), value), len(found))  # 1 and True stay apart
    return codes, [value for _, value in found]


def _tags(props: pd.DataFrame) -> tuple[list[str], list[bytes], np.ndarray, np.ndarray]:
    """Keys, encoded values, and each feature's tag varint bytes (all bytes, offsets per feature)."""
    keys, values, value_index, columns = [], [], {}, []
    for column in props.columns:
        series = props[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.dt.strftime("%Y-%m-%d")
        codes, uniques = _factorize(series)
        if not len(uniques):
            continue
        mapping = np.empty(len(uniques), np.int64)
        for u, value in enumerate(uniques):
            value = value.item() if isinstance(value, np.generic) else value
            token = ("bool" if isinstance(value, bool) else type(value).__name__, value)
            index = value_index.get(token)
            if index is None:
                index = value_index[token] = len(values)
                values.append(_value_bytes(value))
            mapping[u] = index
        tags = np.where(codes >= 0, mapping[np.maximum(codes, 0)], -1)
        columns.append((len(keys), tags))
        keys.append(str(column))
    n = len(props)
    if not columns:
        return keys, values, np.zeros(0, np.uint8), np.zeros(n + 1, np.int64)
    key_matrix = np.repeat(np.array([k for k, _ in columns])[None, :], n, axis=0)
    value_matrix = np.column_stack([t for _, t in columns])
    present = value_matrix >= 0
    pairs = np.stack([key_matrix, value_matrix], axis=2)[present]  # (m, 2), feature order
    tag_bytes, tag_offsets = _varints(pairs.ravel())
    per_feature = np.zeros(n + 1, np.int64)
    np.cumsum(2 * present.sum(axis=1), out=per_feature[1:])
    return keys, values, tag_bytes, tag_offsets[per_feature]


def _layer(name: str, geoms: Sequence, props: pd.DataFrame, extent: int) -> bytes:
    geoms = np.asarray(geoms, dtype=object)
    keys, values, tag_bytes, tag_offsets = _tags(props)
    families = shapely.get_type_id(geoms)
    family = np.select([np.isin(families, (0, 4)), np.isin(families, (1, 2, 5))], [0, 1], 2)
    feature_bytes: list[bytes] = []
    for fam in (0, 1, 2):
        rows = np.flatnonzero(family == fam)
        if not len(rows):
            continue
        stream, offsets, mvt_type = _geometry_streams(geoms[rows])
        gbytes, goff = _varints(stream)
        type_field = b"\x18" + _varint(mvt_type)
        for j, row in enumerate(rows):
            g = gbytes[goff[offsets[j]]:goff[offsets[j + 1]]].tobytes()
            if not g:
                continue
            tags = tag_bytes[tag_offsets[row]:tag_offsets[row + 1]].tobytes()
            body = (b"\x12" + _varint(len(tags)) + tags if tags else b"") + type_field + \
                b"\x22" + _varint(len(g)) + g
            feature_bytes.append(b"\x12" + _varint(len(body)) + body)
    if not feature_bytes:
        return b""
    encoded_name = name.encode()
    parts = [b"\x78\x02", b"\x0a" + _varint(len(encoded_name)) + encoded_name, *feature_bytes]
    parts += [b"\x1a" + _varint(len(k.encode())) + k.encode() for k in keys]
    parts += [b"\x22" + _varint(len(v)) + v for v in values]
    parts.append(b"\x28" + _varint(extent))
    layer = b"".join(parts)
    return b"\x1a" + _varint(len(layer)) + layer


def encode_layers(layers: Mapping[str, tuple[Sequence, pd.DataFrame]], extent: int = 4096) -> bytes:
    """The MVT bytes of ``{name: (geometries in tile units, properties frame)}`` (b"" if empty)."""
    return b"".join(_layer(name, geoms, props, extent) for name, (geoms, props) in layers.items()
                    if len(geoms))
