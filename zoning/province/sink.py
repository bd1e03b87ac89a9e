"""Where a province run puts its layers: gathered in memory, or written to a folder partition by partition.

:func:`zoning.province.engine.zone_partitions` hands its layers over one partition at a time, each
chunk indexed by province row (``add(name, frame)``), then the layers of the whole province (the
zones, the contours) and the summary (``finish``).

* :class:`Gathered` keeps every chunk and merges them in province order (any partitioning): the
  :class:`~zoning.pipeline.ZoningResult` of :func:`~zoning.pipeline.compute_zoning`.
* :class:`FolderSink` writes each chunk to ``<layer>.parquet`` as it comes (GeoParquet, EPSG:4490,
  one row group a chunk) and keeps nothing of it: the driver of a province of a million plots holds
  one city's layers at a time. It needs partitions whose rows come in province order (a generated
  province, one partition a city); :func:`read_result` reads the folder back.

Both write the same files (:func:`write_result` for a result in memory).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import rasterio
from geopandas.io.arrow import _geopandas_to_arrow

from zoning.pipeline import ZoningResult, for_store
from zoning.province.partition import merged
from zoning.rules import RuleSet
from zoning.wall.surface import write_risk_surface

__all__ = ["LAYER_ORDER", "FolderSink", "Gathered", "Written", "read_result", "write_result"]

#: The derived layers in the order :func:`~zoning.pipeline.compute_zoning` returns them.
LAYER_ORDER = ("risk_wall", "major_hazards", "safety_buffers", "separation_violations", "ir_contours",
               "threat_zones", "risk_zones")


def _kept(chunks: list) -> list:
    """Chunks worth merging: the non-empty ones (an empty frame's columns are often of another dtype),
    else the first empty one, to give the layer its columns."""
    return [f for f in chunks if len(f)] or chunks[:1]


class Gathered:
    """Every chunk kept in memory; :meth:`finish` merges them into a :class:`ZoningResult`."""

    def __init__(self):
        self._chunks: dict[str, list] = {}
        self._ordered: dict[str, bool] = {}

    def add(self, name: str, frame: gpd.GeoDataFrame | None, *, ordered: bool = True) -> None:
        """One partition's rows of layer ``name`` (``ordered``: sort by province row, else keep as added)."""
        if frame is not None:
            self._chunks.setdefault(name, []).append(frame)
            self._ordered[name] = ordered

    def has(self, name: str) -> bool:
        return name in self._chunks

    def finish(self, surface: tuple, summary: pd.DataFrame, warnings: list[str]) -> ZoningResult:
        layers = {}
        for name in sorted(self._chunks, key=LAYER_ORDER.index):
            chunks = _kept(self._chunks[name])
            frame = merged(chunks) if self._ordered[name] else \
                gpd.GeoDataFrame(pd.concat(chunks, ignore_index=True), crs=chunks[0].crs)
            layers[name] = for_store(frame.reset_index(drop=True))
        return ZoningResult(layers, surface, summary, warnings)


@dataclass
class Written:
    """What a :class:`FolderSink` wrote: the folder, rows per layer, the surface's shape, the warnings."""

    out: Path
    rows: dict[str, int]
    shape: tuple[int, int]
    warnings: list[str]


def _no_bbox(schema: pa.Schema) -> pa.Schema:
    """The GeoParquet metadata of a first chunk made true of the whole file: no bbox, any geometry type."""
    meta = json.loads(schema.metadata[b"geo"])
    for column in meta["columns"].values():
        column.pop("bbox", None)
        column["geometry_types"] = []
    return schema.with_metadata({**schema.metadata, b"geo": json.dumps(meta).encode()})


class FolderSink:
    """Layers written to ``out`` chunk by chunk (see the module docstring); a chunk's rows after the last's."""

    def __init__(self, out, ruleset: RuleSet, palette: str | None = None):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.ruleset, self.palette = ruleset, palette
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._empty: dict[str, gpd.GeoDataFrame] = {}
        self._last: dict[str, int] = {}
        self._rows: dict[str, int] = {}

    def add(self, name: str, frame: gpd.GeoDataFrame | None, *, ordered: bool = True) -> None:
        if frame is None:
            return
        self._rows.setdefault(name, 0)
        if not len(frame):
            self._empty.setdefault(name, frame)
            return
        if ordered:
            frame = merged([frame])
            if int(frame.index[0]) < self._last.get(name, -1):
                raise ValueError(f"{name}: partition rows from {frame.index[0]} come after row {self._last[name]}; "
                                 "a folder is written in province order (one partition a city, in order)")
            self._last[name] = int(frame.index[-1])
        self._write(name, for_store(frame.reset_index(drop=True)))

    def _write(self, name: str, frame: gpd.GeoDataFrame) -> None:
        table = _geopandas_to_arrow(frame, index=False)
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers[name] = pq.ParquetWriter(self.out / f"{name}.parquet", _no_bbox(table.schema))
        try:
            table = table.cast(writer.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
            raise ValueError(f"{name}: a partition's columns do not match the first one's ({exc})") from None
        writer.write_table(table)
        self._rows[name] += len(frame)

    def has(self, name: str) -> bool:
        return name in self._rows

    def finish(self, surface: tuple, summary: pd.DataFrame, warnings: list[str]) -> Written:
        for name, frame in self._empty.items():
            if name not in self._writers:
                self._write(name, for_store(frame.reset_index(drop=True)))
        for writer in self._writers.values():
            writer.close()
        _write_rest(self.out, surface, summary, warnings, self.ruleset, self.palette)
        return Written(self.out, {n: self._rows[n] for n in sorted(self._rows, key=LAYER_ORDER.index)},
                       surface[0].shape, warnings)


def _write_rest(out: Path, surface, summary: pd.DataFrame, warnings: list[str], ruleset: RuleSet,
                palette: str | None) -> None:
    if surface is not None:
        array, transform, crs = surface
        write_risk_surface(out / "risk_surface.tif", array, transform, crs, palette=palette,
                           ruleset_label=ruleset.label)
    summary.to_csv(out / "wall_summary.csv", index=False)
    (out / "warnings.txt").write_text("\n".join(warnings) + "\n", encoding="utf-8")


def write_result(result: ZoningResult, out_dir, ruleset: RuleSet, palette: str | None = None) -> Path:
    """Write a result to ``out_dir``: ``<layer>.parquet`` (EPSG:4490), ``risk_surface.tif``, ``wall_summary.csv``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in result.layers.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    _write_rest(out, result.surface, result.wall_summary, result.warnings, ruleset, palette)
    return out


def read_result(out_dir) -> ZoningResult:
    """A result folder (:func:`write_result` or :class:`FolderSink`) read back as a :class:`ZoningResult`."""
    out = Path(out_dir)
    layers = {name: gpd.read_parquet(out / f"{name}.parquet") for name in LAYER_ORDER
              if (out / f"{name}.parquet").exists()}
    with rasterio.open(out / "risk_surface.tif") as src:
        surface = (src.read(1), src.transform, src.crs)
    lines = (out / "warnings.txt").read_text(encoding="utf-8").splitlines()
    return ZoningResult(layers, surface, pd.read_csv(out / "wall_summary.csv"), [w for w in lines if w])

