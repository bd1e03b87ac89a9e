"""CQL2 filters (OGC 21-065r2) over a layer's frame: parse with pygeofilter, evaluate with pandas/shapely.

:func:`parse_filter` reads ``filter`` in CQL2 text or CQL2 JSON into pygeofilter's AST;
:func:`evaluate` turns the AST into one boolean mask over the frame, with no per-feature Python:
comparisons, ``LIKE`` and ``IN`` are pandas operations on whole columns, spatial predicates are
shapely 2 ufuncs over the geometry array.

What is implemented and declared in ``/conformance``: basic CQL2 (comparisons ``= <> < <= > >=``,
``IS NULL``, ``AND OR NOT``), advanced comparison operators (``LIKE`` with ``%`` and ``_``,
``BETWEEN``, ``IN``), case-insensitive comparison (``CASEI``) and the spatial functions
``S_INTERSECTS S_WITHIN S_CONTAINS S_DISJOINT S_EQUALS S_TOUCHES S_CROSSES S_OVERLAPS`` with a
geometry literal (WKT or GeoJSON) or ``BBOX``. Also evaluated but not declared, because their
classes ask for more: comparisons of two properties (the class wants them in spatial predicates
too) and ``+ - * /`` (the class wants ``%``, ``div`` and ``^``, which pygeofilter does not parse).
Temporal (``T_*``), array (``A_*``), ``ACCENTI`` and other functions are refused with a 400 naming
them. Comparisons follow SQL's three-valued logic: a null compares as *unknown*, ``NOT unknown``
is unknown, and only rows where the filter is *true* are kept.

Names: a filter may name only the queryables the caller's view shows
(:func:`server.ogc.queryables.queryable_names`); any other name, a private field as much as one
that does not exist, is the same 400 ("unknown property"), so a filter cannot probe for private
fields. Geometry literals are CRS84 longitude/latitude (``filter-crs`` accepts nothing else).

Two gaps of pygeofilter 0.4's CQL2-JSON reader are bridged before parsing (:func:`_normalise_json`):
``{"bbox": [w, s, e, n]}`` is handed over as the equivalent GeoJSON polygon, and ``between`` with
three arguments (the 1.0 form) as ``[value, [low, high]]``.

>>> import geopandas, shapely
>>> frame = geopandas.GeoDataFrame({"town": ["a", "b", None], "workers": [10, 50, 30]},
...     geometry=[shapely.Point(120, 31.7), shapely.Point(121, 31.7), None], crs="EPSG:4490")
>>> names = {"town": "str", "workers": "int", "geometry": "geometry"}
>>> evaluate(parse_filter("workers > 20 AND NOT town = 'a'"), frame, names).tolist()
[False, True, False]
>>> evaluate(parse_filter('{"op": "s_intersects", "args": [{"property": "geometry"},'
...                       ' {"bbox": [119.5, 31, 120.5, 32]}]}', "cql2-json"), frame, names).tolist()
[True, False, False]
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast, values

from geo.errors import InputError

__all__ = ["FILTER_LANGS", "CQL2_CONFORMANCE", "parse_filter", "evaluate", "SUPPORTED"]

#: ``filter-lang`` values: the CQL2 names, and ``cql-text`` as older clients (GDAL ≤ 3.6) send it.
FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
#: The CQL2 conformance classes this module implements.
CQL2_CONFORMANCE = [_CQL2 + c for c in (
    "cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators", "case-insensitive-comparison",
    "basic-spatial-functions", "basic-spatial-functions-plus", "spatial-functions")]
SUPPORTED = ("comparisons (= <> < <= > >=), IS NULL, AND, OR, NOT, LIKE, BETWEEN, IN, CASEI, arithmetic "
             "(+ - * /), S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_CROSSES, "
             "S_OVERLAPS (with a WKT or GeoJSON geometry, or BBOX)")
_UNSUPPORTED_TEXT = re.compile(r"\b(T_[A-Z]+|A_[A-Z]+|ACCENTI|[A-Z_][A-Z0-9_]*(?=\s*\())", re.I)
_KNOWN_FUNCTIONS = {"S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT", "S_EQUALS", "S_TOUCHES",
                    "S_CROSSES", "S_OVERLAPS", "CASEI", "BBOX", "POINT", "LINESTRING", "POLYGON",
                    "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "ENVELOPE",
                    "DATE", "TIMESTAMP", "NOT", "IN", "AND", "OR"}
_SPATIAL = {ast.GeometryIntersects: shapely.intersects, ast.GeometryWithin: shapely.within,
            ast.GeometryContains: shapely.contains, ast.GeometryDisjoint: shapely.disjoint,
            ast.GeometryEquals: shapely.equals, ast.GeometryTouches: shapely.touches,
            ast.GeometryCrosses: shapely.crosses, ast.GeometryOverlaps: shapely.overlaps}
#: The same predicate with its arguments swapped (literal first, property second).
_SWAPPED = {shapely.within: shapely.contains, shapely.contains: shapely.within}
_COMPARE = {ast.Equal: "eq", ast.NotEqual: "ne", ast.LessThan: "lt", ast.LessEqual: "le",
            ast.GreaterThan: "gt", ast.GreaterEqual: "ge"}
_ARITHMETIC = {ast.Add: "add", ast.Sub: "sub", ast.Mul: "mul", ast.Div: "truediv"}
_OP_NAMES = {"Time": "temporal operator T_", "Array": "array operator A_", "Distance": "distance operator ",
             "Relate": "RELATE", "Exists": "EXISTS"}


def _unsupported(name: str) -> InputError:
    return InputError(f"filter: {name} is not supported; supported: {SUPPORTED}")


def _normalise_json(node):
    """CQL2 1.0 JSON → the forms pygeofilter 0.4 reads (see the module docstring)."""
    if isinstance(node, list):
        return [_normalise_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"}:
        box = node["bbox"]
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            raise InputError(f"filter: bbox must be 4 numbers [minlon, minlat, maxlon, maxlat], got {box!r}")
        return shapely.geometry.mapping(shapely.box(*box))
    node = {k: _normalise_json(v) for k, v in node.items()}
    if str(node.get("op", "")).lower() == "between" and isinstance(node.get("args"), list) \
            and len(node["args"]) == 3:
        node["args"] = [node["args"][0], node["args"][1:]]
    return node


def parse_filter(text: str, lang: str | None = None):
    """The pygeofilter AST of ``text`` in ``lang`` (``cql2-text`` by default); InputError if invalid."""
    lang = (lang or "cql2-text").lower()
    if lang not in FILTER_LANGS:
        raise InputError(f"filter-lang {lang!r} is not supported; use one of: cql2-text, cql2-json")
    if lang == "cql2-json":
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InputError(f"filter: not valid JSON ({getattr(exc, 'msg', 'nested too deeply')})") from None
        from pygeofilter.parsers.cql2_json import parse as parse_json  # lazy: see below

        try:
            return parse_json(_normalise_json(document))
        except InputError:
            raise
        except Exception as exc:  # pygeofilter raises ValueError, TypeError, KeyError… on bad input
            raise InputError(f"filter: not valid CQL2 JSON ({str(exc).splitlines()[0][:200]})") from None
    # imported on the first filter: building its grammar takes a second of server start-up
    from pygeofilter.parsers.cql2_text import parse as parse_text

    try:
        return parse_text(text)
    except Exception as exc:  # lark's UnexpectedInput and pygeofilter's own errors
        for match in _UNSUPPORTED_TEXT.finditer(text):
            if match.group(1).upper() not in _KNOWN_FUNCTIONS:
                raise _unsupported(match.group(1).upper()) from None
        where = f" at column {exc.column}" if getattr(exc, "column", None) not in (None, -1) else ""
        raise InputError(f"filter: not valid CQL2 text{where}: {text[:200]!r}") from None


class _Evaluator:
    """Evaluates AST nodes over one frame; expressions give Series or scalars, predicates masks."""

    def __init__(self, frame: gpd.GeoDataFrame, names: Mapping[str, str]):
        self.frame, self.names = frame, names

    # ---------------------------------------------------------------- expressions
    def value(self, node):
        if isinstance(node, ast.Attribute):
            return self.attribute(node.name)
        if isinstance(node, ast.Function):
            return self.function(node)
        if type(node) in _ARITHMETIC:
            lhs, rhs = self.value(node.lhs), self.value(node.rhs)
            for side in (lhs, rhs):
                if not _numeric(side):
                    raise InputError("filter: arithmetic (+ - * /) takes numbers and numeric properties")
            left = (lhs.astype("float64") if isinstance(lhs, pd.Series)
                    else pd.Series(lhs, index=self.frame.index, dtype="float64"))
            with np.errstate(divide="ignore", invalid="ignore"):
                out = getattr(left, _ARITHMETIC[type(node)])(rhs)
            return out.replace([np.inf, -np.inf], np.nan)
        if isinstance(node, (values.Geometry, values.Envelope)):
            return _geometry_literal(node)
        if isinstance(node, (str, bool, int, float, dt.date)):
            return node
        if isinstance(node, ast.Node):
            raise _unsupported(_op_name(node))
        raise InputError(f"filter: cannot use {node!r} as a value")

    def attribute(self, name: str):
        if name not in self.names:
            listed = ", ".join(self.names)
            raise InputError(f"filter: unknown property {name!r}; queryables: {listed}")
        if self.names[name] == "geometry":
            return self.frame.geometry
        return self.frame[name]

    def function(self, node: ast.Function):
        name = node.name.lower()
        if name == "lower" and len(node.arguments) == 1:  # CASEI
            arg = self.value(node.arguments[0])
            if isinstance(arg, pd.Series):
                return arg.astype("string").str.lower()
            if isinstance(arg, str):
                return arg.lower()
            raise InputError("filter: CASEI takes text")
        if name == "bbox":
            coords = [a for a in node.arguments]
            if len(coords) != 4 or not all(isinstance(c, (int, float)) for c in coords):
                raise InputError(f"filter: BBOX takes 4 numbers (minlon, minlat, maxlon, maxlat), got {coords!r}")
            return _checked_lonlat(shapely.box(*coords))
        raise _unsupported(f"function {node.name.upper()}")

    # ---------------------------------------------------------------- predicates
    def mask(self, node) -> pd.Series:
        """A nullable boolean Series (True / False / <NA> = unknown) over the frame's rows."""
        index = self.frame.index
        kind = type(node)
        if kind is ast.And:
            return self.mask(node.lhs) & self.mask(node.rhs)
        if kind is ast.Or:
            return self.mask(node.lhs) | self.mask(node.rhs)
        if kind is ast.Not:
            return ~self.mask(node.sub_node)
        if kind is ast.Include:
            return pd.Series(not node.not_, index=index, dtype="boolean")
        if kind in _COMPARE:
            return self.compare(node.lhs, node.rhs, _COMPARE[kind])
        if kind is ast.Between:
            out = self.compare(node.lhs, node.low, "ge") & self.compare(node.lhs, node.high, "le")
            return ~out if node.not_ else out
        if kind is ast.In:
            out = self.one_of(node.lhs, node.sub_nodes)
            return ~out if node.not_ else out
        if kind is ast.Like:
            out = self.like(node)
            return ~out if node.not_ else out
        if kind is ast.IsNull:
            value = self.value(node.lhs)
            if isinstance(value, gpd.GeoSeries):
                geoms = np.asarray(value.values, dtype=object)
                missing = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=index)
            elif isinstance(value, pd.Series):
                missing = value.isna()
            else:
                missing = pd.Series(value is None, index=index)
            missing = missing.astype("boolean")
            return ~missing if node.not_ else missing
        if kind in _SPATIAL:
            return self.spatial(node, _SPATIAL[kind])
        raise _unsupported(_op_name(node))

    def compare(self, lhs_node, rhs_node, op: str) -> pd.Series:
        lhs, rhs = self.value(lhs_node), self.value(rhs_node)
        if not isinstance(lhs, pd.Series) and isinstance(rhs, pd.Series):
            lhs, rhs, op = rhs, lhs, {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}.get(op, op)
        lhs, rhs = _comparable(lhs, rhs, _label(lhs_node))
        if isinstance(lhs, pd.Series):
            result = getattr(lhs, op)(rhs)
            unknown = lhs.isna() | (rhs.isna() if isinstance(rhs, pd.Series) else pd.isna(rhs))
            return result.astype("boolean").mask(unknown, pd.NA)
        return pd.Series(bool(getattr(pd.Series([lhs]), op)(rhs).iloc[0]), index=self.frame.index, dtype="boolean")

    def one_of(self, lhs_node, items) -> pd.Series:
        lhs = self.value(lhs_node)
        if not isinstance(lhs, pd.Series):
            raise InputError("filter: IN needs a property on its left")
        wanted = [self.value(i) for i in items]
        if any(isinstance(w, pd.Series) for w in wanted):
            raise InputError("filter: IN takes a list of literal values")
        converted = [_comparable(lhs, w, _label(lhs_node))[1] for w in wanted]
        column = _comparable(lhs, converted[0], _label(lhs_node))[0] if converted else lhs
        return column.isin(converted).astype("boolean").mask(lhs.isna(), pd.NA)

    def like(self, node: ast.Like) -> pd.Series:
        lhs = self.value(node.lhs)
        if not isinstance(lhs, pd.Series) or _numeric(lhs) or isinstance(lhs, gpd.GeoSeries):
            raise InputError(f"filter: LIKE takes a text property, not {_label(node.lhs)}")
        pattern = node.pattern
        if isinstance(pattern, ast.Function) and pattern.name.lower() == "lower":
            pattern = self.value(pattern)
        if not isinstance(pattern, str):
            raise InputError("filter: LIKE takes a text pattern")
        text = lhs.astype("string")
        if node.nocase:
            text, pattern = text.str.lower(), pattern.lower()
        return text.str.fullmatch(_like_regex(pattern)).astype("boolean")

    def spatial(self, node, predicate) -> pd.Series:
        lhs, rhs = self.value(node.lhs), self.value(node.rhs)
        if isinstance(rhs, gpd.GeoSeries) and not isinstance(lhs, gpd.GeoSeries):
            lhs, rhs, predicate = rhs, lhs, _SWAPPED.get(predicate, predicate)
        if not isinstance(lhs, gpd.GeoSeries) or not isinstance(rhs, shapely.Geometry):
            raise InputError(f"filter: {_op_name(node)} compares the geometry property with a geometry "
                             "literal (WKT, GeoJSON or BBOX)")
        geoms = np.asarray(lhs.values, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        hits = np.zeros(len(geoms), dtype=bool)
        hits[~missing] = predicate(geoms[~missing], rhs)
        return pd.Series(hits, index=self.frame.index, dtype="boolean").mask(missing, pd.NA)


def _op_name(node) -> str:
    name = type(node).__name__
    for prefix, words in _OP_NAMES.items():
        if name.startswith(prefix):
            rest = re.sub(r"(?<!^)(?=[A-Z])", "", name[len(prefix):]).upper()
            return f"{words}{rest}" if words.endswith(("_", " ")) else words
    return name


def _label(node) -> str:
    return f"property {node.name!r}" if isinstance(node, ast.Attribute) else repr(node)


def _numeric(value) -> bool:
    if isinstance(value, pd.Series):
        return pd.api.types.is_numeric_dtype(value) and not pd.api.types.is_bool_dtype(value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(lhs, rhs, label: str):
    """``lhs`` (a Series) and ``rhs`` made comparable by ``lhs``'s type; InputError on a mismatch."""
    if not isinstance(lhs, pd.Series):
        return lhs, rhs
    if isinstance(lhs, gpd.GeoSeries) or isinstance(rhs, (gpd.GeoSeries, shapely.Geometry)):
        raise InputError(f"filter: compare geometries with the spatial functions (S_INTERSECTS…), not with "
                         f"=, < or IN ({label})")
    if isinstance(rhs, pd.Series):
        return (lhs.astype("string"), rhs.astype("string")) if _numeric(lhs) != _numeric(rhs) else (lhs, rhs)
    if pd.api.types.is_bool_dtype(lhs):
        if not isinstance(rhs, bool):
            raise InputError(f"filter: {label} is true or false; got {rhs!r}")
        return lhs, rhs
    if _numeric(lhs):
        if not _numeric(rhs):
            raise InputError(f"filter: {label} is a number; got {rhs!r}")
        return lhs.astype("float64"), float(rhs)
    if pd.api.types.is_datetime64_any_dtype(lhs):
        if not isinstance(rhs, dt.date):
            raise InputError(f"filter: {label} is a date; compare it with DATE('YYYY-MM-DD') or TIMESTAMP(…)")
        stamp = pd.Timestamp(rhs)
        column = lhs
        if stamp.tzinfo is not None and lhs.dt.tz is None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return column, stamp
    if isinstance(rhs, dt.datetime):
        return lhs.astype("string"), rhs.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(rhs, dt.date):
        return lhs.astype("string").str.slice(0, 10), rhs.isoformat()
    if isinstance(rhs, (bool, int, float)):
        raise InputError(f"filter: {label} is text; quote the value ('{rhs}')")
    return lhs.astype("string"), rhs


def _like_regex(pattern: str) -> str:
    """A CQL2 LIKE pattern (``%`` any run, ``_`` one character, ``\\`` escapes) as a regex."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _checked_lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.is_empty:
        return geom
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all() or (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise InputError("filter: geometry coordinates must be CRS84 longitude/latitude (-180..180, -90..90)")
    return geom


def _geometry_literal(node) -> shapely.Geometry:
    if isinstance(node, values.Envelope):  # cql2-text ENVELOPE(w, e, n, s)… as pygeofilter reads it
        return _checked_lonlat(shapely.box(min(node.x1, node.x2), min(node.y1, node.y2),
                                           max(node.x1, node.x2), max(node.y1, node.y2)))
    try:
        geom = shapely.geometry.shape(node.geometry)
    except Exception as exc:
        raise InputError(f"filter: not a valid geometry literal ({exc})") from None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return _checked_lonlat(geom)


def evaluate(tree, frame: gpd.GeoDataFrame, names: Mapping[str, str]) -> np.ndarray:
    """Rows of ``frame`` where the filter ``tree`` is true, as a boolean array.

    Parameters
    ----------
    tree
        An AST from :func:`parse_filter`.
    frame : GeoDataFrame
        The layer as the caller's view shows it.
    names : mapping
        The queryables: ``{name: type}`` (``"geometry"`` for the geometry), the only names the filter
        may use.
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    mask = _Evaluator(frame, names).mask(tree)
    return mask.fillna(False).to_numpy(dtype=bool)
