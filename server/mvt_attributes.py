"""MVT attributes: a layer's keys and values, and its features' tags, encoded once for every tile.

In a Mapbox Vector Tile (MVT 2.1, §4.2 and §4.4) each layer lists its keys (strings) and values
(``Value`` messages: string, double, int, sint, bool), and each feature carries ``tags``: pairs of
indexes into them. :class:`AttributeTable` encodes a layer's attribute columns once: each column
is factorised, every distinct value's message written with numpy (strings through a pyarrow
buffer), and each row keeps the index of its value per column. A tile then takes the rows it
shows (:meth:`AttributeTable.tags`) and keeps only the keys and values they use, numbered in
order of first use column by column, which is exactly what a table of those rows alone would give:
so a tile's bytes do not depend on the table it was cut from.

Values are distinct within a column, not across columns (the specification allows repeated
values; a value shared by two columns costs a few bytes a tile, while finding it would cost a
Python dictionary lookup per distinct value of a layer of a million roads).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from server.protobuf import constant, join_items, segments, varint, varints, zigzag

__all__ = ["AttributeTable", "value_messages"]


def _value_bytes(value) -> bytes:
    """The ``Value`` message of one Python value (for columns of mixed types)."""
    if isinstance(value, (bool, np.bool_)):
        return b"\x38" + varint(int(value))
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if value >= 0:
            return b"\x28" + varint(value)
        return b"\x30" + varint((value << 1) ^ (value >> 63))
    if isinstance(value, (float, np.floating)):  # -0.0 as 0.0: factorising takes them for one value
        return b"\x19" + struct.pack("<d", float(value) + 0.0)
    text = str(value).encode()
    return b"\x0a" + varint(len(text)) + text


def _strings(values) -> tuple[np.ndarray, np.ndarray] | None:
    """UTF-8 bytes and offsets of strings through pyarrow (None if they are not all strings)."""
    try:
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    if array.null_count:
        return None
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, np.int64)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return data, offsets


def value_messages(uniques) -> tuple[np.ndarray, np.ndarray]:
    """The ``Value`` messages of one column's distinct values: (bytes, offsets; n + 1).

    Field 1 for strings, 3 for doubles (``-0.0`` written as ``0.0``), 5 for non-negative
    integers (``uint``), 6 for negative ones (``sint``, zigzag), 7 for booleans.

    >>> data, offsets = value_messages(np.array([3, -1]))
    >>> [bytes(data[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    [b'(\\x03', b'0\\x01']
    >>> data, offsets = value_messages(pd.array(["甲", "b"], dtype="string"))
    >>> bytes(data)
    b'\\n\\x03\\xe7\\x94\\xb2\\n\\x01b'
    """
    n = len(uniques)
    dtype = getattr(uniques, "dtype", None)
    if dtype is not None and dtype != object and n:
        if pd.api.types.is_bool_dtype(dtype):
            return join_items(constant(0x38, n), varints(np.asarray(uniques, dtype=bool)))
        if pd.api.types.is_unsigned_integer_dtype(dtype):
            return join_items(constant(0x28, n), varints(np.asarray(uniques, dtype=np.uint64)))
        if pd.api.types.is_integer_dtype(dtype):
            v = np.asarray(uniques, dtype=np.int64)
            negative = v < 0
            return join_items(constant(np.where(negative, 0x30, 0x28), n),
                              varints(np.where(negative, zigzag(v), v.astype(np.uint64))))
        if pd.api.types.is_float_dtype(dtype):
            v = np.asarray(uniques, dtype=np.float64) + 0.0
            return join_items(constant(0x19, n), (v.astype("<f8").view(np.uint8), 8 * np.arange(n + 1)))
    if n and (dtype is None or dtype == object or pd.api.types.is_string_dtype(dtype)):
        found = _strings(uniques if dtype is not None else np.asarray(uniques, dtype=object))
        if found is not None:
            data, offsets = found
            return join_items(constant(0x0A, n), varints(np.diff(offsets)), (data, offsets))
    messages = [_value_bytes(v.item() if isinstance(v, np.generic) else v) for v in uniques]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum([len(m) for m in messages], out=offsets[1:])
    return np.frombuffer(b"".join(messages), np.uint8), offsets


#: Up to this many rows a column is factorised by a plain dict: ``pd.factorize`` costs about half a
#: millisecond a call whatever the size (an Arrow string column more), which dominated a combined
#: tile of many small layers; beyond it pandas' vectorised factorize wins, except on object columns
#: (mixed types), where only the dict keeps 1, 1.0 and True apart.
_SMALL = 1024


def _dates_as_text(series: pd.Series) -> pd.Series:
    """Dates as ``YYYY-MM-DD`` strings (MVT has no date value); other columns as they are."""
    return series.dt.strftime("%Y-%m-%d") if pd.api.types.is_datetime64_any_dtype(series) else series


def _factorize(series: pd.Series) -> tuple[np.ndarray, Sequence]:
    """As ``pd.factorize(series, use_na_sentinel=True)``: codes (-1 for missing) and the uniques in
    order of first appearance, values of different types kept apart (1 is not True).

    >>> codes, uniques = _factorize(pd.Series(["a", None, "b", "a"], dtype="string"))
    >>> codes.tolist(), list(uniques)
    ([0, -1, 1, 0], ['a', 'b'])
    """
    series = _dates_as_text(series)
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
    """The attribute columns of a layer encoded once, for every tile cut from it (see the module).

    >>> table = AttributeTable(pd.DataFrame({"id": ["a", "b", "c"],
    ...                                      "level": pd.array([1, None, 1], dtype="Int64")}))
    >>> keys, values, tag_bytes, offsets = table.tags(np.array([2, 1]))  # c with level 1, then b
    >>> [table.keys[k] for k in keys], [table.value(v) for v in values]  # 'c', 'b' (field 1), 1 (field 5)
    (['id', 'level'], [b'\\n\\x01c', b'\\n\\x01b', b'(\\x01'])
    >>> tag_bytes.tolist(), offsets.tolist()   # (key, value) pairs: c's id and level, then b's id
    ([0, 0, 1, 2, 0, 1], [0, 4, 6])
    """

    def __init__(self, props: pd.DataFrame):
        self.keys: list[str] = []
        self.key_fields: list[bytes] = []  # the layer's field 3 of each key
        self._labels: list = []  # the column of each key
        self._uniques: list = []  # the distinct values of each key's column (to carry edits over)
        self._ids: list[np.ndarray] = []  # the value index of each of them
        columns, messages = [], []
        count = 0
        for column in props.columns:
            codes, uniques = _factorize(props[column])
            if not len(uniques):
                continue
            ids = np.arange(count, count + len(uniques))
            columns.append(np.where(codes >= 0, ids[np.maximum(codes, 0)], -1))
            messages.append(value_messages(uniques))
            self._add_key(column, uniques, ids)
            count += len(uniques)
        #: (rows, keys) index of each row's value per key, -1 where missing
        self.codes = (np.column_stack(columns) if columns else np.zeros((len(props), 0), np.int64)).astype(np.int32)
        self._set_values(messages)

    def _add_key(self, column, uniques, ids) -> None:
        name = str(column)
        self.keys.append(name)
        self.key_fields.append(b"\x1a" + varint(len(name.encode())) + name.encode())
        self._labels.append(column)
        self._uniques.append(uniques)
        self._ids.append(ids)

    def _set_values(self, messages: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Keep the ``Value`` messages (pieces of consecutive values) and the layer's field 4 of each."""
        data = np.concatenate([m[0][m[1][0]:m[1][-1]] for m in messages]) if messages else np.zeros(0, np.uint8)
        lengths = np.concatenate([np.diff(m[1]) for m in messages]) if messages else np.zeros(0, np.int64)
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        self._messages, self._message_offsets = data, offsets
        self._fields, self._field_offsets = join_items(constant(0x22, len(lengths)), varints(lengths), (data, offsets))

    def __len__(self) -> int:
        return len(self.codes)

    def value(self, index: int) -> bytes:
        """The ``Value`` message of value ``index``."""
        return self._messages[self._message_offsets[index]:self._message_offsets[index + 1]].tobytes()

    def value_fields(self, indexes: np.ndarray) -> bytes:
        """The layer's field 4 (``values``) for values ``indexes``, in that order."""
        starts = self._field_offsets[indexes]
        return segments(self._fields, starts, self._field_offsets[indexes + 1] - starts).tobytes()

    def tags(self, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The keys and values used by ``rows`` (positions: indexes in :attr:`keys` and of
        :meth:`value`; keys in column order, values in order of first use column by column), and
        each row's tags as varint bytes (all bytes, offsets per row: ``len(rows) + 1``) in the
        order of ``rows``, numbering the used keys and values from 0 in that order."""
        codes = self.codes[np.asarray(rows, dtype=np.int64)]
        n = len(codes)
        present = codes >= 0
        used_keys = np.flatnonzero(present.any(axis=0))
        if not len(used_keys):
            return used_keys, used_keys, np.zeros(0, np.uint8), np.zeros(n + 1, np.int64)
        codes, present = codes[:, used_keys], present[:, used_keys]
        uniques, first = np.unique(codes.T[present.T], return_index=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(uniques), np.int64)
        rank[order] = np.arange(len(uniques))
        value_matrix = rank[np.searchsorted(uniques, np.maximum(codes, 0))]
        key_matrix = np.broadcast_to(np.arange(len(used_keys))[None, :], codes.shape)
        pairs = np.stack([key_matrix, value_matrix], axis=2)[present]  # (m, 2), row order
        tag_bytes, tag_offsets = varints(pairs.ravel())
        per_row = np.zeros(n + 1, np.int64)
        np.cumsum(2 * present.sum(axis=1), out=per_row[1:])
        return used_keys, uniques[order], tag_bytes, tag_offsets[per_row]

    def arrays(self) -> dict[str, np.ndarray]:
        """The table as plain arrays (for a file: :mod:`server.prepared_files`), the keys as text."""
        return {"keys": np.array(self.keys, dtype=str), "codes": self.codes, "messages": self._messages,
                "message_offsets": self._message_offsets, "fields": self._fields, "field_offsets": self._field_offsets}

    @classmethod
    def from_arrays(cls, arrays) -> AttributeTable:
        """A table from :meth:`arrays`. It cuts tiles as the original did, but cannot carry an edit
        over (:meth:`replaced` gives None: the distinct values of the columns are not kept)."""
        out = cls.__new__(cls)
        out.keys = [str(k) for k in arrays["keys"]]
        out.key_fields = [b"\x1a" + varint(len(k.encode())) + k.encode() for k in out.keys]
        out._labels, out._uniques, out._ids = list(out.keys), None, None
        out.codes = np.asarray(arrays["codes"], dtype=np.int32)
        if out.codes.ndim != 2 or out.codes.shape[1] != len(out.keys):
            raise ValueError("the codes do not match the keys")
        out._messages, out._message_offsets = arrays["messages"], arrays["message_offsets"]
        out._fields, out._field_offsets = arrays["fields"], arrays["field_offsets"]
        return out

    def replaced(self, rows, props: pd.DataFrame) -> AttributeTable | None:
        """This table with ``rows`` (positions) holding the values of ``props`` (a row each), or None
        when a new table must be built instead (a column gets its first value, or holds mixed types).

        For a row edit: the codes are copied and the edited rows' values found among each column's
        distinct values (new ones appended), instead of factorising every column of the layer
        again. This table is unchanged (a tile being cut from it meanwhile stays right).
        """
        if self._uniques is None:  # restored from a file (from_arrays)
            return None
        rows = np.asarray(rows, dtype=np.int64)
        for column in props.columns:
            if column not in self._labels and props[column].notna().any():
                return None  # it needs a key
        out = AttributeTable.__new__(AttributeTable)
        out.keys, out.key_fields, out._labels = self.keys, self.key_fields, self._labels
        out._uniques, out._ids = list(self._uniques), list(self._ids)
        out.codes = self.codes.copy()
        count = len(self._message_offsets) - 1
        messages = [(self._messages, self._message_offsets)]
        for k, column in enumerate(self._labels):
            series = _dates_as_text(props[column].reset_index(drop=True))
            known = pd.Index(self._uniques[k])
            if known.dtype == object or series.dtype == object:
                return None  # mixed types (or a small layer's plain list): an Index takes 1 and True for one
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            found = known.get_indexer(pd.Index(uniques)) if len(uniques) else np.zeros(0, np.int64)
            new = np.flatnonzero(found < 0)
            ids = np.empty(len(uniques), np.int64)
            ids[found >= 0] = self._ids[k][found[found >= 0]]
            if len(new):
                added = pd.Index(uniques)[new]
                ids[new] = np.arange(count, count + len(new))
                messages.append(value_messages(added))
                out._uniques[k] = known.append(added)
                out._ids[k] = np.concatenate([self._ids[k], ids[new]])
                count += len(new)
            out.codes[rows, k] = np.where(codes >= 0, ids[np.maximum(codes, 0)], -1)
        if len(messages) == 1:
            out._messages, out._message_offsets = self._messages, self._message_offsets
            out._fields, out._field_offsets = self._fields, self._field_offsets
        else:
            out._set_values(messages)
        return out
