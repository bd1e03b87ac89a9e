"""The store interface: where validated layers, derived layers and rasters live.

Everything above ``layers`` talks to a :class:`Store` and never to a file format: the engine
(``zoning``) loads its inputs with :meth:`Store.read`, computes, and writes its derived layers
back with :meth:`Store.write_many`; the server reads by bounding box. Two implementations are
planned: :class:`layers.gpkg.GeoPackageStore` (one GeoPackage file, the embedded default) and a
PostGIS store for larger deployments.

Contract shared by every implementation
---------------------------------------
* Vector layers are held, and returned, in the store CRS **EPSG:4490** (CGCS2000), the legal
  geodetic datum of China. ``bbox`` arguments are in lon/lat degrees of that CRS.
* A write replaces the whole layer and is all-or-nothing: after a failure (an exception at any
  point, a killed process) the store is exactly as it was. :meth:`Store.write_many` extends this
  to several layers at once (the derived layers of one engine run land together or not at all).
* Each write increments the layer's ``version`` (1 for the first write), stamps ``updated_at``
  (ISO 8601, UTC) and appends one row per layer to the audit log, in the same atomic step.
* Derived layers carry the rule-set version and the input fingerprint that produced them, so a
  reader can tell whether they are stale.
* Rasters (the risk surface, the population grid) are GeoTIFF files registered under a layer
  name; :meth:`Store.raster_path` gives the path of the current file. How they are kept is up to
  the implementation (the GeoPackage store keeps them in a sibling folder, see
  :mod:`layers.gpkg`).

>>> from layers.store import LayerInfo
>>> LayerInfo("shelters", rows=12, version=3, updated_at="2026-11-25T10:00:00+00:00").kind
'vector'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    import geopandas as gpd
    import pandas as pd

__all__ = ["STORE_CRS", "AUDIT_COLUMNS", "LayerInfo", "Store"]

#: The CRS every vector layer of a store is held in: CGCS2000 geographic (lon/lat degrees).
STORE_CRS = "EPSG:4490"

#: Columns of the frame returned by :meth:`Store.audit`, newest entry first.
AUDIT_COLUMNS = ("when", "actor", "action", "layer", "rows", "detail")


@dataclass(frozen=True)
class LayerInfo:
    """What the store knows about one layer, without reading its features.

    Parameters
    ----------
    name : str
        Layer name (a catalogue name such as ``"industrial_plots"`` or a derived layer name).
    rows : int
        Number of features (0 for a raster).
    version : int
        Incremented on each write; 1 after the first.
    updated_at : str
        Time of the last write, ISO 8601 in UTC.
    derived : bool
        Computed by the engine rather than imported.
    ruleset_version : str or None
        Version of the rule set that produced a derived layer.
    fingerprint : str or None
        Fingerprint of the inputs a derived layer was computed from.
    crs : str
        CRS of the stored data (``"EPSG:4490"`` for vector layers; a raster keeps its own).
    kind : {"vector", "raster"}
        Vector layer or raster (GeoTIFF).
    """

    name: str
    rows: int
    version: int
    updated_at: str
    derived: bool = False
    ruleset_version: str | None = None
    fingerprint: str | None = None
    crs: str = STORE_CRS
    kind: str = "vector"


@runtime_checkable
class Store(Protocol):
    """A transactional, versioned, audited home for layers.

    See the module docstring for the contract every implementation keeps. ``actor`` names who
    wrote (a user name, ``"cli"``, ``"engine"``); ``action`` says what kind of write it was
    (``"import"``, ``"derive"``, ``"edit"``); ``detail`` is free text for the audit log (the
    source file of an import, for instance).
    """

    def layers(self) -> list[str]:
        """Names of the layers held (vector and raster), sorted."""
        ...

    def exists(self, name: str) -> bool:
        """Whether a layer called ``name`` is held."""
        ...

    def read(
        self,
        name: str,
        bbox: tuple[float, float, float, float] | None = None,
        columns: list[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features of layer ``name`` in EPSG:4490, optionally those meeting ``bbox``.

        ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)``; ``columns`` restricts the attribute
        columns (the geometry always comes back). Raises
        :class:`~layers.errors.LayerNotFound` when the layer is absent.
        """
        ...

    def write(
        self,
        name: str,
        gdf: gpd.GeoDataFrame,
        *,
        derived: bool = False,
        ruleset_version: str | None = None,
        fingerprint: str | None = None,
        actor: str = "cli",
        action: str = "import",
        detail: str = "",
    ) -> LayerInfo:
        """Replace layer ``name`` by ``gdf`` (in EPSG:4490), atomically; returns its new info."""
        ...

    def write_many(
        self,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        derived: bool = False,
        ruleset_version: str | None = None,
        fingerprint: str | None = None,
        actor: str = "cli",
        action: str = "import",
        detail: str = "",
    ) -> dict[str, LayerInfo]:
        """Replace several layers in one all-or-nothing step."""
        ...

    def info(self, name: str) -> LayerInfo:
        """Rows, version, time and provenance of layer ``name``; LayerNotFound if absent."""
        ...

    def audit(self, limit: int = 100) -> pd.DataFrame:
        """The last ``limit`` audit entries, newest first, with columns :data:`AUDIT_COLUMNS`."""
        ...

    def write_raster(
        self,
        name: str,
        path: str | PathLike[str],
        *,
        derived: bool = True,
        ruleset_version: str | None = None,
        fingerprint: str | None = None,
        actor: str = "engine",
        action: str = "derive",
        detail: str = "",
    ) -> LayerInfo:
        """Register the GeoTIFF at ``path`` (copied into the store) as raster layer ``name``."""
        ...

    def raster_path(self, name: str) -> Path:
        """Path of the current GeoTIFF of raster layer ``name``; LayerNotFound if absent."""
        ...
