"""Reading source files, exporting layers, and importing a file into a store.

Three steps, each usable alone:

* :func:`read_source` reads GeoPackage, GeoJSON, Shapefile (also zipped), GeoParquet, CSV
  (lon/lat columns or a WKT column) and OpenStreetMap extracts (.osm.pbf, .osm) into a
  GeoDataFrame in the file's own CRS, and says which Chinese web-map offset (GCJ-02, BD-09) the
  coordinates carry, if the user said so. Every error
  is a :class:`~geo.errors.RiskmapError` naming the file: missing, empty, malformed JSON, text
  that is not UTF-8 (GBK is recognised, as most Chinese office software writes it), no CRS,
  unknown CRS.
* :func:`~layers.export.write_export` (in :mod:`layers.export`, importable from here) writes a
  layer as GeoPackage, GeoJSON, CSV or GeoParquet.
* :func:`import_layer` chains them: read → reproject to EPSG:4490 removing any GCJ-02/BD-09 offset
  (:func:`geo.crs.to_store_crs`) → validate (:func:`layers.validate.validate_layer`) → one atomic
  :meth:`~layers.store.Store.write`. The store is not touched unless every step succeeded. OSM
  ways imported as ``roads`` have their tags mapped first (:func:`layers.osm.roads_from_osm`), and,
  an extract being cut larger than a city, those outside the store's administrative area are left
  out (noted) rather than refused.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "stations.csv").write_text("station_id,kind,lon,lat\\nF1,micro,119.97,31.81\\n")
>>> gdf, offset = read_source(folder / "stations.csv", crs="gcj02")
>>> gdf.crs.to_epsg(), offset, gdf.geometry.iloc[0].wkt
(4326, 'gcj02', 'POINT (119.97 31.81)')
>>> read_source(folder / "stations.csv")
Traceback (most recent call last):
...
geo.errors.CRSError: .../stations.csv: no CRS declared; pass --crs EPSG:4490|EPSG:4549|wgs84|gcj02|bd09 (the CRS the coordinates are in)
"""

from __future__ import annotations

import io
import json
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from geo.checks import JIANGSU_BOUNDS
from geo.crs import STORE_CRS, WGS84, metric_crs_for, parse_crs, to_store_crs
from geo.errors import CRSError, InputError, RiskmapError
from layers.catalogue import get_schema
from layers.errors import Problem, ValidationError
from layers.export import COORDINATE_DECIMALS, EXPORT_FORMATS, write_export
from layers.osm import is_osm, roads_from_osm
from layers.validate import CRS_HINT, validate_layer

__all__ = [
    "READ_FORMATS", "EXPORT_FORMATS", "COORDINATE_DECIMALS", "OSM_LAYER", "ImportReport", "read_source",
    "write_export", "read_and_validate", "import_layer", "store_extent", "FROM_STORE",
]

#: File suffixes :func:`read_source` reads, and the format each means.
READ_FORMATS = {
    ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".shp": "shp", ".zip": "shp",
    ".parquet": "parquet", ".geoparquet": "parquet", ".csv": "csv", ".pbf": "osm", ".osm": "osm",
}
#: Layer of an OpenStreetMap file (.osm.pbf, .osm) read unless another is named: the ways.
OSM_LAYER = "lines"

#: Coordinate column pairs recognised in a CSV, tried in this order (case and blanks ignored).
COORDINATE_COLUMNS = (("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("x", "y"),
                      ("经度", "纬度"), ("东经", "北纬"))
#: Columns of a CSV taken as WKT geometry when there are no coordinate columns.
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")

_CJK = re.compile(r"[\u4e00-\u9fff]")
_GBK_HINT = "text is not UTF-8 (looks like GBK); re-save as UTF-8 or pass --encoding gbk"
try:
    import pyarrow  # noqa: F401

    _ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a dependency
    _ARROW = False


# ---------------------------------------------------------------------------- small helpers
def _gdal_message(exc: Exception, path: Path) -> str:
    """A GDAL error made readable: no /vsimem/ names, no 'It might help' advice."""
    text = str(exc).strip()
    text = re.sub(r"'?/vsimem/[^\s':]+'?", str(path), text)
    text = re.sub(r"\s*It might help to specify the correct driver.*$", "", text, flags=re.S)
    text = re.sub(r"^(GDAL|OGR)\s*(error|Error)?\s*:?\s*", "", text)
    return text.rstrip(" ;.") or type(exc).__name__


def _decode(raw: bytes, path: Path, encoding: str | None) -> str:
    """Text of a file: UTF-8 (a byte-order mark is fine) unless ``encoding`` says otherwise."""
    if encoding:
        try:
            return raw.decode(encoding)
        except LookupError:
            raise InputError(f"{path}: unknown encoding {encoding!r} (try utf-8, gbk, gb18030)") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: text is not valid {encoding} ({exc.reason} at byte {exc.start})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: {_encoding_hint(raw, exc)}") from None


def _encoding_hint(raw: bytes, exc: UnicodeDecodeError) -> str:
    try:
        if _CJK.search(raw.decode("gb18030")):
            return _GBK_HINT
    except UnicodeDecodeError:
        pass
    return (f"text is not UTF-8 ({exc.reason} at byte {exc.start}); re-save as UTF-8 or pass "
            "--encoding with the file's encoding")


def _check_crs_given(crs, path: Path):
    if crs is None:
        return None, None
    try:
        return parse_crs(crs)
    except CRSError as exc:
        raise CRSError(f"{path}: {exc}") from None


# ---------------------------------------------------------------------------- readers
def _pick_layer(path: Path, layer: str | None, vsi: str | Path | None = None) -> str | None:
    try:
        listed = pyogrio.list_layers(vsi or path)
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{path}: cannot read: {_gdal_message(exc, path)}") from None
    names = [str(n) for n in listed[:, 0]] if len(listed) else []
    if not names:
        raise InputError(f"{path}: no layers (0 features)")
    if layer is not None:
        if layer not in names:
            raise InputError(f"{path}: no layer {layer!r}; layers: {', '.join(names)}")
        return layer
    if len(names) > 1:
        raise InputError(f"{path}: holds {len(names)} layers ({', '.join(names)}); pass --layer NAME")
    return names[0]


def _read_ogr(path: Path, source, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    kwargs = {"encoding": encoding} if encoding else {}
    try:
        with warnings.catch_warnings():
            # A value that is not JSON in a mixed-type GeoJSON column stays text: validation then
            # names the feature and field; the reader's own warning would only confuse the user.
            warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
            return pyogrio.read_dataframe(source, layer=layer, use_arrow=_ARROW, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        raise InputError(f"{path}: cannot read: {_gdal_message(exc, path)}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: {_encoding_hint(exc.object, exc)}") from None
    except PyprojCRSError as exc:
        raise CRSError(f"{path}: unknown CRS in the file ({exc}); {CRS_HINT}") from None


def _read_geojson(path: Path, encoding: str | None) -> gpd.GeoDataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(document, dict) or "type" not in document:
        raise InputError(f"{path}: not GeoJSON (expected an object with a 'type', e.g. a FeatureCollection)")
    if document.get("type") == "FeatureCollection" and not document.get("features"):
        raise InputError(f"{path}: no features (0 features)")
    return _read_ogr(path, io.BytesIO(text.encode("utf-8")), None, None)


def _dbf_encoding(path: Path, encoding: str | None) -> str | None:
    """Encoding to read a shapefile's .dbf with: as given, else sniffed when nothing declares it."""
    if encoding or path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return encoding
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    if len(raw) < 32 or raw[29] != 0:  # the language driver byte declares a code page: GDAL uses it
        return None
    records = raw[int.from_bytes(raw[8:10], "little"):].rstrip(b"\x1a")
    try:
        records.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: {_encoding_hint(records, exc)}") from None
    return "UTF-8"


def _read_parquet(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except ValueError as exc:
        if "geo" in str(exc).lower():
            raise InputError(f"{path}: a Parquet file without GeoParquet metadata; write it with "
                             "GeoDataFrame.to_parquet or use CSV with lon/lat columns") from None
        raise InputError(f"{path}: cannot read as GeoParquet ({exc})") from None
    except OSError as exc:  # pyarrow.ArrowInvalid derives from ValueError, ArrowIOError from OSError
        raise InputError(f"{path}: cannot read as GeoParquet ({exc})") from None


def _find_columns(columns, wanted: tuple[str, ...]) -> dict[str, str]:
    by_key = {str(c).strip().lower(): c for c in columns}
    return {w: by_key[w] for w in wanted if w in by_key}


def _read_csv(path: Path, encoding: str | None, lon: str, lat: str) -> gpd.GeoDataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: no features (the file has no header or rows)") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: malformed CSV ({str(exc).strip()})") from None
    if frame.empty:
        raise InputError(f"{path}: no features (0 rows)")
    frame.columns = [str(c).strip() for c in frame.columns]
    if (lon, lat) != ("lon", "lat"):
        pairs = [(lon, lat)]
    else:
        pairs = list(COORDINATE_COLUMNS)
    for x_name, y_name in pairs:
        found = _find_columns(frame.columns, (x_name.lower(), y_name.lower()))
        if len(found) == 2:
            return _points_from_columns(path, frame, found[x_name.lower()], found[y_name.lower()])
    if (lon, lat) != ("lon", "lat"):
        raise InputError(f"{path}: no columns {lon!r} and {lat!r}; columns: {', '.join(frame.columns)}")
    wkt = _find_columns(frame.columns, WKT_COLUMNS)
    if wkt:
        column = next(iter(wkt.values()))
        return _shapes_from_wkt(path, frame, column)
    raise InputError(
        f"{path}: no coordinate columns; expected lon/lat (or lng/lat, longitude/latitude, x/y, "
        f"经度/纬度) or a WKT column ({', '.join(WKT_COLUMNS)}); columns: {', '.join(frame.columns)}"
    )


def _points_from_columns(path: Path, frame: pd.DataFrame, x_col: str, y_col: str) -> gpd.GeoDataFrame:
    problems = []
    coords = {}
    for column in (x_col, y_col):
        raw = frame[column]
        number = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & number.isna()
        for position in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(f"row {position + 1}", column, f"{raw.iloc[position]!r} is not a number"))
        coords[column] = number
    x, y = coords[x_col], coords[y_col]
    x_blank, y_blank = frame[x_col].isna().to_numpy(), frame[y_col].isna().to_numpy()
    for position in np.flatnonzero(x_blank ^ y_blank):  # one of the pair given: a typo, not "no point"
        missing = x_col if x_blank[position] else y_col
        problems.append(Problem(f"row {position + 1}", missing, "coordinate is missing"))
    if problems:
        problems.sort(key=lambda p: int(p.feature.split()[1]))
        raise ValidationError(path.stem, problems, str(path))
    geometry = shapely.points(x.to_numpy(), y.to_numpy())
    geometry[(x.isna() | y.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(frame.drop(columns=[x_col, y_col]), geometry=geometry)


def _shapes_from_wkt(path: Path, frame: pd.DataFrame, column: str) -> gpd.GeoDataFrame:
    raw = frame[column]
    geometry = shapely.from_wkt(raw.to_numpy(dtype=object), on_invalid="ignore")
    bad = raw.notna().to_numpy() & shapely.is_missing(geometry)
    if bad.any():
        problems = [Problem(f"row {i + 1}", column, f"{str(raw.iloc[i])[:40]!r} is not WKT")
                    for i in np.flatnonzero(bad)]
        raise ValidationError(path.stem, problems, str(path))
    return gpd.GeoDataFrame(frame.drop(columns=[column]), geometry=geometry)


def read_source(
    path: str | PathLike[str],
    *,
    crs=None,
    layer: str | None = None,
    lon: str = "lon",
    lat: str = "lat",
    encoding: str | None = None,
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read a source file into a GeoDataFrame in its own CRS.

    Parameters
    ----------
    path : str or path-like
        ``.gpkg``, ``.geojson``/``.json``, ``.shp`` (or a ``.zip`` holding one), ``.parquet``
        (GeoParquet), ``.csv``, or an OpenStreetMap extract (``.osm.pbf``, ``.osm``: its ways,
        layer :data:`OSM_LAYER`, through GDAL's OSM driver).
    crs : str, optional
        The CRS of the coordinates, as :func:`geo.crs.parse_crs` takes it: ``"EPSG:4549"``,
        ``"4490"``, ``"wgs84"``, ``"gcj02"``, ``"bd09"``… Needed when the file declares none (CSV,
        a shapefile without ``.prj``); overrides the declared one otherwise (noted).
    layer : str, optional
        Layer to read from a file holding several (GeoPackage, zip).
    lon, lat : str
        Coordinate columns of a CSV. With the defaults, ``lng/lat``, ``longitude/latitude``,
        ``x/y``, ``经度/纬度`` and a WKT column are recognised too.
    encoding : str, optional
        Text encoding of a CSV, GeoJSON or shapefile ``.dbf`` (e.g. ``"gbk"``); UTF-8 by default.

    Returns
    -------
    gdf : geopandas.GeoDataFrame
        With a CRS; ``gdf.attrs["notes"]`` lists assumptions made while reading.
    offset : {"gcj02", "bd09", None}
        The web-map offset the coordinates carry (from ``crs``), for :func:`geo.crs.to_store_crs`.

    Raises
    ------
    InputError
        Missing, empty or unreadable file, unknown format, not UTF-8 text.
    CRSError
        No CRS declared and none given, or an unknown one.
    ValidationError
        CSV coordinates that are not numbers, WKT that does not parse (every row listed).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the file itself (e.g. the .shp)")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes)")
    fmt = READ_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown file type {path.suffix!r}; readable: "
                         + ", ".join(sorted(READ_FORMATS)))
    given, offset = _check_crs_given(crs, path)
    notes: list[str] = []
    if fmt == "gpkg":
        gdf = _read_ogr(path, path, _pick_layer(path, layer), None)
    elif fmt == "osm":  # GDAL's OSM driver: points, lines (the ways), multipolygons…
        gdf = _read_ogr(path, path, OSM_LAYER if layer is None else _pick_layer(path, layer), None)
    elif fmt == "geojson":
        gdf = _read_geojson(path, encoding)
    elif fmt == "shp":
        chosen = _pick_layer(path, layer) if path.suffix.lower() == ".zip" else None
        gdf = _read_ogr(path, path, chosen, _dbf_encoding(path, encoding))
    elif fmt == "parquet":
        gdf = _read_parquet(path)
    else:
        gdf = _read_csv(path, encoding, lon, lat)
    if len(gdf) == 0:
        raise InputError(f"{path}: no features (0 features)")
    try:
        declared = gdf.crs
    except PyprojCRSError as exc:  # pragma: no cover - geopandas raises when setting it
        raise CRSError(f"{path}: unknown CRS in the file ({exc}); {CRS_HINT}") from None
    if given is not None:
        if declared is not None and not CRS.from_user_input(declared).equals(given, ignore_axis_order=True):
            notes.append(f"the file declares {declared.to_string()}; --crs {crs} used instead")
        gdf = gdf.set_crs(given, allow_override=True)
    elif declared is None:
        raise CRSError(f"{path}: no CRS declared; {CRS_HINT}")
    elif CRS.from_user_input(declared).equals(WGS84, ignore_axis_order=True):
        notes.append("coordinates taken as WGS84 as the file declares (GeoJSON and OpenStreetMap always "
                     "do); if they were digitised on a Chinese web map pass --crs gcj02 (Amap, Tencent) or "
                     "--crs bd09 (Baidu)")
    gdf.attrs["notes"] = notes
    return gdf, offset


# ---------------------------------------------------------------------------- import
@dataclass
class ImportReport:
    """What :func:`import_layer` did.

    ``notes`` lists what was assumed or changed on the way (CRS taken as WGS84, repaired
    geometries, ignored columns…); ``timings`` gives seconds per phase (read, reproject, validate,
    write).
    """

    layer: str
    source: str
    rows: int
    version: int
    source_crs: str
    offset: str | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def __str__(self) -> str:
        offset = f" ({self.offset} offset removed)" if self.offset else ""
        return (f"imported {self.rows} feature(s) from {self.source} into {self.layer!r} "
                f"(version {self.version}), source CRS {self.source_crs}{offset}, {self.seconds:.2f} s")


def read_and_validate(
    name: str,
    path: str | PathLike[str],
    *,
    crs=None,
    encoding: str | None = None,
    layer: str | None = None,
    lon: str = "lon",
    lat: str = "lat",
    expected_bounds=JIANGSU_BOUNDS,
    admin_area=None,
    on_phase: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read a source file and validate it as layer ``name``; nothing is written.

    Returns the clean frame in EPSG:4490; its ``attrs`` hold ``notes`` (reading and validation
    notes), ``source_crs`` and ``offset``. Raises as :func:`read_source` and
    :func:`~layers.validate.validate_layer` do.
    """
    get_schema(name)  # an unknown layer fails before the file is read
    timings = {} if timings is None else timings
    phase = on_phase or (lambda _: None)
    path = Path(path)
    if READ_FORMATS.get(path.suffix.lower()) == "osm" and name != "roads":
        raise InputError(f"{path}: an OpenStreetMap extract is read as roads only; import it as layer 'roads'")

    started = time.perf_counter()
    phase("read")
    try:
        gdf, offset = read_source(path, crs=crs, layer=layer, lon=lon, lat=lat, encoding=encoding)
    except ValidationError as exc:
        raise ValidationError(name, exc.problems, str(path)) from None
    read_notes = list(gdf.attrs.get("notes", []))
    osm = name == "roads" and is_osm(gdf)
    if osm:  # OSM ways: tags mapped onto the layer, cut at junctions
        try:
            gdf = roads_from_osm(gdf)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        read_notes += gdf.attrs.pop("notes")
    source_crs = gdf.crs.to_string()
    timings["read"] = time.perf_counter() - started

    started = time.perf_counter()
    phase("reproject")
    try:
        gdf = to_store_crs(gdf, source_offset=offset)
    except RiskmapError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    if osm and admin_area is not None:  # an extract is cut larger than the city: keep the city's roads
        gdf, left_out = _within_area(gdf, admin_area)
        if left_out:
            read_notes.append(f"OSM: {left_out} way(s) outside the store's administrative area left out")
        if gdf.empty:
            raise InputError(f"{path}: no road of the extract lies in the store's administrative area")
    timings["reproject"] = time.perf_counter() - started

    started = time.perf_counter()
    phase("validate")
    clean = validate_layer(name, gdf, expected_bounds=expected_bounds, admin_area=admin_area,
                           source=str(path))
    timings["validate"] = time.perf_counter() - started
    clean.attrs.update(notes=read_notes + clean.attrs.get("notes", []), source_crs=source_crs,
                       offset=offset)
    return clean


def _within_area(gdf: gpd.GeoDataFrame, area) -> tuple[gpd.GeoDataFrame, int]:
    """The rows of ``gdf`` meeting ``area`` (same CRS), and how many were left out."""
    shapely.prepare(area)
    meets = shapely.intersects(np.asarray(gdf.geometry.to_numpy(), dtype=object), area)
    return gdf[meets].reset_index(drop=True), int((~meets).sum())


#: ``admin_area`` of :func:`import_layer` meaning "the store's own administrative extent".
FROM_STORE = "store"


def store_extent(store, tolerance_m: float = 100.0):
    """The outline of the administrative areas held in ``store`` (EPSG:4490), widened by a margin.

    The coarsest level held is used (the city, else its districts, else everything), unioned and
    buffered by ``tolerance_m`` metres in a metric CRS, so that a feature drawn a few metres across
    a boundary is not refused. None when the store holds no administrative areas.
    """
    if not store.exists("admin_areas"):
        return None
    areas = store.read("admin_areas")
    if not len(areas):
        return None
    for level in ("city", "district"):
        if (areas["level"] == level).any():
            areas = areas[areas["level"] == level]
            break
    metric = metric_crs_for(areas)
    outline = shapely.union_all(areas.to_crs(metric).geometry.to_numpy()).buffer(tolerance_m)
    return gpd.GeoSeries([outline], crs=metric).to_crs(STORE_CRS).iloc[0]


def import_layer(
    store,
    name: str,
    path: str | PathLike[str],
    *,
    crs=None,
    encoding: str | None = None,
    layer: str | None = None,
    lon: str = "lon",
    lat: str = "lat",
    expected_bounds=JIANGSU_BOUNDS,
    admin_area=FROM_STORE,
    actor: str = "cli",
    on_phase: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import a source file into ``store`` as catalogue layer ``name``.

    read (:func:`read_source`) → reproject to EPSG:4490, removing a GCJ-02/BD-09 offset
    (:func:`geo.crs.to_store_crs`) → validate (:func:`~layers.validate.validate_layer`) → one
    atomic :meth:`Store.write <layers.store.Store.write>` (action ``"import"``). If any step fails
    the store is unchanged.

    Parameters
    ----------
    store : layers.store.Store
    name : str
        Catalogue layer name.
    path : str or path-like
        The source file (see :func:`read_source` for formats, ``crs``, ``layer``, ``lon``, ``lat``
        and ``encoding``).
    expected_bounds, admin_area
        Passed to :func:`~layers.validate.validate_layer`. By default (:data:`FROM_STORE`) the
        administrative area is the store's own (:func:`store_extent`): features lying outside
        the city the store covers are refused by id. None turns that check off; the
        ``admin_areas`` layer itself is never checked against the old outline.
    actor : str
        Recorded in the audit log.
    on_phase : callable, optional
        Called with "read", "reproject", "validate", "write" as each phase starts (progress
        display).

    Returns
    -------
    ImportReport
    """
    timings: dict[str, float] = {}
    path = Path(path)
    if isinstance(admin_area, str) and admin_area == FROM_STORE:
        admin_area = store_extent(store) if name != "admin_areas" else None
    clean = read_and_validate(name, path, crs=crs, encoding=encoding, layer=layer, lon=lon, lat=lat,
                              expected_bounds=expected_bounds, admin_area=admin_area,
                              on_phase=on_phase, timings=timings)
    started = time.perf_counter()
    if on_phase:
        on_phase("write")
    source_crs, offset = clean.attrs["source_crs"], clean.attrs["offset"]
    detail = f"from {path.name} ({source_crs}{', ' + offset + ' offset removed' if offset else ''})"
    info = store.write(name, clean, actor=actor, action="import", detail=detail)
    timings["write"] = time.perf_counter() - started
    return ImportReport(layer=name, source=str(path), rows=info.rows, version=info.version,
                        source_crs=source_crs, offset=offset, notes=list(clean.attrs["notes"]),
                        timings=timings)
