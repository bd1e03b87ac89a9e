"""Copy a whole store to a new one, between any two backends, losslessly (``riskmap copy``).

Everything a store holds goes across in **one transaction** of the new store: every vector layer
with its rows in order, their ids, row versions, ``updated_at``/``updated_by``, the retired rows
of the archive, every raster cell by cell (with CRS, transform, nodata, colour table and tags),
each layer's metadata (version, time, provenance, id field), the whole audit log with its ids, and
the accounts (with their token hashes, so tokens keep working; browser sessions are not copied).
So a GeoPackage can move to PostGIS when a town's wall gets many editors, a PostGIS schema can be
handed out as one ``.gpkg`` file, and a live store can be backed up without copying its file from
under a writer (the source is read through the store, one snapshot per layer).

>>> import tempfile, pathlib, geopandas
>>> from shapely import Point
>>> from layers.store import create_store
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> source = create_store(folder / "a.gpkg")
>>> stations = geopandas.GeoDataFrame({"station_id": ["F1"], "kind": ["micro"]},
...                                   geometry=[Point(119.97, 31.81)], crs="EPSG:4490")
>>> _ = source.write("rescue_stations", stations)
>>> report = copy_store(source, folder / "b.gpkg")
>>> report.layers, report.audit_rows
({'rescue_stations': 1}, 1)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from os import PathLike

import pandas as pd

from layers.rasters import raster_from_dataset
from layers.store import SYSTEM_COLUMNS, Store, create_store, display_address
from layers.store_rows import prepare_layer

__all__ = ["CopyReport", "copy_store"]


@dataclass
class CopyReport:
    """What :func:`copy_store` copied: rows per vector layer, rasters, retired rows, audit rows."""

    source: str
    target: str
    layers: dict[str, int] = field(default_factory=dict)
    rasters: list[str] = field(default_factory=list)
    retired: int = 0
    audit_rows: int = 0
    accounts: int = 0
    seconds: float = 0.0


def copy_store(source: Store, target: str | PathLike[str]) -> CopyReport:
    """Copy every layer, raster, retired row and audit entry of ``source`` into a new store.

    Parameters
    ----------
    source : Store
        Any store (it is only read).
    target : str or path-like
        Address of the new store: a ``.gpkg`` path that does not exist, or a ``postgresql://``
        schema that holds no store. It is created here, and removed again if the copy fails.

    Returns
    -------
    CopyReport
    """
    started = time.perf_counter()
    destination = create_store(target)
    report = CopyReport(display_address(source.address), display_address(destination.address))
    try:
        with destination._transaction() as tx:
            for info in source.infos():
                meta = source._meta(info.name)
                if info.kind == "raster":
                    with source.read_raster(info.name) as src:
                        tx.put_raster(info.name, raster_from_dataset(src, info.name))
                    report.rasters.append(info.name)
                else:
                    report.layers[info.name] = _copy_layer(source, tx, info)
                    archived = source._read_archive(info.name)
                    if archived:
                        tx.archive(info.name, archived)
                        report.retired += len(archived)
                tx.put_meta(meta)
            log = source.audit(limit=None).iloc[::-1]
            entries = [{**{k: _plain(row[k]) for k in ("id", "when", "actor", "action", "layer", "feature",
                                                        "version", "rows", "detail")},
                        "before": None if row["before"] is None else json.dumps(row["before"], ensure_ascii=False),
                        "after": None if row["after"] is None else json.dumps(row["after"], ensure_ascii=False)}
                       for _, row in log.iterrows()]
            if entries:
                tx.append_audit(entries)
            report.audit_rows = len(entries)
            accounts = source.accounts()
            destination._restore_accounts(tx, accounts)
            report.accounts = len(accounts)
    except BaseException:
        destination.destroy()
        raise
    destination.close()
    report.seconds = time.perf_counter() - started
    return report


def _copy_layer(source: Store, tx, info) -> int:
    frame = source.read(info.name, versions=True)
    types = source._column_types(info.name)
    system = {c: frame[c].tolist() for c in SYSTEM_COLUMNS}
    system["row_version"] = [int(v) for v in system["row_version"]]
    rows = prepare_layer(info.name, frame.drop(columns=[*SYSTEM_COLUMNS]), id_field=info.id_field, types=types)
    tx.replace(rows, system)
    return len(rows)


def _plain(value):
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
