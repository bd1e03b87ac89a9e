"""Protocol Buffers wire format, vectorised: varints and byte pieces joined item by item with numpy.

What the MVT writer (:mod:`server.mvt`, :mod:`server.mvt_attributes`) needs of the encoding
(https://protobuf.dev/programming-guides/encoding/): base-128 varints, zigzag for signed integers,
and length-delimited fields. Many items (features, values) are encoded at once: each "piece" is a
byte array with the offsets of its n items (n + 1), and :func:`join_items` concatenates several
pieces item by item without a Python loop over the items.

>>> data, offsets = varints(np.array([1, 300]))
>>> data.tolist(), offsets.tolist()          # 300 = 0b10_0101100 → 0xAC 0x02
([1, 172, 2], [0, 1, 3])
>>> data, offsets = join_items(constant(0x0A, 2), (data, offsets))
>>> bytes(data), offsets.tolist()
(b'\\n\\x01\\n\\xac\\x02', [0, 2, 5])
"""

from __future__ import annotations

import numpy as np

__all__ = ["varint", "varints", "zigzag", "constant", "join_items", "segments", "place"]


def varint(value: int) -> bytes:
    """The varint bytes of one non-negative integer."""
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varint bytes of non-negative integers: (all bytes, byte offset of each value; n + 1)."""
    values = np.asarray(values, dtype=np.uint64)
    longest = (int(values.max()).bit_length() + 6) // 7 if len(values) else 0  # bytes of the largest value
    sizes = np.ones(len(values), dtype=np.int64)
    for k in range(1, longest):  # only the thresholds some value reaches (most streams: one)
        sizes += values >= np.uint64(1 << (7 * k))
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty(offsets[-1], dtype=np.uint8)
    if longest <= 1:  # every value fits one byte
        out[:] = values
        return out, offsets
    for k in range(longest):
        has = sizes > k
        byte = ((values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        more = (sizes[has] > k + 1).astype(np.uint8) << 7
        out[offsets[:-1][has] + k] = byte | more
    return out, offsets


def zigzag(values: np.ndarray) -> np.ndarray:
    """Zigzag-encode signed 64-bit integers (0, -1, 1, -2 … → 0, 1, 2, 3 …) for ``sint`` fields."""
    values = np.asarray(values).astype(np.int64)
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def constant(byte, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A piece of ``n`` one-byte items (``byte``: an int, or an array of n ints)."""
    return np.broadcast_to(np.asarray(byte, dtype=np.uint8), (n,)).copy(), np.arange(n + 1, dtype=np.int64)


def segments(source: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``source[starts[i]:starts[i] + lengths[i]]`` for every i, concatenated."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, source.dtype)
    first = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    return source[np.repeat(np.asarray(starts) - first, lengths) + np.arange(total)]


def place(out: np.ndarray, at: np.ndarray, data: np.ndarray, lengths: np.ndarray) -> None:
    """Write the consecutive pieces of ``data`` (``lengths`` each) at offsets ``at`` of ``out``."""
    total = int(lengths.sum())
    if total:
        first = np.zeros(len(lengths), np.int64)
        np.cumsum(lengths[:-1], out=first[1:])
        out[np.repeat(np.asarray(at) - first, lengths) + np.arange(total)] = data[:total]


def join_items(*pieces: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate pieces item by item: item i of the result is item i of each piece in turn.

    Each piece is ``(bytes, offsets)`` over the same n items, its items consecutive from
    ``offsets[0]``. Returns ``(bytes, offsets)`` of the joined items.
    """
    lengths = [np.diff(offsets) for _, offsets in pieces]
    total = np.sum(lengths, axis=0) if lengths else np.zeros(0, np.int64)
    offsets = np.zeros(len(total) + 1, np.int64)
    np.cumsum(total, out=offsets[1:])
    out = np.empty(int(offsets[-1]), np.uint8)
    at = offsets[:-1].copy()
    for (data, item_offsets), length in zip(pieces, lengths):
        place(out, at, data[item_offsets[0]:], length)
        at += length
    return out, offsets
