"""The GeoPackage store: every layer of a city in one file, the embedded default.

One GeoPackage (OGC 12-128r18, an SQLite file) holds every vector layer, one table per layer
named after it, in **EPSG:4490** (CGCS2000, the legal geodetic datum of China since 2008, longitude
and latitude in degrees, x/y order). Beside the layers it holds two riskmap tables, registered as
GeoPackage *attributes* tables so that desktop GIS shows them too:

``riskmap_layers``
    one row per layer: ``name``, ``kind`` ("vector" or "raster"), ``version`` (incremented on
    each write, 1 after the first), ``updated_at`` (ISO 8601, UTC), ``derived``,
    ``ruleset_version``, ``fingerprint``, ``rows``, ``crs`` and, for a raster, ``raster_file``.
``riskmap_audit``
    one row per layer written: ``when``, ``actor``, ``action``, ``layer``, ``rows``, ``version``,
    ``detail``.

Writes are atomic. A writer takes an exclusive ``fcntl`` lock on the sibling file
``<store>.lock`` (so concurrent writers queue), copies the store to a temporary file in the same
directory, writes the layers (pyogrio, GDAL's GPKG driver, with an R-tree spatial index) and the
metadata and audit rows into the copy, flushes it to disk and moves it over the original with
:func:`os.replace` (atomic on POSIX). A failure at any point, or a killed process, leaves the
original byte-for-byte unchanged (a stray ``.<store>.*.tmp.gpkg`` may remain after a kill, never a
half-written store). Readers never lock: they see the file before or after a write, never during.
The cost is one file copy per write (about 0.1 s per 100 MB on a local disk).

Rasters (the risk surface, the population grid) are GeoTIFF files kept in the sibling folder
``<store>.rasters/`` (for ``city.gpkg``: ``city.gpkg.rasters/``), one file per version named
``<layer>.v<version>.tif``, registered in ``riskmap_layers`` with ``kind = "raster"``. The new
file is copied in before the metadata switches to it and the previous version is deleted after,
so a reader of :meth:`GeoPackageStore.raster_path` always gets a complete file.

Examples
--------
>>> import tempfile, pathlib, geopandas
>>> from shapely import box
>>> path = pathlib.Path(tempfile.mkdtemp()) / "city.gpkg"
>>> store = GeoPackageStore.create(path)
>>> plots = geopandas.GeoDataFrame({"plot_id": ["P1"]}, geometry=[box(119.95, 31.7, 119.96, 31.71)],
...                                crs="EPSG:4490")
>>> store.write("scratch", plots).version
1
>>> store.write("scratch", plots).version
2
>>> store.read("scratch", bbox=(119.9, 31.6, 120.0, 31.8))["plot_id"].tolist()
['P1']
>>> store.audit()[["action", "layer", "rows"]].values.tolist()
[['import', 'scratch', 1], ['import', 'scratch', 1]]
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from geo.errors import CRSError, InputError, RiskmapError
from layers.errors import LayerNotFound, StoreError
from layers.store import AUDIT_COLUMNS, STORE_CRS, LayerInfo

__all__ = ["GeoPackageStore"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}  # "GPKG", "GP10", "GP11"
_META, _AUDIT = "riskmap_layers", "riskmap_audit"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RESERVED_PREFIXES = ("riskmap_", "gpkg_", "rtree_", "sqlite_")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

_DDL = f"""
CREATE TABLE {_META} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL DEFAULT 'vector' CHECK (kind IN ('vector', 'raster')),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    derived INTEGER NOT NULL DEFAULT 0,
    ruleset_version TEXT,
    fingerprint TEXT,
    rows INTEGER NOT NULL,
    crs TEXT NOT NULL,
    raster_file TEXT
);
CREATE TABLE {_AUDIT} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    "when" TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    layer TEXT NOT NULL,
    rows INTEGER,
    version INTEGER,
    detail TEXT
);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
VALUES ('{_META}', 'attributes', '{_META}', 'riskmap: layers, versions and provenance'),
       ('{_AUDIT}', 'attributes', '{_AUDIT}', 'riskmap: audit log of every write');
"""

try:  # pyarrow makes pyogrio's reads and writes several times faster
    import pyarrow  # noqa: F401

    _ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a dependency
    _ARROW = False


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name) or name.startswith(_RESERVED_PREFIXES):
        raise InputError(
            f"invalid layer name {name!r}: use lower-case letters, digits and '_', starting with a "
            f"letter, not starting with {', '.join(_RESERVED_PREFIXES)}"
        )


def _check_geopackage(path: Path) -> None:
    """Raise StoreError unless ``path`` is a riskmap GeoPackage store."""
    if not path.exists():
        raise StoreError(f"{path}: no such store; build the demo store with `riskmap demo --store {path}`, "
                         f"or start one with `riskmap import LAYER FILE --store {path} --create`")
    if not path.is_file():
        raise StoreError(f"{path}: not a GeoPackage store (it is a directory)")
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{path}: not a GeoPackage (not an SQLite database)")
    application_id = int.from_bytes(header[68:72], "big")
    if application_id not in _GPKG_APPLICATION_IDS:
        raise StoreError(f"{path}: not a GeoPackage (SQLite database without the GeoPackage "
                         f"application id)")
    try:
        with contextlib.closing(_connect_ro(path)) as con:
            found = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                (_META, _AUDIT),
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot be read as a GeoPackage ({exc})") from None
    if found != 2:
        raise StoreError(f"{path}: a GeoPackage but not a riskmap store (no {_META} / {_AUDIT} "
                         f"tables); import its layers into a store made with --create")


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def _prepare_frame(name: str, gdf) -> gpd.GeoDataFrame:
    """Check a frame is writable to the store and return the copy to write."""
    _check_name(name)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"layer {name!r}: expected a GeoDataFrame, got {type(gdf).__name__}")
    try:
        geometry_name = gdf.geometry.name
    except AttributeError:
        raise InputError(f"layer {name!r}: the GeoDataFrame has no active geometry column") from None
    if gdf.crs is None:
        raise CRSError(f"layer {name!r} has no CRS; the store holds {STORE_CRS} (CGCS2000): set "
                       f"the CRS the data are in, then reproject with geo.crs.to_store_crs")
    if not CRS.from_user_input(gdf.crs).equals(STORE_CRS, ignore_axis_order=True):
        raise CRSError(f"layer {name!r} is in {gdf.crs.to_string()} but the store holds {STORE_CRS} "
                       f"(CGCS2000); reproject with geo.crs.to_store_crs(gdf)")
    out = gdf.reset_index(drop=True)
    if geometry_name != "geometry":
        out = out.rename_geometry("geometry")
    for column in out.columns:
        if column == "geometry" or out[column].dtype != object:
            continue
        values = out[column]
        nested = values.map(lambda v: isinstance(v, (list, dict, tuple)), na_action="ignore")
        if nested.fillna(False).astype(bool).any():
            out[column] = values.map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v,
                na_action="ignore",
            )
    return out


@contextlib.contextmanager
def _unsynchronised() -> Iterator[None]:
    """Let GDAL's SQLite skip its per-transaction fsyncs (4-8x faster small writes).

    Only ever used on the temporary copy, which is flushed with one fsync before it replaces the
    store; a crash before that loses nothing but the copy. The previous setting is restored.
    """
    key = "OGR_SQLITE_SYNCHRONOUS"
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: previous})


def _write_layer_file(path: Path, name: str, frame: gpd.GeoDataFrame) -> None:
    """Write (replacing) one layer table, with its R-tree index, in the GeoPackage at ``path``."""
    with _unsynchronised():
        pyogrio.write_dataframe(
            frame, path, layer=name, driver="GPKG", use_arrow=_ARROW,
            layer_options={"SPATIAL_INDEX": "YES"},
        )


def _commit_metadata(path: Path, entries: list[dict], audit: list[dict]) -> None:
    """Upsert the ``riskmap_layers`` rows and append the audit rows, in one SQLite transaction."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous = OFF")  # the caller fsyncs the whole file once
        with con:
            con.executemany(
                f"""INSERT INTO {_META} (name, kind, version, updated_at, derived, ruleset_version,
                                        fingerprint, rows, crs, raster_file)
                    VALUES (:name, :kind, :version, :updated_at, :derived, :ruleset_version,
                            :fingerprint, :rows, :crs, :raster_file)
                    ON CONFLICT (name) DO UPDATE SET
                        kind = excluded.kind, version = excluded.version,
                        updated_at = excluded.updated_at, derived = excluded.derived,
                        ruleset_version = excluded.ruleset_version,
                        fingerprint = excluded.fingerprint, rows = excluded.rows,
                        crs = excluded.crs, raster_file = excluded.raster_file""",
                entries,
            )
            con.executemany(
                f"""INSERT INTO {_AUDIT} ("when", actor, action, layer, rows, version, detail)
                    VALUES (:when, :actor, :action, :layer, :rows, :version, :detail)""",
                audit,
            )
            con.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                f"WHERE table_name IN ('{_META}', '{_AUDIT}')"
            )
    finally:
        con.close()


class GeoPackageStore:
    """A :class:`~layers.store.Store` in one GeoPackage file (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        An existing store, made by :meth:`create`.
    lock_timeout : float
        Seconds a writer waits for another writer to finish before giving up with StoreError.

    Raises
    ------
    StoreError
        If ``path`` is missing, not a GeoPackage, or a GeoPackage that is not a riskmap store;
        the message names the path.
    """

    def __init__(self, path: str | PathLike[str], *, lock_timeout: float = 120.0):
        self.path = Path(path)
        self.lock_timeout = float(lock_timeout)
        _check_geopackage(self.path)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, path: str | PathLike[str], **kwargs) -> GeoPackageStore:
        """Create an empty store at ``path`` (StoreError if something is already there)."""
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: already exists; open it with GeoPackageStore({str(path)!r})")
        if not path.parent.is_dir():
            raise StoreError(f"{path}: cannot create a store, folder {path.parent} does not exist")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.gpkg", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            # Let GDAL lay out the GeoPackage core tables, then drop the placeholder table.
            with _unsynchronised():
                pyogrio.write_dataframe(pd.DataFrame({"x": pd.Series([], dtype="int64")}), tmp,
                                        layer="riskmap_placeholder", driver="GPKG")
            con = sqlite3.connect(tmp)
            try:
                con.execute("PRAGMA synchronous = OFF")  # one fsync of the whole file below
                with con:
                    for (trigger,) in con.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name = 'riskmap_placeholder'"
                    ).fetchall():
                        con.execute(f'DROP TRIGGER "{trigger}"')
                    con.execute("DROP TABLE riskmap_placeholder")
                    for table in ("gpkg_contents", "gpkg_ogr_contents"):
                        con.execute(f"DELETE FROM {table} WHERE table_name = 'riskmap_placeholder'")
                    con.executescript(_DDL)
            finally:
                con.close()
            _fsync(tmp)
            if path.exists():  # raced with another creator
                raise StoreError(f"{path}: already exists")
            os.replace(tmp, path)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, (RiskmapError, KeyboardInterrupt, SystemExit)):
                raise
            raise StoreError(f"{path}: cannot create the store ({exc})") from exc
        return cls(path, **kwargs)

    @classmethod
    def open(cls, path: str | PathLike[str], *, create: bool = False, **kwargs) -> GeoPackageStore:
        """Open the store at ``path``, creating an empty one first if ``create`` and it is missing."""
        if create and not Path(path).exists():
            return cls.create(path, **kwargs)
        return cls(path, **kwargs)

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    @property
    def rasters_dir(self) -> Path:
        """The folder holding the store's GeoTIFF rasters: ``<store>.rasters/``."""
        return self.path.with_name(self.path.name + ".rasters")

    @property
    def lock_path(self) -> Path:
        """The sibling file writers lock: ``<store>.lock``."""
        return self.path.with_name(self.path.name + ".lock")

    # ------------------------------------------------------------------ metadata reads
    def _rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            with contextlib.closing(_connect_ro(self.path)) as con:
                con.row_factory = sqlite3.Row
                return con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot read the store ({exc})") from None

    def layers(self) -> list[str]:
        """Names of the layers held (vector and raster), sorted."""
        return [row["name"] for row in self._rows(f"SELECT name FROM {_META} ORDER BY name")]

    def exists(self, name: str) -> bool:
        """Whether a layer called ``name`` is held."""
        return bool(self._rows(f"SELECT 1 FROM {_META} WHERE name = ?", (name,)))

    def _meta(self, name: str) -> sqlite3.Row:
        rows = self._rows(f"SELECT * FROM {_META} WHERE name = ?", (name,))
        if not rows:
            held = ", ".join(self.layers()) or "none"
            raise LayerNotFound(f"layer {name!r} is not in the store {self.path} (layers held: {held})")
        return rows[0]

    @staticmethod
    def _info(row: sqlite3.Row) -> LayerInfo:
        return LayerInfo(
            name=row["name"], rows=int(row["rows"]), version=int(row["version"]),
            updated_at=row["updated_at"], derived=bool(row["derived"]),
            ruleset_version=row["ruleset_version"], fingerprint=row["fingerprint"],
            crs=row["crs"], kind=row["kind"],
        )

    def info(self, name: str) -> LayerInfo:
        """Rows, version, last write and provenance of layer ``name``."""
        return self._info(self._meta(name))

    def infos(self) -> list[LayerInfo]:
        """:class:`LayerInfo` of every layer, sorted by name (one query)."""
        return [self._info(row) for row in self._rows(f"SELECT * FROM {_META} ORDER BY name")]

    def audit(self, limit: int = 100) -> pd.DataFrame:
        """The last ``limit`` audit entries, newest first (columns ``when, actor, action, layer,
        rows, detail``)."""
        rows = self._rows(
            f'SELECT "when", actor, action, layer, rows, detail FROM {_AUDIT} ORDER BY id DESC LIMIT ?',
            (int(limit),),
        )
        return pd.DataFrame([tuple(row) for row in rows], columns=list(AUDIT_COLUMNS))

    # ------------------------------------------------------------------ reads
    def read(self, name: str, bbox=None, columns=None) -> gpd.GeoDataFrame:
        """Features of vector layer ``name`` in EPSG:4490.

        Parameters
        ----------
        name : str
        bbox : tuple of 4 floats, optional
            ``(min_lon, min_lat, max_lon, max_lat)``; GDAL answers it from the layer's R-tree
            spatial index and returns the features whose bounding box meets it.
        columns : list of str, optional
            Attribute columns to return (all by default); the geometry always comes back.

        Returns
        -------
        geopandas.GeoDataFrame
            For a catalogue layer, columns carry the dtypes of their fields
            (:attr:`layers.schema.Field.dtype`), whatever GeoPackage made of them.
        """
        meta = self._meta(name)
        if meta["kind"] != "vector":
            raise StoreError(f"layer {name!r} in {self.path} is a raster; use raster_path({name!r})")
        if bbox is not None:
            bbox = tuple(float(v) for v in bbox)
            if len(bbox) != 4 or not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
                raise InputError(f"bbox must be (min_lon, min_lat, max_lon, max_lat), got {bbox!r}")
        if columns is not None:
            columns = list(columns)
            known = set(pyogrio.read_info(self.path, layer=name)["fields"])
            unknown = [c for c in columns if c not in known]
            if unknown:
                raise InputError(f"layer {name!r} has no column(s) {', '.join(unknown)}; "
                                 f"columns: {', '.join(sorted(known))}")
        try:
            gdf = pyogrio.read_dataframe(self.path, layer=name, bbox=bbox, columns=columns,
                                         use_arrow=_ARROW)
        except pyogrio.errors.DataSourceError as exc:
            raise StoreError(f"{self.path}: cannot read layer {name!r} ({exc})") from None
        if gdf.crs is None or not gdf.crs.equals(STORE_CRS):
            gdf = gdf.set_crs(STORE_CRS, allow_override=True)
        from layers.catalogue import CATALOGUE

        if name in CATALOGUE:
            from layers.validate import cast_to_schema

            gdf = cast_to_schema(gdf, CATALOGUE[name])
        return gdf

    def raster_path(self, name: str) -> Path:
        """Path of the current GeoTIFF of raster layer ``name``."""
        meta = self._meta(name)
        if meta["kind"] != "raster":
            raise StoreError(f"layer {name!r} in {self.path} is a vector layer; use read({name!r})")
        path = self.rasters_dir / meta["raster_file"]
        if not path.is_file():
            raise StoreError(f"{self.path}: raster layer {name!r} is registered but its file {path} is missing "
                             f"(the {self.rasters_dir.name}/ folder must be copied with the store); "
                             f"re-run the command that wrote it (`riskmap zone` for risk_surface)")
        return path

    # ------------------------------------------------------------------ writes
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive writer lock on ``<store>.lock``."""
        with open(self.lock_path, "a") as fh:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(f"{self.path}: locked by another writer for more than "
                                         f"{self.lock_timeout:.0f} s; try again later") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _transaction(self, *, lock: bool = True) -> Iterator[Path]:
        """Yield a temporary copy of the store; on success move it over the original.

        Takes the writer lock unless ``lock`` is False (the caller already holds it: ``flock``
        locks belong to an open file, so taking it twice in one process would wait forever).
        """
        with self._locked() if lock else contextlib.nullcontext():
            _check_geopackage(self.path)  # it might have been replaced by something else
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp.gpkg",
                                            dir=self.path.parent)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                shutil.copyfile(self.path, tmp)
                shutil.copymode(self.path, tmp)
                yield tmp
                _fsync(tmp)
                os.replace(tmp, self.path)
                with contextlib.suppress(OSError):
                    _fsync(self.path.parent)
            except BaseException as exc:
                tmp.unlink(missing_ok=True)
                for suffix in ("-journal", "-wal", "-shm"):
                    Path(str(tmp) + suffix).unlink(missing_ok=True)
                if isinstance(exc, (RiskmapError, KeyboardInterrupt, SystemExit, GeneratorExit)):
                    raise
                raise StoreError(f"{self.path}: write failed, store left unchanged ({exc})") from exc

    def _versions(self, names, kind: str) -> dict[str, int]:
        """Current versions of the layers ``names`` that exist; StoreError if one is of another kind."""
        marks = ", ".join("?" * len(names))
        rows = self._rows(f"SELECT name, version, kind FROM {_META} WHERE name IN ({marks})", tuple(names))
        for row in rows:
            if row["kind"] != kind:
                raise StoreError(f"layer {row['name']!r} in {self.path} is a {row['kind']} layer; "
                                 f"a {kind} layer needs another name")
        return {row["name"]: int(row["version"]) for row in rows}

    def write(self, name: str, gdf: gpd.GeoDataFrame, **kwargs) -> LayerInfo:
        """Replace layer ``name`` by ``gdf`` (EPSG:4490), atomically; see :meth:`write_many`."""
        return self.write_many({name: gdf}, **kwargs)[name]

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
        """Replace several layers in one all-or-nothing step.

        Every frame is checked first (a GeoDataFrame in EPSG:4490, a valid layer name); then,
        under the writer lock, all of them and their metadata and audit rows are written to a
        copy of the store that replaces the original only when everything succeeded. Columns
        holding lists or dicts are stored as JSON text.

        Returns
        -------
        dict of str to LayerInfo
            The new info of each layer written.

        Raises
        ------
        CRSError, InputError
            A frame cannot be stored (nothing was written).
        StoreError
            The write failed (the store is unchanged) or the lock could not be taken.
        """
        if not layers:
            raise InputError("write_many: no layers given")
        prepared = {name: _prepare_frame(name, gdf) for name, gdf in layers.items()}
        with self._transaction() as tmp:
            when = _now()
            versions = self._versions(list(prepared), "vector")
            for name, frame in prepared.items():
                _write_layer_file(tmp, name, frame)
            entries, audit = [], []
            for name, frame in prepared.items():
                version = versions.get(name, 0) + 1
                entries.append(dict(
                    name=name, kind="vector", version=version, updated_at=when,
                    derived=int(bool(derived)), ruleset_version=ruleset_version,
                    fingerprint=fingerprint, rows=len(frame), crs=STORE_CRS, raster_file=None,
                ))
                audit.append(dict(when=when, actor=actor, action=action, layer=name,
                                  rows=len(frame), version=version, detail=detail))
            _commit_metadata(tmp, entries, audit)
        return {e["name"]: LayerInfo(
            name=e["name"], rows=e["rows"], version=e["version"], updated_at=when,
            derived=bool(derived), ruleset_version=ruleset_version, fingerprint=fingerprint,
        ) for e in entries}

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
        """Copy the GeoTIFF at ``path`` into ``<store>.rasters/`` and register it as ``name``.

        The file is checked to be a TIFF; its CRS is recorded (read with rasterio when it is
        installed). The previous version's file is deleted once the new one is registered.
        """
        _check_name(name)
        source = Path(path)
        if not source.is_file():
            raise InputError(f"{source}: no such raster file")
        with open(source, "rb") as fh:
            if fh.read(4) not in _TIFF_MAGIC:
                raise InputError(f"{source}: not a GeoTIFF (no TIFF header)")
        crs = _raster_crs(source)
        self.rasters_dir.mkdir(exist_ok=True)
        with self._locked():
            when = _now()
            version = self._versions([name], "raster").get(name, 0) + 1
            target = self.rasters_dir / f"{name}.v{version}.tif"
            fd, staging = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp.tif", dir=self.rasters_dir)
            os.close(fd)
            try:
                shutil.copyfile(source, staging)
                shutil.copymode(self.path, staging)  # readable like the store (mkstemp makes 0600)
                _fsync(Path(staging))
                os.replace(staging, target)
                with self._transaction(lock=False) as tmp:
                    _commit_metadata(
                        tmp,
                        [dict(name=name, kind="raster", version=version, updated_at=when,
                              derived=int(bool(derived)), ruleset_version=ruleset_version,
                              fingerprint=fingerprint, rows=0, crs=crs, raster_file=target.name)],
                        [dict(when=when, actor=actor, action=action, layer=name, rows=0,
                              version=version, detail=detail or f"raster from {source.name}")],
                    )
            except BaseException:
                Path(staging).unlink(missing_ok=True)
                target.unlink(missing_ok=True)
                raise
            for old in self.rasters_dir.glob(f"{name}.v*.tif"):
                if old != target:
                    old.unlink(missing_ok=True)
        return LayerInfo(name=name, rows=0, version=version, updated_at=when, derived=bool(derived),
                         ruleset_version=ruleset_version, fingerprint=fingerprint, crs=crs,
                         kind="raster")


def _raster_crs(path: Path) -> str:
    """The CRS of a GeoTIFF as ``AUTH:CODE`` (or WKT), ``""`` when unknown or rasterio is absent."""
    try:
        import rasterio
    except ImportError:  # pragma: no cover - rasterio is a dependency
        return ""
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                return ""
            return src.crs.to_string()
    except Exception:  # noqa: BLE001 - an unreadable header is reported as an unknown CRS
        return ""

