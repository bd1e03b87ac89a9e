"""The area a wall is of: a town (镇街) or a grid of a town (网格), and which rows belong to it.

A town's wall, lists and plot histories (:mod:`server.pages.wall`, :mod:`server.pages.wall_records`)
work the same for a grid: the pages take a :class:`WallArea` found by :meth:`Areas.find` from the
route (``/towns/{code}/…`` or ``/grids/{code}/…``), and keep the rows of a frame that belong to
it with :meth:`Areas.rows`: those of its town, and for a grid those whose plot lies in it
(:meth:`server.scope.TownIndex.grids`, the rule of :mod:`zoning.wall.grids`).

Who may open an area's wall: whoever covers it (:meth:`server.auth.Principal.covers`): the
editor of its town, of the grid itself, planners and admins.

>>> area = WallArea("grid", "320412015-01", "一网格", town="320412015", parent="320412015", officer="王芳")
>>> area.path, area.grid, WallArea("town", "320412015", "雪堰镇", town="320412015").grid
('/grids/320412015-01', '320412015-01', None)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from layers.errors import LayerNotFound
from layers.store import Store
from server.pages.common import PageNotFound
from server.scope import TownIndex
from zoning.wall.grids import assign_grids, grid_areas

__all__ = ["KINDS", "WallArea", "Areas"]

#: The kinds of area a wall can be of, with their labels (中文, English).
KINDS = {"town": ("镇街", "town"), "grid": ("网格", "grid")}


@dataclass(frozen=True)
class WallArea:
    """A town or a grid: its code, name, the town it is (in), its parent and, for a grid, its officer."""

    kind: str
    code: str
    name: str
    town: str
    parent: str | None = None  # a town's district; a grid's town
    officer: str | None = None
    officer_phone: str | None = None

    @property
    def grid(self) -> str | None:
        return self.code if self.kind == "grid" else None

    @property
    def path(self) -> str:
        """The URL prefix of its pages: ``/towns/<code>`` or ``/grids/<code>``."""
        return f"/{self.kind}s/{self.code}"

    @property
    def label(self) -> tuple[str, str]:
        return KINDS[self.kind]


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


class Areas:
    """The towns and grids of a store's ``admin_areas`` (read once per version), and their rows."""

    def __init__(self, store: Store, index: TownIndex | None = None):
        self.store = store
        self.index = index if index is not None else TownIndex(store)
        self._key: int | None = None
        self._admin = pd.DataFrame(columns=["code", "name", "level", "parent"])

    def admin(self) -> pd.DataFrame:
        """The whole ``admin_areas`` layer, every column (officers' phones included: server side only)."""
        try:
            version = self.store.info("admin_areas").version
        except LayerNotFound:
            return self._admin.iloc[:0]
        if version != self._key:
            self._admin = self.store.read("admin_areas")
            self._admin["code"] = self._admin["code"].astype(str)
            self._key = version
        return self._admin

    def find(self, kind: str, code: str) -> WallArea:
        """The town or grid ``code`` (:class:`PageNotFound` listing known codes of that kind)."""
        admin = self.admin()
        rows = admin[admin["level"].astype(str) == kind].sort_values("code")
        match = rows[rows["code"] == code]
        if match.empty:
            zh, en = KINDS[kind]
            known = ", ".join(f"{c} {n}" for c, n in zip(rows["code"].head(12), rows["name"].head(12))) or "none"
            raise PageNotFound(f"未找到{zh}代码 unknown {en} code {code!r}; {en}s: {known}"
                               + (" …" if len(rows) > 12 else ""))
        row = match.iloc[0]
        get = {c: _text(row.get(c)) for c in ("name", "parent", "officer", "officer_phone")}
        return WallArea(kind, code, get["name"] or code, town=get["parent"] if kind == "grid" else code,
                        parent=get["parent"], officer=get["officer"], officer_phone=get["officer_phone"])

    def grids(self, town: str) -> pd.DataFrame:
        """The grids of town ``town`` (:func:`zoning.wall.grids.grid_areas`), by code."""
        grids = grid_areas(self.admin())
        return grids[grids["parent"].astype(str) == town].reset_index(drop=True)

    def grid_of(self, frame: pd.DataFrame) -> pd.Series:
        """The grid of each row of ``frame`` (rows with a ``plot_id`` or a ``town`` and geometry)."""
        return self.index.grids(frame, "town")

    def rows(self, area: WallArea, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` in ``area``: of its town, and for a grid, in that grid."""
        mine = frame[frame["town"].astype(str) == area.town] if "town" in frame.columns else frame.iloc[:0]
        if area.grid is None or not len(mine):
            return mine
        return mine[(self.grid_of(mine) == area.grid).to_numpy(dtype=bool)]

    def plots_in(self, area: WallArea, plots: pd.DataFrame) -> pd.DataFrame:
        """The plots of ``plots`` (rows of ``industrial_plots``, retired ones too) in ``area``, by their own outline."""
        mine = plots[plots["town"].astype(str) == area.town]
        if area.grid is None or not len(mine):
            return mine
        return mine[(assign_grids(mine, self.grids(area.town)) == area.grid).to_numpy(dtype=bool)]
