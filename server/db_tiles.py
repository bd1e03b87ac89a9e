"""The caller's view of a layer as a database tile layer (:class:`layers.postgis_mvt.MvtLayer`).

On a PostGIS store :class:`server.tiles.TileService` has tiles built in the database. Redaction
stays here, above the store: only the columns the view shows are selected (in its order), the
view's public row rule becomes the query's condition, the public notice is computed from the
level, and the zoom classes of the layer (``server.tiles.ZOOM_CLASSES``) become a condition on
the zoom. A view whose row rule names a column the layer lacks shows no rows (as
:meth:`server.redaction.RowRule.mask` decides), so the layer is left out.

>>> from server.redaction import Redactor
>>> from server.auth import PUBLIC
>>> view = Redactor().view("risk_wall", PUBLIC)
>>> spec = mvt_layer(view, {"plot_id": "object", "town": "object", "level": "Int64", "colour": "object"})
>>> [c for c, _ in spec.columns], spec.rows, spec.notice[:2]
(['plot_id', 'town', 'level', 'colour'], ('level', '<=', 2), ('notice', 'level'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.redaction import LayerView

if TYPE_CHECKING:  # pragma: no cover - imported where used: it needs psycopg, which a GeoPackage server need not load
    from layers.postgis_mvt import MvtLayer

__all__ = ["column_kind", "mvt_layer"]


def column_kind(dtype: str) -> str:
    """The kind of a pandas dtype name as the tile encoder writes it (int, float, bool, date, str).

    >>> [column_kind(d) for d in ("Int64", "float64", "boolean", "datetime64[ns]", "object", "uint8")]
    ['int', 'float', 'bool', 'date', 'str', 'int']
    """
    if dtype.startswith(("bool", "boolean")):
        return "bool"
    if dtype.lower().startswith(("int", "uint")):
        return "int"
    if dtype.lower().startswith("float"):
        return "float"
    if dtype.startswith("datetime64"):
        return "date"
    return "str"


def mvt_layer(view: LayerView, columns: dict[str, str], classes=None) -> MvtLayer | None:
    """The database tile layer of ``view`` over a layer with ``columns`` (name → pandas dtype).

    None when the view shows no row of the layer. ``classes`` are the layer's zoom classes.
    """
    from layers.postgis_mvt import MvtLayer

    names = list(columns) if view.fields is None else [c for c in view.fields if c in columns]
    rows = None
    if view.rows is not None:
        if view.rows.column not in columns:
            return None
        rows = (view.rows.column, view.rows.op, view.rows.value)
    notice = None
    if view.notice is not None and "level" in columns:
        notice = ("notice", "level", dict(view.notice))
    if classes is not None and classes[0] not in columns:
        classes = None
    return MvtLayer(view.name, tuple((c, column_kind(columns[c])) for c in names), rows=rows, notice=notice,
                    classes=classes)
