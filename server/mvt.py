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

__all__ = ["AttributeTable", "encode_layers", "encode_table_layer", "geometry_families"]

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
    if isinstance(value, (float, np.floating)):  # -0.0 as 0.0: factorising takes them for one value
        return b"\x19" + struct.pack("<d", float(value) + 0.0)
    text = str(value).encode()
    return b"\x0a" + _varint(len(text)) + text


#: Up to this many rows a column is factorised by a plain dict: ``pd.factorize`` costs about half a
#: millisecond a call whatever the size (an Arrow string column more), which dominated a combined
#: tile of many small layers; beyond it pandas' vectorised factorize wins, except on object columns
#: (mixed types), where only the dict keeps 1, 1.0 and True apart.
_SMALL = 1024


def _factorize(series: pd.Series) -> tuple[np.ndarray, Sequence]:
    """As ``pd.factorize(series, use_na_sentinel=True)``: codes (-1 for missing) and the uniques in
    order of first appearance, values of different types kept apart (1 is not True).

    >>> codes, uniques = _factorize(pd.Series(["a", None, "b", "a"], dtype="string"))
    >>> codes.tolist(), list(uniques)
    ([0, -1, 1, 0], ['a', 'b'])
    """
    if len(series) > _SMALL and series.dtype != object:  # pandas would take 1 and 1.0 for one value
        return pd.factorize(series, use_na_sentinel=True)
    found: dict = {}
    codes = np.empty(len(series), np.int64)
    for i, value in enumerate(series.to_numpy(dtype=object, na_value=None)):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            codes[i] = -1
        else:
            codes[i] = found.setdefault((type(value), value), len(found))  # 1 and True stay apart
    return codes, [value for _, value in found]


class AttributeTable:
    """The attribute columns of a layer encoded once, for every tile cut from it.

    Each column is factorised once; every distinct value gets its MVT ``Value`` message bytes and
    one index in a table shared by the columns (the same value in two columns is written once, as
    the specification allows: keys and values are per layer, tags index them). :meth:`tags` then
    gives the keys, values and per-feature tags of any subset of rows with numpy alone: a tile
    keeps only the keys and values its features use.

    Factorising per tile cost a third of a combined tile's time (pandas' per-call overhead on
    Arrow strings, times 14 layers); a server keeps one table per cached layer view
    (:class:`server.tile_layers.TileLayer`).

    >>> table = AttributeTable(pd.DataFrame({"id": ["a", "b", "c"],
    ...                                      "level": pd.array([1, None, 1], dtype="Int64")}))
    >>> keys, values, tag_bytes, offsets = table.tags(np.array([2, 1]))  # c with level 1, then b
    >>> [table.keys[k] for k in keys], [table.values[v] for v in values]  # 'c', 'b' (string: field 1), 1 (int64: field 5)
    (['id', 'level'], [b'\\n\\x01c', b'\\n\\x01b', b'(\\x01'])
    >>> tag_bytes.tolist(), offsets.tolist()   # (key, value) pairs: c's id and level, then b's id
    ([0, 0, 1, 2, 0, 1], [0, 4, 6])
    """

    def __init__(self, props: pd.DataFrame):
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
            columns.append(np.where(codes >= 0, mapping[np.maximum(codes, 0)], -1))
            keys.append(str(column))
        self.keys: list[str] = keys
        self.values: list[bytes] = values  # Value messages
        # the layer's fields 3 (keys) and 4 (values), framed once
        self.key_fields = [b"\x1a" + _varint(len(k.encode())) + k.encode() for k in keys]
        self.value_fields = [b"\x22" + _varint(len(v)) + v for v in values]
        #: (rows, keys) index of each row's value per key in :attr:`values`, -1 where missing
        self.codes = (np.column_stack(columns) if columns else np.zeros((len(props), 0), np.int64)).astype(np.int32)

    def __len__(self) -> int:
        return len(self.codes)

    def tags(self, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The keys and values used by ``rows`` (positions: indexes in :attr:`keys` and :attr:`values`;
        keys in column order, values in order of first use column by column), and each row's tags
        as varint bytes (all bytes, offsets per row: ``len(rows) + 1``) in the order of ``rows``,
        numbering the used keys and values from 0 in that order."""
        codes = self.codes[np.asarray(rows, dtype=np.int64)]
        n = len(codes)
        present = codes >= 0
        used_keys = np.flatnonzero(present.any(axis=0))
        if not len(used_keys):
            return used_keys, used_keys, np.zeros(0, np.uint8), np.zeros(n + 1, np.int64)
        codes, present = codes[:, used_keys], present[:, used_keys]
        # values numbered in order of first use, column by column (as a table of these rows alone
        # would number them), so a tile's bytes do not depend on the table it was cut from
        by_column = codes.T[present.T]
        uniques, first = np.unique(by_column, return_index=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(uniques), np.int64)
        rank[order] = np.arange(len(uniques))
        value_matrix = rank[np.searchsorted(uniques, np.maximum(codes, 0))]
        used_values = uniques[order]
        key_matrix = np.broadcast_to(np.arange(len(used_keys))[None, :], codes.shape)
        pairs = np.stack([key_matrix, value_matrix], axis=2)[present]  # (m, 2), row order
        tag_bytes, tag_offsets = _varints(pairs.ravel())
        per_row = np.zeros(n + 1, np.int64)
        np.cumsum(2 * present.sum(axis=1), out=per_row[1:])
        return used_keys, used_values, tag_bytes, tag_offsets[per_row]


def _segments(source: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``source[starts[i]:starts[i] + lengths[i]]`` for every i, concatenated (numpy, no loop)."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, source.dtype)
    first = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    return source[np.repeat(starts - first, lengths) + np.arange(total)]


def _place(out: np.ndarray, at: np.ndarray, data: np.ndarray, lengths: np.ndarray) -> None:
    """Write the consecutive pieces of ``data`` (``lengths`` each) at offsets ``at`` of ``out``."""
    total = int(lengths.sum())
    if total:
        first = np.zeros(len(lengths), np.int64)
        np.cumsum(lengths[:-1], out=first[1:])
        out[np.repeat(at - first, lengths) + np.arange(total)] = data[:total]


def _feature_messages(geometry: np.ndarray, geometry_offsets: np.ndarray, mvt_type: int,
                      tags: np.ndarray, tag_offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The ``Feature`` messages (field 2 of a layer) of one geometry family, as one byte array.

    ``geometry[geometry_offsets[j]:geometry_offsets[j + 1]]`` is the j-th feature's command
    stream bytes, ``rows[j]`` its row in the tag offsets. A feature is ``tags`` (field 2, packed,
    left out when empty), ``type`` (field 3) and ``geometry`` (field 4, packed); features whose
    geometry is empty are left out. Assembled with numpy: lengths, their varints, then scatters.
    """
    glen = np.diff(geometry_offsets)
    keep = glen > 0
    rows, gstart, glen = rows[keep], geometry_offsets[:-1][keep], glen[keep]
    tstart = tag_offsets[rows]
    tlen = tag_offsets[rows + 1] - tstart
    tvar, toff = _varints(tlen)
    gvar, goff = _varints(glen)
    tvar_len, gvar_len = np.diff(toff), np.diff(goff)
    has_tags = tlen > 0
    body = np.where(has_tags, 1 + tvar_len + tlen, 0) + 2 + 1 + gvar_len + glen
    bvar, boff = _varints(body)
    bvar_len = np.diff(boff)
    size = 1 + bvar_len + body
    start = np.zeros(len(size) + 1, np.int64)
    np.cumsum(size, out=start[1:])
    out = np.empty(int(start[-1]), np.uint8)
    at = start[:-1]
    out[at] = 0x12
    _place(out, at + 1, bvar, bvar_len)
    at = at + 1 + bvar_len
    tagged = np.flatnonzero(has_tags)
    out[at[tagged]] = 0x12
    _place(out, at[tagged] + 1, _segments(tvar, toff[:-1][tagged], tvar_len[tagged]), tvar_len[tagged])
    _place(out, at[tagged] + 1 + tvar_len[tagged], _segments(tags, tstart[tagged], tlen[tagged]), tlen[tagged])
    at = at + np.where(has_tags, 1 + tvar_len + tlen, 0)
    out[at] = 0x18
    out[at + 1] = mvt_type
    out[at + 2] = 0x22
    _place(out, at + 3, gvar, gvar_len)
    _place(out, at + 3 + gvar_len, _segments(geometry, gstart, glen), glen)
    return out


def _layer(name: str, geoms: Sequence, props: pd.DataFrame | None, extent: int, *,
           table: AttributeTable | None = None, rows=None) -> bytes:
    """One ``Layer`` message: the geometries with the attributes of ``props`` (a row each), or of
    ``rows`` of ``table``."""
    geoms = np.asarray(geoms, dtype=object)
    if table is None:
        table, rows = AttributeTable(props), np.arange(len(geoms))
    keys, values, tag_bytes, tag_offsets = table.tags(rows)
    family = geometry_families(geoms)
    features = []
    for fam in (0, 1, 2):
        chosen = np.flatnonzero(family == fam)
        if not len(chosen):
            continue
        stream, offsets, mvt_type = _geometry_streams(geoms[chosen])
        gbytes, goff = _varints(stream)
        features.append(_feature_messages(gbytes, goff[offsets], mvt_type, tag_bytes, tag_offsets, chosen))
    if not sum(len(f) for f in features):
        return b""
    encoded_name = name.encode()
    parts = [b"\x78\x02", b"\x0a" + _varint(len(encoded_name)) + encoded_name, *(f.tobytes() for f in features)]
    parts += [table.key_fields[k] for k in keys]
    parts += [table.value_fields[v] for v in values]
    parts.append(b"\x28" + _varint(extent))
    layer = b"".join(parts)
    return b"\x1a" + _varint(len(layer)) + layer


def encode_table_layer(name: str, geoms: Sequence, table: AttributeTable, rows, extent: int = 4096) -> bytes:
    """One MVT layer of ``geoms`` (tile units) whose attributes are ``rows`` of ``table`` (b"" if empty)."""
    return _layer(name, geoms, None, extent, table=table, rows=np.asarray(rows, dtype=np.int64)) if len(geoms) else b""


def encode_layers(layers: Mapping[str, tuple[Sequence, pd.DataFrame]], extent: int = 4096) -> bytes:
    """The MVT bytes of ``{name: (geometries in tile units, properties frame)}`` (b"" if empty)."""
    return b"".join(_layer(name, geoms, props, extent) for name, (geoms, props) in layers.items()
                    if len(geoms))
