"""The Store: the one seam between riskmap and where its data live.

Everything above :mod:`layers` talks to a :class:`Store` and never to a file or a database: the
engine (:mod:`zoning`) loads its inputs with :meth:`Store.read`, computes, and writes its derived
layers back with :meth:`Store.write_many`; the server reads by bounding box and serves rasters
through :meth:`Store.read_raster`; editors change single rows with :meth:`Store.edit`. A store is
opened by its **address**, the same in every command (``--store``), in ``RISKMAP_STORE`` and in
:func:`open_store`:

``city.gpkg`` (any path)
    a GeoPackage file, :class:`layers.gpkg.GeoPackageStore` — the embedded default; one file is
    the whole store, rasters included.
``postgresql://user:password@host:port/dbname?schema=name``
    a schema of a PostgreSQL + PostGIS database, :class:`layers.postgis.PostgisStore` — for a
    city with many editors (``postgres://`` is accepted too; ``schema`` defaults to ``riskmap``;
    every other parameter goes to libpq unchanged).

Contract kept by every backend (the contract suite ``tests/layers/test_store_contract.py`` runs
against both)
---------------------------------------------------------------------------------------------
Layers and rows
    Vector layers are held, and returned, in **EPSG:4490** (CGCS2000 lon/lat, x/y order). A layer
    with an *id field* (the catalogue's ``id_field`` — ``plot_id``, ``site_id``… — or the one a
    derived layer declares with ``id_fields=``) has a stable, unique, non-null id per row. Every
    row carries system columns (:data:`SYSTEM_COLUMNS`): ``row_version`` (1 when the row first
    appears, +1 at each change), ``updated_at`` (ISO 8601 UTC) and ``updated_by`` (the actor).
    Reads hide them unless asked (``versions=True``).
Whole-layer writes (:meth:`Store.write`, :meth:`Store.write_many`)
    Replace a layer's rows in one transaction (several layers at once for ``write_many``: all or
    nothing). Rows are matched by id to what was there: a row whose id was held gets the next row
    version, a new id starts at 1, and a held id missing from the new rows is *retired* (kept,
    with who and when, see below). The layer version goes up by one; one audit row per layer
    records the write (action ``import``/``derive``/``demo``) with the counts before and after.
Row edits (:meth:`Store.edit`)
    ``edit(layer, upserts, retirements, base_versions, actor, reason)`` commits in one
    transaction or not at all. ``base_versions[id]`` is the row version the editor started from
    (missing or None: "I am adding a new row"). If any touched row has another version now —
    someone else changed, added or retired it — nothing is written and :class:`Conflict` is
    raised, carrying the current rows. Retired rows are kept in the store's archive with
    ``retired_at``/``retired_by`` and can be revived by an upsert naming their last version.
    Every accepted row change writes one audit row (``insert``/``update``/``retire``/``revive``)
    with the row before and after as JSON, in the same transaction, and bumps the layer version
    once (so caches keyed by layer version, and derived-layer fingerprints, see the change). A
    layer without an id field cannot be edited. The store checks that every value fits its
    column's type; the catalogue's rules (enumerations, ranges, required fields, geometry) are
    the caller's to apply first with :func:`layers.validate.validate_layer`, as for imports.
Reads (:meth:`Store.read`)
    A read sees one committed state; rows come back in the order they were first written. Column types are those of the catalogue for catalogue layers
    (cast once, above the backends, in :mod:`layers.store_base`), else the types the layer was
    written with (str, int, float, bool, date, datetime). ``bbox`` keeps the rows whose bounding
    box meets it (answered from a spatial index); ``where`` is a small safe filter
    ``{column: value or list of values}``.
Restamping (:meth:`Store.restamp`)
    An engine that brought derived layers up to date row by row after an edit stamps them with
    the new input fingerprint, but only those that carried the fingerprint of the inputs before
    the edit (a layer already stale stays stale). No row or version changes.
Rasters
    :meth:`Store.write_raster` takes a GeoTIFF path or an array with a rasterio-style profile;
    :meth:`Store.read_raster` is a context manager yielding an open rasterio dataset (a GeoTIFF
    identical in pixels, CRS, transform, nodata, colour table and tags to what was written).
    Rasters are versioned and audited like layers.
Audit
    :meth:`Store.audit` gives the log newest first, filtered by layer, feature and time, with the
    columns :data:`AUDIT_COLUMNS`; ``before``/``after`` are dicts (None where not applicable).
Accounts and sessions
    :meth:`Store.accounts`, :meth:`Store.put_account` (audited, layer ``accounts``),
    :meth:`Store.add_session`, :meth:`Store.session`, :meth:`Store.end_sessions`: two small
    non-spatial tables both backends keep (:mod:`layers.store_accounts`); tokens and session ids
    are stored hashed by the caller (:mod:`server.accounts`), never in clear.
Integrity
    Opening a store checks it cheaply (for a GeoPackage: header, application id, ``PRAGMA
    quick_check``, required tables) and refuses a damaged one with one :class:`StoreError` line;
    nothing is written into a store that failed its check. :meth:`Store.check` with ``full=True``
    runs the full check (``riskmap check``).

Address helpers: :func:`open_store`, :func:`create_store`, :func:`is_postgres_address`,
:func:`display_address` (an address with its password masked, for messages).

>>> LayerInfo("shelters", rows=12, version=3, updated_at="2026-11-25T10:00:00+00:00").kind
'vector'
>>> is_postgres_address("postgresql://alice@db.example/riskmap?schema=wujin"), is_postgres_address("city.gpkg")
(True, False)
>>> display_address("postgresql://alice:secret@db.example:5432/riskmap?schema=wujin")
'postgresql://alice:***@db.example:5432/riskmap?schema=wujin'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from os import PathLike
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from geo.errors import InputError
from layers.store_records import (
    AUDIT_COLUMNS, RETIRED_COLUMNS, STORE_CRS, SYSTEM_COLUMNS, EditResult, LayerInfo, display_address,
    is_postgres_address,
)

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "STORE_CRS", "SYSTEM_COLUMNS", "RETIRED_COLUMNS", "AUDIT_COLUMNS", "LayerInfo", "EditResult",
    "Store", "open_store", "create_store", "is_postgres_address", "display_address",
]


@runtime_checkable
class Store(Protocol):
    """A transactional, versioned, audited home for layers and rasters (see the module docstring).

    ``actor`` names who wrote (a user name, ``"cli"``, ``"engine"``); ``action`` says what kind
    of whole-layer write it was (``"import"``, ``"derive"``, ``"demo"``); ``detail`` is free text
    for the audit log (the source file of an import, for instance).
    """

    @property
    def address(self) -> str:
        """The address the store was opened with (a path, or a ``postgresql://`` URL)."""
        ...

    def layers(self) -> list[str]:
        """Names of the layers held (vector and raster), sorted."""
        ...

    def exists(self, name: str) -> bool:
        """Whether a layer called ``name`` is held."""
        ...

    def info(self, name: str) -> LayerInfo:
        """Rows, version, time and provenance of layer ``name``; LayerNotFound if absent."""
        ...

    def infos(self) -> list[LayerInfo]:
        """:class:`LayerInfo` of every layer, sorted by name (one query)."""
        ...

    def read(
        self,
        name: str,
        bbox: tuple[float, float, float, float] | None = None,
        columns: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        include_retired: bool = False,
        versions: bool = False,
    ) -> gpd.GeoDataFrame:
        """Rows of vector layer ``name`` in EPSG:4490.

        ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)`` (rows whose bounding box meets it);
        ``columns`` restricts the attribute columns (the geometry always comes back); ``where``
        keeps rows whose columns equal a value or one of a list of values (None matches NULL);
        ``versions`` adds the :data:`SYSTEM_COLUMNS`; ``include_retired`` adds retired rows and
        the :data:`RETIRED_COLUMNS` (and the system columns). LayerNotFound when absent.
        """
        ...

    def write(self, name: str, gdf: gpd.GeoDataFrame, *, derived: bool = False,
              ruleset_version: str | None = None, fingerprint: str | None = None, actor: str = "cli",
              action: str = "import", detail: str = "", id_field: str | None = None) -> LayerInfo:
        """Replace layer ``name`` by ``gdf`` (in EPSG:4490), in one transaction; its new info."""
        ...

    def write_many(self, layers: Mapping[str, gpd.GeoDataFrame], *, derived: bool = False,
                   ruleset_version: str | None = None, fingerprint: str | None = None, actor: str = "cli",
                   action: str = "import", detail: str = "",
                   id_fields: Mapping[str, str] | None = None) -> dict[str, LayerInfo]:
        """Replace several layers in one all-or-nothing transaction."""
        ...

    def edit(self, layer: str, upserts: gpd.GeoDataFrame | None = None, retirements: Iterable = (),
             base_versions: Mapping | None = None, *, actor: str, reason: str = "") -> EditResult:
        """Insert, update, retire and revive rows of ``layer`` in one transaction (see above)."""
        ...

    def audit(self, layer: str | None = None, feature: str | None = None, since: str | None = None,
              limit: int | None = 100) -> pd.DataFrame:
        """Audit entries, newest first, with the columns :data:`AUDIT_COLUMNS`."""
        ...

    def restamp(self, names: Iterable[str], fingerprint: str, *, expected: str | None) -> list[str]:
        """Give derived layers that carry fingerprint ``expected`` the new ``fingerprint`` (no row change)."""
        ...

    def write_raster(self, name: str, source, profile: Mapping | None = None, *, derived: bool = True,
                     ruleset_version: str | None = None, fingerprint: str | None = None,
                     actor: str = "engine", action: str = "derive", detail: str = "") -> LayerInfo:
        """Store a raster (a GeoTIFF path, or an array with its profile) as raster layer ``name``."""
        ...

    def read_raster(self, name: str) -> AbstractContextManager:
        """Context manager yielding the current raster ``name`` as an open rasterio dataset."""
        ...

    def accounts(self, name: str | None = None, token_id: str | None = None) -> list[dict]:
        """Accounts by name (all, or by ``name``, or by ``token_id``); see :mod:`layers.store_accounts`."""
        ...

    def put_account(self, record: Mapping[str, Any], *, actor: str, action: str, reason: str = "") -> None:
        """Add, rotate or revoke an account, with its audit row, in one transaction."""
        ...

    def add_session(self, id_hash: str, account: str, expires_at: str) -> None:
        """Record a browser session (its id's hash, never the id)."""
        ...

    def session(self, id_hash: str) -> dict | None:
        """The session recorded under ``id_hash``, or None."""
        ...

    def end_sessions(self, *, id_hash: str | None = None, account: str | None = None) -> int:
        """Revoke one session, or every open session of an account."""
        ...

    def check(self, full: bool = False) -> list[str]:
        """Problems found (empty when healthy); ``full`` runs the complete check."""
        ...

    def close(self) -> None:
        """Release connections (the store can be used again; it reconnects)."""
        ...

    def destroy(self) -> None:
        """Remove the whole store, irreversibly: for a command that created it and then failed."""
        ...


def _check_address(address) -> str | PathLike[str]:
    if address is None or not str(address).strip():
        raise InputError("no store given: pass --store ADDRESS (a .gpkg path or a postgresql:// URL), "
                         "or set RISKMAP_STORE")
    return address


def open_store(address: str | PathLike[str], *, create: bool = False, check: bool = True) -> Store:
    """Open the store at ``address`` (a GeoPackage path or a ``postgresql://`` URL).

    Parameters
    ----------
    address : str or path-like
    create : bool
        Create an empty store first when there is none at ``address``.
    check : bool
        Run the cheap integrity check (default). ``riskmap check`` opens without it and runs the
        full check instead; nothing else should.

    Raises
    ------
    StoreError
        No store there (and not ``create``), not a riskmap store, damaged, or unreachable; one
        line naming the address.
    """
    address = _check_address(address)
    if is_postgres_address(address):
        from layers.postgis import PostgisStore

        return PostgisStore.open(str(address), create=create, check=check)
    from layers.gpkg import GeoPackageStore

    return GeoPackageStore.open(address, create=create, check=check)


def create_store(address: str | PathLike[str]) -> Store:
    """Create an empty store at ``address``; StoreError if one (or anything else) is already there."""
    address = _check_address(address)
    if is_postgres_address(address):
        from layers.postgis import PostgisStore

        return PostgisStore.create(str(address))
    from layers.gpkg import GeoPackageStore

    return GeoPackageStore.create(address)
