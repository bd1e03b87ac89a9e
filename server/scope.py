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
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from layers.errors import LayerNotFound

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

    @classmethod
    def from_tables(cls, plot_town: dict[str, str], site_plot: dict[str, str]) -> TownIndex:
        index = cls()
        index._key = ("given",)
        index._plots, index._sites = dict(plot_town), dict(site_plot)
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
        key = (self._version("industrial_plots"), self._version("hazard_sites"))
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

    def town_of_document(self, doc: dict | None) -> str | None:
        """The town of one row given as a dict (an audit entry's before or after)."""
        if not doc:
            return None
        key = town_key(doc)
        if key is None or doc.get(key) is None:
            return None
        return self.towns(pd.DataFrame({key: [doc[key]]}), key).iloc[0]
