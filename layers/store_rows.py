"""Rows between frames and backends: checks, logical column types, values, JSON documents.

The backends of :mod:`layers.store` store the same six **logical types** — ``str``, ``int``,
``float``, ``bool``, ``date``, ``datetime`` — each in its database's own type (GeoPackage: TEXT,
INTEGER, REAL, BOOLEAN, DATE, DATETIME; PostgreSQL: text, bigint, double precision, boolean, date,
timestamp). This module does, once for every backend:

* :func:`prepare_layer` — check a GeoDataFrame can be stored (CRS, layer name, reserved column
  names, unique non-null ids) and turn it into a :class:`PreparedRows`: column names, logical
  types, plain Python values per column, WKB geometries and their bounds;
* :func:`frame_from_raw` — turn what a backend read (:class:`RawRows`) back into a GeoDataFrame
  with the dtypes of the logical types, then cast catalogue layers to their schema;
* :func:`row_documents` — the JSON-able documents of rows that audit entries and retired rows
  keep (attributes, ``geometry`` as WKT at full precision, system columns).

>>> import geopandas, shapely
>>> frame = geopandas.GeoDataFrame({"station_id": ["F1"], "staff": [3]},
...                                geometry=[shapely.Point(119.97, 31.81)], crs="EPSG:4490")
>>> rows = prepare_layer("rescue_stations", frame, id_field="station_id")
>>> rows.types, rows.values["staff"], rows.ids
({'station_id': 'str', 'staff': 'int'}, [3], ['F1'])
>>> row_documents(rows.columns, rows.values, rows.wkb)[0]
{'station_id': 'F1', 'staff': 3, 'geometry': 'POINT (119.97 31.81)'}
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.errors import CRSError, InputError
from layers.errors import Problem, ValidationError
from layers.store_records import RETIRED_COLUMNS, STORE_CRS, SYSTEM_COLUMNS

__all__ = [
    "LOGICAL_TYPES", "RESERVED_COLUMNS", "PreparedRows", "RawRows", "check_name", "now",
    "prepare_layer", "frame_from_raw", "row_documents", "documents_json", "json_value",
]

#: The column types every backend stores.
LOGICAL_TYPES = ("str", "int", "float", "bool", "date", "datetime")
#: Column names a layer may not use: the backends' own.
RESERVED_COLUMNS = frozenset({"fid", "geom", *SYSTEM_COLUMNS, *RETIRED_COLUMNS})

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_RESERVED_PREFIXES = ("riskmap_", "gpkg_", "rtree_", "sqlite_", "pg_")
_FIELD_TYPES = {"str": "str", "json": "str", "int": "int", "float": "float", "bool": "bool", "date": "date"}


def now() -> str:
    """The time now as stored: ISO 8601, UTC, milliseconds (``2026-11-25T10:00:00.000+00:00``)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def check_name(name: str) -> None:
    """Refuse a layer name that is not ``[a-z][a-z0-9_]*`` or starts with a reserved prefix."""
    if not isinstance(name, str) or not _NAME.match(name) or name.startswith(_RESERVED_PREFIXES):
        raise InputError(
            f"invalid layer name {name!r}: use lower-case letters, digits and '_', starting with a "
            f"letter, not starting with {', '.join(_RESERVED_PREFIXES)}"
        )


@dataclass
class PreparedRows:
    """A frame made ready for a backend.

    ``series[column]`` is the column as a pandas Series whose dtype matches its logical type
    (:func:`_fits`), checked and converted once; ``values[column]`` the same as plain Python values
    (str, int, float, bool, :class:`datetime.date`, naive UTC :class:`datetime.datetime`, or None),
    made on first use — a bulk write hands the typed columns to a C writer and never needs them.
    ``wkb`` is the ISO WKB of each geometry (None for a missing one); ``bounds`` an (n, 4) array
    ``minx, miny, maxx, maxy`` (NaN for a missing or empty geometry); ``ids`` the rows' ids as text
    (None without an id field).
    """

    name: str
    columns: list[str]
    types: dict[str, str]
    series: dict[str, pd.Series]
    wkb: list
    bounds: np.ndarray
    geometry_type: str
    has_z: bool
    id_field: str | None = None
    ids: list[str] | None = None
    _values: dict[str, list] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.wkb)

    @property
    def values(self) -> dict[str, list]:
        """Plain Python values per column."""
        if self._values is None:
            self._values = {c: _python_values(self.series[c], self.types[c]) for c in self.columns}
        return self._values

    def take(self, positions) -> PreparedRows:
        """The rows at ``positions`` (a list of row numbers)."""
        positions = list(positions)
        return PreparedRows(
            self.name, self.columns, self.types,
            {c: v.iloc[positions].reset_index(drop=True) for c, v in self.series.items()},
            [self.wkb[i] for i in positions], self.bounds[positions], self.geometry_type, self.has_z,
            self.id_field, [self.ids[i] for i in positions] if self.ids is not None else None)

    def arrow(self, system: dict[str, list]):
        """A pyarrow Table of the rows (``geometry`` as WKB) and ``system`` columns, typed exactly."""
        import pyarrow as pa

        arrays = {c: _arrow_array(self.series[c], self.types[c]) for c in self.columns}
        arrays["row_version"] = pa.array(system["row_version"], type=pa.int64())
        arrays["updated_at"] = pa.array(system["updated_at"], type=pa.string())
        arrays["updated_by"] = pa.array(system["updated_by"], type=pa.string())
        arrays["geometry"] = pa.array(self.wkb, type=pa.binary())
        return pa.table(arrays)


@dataclass
class RawRows:
    """Rows as a backend read them: values per column (in the backend's Python types) and WKB."""

    columns: list[str]
    types: dict[str, str]
    values: dict[str, list] = field(default_factory=dict)
    wkb: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.wkb)


# ---------------------------------------------------------------------------- frames → rows
def _infer_type(values: pd.Series) -> str:
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if dtype == object:
        kind = pd.api.types.infer_dtype(values, skipna=True)
        return {"integer": "int", "floating": "float", "mixed-integer-float": "float", "boolean": "bool",
                "date": "date", "datetime": "datetime", "datetime64": "datetime"}.get(kind, "str")
    return "str"


def _text(value) -> str:
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else str(value)


def _fits(values: pd.Series, kind: str) -> bool:
    """Whether the dtype of ``values`` already is one of logical type ``kind``'s (no conversion)."""
    dtype = values.dtype
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    if kind == "float":
        return pd.api.types.is_float_dtype(dtype)
    if kind in ("date", "datetime"):
        return pd.api.types.is_datetime64_dtype(dtype)
    if pd.api.types.is_string_dtype(dtype) and dtype != object:
        return True
    return dtype == object and all(v is None or type(v) is str
                                   for v in values.to_numpy(dtype=object, na_value=None).tolist())


def _python_values(values: pd.Series, kind: str) -> list:
    """Plain Python values of a column that :func:`_fits` ``kind``, at C speed (a one-row edit pays
    microseconds per column, not pandas' overhead)."""
    if kind in ("date", "datetime"):
        # numpy turns datetime64 into datetime.date / datetime.datetime (NaT into None) in C
        return values.to_numpy().astype("datetime64[D]" if kind == "date" else "datetime64[us]").tolist()
    if kind == "float":
        return [None if v != v else v for v in values.to_numpy(dtype="float64", na_value=np.nan).tolist()]
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) or values.dtype == object:
        return values.to_numpy(dtype=object, na_value=None).tolist()
    return values.to_numpy().tolist()


def _arrow_array(values: pd.Series, kind: str):
    """A pyarrow array of a column that :func:`_fits` ``kind``, of the type GDAL maps to the column's."""
    import pyarrow as pa

    if kind == "date":
        return pa.array(values.to_numpy().astype("datetime64[D]"), type=pa.date32(), from_pandas=True)
    if kind == "str" and values.dtype == object:
        return pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())
    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
             "datetime": pa.timestamp("ms")}
    return pa.array(values, type=types[kind], from_pandas=True)


def _to_python(name: str, column: str, values: pd.Series, kind: str, labels) -> list:
    """``values`` as plain Python values of logical type ``kind``; ValidationError naming bad rows."""
    if _fits(values, kind):
        return _python_values(values, kind)
    missing = values.isna().to_numpy(dtype=bool)
    present = ~missing
    out = np.full(len(values), None, dtype=object)
    if kind == "str":
        text = values.astype(object).to_numpy(dtype=object)
        out[present] = [_text(v) for v in text[present]]
    elif kind == "bool":
        if pd.api.types.is_bool_dtype(values.dtype):
            flags = values.astype("boolean")
        else:
            flags = pd.to_numeric(values.astype(object).where(present), errors="coerce")
            _refuse(name, column, present & ~flags.isin([0, 1]).to_numpy(), labels, values, "a boolean")
        out[present] = [bool(v) for v in flags[present].tolist()]
    elif kind in ("int", "float"):
        source = values.astype("Int64") if pd.api.types.is_bool_dtype(values.dtype) else values
        if pd.api.types.is_integer_dtype(source.dtype):
            caster = int if kind == "int" else float
            out[present] = [caster(v) for v in source[present].tolist()]
            return out.tolist()
        numbers = pd.to_numeric(source.astype(object).where(present), errors="coerce").astype("float64")
        bad = present & numbers.isna().to_numpy()
        if kind == "int":
            bad |= present & ((numbers % 1 != 0) | (numbers.abs() >= 2**53)).fillna(False).to_numpy(bool)
            exact = pd.to_numeric(source.astype(object).where(present & ~bad), errors="coerce")
            out[present & ~bad] = [int(v) for v in exact[present & ~bad].tolist()]
        else:
            out[present & ~bad] = numbers[present & ~bad].tolist()
        _refuse(name, column, bad, labels, values, "an integer" if kind == "int" else "a number")
    else:  # date, datetime
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            stamps = values
        else:
            text = values.astype(object).where(present).map(
                lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)) else v,
                na_action="ignore")
            stamps = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        _refuse(name, column, present & stamps.isna().to_numpy(), labels, values,
                "a date (YYYY-MM-DD)" if kind == "date" else "a date and time (ISO 8601)")
        if present.any():
            chosen = stamps[present].dt.to_pydatetime()
            out[present] = [v.date() for v in chosen] if kind == "date" else list(chosen)
    return out.tolist()


def _refuse(name: str, column: str, bad: np.ndarray, labels, values: pd.Series, what: str) -> None:
    if np.any(bad):
        raise ValidationError(name, [Problem(str(labels[i]), column, f"{values.iloc[i]!r} is not {what}")
                                     for i in np.flatnonzero(bad)])


def prepare_layer(name: str, gdf, *, id_field: str | None = None, types: dict[str, str] | None = None,
                  skip: frozenset[str] = frozenset()) -> PreparedRows:
    """Check ``gdf`` can be stored as layer ``name`` and return its :class:`PreparedRows`.

    Parameters
    ----------
    name : str
        The layer name (checked by :func:`check_name`).
    gdf : geopandas.GeoDataFrame
        In EPSG:4490. Lists and dicts in a column are stored as JSON text.
    id_field : str, optional
        The column of stable ids: every value present and unique (the store's row identity).
    types : dict, optional
        Logical type per column (a table that exists already); inferred from the dtypes (or the
        catalogue schema) when not given. A value that does not fit raises ValidationError naming
        the row's id and the column.
    skip : set of str
        Columns to leave out (the system columns of a frame read with ``versions=True``).

    Raises
    ------
    InputError, CRSError, ValidationError
    """
    check_name(name)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"layer {name!r}: expected a GeoDataFrame, got {type(gdf).__name__}")
    try:
        geometry_name = gdf.geometry.name
    except AttributeError:
        raise InputError(f"layer {name!r}: the GeoDataFrame has no active geometry column") from None
    if gdf.crs is None:
        raise CRSError(f"layer {name!r} has no CRS; the store holds {STORE_CRS} (CGCS2000): set "
                       f"the CRS the data are in, then reproject with geo.crs.to_store_crs")
    if not CRS.from_user_input(gdf.crs).equals(STORE_CRS, ignore_axis_order=True):
        raise CRSError(f"layer {name!r} is in {gdf.crs.to_string()} but the store holds {STORE_CRS} "
                       f"(CGCS2000); reproject with geo.crs.to_store_crs(gdf)")
    frame = {str(c): series for c, series in pd.DataFrame(gdf, copy=False).items()
             if c != geometry_name and c not in skip}
    columns = list(frame)
    bad = [c for c in columns if not _COLUMN.match(c) or c.lower() in RESERVED_COLUMNS]
    if bad:
        raise InputError(f"layer {name!r}: column name(s) {', '.join(map(repr, bad))} cannot be stored "
                         f"(letters, digits and '_'; {', '.join(sorted(RESERVED_COLUMNS))} are the store's own)")
    if len(set(c.lower() for c in columns)) != len(columns):
        raise InputError(f"layer {name!r}: column names differ only by case")
    ids = None
    if id_field is not None:
        if id_field not in columns:
            raise InputError(f"layer {name!r}: no id column {id_field!r} (its rows' stable ids)")
        ids = _ids(name, id_field, frame[id_field])
    labels = ids if ids is not None else [f"row {i + 1}" for i in range(len(gdf))]
    if types is None:
        types = _types_for(name, frame)
    else:
        missing = [c for c in types if c not in columns]
        extra = [c for c in columns if c not in types]
        if missing or extra:
            raise InputError(f"layer {name!r}: the rows must have the layer's columns"
                             + (f"; missing: {', '.join(missing)}" if missing else "")
                             + (f"; unknown: {', '.join(extra)}" if extra else ""))
        columns = list(types)
    series = {c: (frame[c].reset_index(drop=True) if _fits(frame[c], types[c])
                  else _series(_to_python(name, c, frame[c], types[c], labels), types[c])) for c in columns}
    geometry = np.asarray(gdf.geometry.array, dtype=object)
    present = ~shapely.is_missing(geometry)
    wkb = np.full(len(geometry), None, dtype=object)
    if present.any():
        wkb[present] = shapely.to_wkb(geometry[present], byte_order=1, flavor="iso")
    bounds = np.full((len(geometry), 4), np.nan)
    if present.any():
        bounds[present] = shapely.bounds(geometry[present])
    kinds = set(shapely.get_type_id(geometry[present]).tolist())
    names = {0: "POINT", 1: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING",
             6: "MULTIPOLYGON", 7: "GEOMETRYCOLLECTION"}
    geometry_type = names.get(kinds.pop(), "GEOMETRY") if len(kinds) == 1 else "GEOMETRY"
    has_z = bool(present.any() and shapely.has_z(geometry[present]).any())
    return PreparedRows(name, columns, {c: types[c] for c in columns}, series, wkb.tolist(), bounds,
                        geometry_type, has_z, id_field, ids)


def _id_text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if type(value) is str else str(value)


def _ids(name: str, id_field: str, raw: pd.Series) -> list[str]:
    text = raw.to_numpy(dtype=object, na_value=None).tolist()
    if pd.api.types.is_string_dtype(raw.dtype) and raw.dtype != object:
        if not raw.isna().any() and not raw.duplicated().any():  # the usual case, checked in C
            return text
    else:
        text = [_id_text(v) for v in text]
    problems = [Problem(f"row {i + 1}", id_field, "id is missing") for i, v in enumerate(text) if v is None]
    counts = Counter(v for v in text if v is not None)
    problems += [Problem(value, id_field, f"id is used by {count} rows") for value, count in counts.items()
                 if count > 1]
    if problems:
        raise ValidationError(name, problems)
    return text


def _types_for(name: str, frame: dict[str, pd.Series]) -> dict[str, str]:
    from layers.catalogue import CATALOGUE

    schema = CATALOGUE.get(name)
    declared = {f.name: _FIELD_TYPES[f.type] for f in schema.fields} if schema is not None else {}
    return {c: declared.get(c) or _infer_type(frame[c]) for c in frame}


# ---------------------------------------------------------------------------- rows → frames
_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def _series(values, kind: str) -> pd.Series:
    """A Series of logical type ``kind`` from values as a backend (or JSON) gives them (a list or an
    object array; None for a missing value), converted whole-column."""
    if kind == "str":
        return pd.Series(values, dtype="str" if _PANDAS_3 else object)
    array = values if isinstance(values, np.ndarray) else np.array(values, dtype=object)
    missing = pd.isna(array)
    if kind == "float":
        return pd.Series(np.where(missing, np.nan, array).astype("float64"))
    if kind in ("int", "bool"):
        if not missing.any():
            return pd.Series(array.astype("int64" if kind == "int" else "bool"))
        return pd.Series(pd.array(array, dtype="Int64" if kind == "int" else "boolean"))
    present = array[~missing]
    if len(present) and not isinstance(present[0], str):  # date / datetime objects (PostgreSQL)
        array = np.array([v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in array], dtype=object)
    stamps = pd.to_datetime(pd.Series(array, dtype=object), errors="coerce", format="ISO8601", utc=True)
    return stamps.dt.tz_localize(None).astype("datetime64[ms]")


def frame_from_raw(name: str, raw: RawRows, *, extra: dict[str, list] | None = None) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4490) of ``raw``; a catalogue layer is cast to its schema's dtypes.

    ``extra`` columns (system columns) are added after the attributes, as given.
    """
    data = {c: _series(raw.values[c], raw.types[c]) for c in raw.columns}
    for column, values in (extra or {}).items():
        data[column] = pd.Series(values, dtype=object) if column not in ("row_version",) else \
            pd.Series(values, dtype="Int64")
    wkb = np.asarray(raw.wkb, dtype=object)
    geometry = shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)
    frame = gpd.GeoDataFrame(pd.DataFrame(data, index=pd.RangeIndex(len(wkb))),
                             geometry=gpd.GeoSeries(geometry, crs=STORE_CRS), crs=STORE_CRS)
    from layers.catalogue import CATALOGUE

    if name in CATALOGUE:
        from layers.validate import cast_to_schema

        frame = cast_to_schema(frame, CATALOGUE[name])
    return frame


# ---------------------------------------------------------------------------- JSON documents
def json_value(value):
    """A stored value as JSON: dates in ISO 8601, numpy scalars as Python ones, NaN as None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def row_documents(columns: list[str], values: dict[str, list], wkb: list,
                  system: dict[str, list] | None = None) -> list[dict]:
    """One JSON-able dict per row: the attributes, ``geometry`` (WKT, full precision), then ``system``."""
    n = len(wkb)
    array = np.asarray(wkb, dtype=object)
    wkt = np.full(n, None, dtype=object)
    present = np.array([w is not None for w in wkb], dtype=bool)
    if present.any():
        wkt[present] = shapely.to_wkt(shapely.from_wkb(array[present]), rounding_precision=-1)
    docs = []
    for i in range(n):
        doc = {c: json_value(values[c][i]) for c in columns}
        doc["geometry"] = wkt[i]
        for key, column in (system or {}).items():
            doc[key] = json_value(column[i])
        docs.append(doc)
    return docs


def documents_json(docs: list[dict | None]) -> list[str | None]:
    """The documents as compact JSON text (Chinese kept as is)."""
    return [None if d is None else json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in docs]
