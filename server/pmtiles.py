"""PMTiles v3 archives, written from the specification (protomaps/PMTiles ``spec/v3/spec.md``).

A PMTiles file is one file of tiles a client reads with HTTP Range requests, no tile server needed:

* a 127-byte **header** (magic ``PMTiles``, version 3, offsets and lengths of the sections,
  counts, compression and tile type codes, zoom range, bounds and centre as 1e-7 degrees);
* the **root directory**, gzip-compressed, within the first 16 384 bytes with the header;
* the **metadata**, gzip-compressed JSON (TileJSON-like: ``vector_layers``…);
* **leaf directories** when the root would be too large (root entries with a run length of 0
  point at them);
* the **tile data**.

A directory is a list of entries ``(tile id, offset, length, run length)`` sorted by tile id,
serialised column by column as varints: the count, the tile ids as deltas, the run lengths, the
lengths, then the offsets, each written as 0 when it directly follows the previous entry's data
and as offset + 1 otherwise. Tile ids number the tiles zoom by zoom, each zoom along a Hilbert
curve (:func:`tile_id`). Identical tiles are stored once (several entries share an offset) and a
run of consecutive tile ids with the same content is one entry with a run length.

:func:`write_pmtiles` writes an archive; :func:`read_header`, :func:`read_metadata` and
:func:`read_tile` read one back (the server reads the metadata of the packages it serves; the
tests check archives with the ``pmtiles`` package's own reader besides).

>>> [tile_id(0, 0, 0), tile_id(1, 0, 0), tile_id(1, 0, 1), tile_id(1, 1, 1), tile_id(1, 1, 0), tile_id(2, 0, 0)]
[0, 1, 2, 3, 4, 5]
>>> import io
>>> out = io.BytesIO()
>>> write_pmtiles(out, [((1, 0, 0), b"a"), ((1, 1, 0), b"a"), ((0, 0, 0), b"b")], {"name": "x"})
{'addressed': 3, 'entries': 3, 'contents': 2}
>>> data = out.getvalue(); read_tile(data, 1, 1, 0), read_tile(data, 1, 0, 1), read_metadata(data)["name"]
(b'a', None, 'x')
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["HEADER_SIZE", "Compression", "TileType", "Entry", "tile_id", "encode_directory", "decode_directory",
           "write_pmtiles", "read_header", "read_metadata", "read_tile"]

HEADER_SIZE = 127
_ROOT_LIMIT = 16_384 - HEADER_SIZE
_MAGIC = b"PMTiles"
_HEADER = struct.Struct("<7sBQQQQQQQQQQQBBBBBBiiiiBii")
assert _HEADER.size == HEADER_SIZE


class Compression:
    """Compression codes of the header (spec §3.4)."""

    UNKNOWN, NONE, GZIP, BROTLI, ZSTD = 0, 1, 2, 3, 4


class TileType:
    """Tile type codes of the header (spec §3.5)."""

    UNKNOWN, MVT, PNG, JPEG, WEBP, AVIF = 0, 1, 2, 3, 4, 5


@dataclass
class Entry:
    """A directory entry: a run of ``run_length`` tiles from ``tile_id`` (0: a leaf directory)."""

    tile_id: int
    offset: int
    length: int
    run_length: int


def _hilbert(n: int, x: int, y: int) -> int:
    """Position of (x, y) along the Hilbert curve filling an n × n grid (n a power of two)."""
    d = 0
    s = n // 2
    while s > 0:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:  # turn the quadrant so that the curve runs on through it
            if rx == 1:
                x, y = n - 1 - x, n - 1 - y
            x, y = y, x
        s //= 2
    return d


def tile_id(z: int, x: int, y: int) -> int:
    """The PMTiles id of tile z/x/y: the tiles of lower zooms, then the Hilbert position in zoom z."""
    if z < 0 or z > 31 or not (0 <= x < 1 << z and 0 <= y < 1 << z):
        raise ValueError(f"tile {z}/{x}/{y} does not exist")
    return ((1 << (2 * z)) - 1) // 3 + _hilbert(1 << z, x, y)


def _varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def encode_directory(entries: list[Entry]) -> bytes:
    """A directory's bytes before compression (spec §4)."""
    out = bytearray()
    _varint(len(entries), out)
    last = 0
    for e in entries:
        _varint(e.tile_id - last, out)
        last = e.tile_id
    for e in entries:
        _varint(e.run_length, out)
    for e in entries:
        _varint(e.length, out)
    for i, e in enumerate(entries):
        follows = i > 0 and e.offset == entries[i - 1].offset + entries[i - 1].length
        _varint(0 if follows else e.offset + 1, out)
    return bytes(out)


def decode_directory(data: bytes) -> list[Entry]:
    """The entries of a directory's (uncompressed) bytes."""
    count, pos = _read_varint(data, 0)
    ids, last = [], 0
    for _ in range(count):
        delta, pos = _read_varint(data, pos)
        last += delta
        ids.append(last)
    runs, lengths, offsets = [], [], []
    for column in (runs, lengths):
        for _ in range(count):
            value, pos = _read_varint(data, pos)
            column.append(value)
    for i in range(count):
        value, pos = _read_varint(data, pos)
        offsets.append(offsets[i - 1] + lengths[i - 1] if value == 0 and i > 0 else value - 1)
    return [Entry(*row) for row in zip(ids, offsets, lengths, runs)]


def _compress(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _directories(entries: list[Entry]) -> tuple[bytes, bytes]:
    """(root, leaves): the root directory, with leaf directories when it alone would not fit."""
    root = _compress(encode_directory(entries))
    if len(root) <= _ROOT_LIMIT:
        return root, b""
    per_leaf = 4096
    while True:
        leaves, pointers = bytearray(), []
        for start in range(0, len(entries), per_leaf):
            chunk = entries[start:start + per_leaf]
            leaf = _compress(encode_directory(chunk))
            pointers.append(Entry(chunk[0].tile_id, len(leaves), len(leaf), 0))
            leaves += leaf
        root = _compress(encode_directory(pointers))
        if len(root) <= _ROOT_LIMIT:
            return root, bytes(leaves)
        per_leaf *= 2


def write_pmtiles(out: BinaryIO, tiles: Iterable[tuple[tuple[int, int, int], bytes]], metadata: dict, *,
                  tile_type: int = TileType.MVT, tile_compression: int = Compression.GZIP,
                  bounds: tuple[float, float, float, float] | None = None,
                  center_zoom: int | None = None) -> dict:
    """Write an archive of ``tiles`` (``((z, x, y), bytes)``, stored as given) to ``out``.

    Tiles may come in any order; they are stored by tile id, identical contents once. Returns the
    counts written: ``{"addressed", "entries", "contents"}``.
    """
    by_id = sorted(((tile_id(*zxy), zxy, data) for zxy, data in tiles), key=lambda t: t[0])
    entries: list[Entry] = []
    blobs = bytearray()
    seen: dict[bytes, tuple[int, int]] = {}
    for tid, _, data in by_id:
        digest = hashlib.sha256(data).digest()
        if digest in seen:
            offset, length = seen[digest]
        else:
            offset, length = len(blobs), len(data)
            seen[digest] = (offset, length)
            blobs += data
        last = entries[-1] if entries else None
        if last is not None and last.offset == offset and last.tile_id + last.run_length == tid:
            last.run_length += 1
        else:
            entries.append(Entry(tid, offset, length, 1))
    root, leaves = _directories(entries)
    meta = _compress(json.dumps(metadata, ensure_ascii=False).encode())
    zooms = [zxy[0] for _, zxy, _ in by_id] or [0]
    west, south, east, north = bounds if bounds is not None else (-180.0, -85.0511287, 180.0, 85.0511287)
    cz = center_zoom if center_zoom is not None else min(zooms)
    root_at = HEADER_SIZE
    meta_at = root_at + len(root)
    leaves_at = meta_at + len(meta)
    data_at = leaves_at + len(leaves)
    e7 = lambda v: int(round(v * 1e7))  # noqa: E731
    header = _HEADER.pack(
        _MAGIC, 3, root_at, len(root), meta_at, len(meta), leaves_at, len(leaves), data_at, len(blobs),
        len(by_id), len(entries), len(seen), 1, Compression.GZIP, tile_compression, tile_type,
        min(zooms), max(zooms), e7(west), e7(south), e7(east), e7(north), cz, e7((west + east) / 2),
        e7((south + north) / 2))
    for part in (header, root, meta, leaves, bytes(blobs)):
        out.write(part)
    return {"addressed": len(by_id), "entries": len(entries), "contents": len(seen)}


def read_header(data: bytes) -> dict:
    """The header fields of an archive's first bytes (ValueError if it is not PMTiles v3)."""
    if len(data) < HEADER_SIZE or data[:7] != _MAGIC or data[7] != 3:
        raise ValueError("not a PMTiles version 3 archive")
    names = ("magic", "version", "root_offset", "root_length", "metadata_offset", "metadata_length",
             "leaf_offset", "leaf_length", "data_offset", "data_length", "addressed_tiles", "tile_entries",
             "tile_contents", "clustered", "internal_compression", "tile_compression", "tile_type", "min_zoom",
             "max_zoom", "min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7", "center_zoom",
             "center_lon_e7", "center_lat_e7")
    return dict(zip(names, _HEADER.unpack(data[:HEADER_SIZE])))


def _section(data: bytes, offset: int, length: int) -> bytes:
    return gzip.decompress(data[offset:offset + length])


def read_metadata(data: bytes) -> dict:
    """The metadata JSON of an archive held in ``data`` (its first bytes up to the metadata suffice)."""
    h = read_header(data)
    return json.loads(_section(data, h["metadata_offset"], h["metadata_length"]))


def read_tile(data: bytes, z: int, x: int, y: int) -> bytes | None:
    """Tile z/x/y of an archive held in ``data`` (None when absent), as stored."""
    h = read_header(data)
    wanted = tile_id(z, x, y)
    offset, length = h["root_offset"], h["root_length"]
    for _ in range(4):  # root, then at most a few levels of leaves
        entries = decode_directory(_section(data, offset, length))
        found = None
        for e in entries:
            if e.tile_id > wanted:
                break
            found = e
        if found is None:
            return None
        if found.run_length == 0:
            offset, length = h["leaf_offset"] + found.offset, found.length
            continue
        if wanted >= found.tile_id + found.run_length:
            return None
        start = h["data_offset"] + found.offset
        return data[start:start + found.length]
    return None
