"""Queryables (OGC API - Features Part 3, §6): the JSON Schema of what a caller may filter on.

A collection's queryables are the fields its caller's view shows (:class:`~server.redaction.LayerView`)
plus ``geometry``: a private field is not a queryable of the public view, and a filter, ``sortby``
or ``properties`` naming it is refused exactly like a name that does not exist. Types come from the
stored columns (``integer``, ``number``, ``boolean``, ``string``, dates as ``format: date``); the
catalogue adds titles (中文 / English), enumerations and ranges.

The document also carries ``queryables``, the list form of the 2021 draft of Part 3
(``[{"id": "town", "type": "string"}, …]``), an extra JSON Schema keyword that validators ignore and
that GDAL up to 3.6 reads to learn which fields it may send in a CQL ``filter``.

>>> from server.redaction import Redactor
>>> from server.auth import PUBLIC
>>> view = Redactor().view("shelters", PUBLIC)
>>> types = queryable_types(view, {"shelter_id": "str", "capacity": "Int64", "address": "str"})
>>> types["capacity"], types["geometry"], "contact" in types
('integer', 'geometry', False)
"""

from __future__ import annotations

from collections.abc import Mapping

from layers.catalogue import CATALOGUE
from server.redaction import LayerView

__all__ = ["queryable_types", "queryables_document", "property_names"]

_GEOMETRY = "geometry"


def _json_type(dtype: str) -> str:
    dtype = dtype.lower()
    if dtype.startswith(("int", "uint")):
        return "integer"
    if dtype.startswith("float"):
        return "number"
    if dtype.startswith(("bool", "boolean")):
        return "boolean"
    if dtype.startswith("datetime"):
        return "date"
    return "string"


def queryable_types(view: LayerView, columns: Mapping[str, str]) -> dict[str, str]:
    """``{name: type}`` of the queryables of ``view`` over a layer of ``columns`` (name → dtype).

    Types are ``integer``, ``number``, ``boolean``, ``string``, ``date`` and ``geometry``; the CQL2
    evaluator (:func:`server.ogc.cql2.evaluate`) takes this mapping as the names it may use.
    """
    names = view.filterable(columns)
    types = {n: _json_type(columns[n]) for n in names if n in columns}
    if view.notice is not None:
        types["notice"] = "string"
    types[_GEOMETRY] = "geometry"
    return types


def property_names(view: LayerView, columns: Mapping[str, str]) -> list[str]:
    """The attribute queryables (for ``sortby`` and ``properties``): all but the geometry."""
    return [n for n in queryable_types(view, columns) if n != _GEOMETRY]


def _property_schema(layer: str, name: str, kind: str) -> dict:
    if kind == "geometry":
        return {"title": "geometry 几何", "format": "geometry-any",
                "description": "The feature's geometry, CRS84 longitude/latitude (use S_INTERSECTS, BBOX…)"}
    schema: dict = {"type": "string", "format": "date"} if kind == "date" else {"type": kind}
    entry = CATALOGUE.get(layer)
    field = None
    if entry is not None and name in entry.field_names:
        field = entry.field(name)
    if field is not None:
        schema["title"] = f"{field.zh} {field.en}"
        if field.choices:
            schema["enum"] = [c.value for c in field.choices]
        if field.minimum is not None and kind in ("integer", "number"):
            schema["minimum"] = field.minimum
        if field.maximum is not None and kind in ("integer", "number"):
            schema["maximum"] = field.maximum
    else:
        schema["title"] = name
    return schema


def queryables_document(view: LayerView, columns: Mapping[str, str], url: str) -> dict:
    """The queryables of ``view`` as a JSON Schema (draft 2020-12) document served at ``url``."""
    types = queryable_types(view, columns)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": f"{view.title_zh} {view.title}",
        "description": "What this caller may use in filter, sortby and properties.",
        "properties": {n: _property_schema(view.name, n, k) for n, k in types.items()},
        "additionalProperties": False,
        "queryables": [{"id": n, "type": k} for n, k in types.items()],
    }
