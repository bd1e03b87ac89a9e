"""The records of the Store contract: :class:`LayerInfo`, :class:`EditResult`, column names, addresses.

Plain data, kept apart from :mod:`layers.store` (which re-exports all of it) so that the backends
can use them without importing the module that opens them.

>>> LayerInfo("shelters", rows=12, version=3, updated_at="2026-11-25T10:00:00+00:00").kind
'vector'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from os import PathLike

__all__ = ["STORE_CRS", "SYSTEM_COLUMNS", "RETIRED_COLUMNS", "AUDIT_COLUMNS", "LayerInfo", "EditResult",
           "is_postgres_address", "display_address"]

#: The CRS every vector layer of a store is held in: CGCS2000 geographic (lon/lat degrees).
STORE_CRS = "EPSG:4490"

#: System columns of every row, hidden from reads unless ``versions=True``.
SYSTEM_COLUMNS = ("row_version", "updated_at", "updated_by")
#: Columns a read with ``include_retired=True`` adds (None for rows that are live).
RETIRED_COLUMNS = ("retired_at", "retired_by")

#: Columns of the frame returned by :meth:`Store.audit`, newest entry first.
AUDIT_COLUMNS = ("id", "when", "actor", "action", "layer", "feature", "version", "rows", "detail",
                 "before", "after")

_POSTGRES = re.compile(r"^postgres(ql)?://", re.IGNORECASE)
_PASSWORD = re.compile(r"^(postgres(?:ql)?://[^:/@]*:)([^@]*)(@)", re.IGNORECASE)


@dataclass(frozen=True)
class LayerInfo:
    """What the store knows about one layer, without reading its rows.

    Parameters
    ----------
    name : str
        Layer name (a catalogue name such as ``"industrial_plots"`` or a derived layer name).
    rows : int
        Number of live rows (0 for a raster).
    version : int
        Incremented on each write or edit; 1 after the first.
    updated_at : str
        Time of the last write, ISO 8601 in UTC.
    derived : bool
        Computed by the engine rather than imported.
    ruleset_version, fingerprint : str or None
        Rule set and inputs a derived layer was computed from (to tell a stale one).
    crs : str
        CRS of the stored data (``"EPSG:4490"`` for vector layers; a raster keeps its own).
    kind : {"vector", "raster"}
    id_field : str or None
        The column holding each row's stable id (None: the layer cannot be edited by row).
    retired : int
        Rows retired and kept in the archive.
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
    id_field: str | None = None
    retired: int = 0


@dataclass(frozen=True)
class EditResult:
    """What one :meth:`Store.edit` committed.

    ``versions`` maps every touched id to its new row version; ``inserted``, ``updated``,
    ``retired`` and ``revived`` list the ids by what happened to them; ``version`` is the layer's
    new version and ``audit_ids`` the ids of the audit rows written.
    """

    layer: str
    version: int
    when: str
    versions: dict[str, int] = field(default_factory=dict)
    inserted: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    revived: tuple[str, ...] = ()
    audit_ids: tuple[int, ...] = ()


def is_postgres_address(address: str | PathLike[str]) -> bool:
    """Whether ``address`` names a PostGIS store (``postgresql://`` or ``postgres://``)."""
    return isinstance(address, str) and bool(_POSTGRES.match(address))


def display_address(address: str | PathLike[str]) -> str:
    """``address`` as it may be shown: a PostgreSQL password is replaced by ``***``."""
    text = str(address)
    return _PASSWORD.sub(r"\1***\3", text) if is_postgres_address(text) else text
