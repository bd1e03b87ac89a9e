"""Exporting a layer to a file: GeoPackage, GeoJSON (RFC 7946), CSV or GeoParquet, atomically.

:func:`write_export` writes a layer as GeoPackage, GeoJSON (RFC 7946: WGS84 lon/lat, 7 decimals),
CSV (UTF-8 with a byte-order mark so that Excel reads Chinese correctly; lon/lat columns for
points, a WKT column otherwise) or GeoParquet, replacing the target file only once the new one is
complete. :mod:`layers.io` re-exports it.
"""

from __future__ import annotations

import os
import tempfile
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import WGS84
from geo.errors import CRSError, InputError, RiskmapError

__all__ = ["EXPORT_FORMATS", "COORDINATE_DECIMALS", "write_export"]

#: Formats :func:`write_export` writes, with the suffix each is given by default.
EXPORT_FORMATS = {"gpkg": ".gpkg", "geojson": ".geojson", "csv": ".csv", "parquet": ".parquet"}
#: Decimals of coordinates in exported GeoJSON and CSV: 1e-7 degree is about 1 cm.
COORDINATE_DECIMALS = 7
try:
    import pyarrow  # noqa: F401

    _ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a dependency
    _ARROW = False


def _atomic_target(path: Path):
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


def write_export(
    gdf: gpd.GeoDataFrame,
    path: str | PathLike[str],
    fmt: str | None = None,
    *,
    layer: str | None = None,
) -> Path:
    """Write ``gdf`` to ``path`` as ``fmt`` (replacing the file, atomically).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        With a CRS (a layer read from the store is in EPSG:4490).
    path : str or path-like
    fmt : {"gpkg", "geojson", "csv", "parquet"}, optional
        Inferred from the suffix of ``path`` when not given.
        ``gpkg``: one layer named ``layer`` (default: the file's stem), in the frame's CRS.
        ``geojson``: RFC 7946, i.e. WGS84 (EPSG:4326) lon/lat, coordinates to 7 decimals.
        ``csv``: UTF-8 with a byte-order mark; ``lon``/``lat`` columns (7 decimals, frame's CRS)
        when every geometry is a point, else a ``wkt`` column.
        ``parquet``: GeoParquet (WKB geometry, CRS in the metadata).
    layer : str, optional
        Layer name inside a GeoPackage.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    if fmt is None:
        fmt = next((f for f, suffix in EXPORT_FORMATS.items() if path.suffix.lower() == suffix), None)
        if fmt is None and path.suffix.lower() == ".json":
            fmt = "geojson"
        if fmt is None:
            raise InputError(f"{path}: cannot tell the format from {path.suffix!r}; "
                             f"formats: {', '.join(EXPORT_FORMATS)}")
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}; formats: {', '.join(EXPORT_FORMATS)}")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if gdf.crs is None:
        raise CRSError(f"cannot export to {path}: the data have no CRS")
    out = gdf.copy()
    out.attrs = {}
    tmp = _atomic_target(path)
    try:
        if fmt == "gpkg":
            pyogrio.write_dataframe(out, tmp, layer=layer or path.stem, driver="GPKG", use_arrow=_ARROW)
        elif fmt == "geojson":
            pyogrio.write_dataframe(
                out.to_crs(WGS84), tmp, driver="GeoJSON",
                layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": str(COORDINATE_DECIMALS),
                               "WRITE_NAME": "NO"},
            )
        elif fmt == "csv":
            _write_csv(out, tmp)
        else:
            out.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, (RiskmapError, KeyboardInterrupt, SystemExit)):
            raise
        raise InputError(f"{path}: cannot write {fmt} ({exc})") from exc
    return path


def _write_csv(gdf: gpd.GeoDataFrame, path: Path) -> None:
    geometry = gdf.geometry.array
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    present = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    types = shapely.get_type_id(geometry[present])
    if present.any() and np.all(types == 0):  # all points
        x = np.full(len(gdf), np.nan)
        y = np.full(len(gdf), np.nan)
        x[present] = np.round(shapely.get_x(geometry[present]), COORDINATE_DECIMALS)
        y[present] = np.round(shapely.get_y(geometry[present]), COORDINATE_DECIMALS)
        table["lon"], table["lat"] = x, y
    else:
        wkt = np.full(len(gdf), None, dtype=object)
        wkt[present] = shapely.to_wkt(geometry[present], rounding_precision=COORDINATE_DECIMALS)
        table["wkt"] = wkt
    table.to_csv(path, index=False, encoding="utf-8-sig")
