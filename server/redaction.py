"""The public/private split: what each caller may see of each layer.

Every response that carries layer data (features, tiles, TileJSON, the collections list) is built
from a :class:`LayerView` obtained here, so there is exactly one place where the split is decided.

Sources of the split
--------------------
* **Catalogue layers** (:mod:`layers.catalogue`): the schema says whether the layer is public at
  all (``public_layer``) and which fields are (``Field.public``). Nothing is restated here.
* **Derived layers** (written by the zoning engine): the table :data:`DERIVED` below, one entry per
  layer, with its id fields and, for the two layers the public may see, the public columns and rows:

  - ``risk_wall``: only plots of level 1-2 (重大 / 较大), the disclosure the plans require
    (公示较大以上安全风险), with their id, town, level and colour, plus a plain risk notice. Plots of
    level 3-4 and every other column (enterprise, contact, inventories, hidden dangers, reasons)
    stay on the server.
  - ``risk_zones``: the zone colours at the town level only (``zone_kind == "town"``); the grid
    and the reasons stay private.
  - ``major_hazards``, ``safety_buffers``, ``separation_violations``, ``ir_contours``,
    ``threat_zones``: private (planners' layers).
* **Anything else** (a raster such as ``risk_surface`` or ``population``, a derived layer this
  module does not know yet): private. A new layer is hidden until someone decides otherwise.

Planners and admins get the full view of every layer (all rows, all columns). A **town editor**
gets a view *per row* (:attr:`LayerView.towns`): the rows of its own towns in full, every other
row exactly as the public sees it (its public columns if the public sees that row, else nothing).
A row's town comes from its ``town``, ``plot_id`` or ``site_id`` column (:mod:`server.scope`), and
for an editor scoped to grids (网格) so does its grid;
a layer whose rows carry none of them (a raster, ``ir_contours``, ``risk_zones``'s grid) is seen
as the public sees it.

>>> from server.auth import PUBLIC, Principal
>>> redactor = Redactor()
>>> redactor.view("shelters", PUBLIC).fields[:3]
('shelter_id', 'name', 'class')
>>> redactor.view("risk_wall", PUBLIC).fields
('plot_id', 'town', 'level', 'colour', 'colour_name', 'colour_zh', 'notice')
>>> redactor.is_public("hazard_sites"), redactor.is_public("risk_surface")
(False, False)
>>> redactor.view("hazard_sites", Principal("planner")).fields is None
True
>>> editor = redactor.view("hazard_sites", Principal("town_editor", "320412001"))
>>> editor.key, editor.town_key, editor.others is None
('towns:320412001', 'plot_id', True)
>>> redactor.visible(["risk_surface", "risk_wall", "shelters"], Principal("town_editor", "320412001"))
['risk_wall', 'shelters']
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.catalogue import CATALOGUE
from layers.schema import LayerSchema
from layers.errors import LayerNotFound
from server.auth import PUBLIC, Principal
from server.scope import town_key

__all__ = ["RowRule", "PublicRule", "DerivedLayer", "DERIVED", "RISK_NOTICE", "LayerView", "Redactor"]

_OPS = {"<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class RowRule:
    """Rows the public may see: ``column op value`` (``op`` is ``"<="`` or ``"=="``)."""

    column: str
    op: str
    value: object

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        if self.column not in frame.columns:  # cannot tell which rows are public: none are
            return pd.Series(False, index=frame.index)
        values = frame[self.column]
        return _OPS[self.op](values, self.value).fillna(False).astype(bool)


#: The plain notice published beside a disclosed plot, by risk level (公示较大以上安全风险).
RISK_NOTICE: dict[int, str] = {
    1: "该地块存在重大安全风险，依规公示（公示较大以上安全风险）。详情请咨询所在镇（街道）安全生产监管部门。"
       " This plot carries a major safety risk, disclosed as the plans require; ask the town's"
       " work-safety office for details.",
    2: "该地块存在较大安全风险，依规公示（公示较大以上安全风险）。详情请咨询所在镇（街道）安全生产监管部门。"
       " This plot carries a large safety risk, disclosed as the plans require; ask the town's"
       " work-safety office for details.",
}


@dataclass(frozen=True)
class PublicRule:
    """The public part of a derived layer: its columns, its rows and an optional notice column."""

    fields: tuple[str, ...]
    rows: RowRule | None = None
    notice: Mapping[int, str] | None = None  # adds a "notice" column from the "level" column


@dataclass(frozen=True)
class DerivedLayer:
    """A derived layer the server knows: titles, id fields and its public rule (None: private)."""

    name: str
    zh: str
    en: str
    id_fields: tuple[str, ...]
    public: PublicRule | None = None
    town_field: str | None = None  # the column telling a row's town (server.scope), for town editors


_COLOURS = ("level", "colour", "colour_name", "colour_zh")

#: Derived layers by name (see the module docstring for why each is public or not).
DERIVED: dict[str, DerivedLayer] = {d.name: d for d in (
    DerivedLayer("risk_wall", "四色安全风险墙", "Town risk wall (plot colours)", ("plot_id",),
                 PublicRule(("plot_id", "town", *_COLOURS), RowRule("level", "<=", 2), RISK_NOTICE), "town"),
    DerivedLayer("risk_zones", "四色风险分区", "Four-colour risk zones", ("zone_id",),
                 PublicRule(("zone_kind", "zone_id", *_COLOURS), RowRule("zone_kind", "==", "town"))),
    DerivedLayer("major_hazards", "重大危险源辨识分级", "Major hazard sources (GB 18218)", ("site_id",),
                 town_field="site_id"),
    DerivedLayer("safety_buffers", "外部安全防护距离", "External safety buffers (GB/T 37243)",
                 ("site_id", "target_class"), town_field="site_id"),
    DerivedLayer("separation_violations", "安全距离不足", "Separation violations",
                 ("rule", "subject_layer", "subject_id", "site_id"), town_field="site_id"),
    DerivedLayer("ir_contours", "个人风险等值线", "Individual-risk contours (GB 36894)", ("level",)),
    DerivedLayer("threat_zones", "事故影响范围", "Threat zones by hazard (attention areas)",
                 ("site_id", "hazard", "threshold"), town_field="site_id"),
)}


@dataclass(frozen=True)
class LayerView:
    """What one caller sees of one layer.

    ``fields`` is None for a full view (every column); otherwise the visible columns in order
    (``"notice"`` is computed, not read). ``rows`` keeps only the public rows. ``id_fields`` name
    the columns whose values (joined by ``~``) identify a feature; empty when the layer has none,
    then the feature's position in the layer is its id. ``towns`` (a town editor's view) keeps
    the rows of those towns whole, as told by the row towns given to :meth:`apply` (read from
    ``town_key``), and shows the others through ``others`` (the public view; None: hidden).
    """

    name: str
    title: str
    title_zh: str
    description: str
    public: bool
    id_fields: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None
    rows: RowRule | None = None
    notice: Mapping[int, str] | None = field(default=None, hash=False)
    towns: frozenset[str] | None = None
    town_key: str | None = None
    others: LayerView | None = None

    @property
    def key(self) -> str:
        """Names the view in cache keys and ETags: ``public``, ``full`` or ``towns:<codes>``."""
        if self.towns is not None:
            return "towns:" + ",".join(sorted(self.towns))
        return "public" if self.public else "full"

    def read_columns(self, available: Iterable[str]) -> list[str] | None:
        """Columns to ask the store for (None: all); those needed for rows and ids included."""
        if self.fields is None:
            return None
        wanted = [c for c in self.fields if c != "notice"]
        wanted += [c for c in self.id_fields if c not in wanted]
        if self.rows is not None and self.rows.column not in wanted:
            wanted.append(self.rows.column)
        if self.notice is not None and "level" not in wanted:
            wanted.append("level")
        present = set(available)
        return [c for c in wanted if c in present]

    def apply(self, frame: gpd.GeoDataFrame, row_towns: pd.Series | None = None,
              row_grids: pd.Series | None = None) -> gpd.GeoDataFrame:
        """The visible rows and columns of ``frame`` (a frame read with :meth:`read_columns`).

        ``row_towns`` (aligned with ``frame``) gives each row's town for a town editor's view;
        without it no row is the editor's own. ``row_grids`` gives each row's grid (网格), for a
        view whose codes include grids: a row of one of them is the editor's own too.
        """
        if self.towns is not None:
            own = np.zeros(len(frame), dtype=bool)
            for codes in (row_towns, row_grids):
                if codes is not None:
                    own |= codes.isin(self.towns).to_numpy(dtype=bool)
            mine = frame[own]
            theirs = self.others.apply(frame[~own]) if self.others is not None else mine.iloc[:0]
            if not len(theirs):
                return mine
            if not len(mine):
                return theirs
            return pd.concat([mine, theirs]).sort_index(kind="stable")
        if self.fields is None:
            return frame
        if self.rows is not None:
            frame = frame[self.rows.mask(frame)]
        if self.notice is not None:
            frame = frame.copy()
            level = pd.to_numeric(frame["level"], errors="coerce") if "level" in frame else None
            frame["notice"] = (level.map(lambda v: self.notice.get(int(v)) if pd.notna(v) else None)
                               if level is not None else None)
        keep = [c for c in self.fields if c in frame.columns]
        return frame[[*keep, frame.geometry.name]]

    def filterable(self, columns: Iterable[str]) -> list[str]:
        """Columns a caller may filter on (``?name=value``): the visible ones that exist."""
        columns = [c for c in columns if c != "geometry"]
        if self.fields is None:
            return columns
        return [c for c in self.fields if c in columns]


class Redactor:
    """Builds :class:`LayerView` objects from the catalogue and the derived-layer table."""

    def __init__(self, catalogue: Mapping[str, LayerSchema] = CATALOGUE,
                 derived: Mapping[str, DerivedLayer] = DERIVED):
        self.catalogue = dict(catalogue)
        self.derived = dict(derived)

    def town_key(self, layer: str) -> str | None:
        """The column telling the town of a row of ``layer`` (None: its rows belong to no town)."""
        if layer in self.catalogue:
            return town_key(f.name for f in self.catalogue[layer].fields)
        entry = self.derived.get(layer)
        return entry.town_field if entry is not None else None

    def is_public(self, layer: str) -> bool:
        """Whether the public may see any part of ``layer``."""
        if layer in self.catalogue:
            return self.catalogue[layer].public_layer and bool(self.catalogue[layer].public_fields)
        entry = self.derived.get(layer)
        return entry is not None and entry.public is not None

    def visible(self, layers: Iterable[str], principal: Principal) -> list[str]:
        """The layers of ``layers`` the caller may see, in the given order."""
        if principal.scoped:
            return [name for name in layers if self.is_public(name) or self.town_key(name) is not None]
        return [name for name in layers if not principal.is_public or self.is_public(name)]

    def view(self, layer: str, principal: Principal) -> LayerView:
        """The view of ``layer`` for ``principal``.

        A layer the caller may not see raises :class:`~layers.errors.LayerNotFound`, as an absent
        one does: to such a caller a private layer does not exist (nothing confirms its name).
        Routers check :meth:`visible` first, so that both answers are word for word the same.
        """
        if principal.scoped:
            return self._town_view(layer, principal)
        public = principal.is_public
        if public and not self.is_public(layer):
            raise LayerNotFound(f"unknown layer {layer!r}")
        if layer in self.catalogue:
            schema = self.catalogue[layer]
            return LayerView(
                layer, schema.en, schema.zh, schema.description or f"{schema.zh} {schema.en}", public,
                id_fields=(schema.id_field,), fields=schema.public_fields if public else None)
        if layer in self.derived:
            entry = self.derived[layer]
            rule = entry.public if public else None
            description = f"{entry.zh} {entry.en} (derived by the zoning engine)"
            if rule is not None and rule.rows is not None:
                description += f"; public view: rows with {rule.rows.column} {rule.rows.op} {rule.rows.value!r}"
            return LayerView(
                layer, entry.en, entry.zh, description, public, id_fields=entry.id_fields,
                fields=(*rule.fields, *(("notice",) if rule.notice else ())) if rule else None,
                rows=rule.rows if rule else None, notice=rule.notice if rule else None)
        return LayerView(layer, layer, layer, f"layer {layer}", public)

    def _town_view(self, layer: str, principal: Principal) -> LayerView:
        """A town editor's view: its towns' rows whole, the others as the public sees them."""
        key = self.town_key(layer)
        if key is None:
            return self.view(layer, PUBLIC)
        full = self.view(layer, _FULL)
        others = self.view(layer, PUBLIC) if self.is_public(layer) else None
        return replace(full, towns=frozenset(principal.towns), town_key=key, others=others)


_FULL = Principal("planner")
