"""Validate an input layer against its catalogue schema, reporting every problem at once.

:func:`validate_layer` is the gate between a file and the store. It either returns a clean frame
(the schema's columns in order, values coerced to the field types, defaults filled, invalid
geometries repaired, in EPSG:4490) or raises :class:`~layers.errors.ValidationError` listing
**every** problem found, each naming the feature (its id, or ``row N`` counted from 1 when the id
is missing; ``all features`` for a problem of the whole layer) and the field (``geometry`` for
geometry problems, ``crs`` for CRS problems). A planner fixing a spreadsheet of 300 plots wants
the whole list, not one error per attempt.

All checks are vectorised over whole columns (pandas, shapely); only JSON fields are parsed value
by value, there being no vectorised JSON parser.

Examples
--------
>>> import geopandas
>>> from shapely import Point
>>> stations = geopandas.GeoDataFrame(
...     {"station_id": ["F1", "F2", None], "kind": ["micro", "tank", "small"], "staff": [3, "x", 2]},
...     geometry=[Point(119.97, 31.81), Point(119.98, 31.80), Point(119.96, 31.79)], crs="EPSG:4490")
>>> try:
...     validate_layer("rescue_stations", stations)
... except ValidationError as error:
...     for problem in error.problems:
...         print(problem)
F2: kind: 'tank' is not one of: special_service, standard_1, standard_2, small, micro, professional_team
F2: staff: 'x' is not an integer
row 3: station_id: required value is missing
>>> clean = validate_layer("rescue_stations", stations.iloc[:1])
>>> clean.columns.tolist()
['station_id', 'name', 'kind', 'vehicles', 'staff', 'town', 'generated', 'geometry']
>>> clean[["vehicles", "staff", "generated"]].to_dict("records")
[{'vehicles': 0, 'staff': 3, 'generated': False}]
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.checks import JIANGSU_BOUNDS, check_coordinates
from geo.crs import STORE_CRS, to_store_crs
from geo.errors import InputError
from geo.validity import geometry_type_problems, repair_geometries
from layers.catalogue import get_schema
from layers.catalogue.hazard_sites import MAX_INVENTORY_T
from layers.errors import Problem, ValidationError
from layers.schema import Field, LayerSchema
from layers.substances import default_table

__all__ = ["validate_layer", "cast_to_schema", "LAYER_WIDE", "CRS_HINT"]

#: How a problem of the whole layer (empty layer, missing column, no CRS) names its "feature".
LAYER_WIDE = "all features"
#: The fix offered when a layer declares no CRS.
CRS_HINT = "pass --crs EPSG:4490|EPSG:4549|wgs84|gcj02|bd09 (the CRS the coordinates are in)"

_BOOL_WORDS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "1.0", "是", "有", "√", "✓"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "0.0", "否", "无", "×", "✗"), False),
}
_TYPE_WORDS = {"int": "an integer", "float": "a number", "bool": "a boolean (true/false, 1/0, 是/否)",
               "date": "a date (YYYY-MM-DD)"}
_STR_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else object


class _Collector:
    """Problems gathered as whole arrays: (row positions, field, messages, feature labels)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, str, np.ndarray, np.ndarray | None]] = []

    def rows(self, mask, field: str, messages) -> None:
        """Record a problem in ``field`` for each row where ``mask`` is True.

        ``messages`` is one string, an array aligned with all rows, or a function returning
        such an array (called only when there is a problem, to keep the happy path cheap).
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        if callable(messages):
            messages = messages()
        if isinstance(messages, str):
            text = np.full(len(positions), messages, dtype=object)
        else:
            text = np.asarray(messages, dtype=object)[positions]
        self.parts.append((positions, field, text, None))

    def labelled(self, positions, field: str, messages, labels) -> None:
        """Record problems at ``positions`` that name their feature with explicit ``labels``."""
        self.parts.append((np.asarray(positions), field, np.asarray(messages, dtype=object),
                           np.asarray(labels, dtype=object)))

    def layer(self, field: str, message: str) -> None:
        """Record a problem of the whole layer."""
        self.parts.append((np.array([-1]), field, np.array([message], dtype=object),
                           np.array([LAYER_WIDE], dtype=object)))

    def __bool__(self) -> bool:
        return bool(self.parts)

    def problems(self, labels: np.ndarray, field_order: dict[str, int]) -> list[Problem]:
        rows = []
        for positions, field, messages, own in self.parts:
            names = own if own is not None else labels[positions]
            order = field_order.get(field, len(field_order))
            rows.extend(zip(positions.tolist(), [order] * len(positions), names, [field] * len(positions),
                            messages))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [Problem(str(name), field, str(message)) for _, _, name, field, message in rows]


# ---------------------------------------------------------------------------- column helpers
def _quoted(values: pd.Series) -> pd.Series:
    """``'value'`` for each value, as text (for messages)."""
    return "'" + values.astype(object).astype(str) + "'"


def _strip_text(values: pd.Series) -> pd.Series:
    """Strip surrounding blanks of the string values, leave other values as they are."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        try:
            stripped = values.str.strip()
        except AttributeError:  # object column without any string
            return values
        return stripped.where(stripped.notna(), values)
    return values


def _missing(values: pd.Series) -> np.ndarray:
    """True where a value is null or blank text."""
    missing = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        missing |= (values.astype(object) == "").to_numpy(dtype=bool)
    return missing


def _as_text(values: pd.Series) -> pd.Series:
    """Values as text; integral floats lose their ``.0`` (ids read as numbers stay ids)."""
    if pd.api.types.is_float_dtype(values.dtype):
        integral = values.notna() & (values % 1 == 0) & (values.abs() < 2**53)
        text = values.astype(object).astype(str)
        text[integral] = values[integral].astype("int64").astype(str)
        return text.astype(object).where(values.notna(), None)
    return values.astype(object).astype(str).astype(object).where(values.notna(), None)


def _coerce(field: Field, values: pd.Series, present: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Coerce ``values`` to ``field``'s type; return (coerced values, mask of uncoercible ones)."""
    if field.type in ("str", "json"):
        return _as_text(values), np.zeros(len(values), dtype=bool)
    if field.type in ("int", "float"):
        if pd.api.types.is_bool_dtype(values.dtype):
            values = values.astype(object)
        numbers = pd.to_numeric(values.where(present), errors="coerce")
        numbers = numbers.astype("float64") if not pd.api.types.is_float_dtype(numbers) else numbers
        bad = present & numbers.isna().to_numpy()
        if field.type == "int":
            finite = numbers.notna() & np.isfinite(numbers.fillna(0))
            bad |= present & (~finite.to_numpy() | ((numbers % 1 != 0) & numbers.notna()).to_numpy()
                              | (numbers.abs() >= 2**53).to_numpy())
        return numbers.where(~bad), bad
    if field.type == "bool":
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype("boolean"), np.zeros(len(values), dtype=bool)
        words = _as_text(values).str.strip().str.lower().map(_BOOL_WORDS)
        bad = present & words.isna().to_numpy()
        return words, bad
    if field.type == "date":
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            dates = values
        else:
            text = _as_text(values).str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "")
            dates = pd.to_datetime(text, errors="coerce", format="ISO8601")
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        dates = dates.dt.normalize()
        return dates, present & dates.isna().to_numpy()
    raise InputError(f"field {field.name!r} has an unknown type {field.type!r}")  # pragma: no cover


_SET_SEPARATORS = r"\s*[,;，；、|]+\s*"


def _code_sets(field: Field, text: pd.Series, lookup: dict) -> tuple[pd.Series, pd.Series]:
    """Codes of a ``multiple`` field: (canonical "a,b" text, first unknown item or None) per row.

    Items are split on commas, semicolons, 、 or bars (not spaces: labels hold them), matched like single choices (code,
    label, any case), deduplicated and put in the order of the field's choices. A row with an
    item that is no choice keeps that item in the second series (for the error message).
    """
    order = {value: i for i, value in enumerate(field.values)}
    items = text.str.strip().str.split(_SET_SEPARATORS, regex=True).explode()
    items = items[items.notna() & (items != "")]
    codes = items.str.lower().map(lookup)
    unknown = items[codes.isna()].groupby(level=0).first().reindex(text.index)
    known = codes.dropna()
    ranked = known.map(order)
    table = pd.DataFrame({"row": known.index, "code": known.to_numpy(), "rank": ranked.to_numpy()})
    joined = (table.drop_duplicates(["row", "code"]).sort_values(["row", "rank"], kind="stable")
              .groupby("row")["code"].agg(",".join))
    return joined.reindex(text.index).where(text.notna()).astype(object), unknown


def _cast(field: Field, values: pd.Series) -> pd.Series:
    """Give a coerced column its final dtype."""
    if field.dtype == "str":
        if _STR_DTYPE == "str":
            return values.astype("str")
        return values.astype(object).where(values.notna(), None)
    if field.dtype == "Int64":
        return values.astype("float64").round().astype("Int64")
    if field.dtype.startswith("datetime64"):
        return pd.to_datetime(values).astype(field.dtype)
    return values.astype(field.dtype)


def cast_to_schema(frame, schema: LayerSchema):
    """Give the columns of ``frame`` that are fields of ``schema`` their dtypes, without checks.

    For frames that were validated once and lost their dtypes on the way (a GeoPackage gives
    back an integer column holding NULLs as floats, a boolean as 0/1). Columns that cannot be
    cast are left as they are.

    >>> import pandas as pd
    >>> from layers.catalogue import get_schema
    >>> cast_to_schema(pd.DataFrame({"staff": [3.0, None]}), get_schema("rescue_stations")).dtypes.tolist()
    [Int64Dtype()]
    """
    out = frame.copy()
    for field in schema.fields:
        if field.name in out.columns and str(out[field.name].dtype) != field.dtype:
            try:
                out[field.name] = _cast(field, out[field.name])
            except (TypeError, ValueError):
                continue
    return out


# ---------------------------------------------------------------------------- JSON fields
_JSON_KINDS = {dict: "object", list: "array", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}


def _check_inventory(document) -> str | None:
    """hazard_sites.inventory: a list of objects, each with a name and quantity_t >= 0 (tonnes)."""
    if not isinstance(document, list):
        return (f"must be a JSON list of objects with name and quantity_t, got a JSON "
                f"{_JSON_KINDS.get(type(document), type(document).__name__)}")
    issues = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            issues.append(f"item {number} is not an object")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            issues.append(f"item {number} has no name")
        quantity = item.get("quantity_t")
        if quantity is None:
            issues.append(f"item {number} has no quantity_t")
        elif isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or math.isnan(quantity):
            issues.append(f"item {number}: quantity_t {quantity!r} is not a number")
        elif quantity < 0:
            issues.append(f"item {number}: quantity_t {quantity} is negative")
        elif not quantity <= MAX_INVENTORY_T:
            issues.append(f"item {number}: quantity_t {quantity:g} is above the maximum {MAX_INVENTORY_T:g} t")
    return "; ".join(issues) or None


def _check_inventory_substances(documents: list[list[dict]]) -> list[str | None]:
    """hazard_sites.inventory: every item matches GB 18218-2018 Table 1 or declares a Table 2
    category (:mod:`layers.substances`, tables of the shipped rule set), all items of all sites
    matched at once. One message per document (None when every item matches)."""
    where = [(d, n) for d, document in enumerate(documents) for n in range(1, len(document) + 1)]
    if not where:
        return [None] * len(documents)
    items = [item for document in documents for item in document]
    table = default_table()
    found = table.match(pd.Series([i.get("name") for i in items], dtype=object),
                        pd.Series([i.get("cas") for i in items], dtype=object),
                        pd.Series([i.get("ghs") for i in items], dtype=object))
    bad = found["problem"].notna().to_numpy()
    if not bad.any():
        return [None] * len(documents)
    listed = found["problem_kind"].isin(["ghs", "unmatched"]).to_numpy()
    text = ("item " + pd.Series([str(n) for _, n in where]) + ": " + found["problem"].astype(str)
            + np.where(listed, '; "ghs" is one of: ' + table.category_list(), ""))
    owner = np.array([d for d, _ in where])
    messages: list[str | None] = [None] * len(documents)
    for d, message in pd.Series(text[bad].to_numpy(), index=owner[bad]).groupby(level=0).agg("; ".join).items():
        messages[d] = message
    return messages


#: Extra checks of parsed JSON fields, by (layer, field): document -> message or None.
JSON_CHECKS: dict[tuple[str, str], Callable[[object], str | None]] = {
    ("hazard_sites", "inventory"): _check_inventory,
}
#: Checks of a whole column of parsed JSON documents that passed :data:`JSON_CHECKS`, by (layer,
#: field): documents -> one message or None each (vectorised over every document of the layer).
JSON_COLUMN_CHECKS: dict[tuple[str, str], Callable[[list], list[str | None]]] = {
    ("hazard_sites", "inventory"): _check_inventory_substances,
}


def _check_json(layer: str, field: Field, raw: pd.Series, present: np.ndarray):
    """Parse JSON text (or serialise lists/dicts); return (text column, error messages or None)."""
    check = JSON_CHECKS.get((layer, field.name))
    text = np.full(len(raw), None, dtype=object)
    errors = np.full(len(raw), None, dtype=object)
    documents = np.full(len(raw), None, dtype=object)
    values = raw.to_numpy(dtype=object)
    for i in np.flatnonzero(present):  # no vectorised JSON parser exists
        value = values[i]
        if isinstance(value, (list, dict)):
            documents[i], text[i] = value, json.dumps(value, ensure_ascii=False)
        else:
            text[i] = str(value).strip()
            try:
                documents[i] = json.loads(text[i])
            except json.JSONDecodeError as exc:
                errors[i] = f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
                continue
        if check is not None:
            errors[i] = check(documents[i])
    column_check = JSON_COLUMN_CHECKS.get((layer, field.name))
    if column_check is not None:
        sound = np.flatnonzero(present & pd.isna(errors))
        errors[sound] = np.asarray(column_check(list(documents[sound])), dtype=object)
    return pd.Series(text, index=raw.index), errors


# ---------------------------------------------------------------------------- the validator
def _match_columns(frame: pd.DataFrame, schema: LayerSchema, notes: list[str]) -> pd.DataFrame:
    """Rename columns that match a field but for case, blanks or a shapefile's 10-character
    truncation; note the extra columns ignored."""
    geometry = frame.geometry.name
    wanted = {name.lower(): name for name in schema.field_names}
    renames = {}
    for column in frame.columns:
        if column == geometry or column in schema.field_names:
            continue
        key = str(column).strip().lower()
        target = wanted.get(key)
        if target is None and len(key) == 10:  # a shapefile truncates field names to 10 characters
            candidates = [full for low, full in wanted.items() if low.startswith(key)]
            target = candidates[0] if len(candidates) == 1 else None
        if target is not None and target not in frame.columns and target not in renames.values():
            renames[column] = target
    if renames:
        notes.append("columns renamed to the schema's names: "
                     + ", ".join(f"{a!r} -> {b!r}" for a, b in renames.items()))
        frame = frame.rename(columns=renames)
    extra = [str(c) for c in frame.columns if c != geometry and c not in schema.field_names]
    if extra:
        notes.append(f"columns not in the {schema.name} schema were ignored: {', '.join(extra)}")
    return frame


def _labels(ids: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Feature labels (id, ``row N`` where missing, ``id (row N)`` where the id is repeated)."""
    rows = "row " + pd.Series(np.arange(1, n + 1)).astype(str)
    if ids is None:
        return rows.to_numpy(dtype=object), np.zeros(n, dtype=bool)
    ids = ids.reset_index(drop=True)
    has_id = ids.notna()
    duplicated = (ids.duplicated(keep=False) & has_id).to_numpy()
    labels = ids.astype(object).where(has_id, rows)
    labels[duplicated] = ids[duplicated].astype(str) + " (" + rows[duplicated] + ")"
    return labels.to_numpy(dtype=object), duplicated


def validate_layer(
    name: str,
    gdf: gpd.GeoDataFrame,
    *,
    expected_bounds=JIANGSU_BOUNDS,
    admin_area=None,
    source: str = "",
) -> gpd.GeoDataFrame:
    """Check a layer against its catalogue schema; return it cleaned or raise with every problem.

    Parameters
    ----------
    name : str
        Catalogue layer name (:data:`layers.catalogue.CATALOGUE`).
    gdf : geopandas.GeoDataFrame
        The features as read. A CRS other than EPSG:4490 is reprojected (and noted); no CRS at all
        is a problem.
    expected_bounds : tuple of 4 floats or None
        ``(west, south, east, north)`` in degrees where features are expected (Jiangsu by
        default); features outside, or whose latitude and longitude look swapped, are problems.
        None skips the check.
    admin_area : shapely geometry, optional
        In EPSG:4490; a feature that does not meet it is a problem.
    source : str
        Where the data came from, quoted in the error.

    Returns
    -------
    geopandas.GeoDataFrame
        The schema's columns in order with their dtypes (:attr:`layers.schema.Field.dtype`),
        defaults filled, then ``geometry`` (invalid geometries repaired), a fresh RangeIndex,
        EPSG:4490. ``result.attrs["notes"]`` lists what was changed or ignored (repairs, renamed
        or ignored columns, labels converted to codes, reprojection), as text.

    Raises
    ------
    ValidationError
        Listing every problem found (see the module docstring for how they are named).
    LayerNotFound
        If ``name`` is not in the catalogue.
    """
    schema = get_schema(name)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"layer {name!r}: expected a GeoDataFrame, got {type(gdf).__name__}")
    collector, notes = _Collector(), []
    try:
        gdf.geometry
    except AttributeError:
        collector.layer("geometry", "no geometry column (expected one of type "
                        + " or ".join(sorted(schema.geometry_types)) + ")")
        raise ValidationError(name, collector.problems(np.array([], dtype=object), {}), source) from None
    field_order = {"crs": -1, **{f: i for i, f in enumerate(schema.field_names)},
                   "geometry": len(schema.fields)}
    if len(gdf) == 0:
        collector.layer("features", "the layer is empty (0 features)")
        raise ValidationError(name, collector.problems(np.array([], dtype=object), field_order), source)

    frame = _match_columns(gdf.reset_index(drop=True), schema, notes)
    n = len(frame)

    # CRS first: every coordinate check depends on it.
    geometry = frame.geometry
    crs_known = frame.crs is not None
    if not crs_known:
        collector.layer("crs", f"no CRS declared; {CRS_HINT}")
    elif not CRS.from_user_input(frame.crs).equals(STORE_CRS, ignore_axis_order=True):
        notes.append(f"reprojected from {frame.crs.to_string()} to {STORE_CRS} (CGCS2000)")
        geometry = to_store_crs(geometry)

    # Attributes, one vectorised pass per field.
    columns: dict[str, pd.Series] = {}
    for field in schema.fields:
        if field.name not in frame.columns:
            if field.required:
                collector.layer(field.name, "required column is missing")
            columns[field.name] = _cast(field, pd.Series([field.default] * n, dtype=object))
            continue
        raw = _strip_text(frame[field.name])
        missing = _missing(raw)
        present = ~missing
        if field.required:
            collector.rows(missing, field.name, "required value is missing")
        if field.type == "json":
            values, errors = _check_json(name, field, raw, present)
            bad = pd.notna(errors)
            collector.rows(pd.notna(errors), field.name, errors)
        else:
            values, bad = _coerce(field, raw, present)
            collector.rows(bad, field.name,
                           lambda: _quoted(raw) + f" is not {_TYPE_WORDS.get(field.type, '')}")
        ok = present & ~bad
        if field.choices:
            lookup = {}
            for choice in field.choices:
                lookup.update({choice.zh: choice.value, choice.en.lower(): choice.value})
            lookup.update({choice.value.lower(): choice.value for choice in field.choices})
            text = values.astype(object).where(ok)
            if field.multiple:
                coded, unknown = _code_sets(field, text, lookup)
                outside = ok & unknown.notna().to_numpy()
                collector.rows(outside, field.name,
                               lambda: _quoted(unknown) + " is not one of: " + ", ".join(field.values))
            else:
                coded = text.str.lower().map(lookup).where(ok)
                outside = ok & coded.isna().to_numpy()
                collector.rows(outside, field.name,
                               lambda: _quoted(raw) + " is not one of: " + ", ".join(field.values))
            relabelled = int((ok & ~outside & (coded != text).to_numpy()).sum())
            if relabelled:
                notes.append(f"{field.name}: {relabelled} value(s) given as labels or in another case "
                             f"were converted to codes")
            values = coded.where(~outside, values)
        if field.minimum is not None or field.maximum is not None:
            number = values.where(ok).astype("float64")
            low = (ok & (number < field.minimum).to_numpy()) if field.minimum is not None else False
            high = (ok & (number > field.maximum).to_numpy()) if field.maximum is not None else False
            shown = raw.astype(object).astype(str)
            if field.minimum is not None:
                collector.rows(low, field.name, lambda: shown + f" is below the minimum {field.minimum:g}")
            if field.maximum is not None:
                collector.rows(high, field.name, lambda: shown + f" is above the maximum {field.maximum:g}")
        if field.default is not None:
            values = values.where(~missing, field.default)
        columns[field.name] = values.where(ok | missing, None)

    # Ids: labels for every message, and duplicates.
    id_present = schema.id_field in frame.columns
    ids = columns[schema.id_field] if id_present else None
    if ids is not None:
        ids = ids.astype(object).where(ids.notna(), None)
    labels, duplicated = _labels(ids, n)
    if duplicated.any():
        positions = np.flatnonzero(duplicated)
        groups = pd.Series(positions + 1, index=ids.iloc[positions].to_numpy()).groupby(level=0, sort=False)
        first = groups.min().to_numpy() - 1
        described = groups.apply(lambda rows: ", ".join(map(str, rows)))
        collector.labelled(first, schema.id_field,
                           [f"id is used by {groups.size()[key]} features: rows {rows}"
                            for key, rows in described.items()],
                           list(described.index))

    # Geometry: presence, type, validity (repaired), position.
    values = geometry.array
    is_none = np.asarray(shapely.is_missing(values), dtype=bool)
    is_empty = ~is_none & np.asarray(shapely.is_empty(values), dtype=bool)
    collector.rows(is_none, "geometry", "geometry is missing")
    collector.rows(is_empty, "geometry", "geometry is empty")
    wrong_type, type_messages = geometry_type_problems(values, schema.geometry_types)
    wrong_type = np.asarray(wrong_type, dtype=bool) & ~is_none & ~is_empty
    collector.rows(wrong_type, "geometry", type_messages)
    usable = ~is_none & ~is_empty & ~wrong_type
    repaired_values = np.asarray(values, dtype=object).copy()
    if usable.any():
        positions = np.flatnonzero(usable)
        repaired, report = repair_geometries(gpd.GeoSeries(values[positions], index=positions,
                                                           crs=geometry.crs))
        repaired_values[positions] = np.asarray(repaired.array, dtype=object)
        if len(report):
            where = report["index"].to_numpy(dtype=int)
            failed = report["action"].str.contains("could not be made valid|collapsed to empty")
            text = ("invalid geometry (" + report["reason"] + "): " + report["action"]).to_numpy()
            lost = np.zeros(n, dtype=bool)
            lost[where[failed.to_numpy()]] = True
            messages = np.full(n, "", dtype=object)
            messages[where] = text
            collector.rows(lost, "geometry", messages)
            usable &= ~lost
            for label, line in zip(labels[where[~failed.to_numpy()]], text[~failed.to_numpy()]):
                notes.append(f"{label}: geometry: repaired {line}")
            retyped, retype_messages = geometry_type_problems(repaired_values, schema.geometry_types)
            retyped = np.asarray(retyped, dtype=bool) & usable
            collector.rows(retyped, "geometry", "after repair: " + pd.Series(retype_messages))
            usable &= ~retyped
    if crs_known and usable.any() and (expected_bounds is not None or admin_area is not None):
        positions = np.flatnonzero(usable)
        located = gpd.GeoSeries(repaired_values[positions], index=positions, crs=STORE_CRS)
        misplaced = np.zeros(n, dtype=bool)
        if expected_bounds is not None:
            found = check_coordinates(located, expected_bounds)
            if len(found):
                where = found["index"].to_numpy(dtype=int)
                misplaced[where] = True
                messages = np.full(n, "", dtype=object)
                messages[where] = found["detail"].to_numpy(dtype=object)
                collector.rows(misplaced, "geometry", messages)
        if admin_area is not None:
            shapely.prepare(admin_area)
            outside = np.zeros(n, dtype=bool)
            outside[positions] = ~shapely.intersects(np.asarray(located.array, dtype=object), admin_area)
            collector.rows(outside & ~misplaced, "geometry", "lies outside the administrative area")

    if collector:
        raise ValidationError(name, collector.problems(labels, field_order), source)

    data = {field.name: _cast(field, columns[field.name].reset_index(drop=True)) for field in schema.fields}
    result = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(repaired_values, crs=STORE_CRS),
                              crs=STORE_CRS)
    result.attrs["notes"] = notes
    return result
