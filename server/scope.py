"""Which town a row belongs to, for town editors' scope (:mod:`server.redaction`) and ``riskmap audit``.

A row carries its town in one of three ways, tried in this order (:data:`TOWN_KEYS`):

``town``
    the town code itself (industrial plots, protected targets, shelters, stations, the risk wall);
``plot_id``
    the plot it sits on, whose ``town`` says (hazard sites; hidden dangers and inspections);
``site_id``
    the hazardous-chemical site it derives from, whose plot says (major hazards, safety buffers,
    separation violations, threat zones).

A row whose key is missing or unknown belongs to no town: a town editor sees it as the public
does. :class:`TownIndex` holds the plot → town and site → town tables, read once per version of
``industrial_plots`` and ``hazard_sites`` (so an edited plot moves its sites with it at once).

Grids (网格): where ``admin_areas`` holds grid polygons, a row may also belong to a grid of its
town (:meth:`TownIndex.grids`): a plot by its outline (:func:`zoning.wall.grids.assign_grids`),
a row of a plot or a site by that plot's grid, any other row (a protected target, a shelter) by
its own geometry. An account scoped to a grid code covers the rows of that grid; one scoped to a
town covers every grid of it. The plot → grid table is computed once per version of
``industrial_plots`` and ``admin_areas``, and only for callers scoped to a grid.

>>> import pandas as pd
>>> index = TownIndex.from_tables({"P1": "A", "P2": "B"}, {"S1": "P2"})
>>> index.towns(pd.DataFrame({"site_id": ["S1", "S9"]}), "site_id").tolist()
['B', None]
>>> index.towns(pd.DataFrame({"plot_id": ["P1"], "town": ["Z"]}), "town").tolist()
['Z']
>>> town_key(["site_id", "plot_id", "name"]), town_key(["road_id"])
('plot_id', None)
>>> index.town_of_document({"plot_id": "P2"}), index.town_of_document({"name": "x"})
('B', None)
>>> index = TownIndex.from_tables({"P1": "A"}, {"S1": "P1"}, plot_grid={"P1": "A-G1"}, grid_town={"A-G1": "A"})
>>> index.grids(pd.DataFrame({"site_id": ["S1", "S9"]}), "site_id").tolist(), index.grid_codes()
(['A-G1', None], {'A-G1': 'A'})
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import pandas as pd

from layers.errors import LayerNotFound
from zoning.wall.grids import assign_grids, grid_areas

__all__ = ["TOWN_KEYS", "town_key", "TownIndex"]

TOWN_KEYS = ("town", "plot_id", "site_id")


def town_key(columns: Iterable[str]) -> str | None:
    """The column that tells a row's town among ``columns`` (None: rows of no town)."""
    present = set(columns)
    return next((k for k in TOWN_KEYS if k in present), None)


def _as_str(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))


class TownIndex:
    """Plot → town and site → town, from a store (cached per layer version) or given tables."""

    def __init__(self, store=None):
        self.store = store
        self._key: tuple | None = None
        self._plots: dict[str, str] = {}
        self._sites: dict[str, str] = {}
        self._grids_key: tuple | None = None
        self._grid_polygons = grid_areas(None)
        self._grid_town: dict[str, str] = {}
        self._plot_grid_key: tuple | None = None
        self._plot_grid: dict[str, str] = {}

    @classmethod
    def from_tables(cls, plot_town: dict[str, str], site_plot: dict[str, str],
                    plot_grid: dict[str, str] | None = None, grid_town: dict[str, str] | None = None) -> TownIndex:
        index = cls()
        index._key = index._grids_key = index._plot_grid_key = ("given",)
        index._plots, index._sites = dict(plot_town), dict(site_plot)
        index._plot_grid, index._grid_town = dict(plot_grid or {}), dict(grid_town or {})
        return index

    def _version(self, name: str) -> int:
        try:
            return self.store.info(name).version
        except LayerNotFound:
            return 0

    def key(self) -> tuple:
        """The versions the tables were read at (part of every cache key of a scoped view)."""
        if self.store is None:
            return self._key or ()
        key = (self._version("industrial_plots"), self._version("hazard_sites"), self._version("admin_areas"))
        if key != self._key:
            self._plots = self._table("industrial_plots", "plot_id", "town", key[0])
            self._sites = self._table("hazard_sites", "site_id", "plot_id", key[1])
            self._key = key
        return key

    def _table(self, layer: str, key: str, value: str, version: int) -> dict[str, str]:
        if not version:
            return {}
        frame = self.store.read(layer, columns=[key, value])
        frame = frame[frame[key].notna() & frame[value].notna()]
        return dict(zip(_as_str(frame[key]), _as_str(frame[value])))

    def towns(self, frame: pd.DataFrame, key: str | None) -> pd.Series:
        """The town code of each row of ``frame`` by its ``key`` column (None where unknown)."""
        self.key()
        if key is None or key not in frame.columns:
            return pd.Series([None] * len(frame), index=frame.index, dtype=object)
        values = _as_str(frame[key])
        if key == "site_id":
            values = values.map(self._sites)
            key = "plot_id"
        if key == "plot_id":
            values = values.map(self._plots)
        return values.astype(object).where(values.notna(), None)

    # ------------------------------------------------------------------ grids
    def grid_codes(self) -> dict[str, str]:
        """Grid code → its town, for the grids of ``admin_areas`` (read once per version of the layer)."""
        if self.store is None:
            return self._grid_town
        key = (self._version("admin_areas"),)
        if key != self._grids_key:
            admin = self.store.read("admin_areas", where={"level": "grid"}) if key[0] else None
            self._grid_polygons = grid_areas(admin)
            self._grid_town = dict(zip(self._grid_polygons["code"], _as_str(self._grid_polygons["parent"])))
            self._grids_key = key
        return self._grid_town

    def has_grids(self, codes: Iterable[str]) -> bool:
        """Whether any of ``codes`` (a caller's scope) is a grid: then rows need their grids."""
        grids = self.grid_codes()
        return any(c in grids for c in codes)

    def _plot_grids(self) -> dict[str, str]:
        key = (self._version("industrial_plots"), *self._grids_key) if self.store is not None else ("given",)
        if key != self._plot_grid_key:
            grids = self._grid_polygons
            plots = self.store.read("industrial_plots", columns=["plot_id", "town"]) if key[0] and len(grids) else None
            if plots is None or not len(plots):
                self._plot_grid = {}
            else:
                found = assign_grids(plots, grids)
                self._plot_grid = dict(zip(_as_str(plots["plot_id"])[found.notna()], found.dropna()))
            self._plot_grid_key = key
        return self._plot_grid

    def grids(self, frame: pd.DataFrame, key: str | None) -> pd.Series:
        """The grid code of each row of ``frame`` (None where it is in no grid).

        A row with a ``plot_id`` or ``site_id`` (``key``, or a column beside a ``town`` key) is in its
        plot's grid; any other row with a geometry is placed by it (:func:`assign_grids`).
        """
        self.key()
        self.grid_codes()
        none = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if not self._grid_town:
            return none
        by = next((k for k in ("plot_id", "site_id") if k in frame.columns), None) if key == "town" else key
        if by in ("plot_id", "site_id"):
            values = _as_str(frame[by])
            if by == "site_id":
                values = values.map(self._sites)
            values = values.map(self._plot_grids())
            return values.astype(object).where(values.notna(), None)
        if key == "town" and isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
            return assign_grids(frame, self._grid_polygons)
        return none

    def town_of_document(self, doc: dict | None) -> str | None:
        """The town of one row given as a dict (an audit entry's before or after)."""
        if not doc:
            return None
        key = town_key(doc)
        if key is None or doc.get(key) is None:
            return None
        return self.towns(pd.DataFrame({key: [doc[key]]}), key).iloc[0]
