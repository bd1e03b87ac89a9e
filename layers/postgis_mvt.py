"""Vector tiles built inside PostGIS (``ST_AsMVTGeom`` / ``ST_AsMVT``): one query per tile.

Why: on a PostGIS store the rows of a tile need not travel to Python at all. The server
(``server.db_tiles``) describes each layer of the tile as an :class:`MvtLayer` — which columns the
caller may see, which rows (a public row rule), which computed notice, which rows appear from which
zoom — and :func:`mvt_query` writes one statement that reads the rows meeting the tile's read area
from the GiST index, and generalises them as the Python tiler (``server.vector_tiles``) does:

1. longitude/latitude taken as WGS 84 and projected to Web Mercator (``ST_Transform`` to 3857);
2. simplified with a tolerance of ``simplify_units`` tile units (Douglas-Peucker, as in Python);
3. clipped to the tile grown by ``buffer`` units and snapped to the integer grid (``ST_AsMVTGeom``);
4. lines and polygons smaller than ``min_units`` both ways left out.

Values are cast so that they encode as the Python tiler encodes them: integers as integers, reals
as doubles, booleans as booleans, dates as ``YYYY-MM-DD`` text, everything else as text. The
layers of a tile are concatenated (``||``), as MVT allows.

Only :class:`layers.postgis.PostgisStore` runs it (:meth:`~layers.postgis.PostgisStore.mvt`); the
GeoPackage store has no such method and the server tiles in Python.

>>> spec = MvtLayer("roads", (("name", "str"), ("class", "str")),
...                 classes=("class", {"primary": 0}, 14))
>>> query, params = mvt_query("riskmap", [spec], 12, 3412, 1666, (119.9, 31.7, 120.0, 31.8))
>>> text = query
>>> "ST_AsMVT" in text, "ELSE 14 END) <= %(z)s::integer" in text, params["z"]  # other classes from zoom 14
(True, True, 12)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

try:  # psycopg is a dependency (see layers.postgis)
    from psycopg import sql
except ImportError:  # pragma: no cover
    sql = None

__all__ = ["MvtLayer", "mvt_query"]

_CASTS = {"int": "bigint", "float": "double precision", "bool": "boolean"}
_OPS = {"<=": "<=", "==": "="}


@dataclass(frozen=True)
class MvtLayer:
    """One layer of a database-built tile, as the caller may see it.

    Parameters
    ----------
    name : str
        The store layer (and the MVT layer's name).
    columns : sequence of (column, kind)
        The visible columns and their kinds (``str``, ``int``, ``float``, ``bool``, ``date``).
    rows : (column, op, value), optional
        Only rows with ``column op value`` (``op`` ``<=`` or ``==``); NULL never matches.
    notice : (name, column, {value: text}), optional
        A computed text column ``name``, by the value of an integer ``column``.
    classes : (column, {value: first zoom}, first zoom of other values), optional
        Rows shown from a zoom on by the value of ``column``.
    """

    name: str
    columns: Sequence[tuple[str, str]]
    rows: tuple[str, str, object] | None = None
    notice: tuple[str, str, Mapping[int, str]] | None = field(default=None, hash=False)
    classes: tuple[str, Mapping[str, int], int] | None = field(default=None, hash=False)


def _value(column: str, kind: str):
    ident = sql.Identifier(column)
    if kind in _CASTS:
        return sql.SQL("{}::{}").format(ident, sql.SQL(_CASTS[kind]))
    if kind in ("date", "datetime"):
        return sql.SQL("to_char({}, 'YYYY-MM-DD')").format(ident)
    return sql.SQL("{}::text").format(ident)


def _cases(pairs: Mapping) -> sql.Composable:
    return sql.SQL(" ").join(sql.SQL("WHEN {} THEN {}").format(sql.Literal(k), sql.Literal(v)) for k, v in pairs.items())


_PARAMS = ("z", "x", "y", "west", "south", "east", "north")


def _param(name: str, cast: str) -> str:
    """A parameter's mark while composing (turned into ``%(name)s`` once every ``%`` of the text is
    escaped: a literal such as a notice "50%" would otherwise read as a placeholder)."""
    return f"\x02{name}\x03::{cast}"


_Z = _param("z", "integer")


def _layer_query(schema: str, layer: MvtLayer, envelope, extent: int, buffer: int, min_units: float,
                 simplify_units: float) -> sql.Composable:
    lit = sql.Literal
    columns = [sql.SQL("{} AS {}").format(_value(c, k), sql.Identifier(c)) for c, k in layer.columns]
    if layer.notice is not None:
        name, source, texts = layer.notice
        columns.append(sql.SQL("CASE ({})::numeric {} END AS {}").format(
            sql.Identifier(source), _cases(texts), sql.Identifier(name)))
    unit = sql.SQL("((ST_XMax(e) - ST_XMin(e)) / {})").format(lit(float(extent)))  # one tile unit, in metres
    geometry = sql.SQL("ST_AsMVTGeom(ST_Simplify(g, {} * {}), e, {}, {}, true)").format(
        lit(float(simplify_units)), unit, lit(int(extent)), lit(int(buffer)))
    read = sql.SQL("geom && ST_MakeEnvelope({}, 4490)".format(
        ", ".join(_param(side, "float8") for side in ("west", "south", "east", "north"))))
    where = []
    # the size the Python tiler measures: the bounding box of the part inside the buffered tile
    grown = sql.SQL("{} * {}").format(lit(float(buffer)), unit)
    where.append(sql.SQL(
        "(GeometryType(geom) IN ('POINT', 'MULTIPOINT') OR GREATEST("
        "LEAST(ST_XMax(g), ST_XMax(e) + {b}) - GREATEST(ST_XMin(g), ST_XMin(e) - {b}), "
        "LEAST(ST_YMax(g), ST_YMax(e) + {b}) - GREATEST(ST_YMin(g), ST_YMin(e) - {b})) >= {m} * {u})").format(
        b=grown, m=lit(float(min_units)), u=unit))
    if layer.rows is not None:
        column, op, value = layer.rows
        where.append(sql.SQL("{} {} {}").format(sql.Identifier(column), sql.SQL(_OPS[op]), lit(value)))
    if layer.classes is not None:
        column, first, other = layer.classes
        where.append(sql.SQL("(CASE {} {} ELSE {} END) <= {}").format(
            sql.Identifier(column), _cases({k: int(v) for k, v in first.items()}), lit(int(other)), sql.SQL(_Z)))
    # "OFFSET 0" keeps each subquery whole: Postgres would otherwise inline ``g`` into every
    # reference (ST_Transform five times a row) and push the IS NOT NULL test down (ST_AsMVTGeom twice)
    return sql.SQL(
        "COALESCE((SELECT ST_AsMVT(t, {name}, {extent}, '__geom') FROM ("
        "SELECT {columns} FROM ("
        "SELECT *, ST_Transform(ST_SetSRID(geom, 4326), 3857) AS g FROM {table}, (SELECT {envelope} AS e) AS tile "
        "WHERE {read} OFFSET 0) AS projected "
        "WHERE {where} ORDER BY fid OFFSET 0) AS t WHERE t.__geom IS NOT NULL), ''::bytea)").format(
        name=lit(layer.name), extent=lit(int(extent)),
        columns=sql.SQL(", ").join([sql.SQL("{} AS __geom").format(geometry), *columns]),
        table=sql.Identifier(schema, layer.name), envelope=envelope, read=read, where=sql.SQL(" AND ").join(where))


@lru_cache(maxsize=512)
def _statement(schema: str, layers: tuple[MvtLayer, ...], extent: int, buffer: int, min_units: float,
               simplify_units: float) -> str:
    """The statement of a set of layers as a caller sees them, the tile address left as parameters.

    Composed once per layer set and view: composing it took 0.9 ms of Python per tile, and the same
    text each time lets psycopg prepare it on the server (parsed and planned once per connection).
    """
    envelope = sql.SQL(f"ST_TileEnvelope({_Z}, {_param('x', 'integer')}, {_param('y', 'integer')})")
    parts = [_layer_query(schema, layer, envelope, extent, buffer, min_units, simplify_units) for layer in layers]
    if not parts:
        return "SELECT ''::bytea"
    text = (sql.SQL("SELECT ") + sql.SQL(" || ").join(parts)).as_string(None).replace("%", "%%")
    for name in _PARAMS:
        text = text.replace(f"\x02{name}\x03", f"%({name})s")
    return text


def mvt_query(schema: str, layers: Sequence[MvtLayer], z: int, x: int, y: int, bbox, *, extent: int = 4096,
              buffer: int = 64, min_units: float = 8.0, simplify_units: float = 4.0):
    """The statement giving tile z/x/y of ``layers`` as MVT bytes, and its parameters (the tile's
    address and read area; everything else is quoted into the statement by psycopg as literals).

    ``bbox`` is the longitude/latitude area read (the tile and its buffer), as for a store read.
    """
    statement = _statement(schema, tuple(layers), int(extent), int(buffer), float(min_units), float(simplify_units))
    west, south, east, north = (float(v) for v in bbox)
    return statement, {"z": int(z), "x": int(x), "y": int(y), "west": west, "south": south, "east": east,
                       "north": north}
