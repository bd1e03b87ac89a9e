"""The PostGIS store: the same contract over a schema of a PostgreSQL + PostGIS database.

For a city with many editors: every process (servers, workers, command lines) connects to one
database, and PostgreSQL's transactions, row locks and MVCC do what SQLite's file lock does for the
GeoPackage store — with readers never waiting for writers.

Address
    ``postgresql://user:password@host:port/dbname?schema=name`` (``postgres://`` too). ``schema``
    (default ``riskmap``) names the PostgreSQL schema holding the store: one schema, one store, so
    one database can hold several cities. Every other query parameter goes to libpq unchanged
    (``sslmode``, ``connect_timeout``…).
Layout (inside the schema)
    one table per vector layer: ``fid`` (bigserial primary key), ``geom geometry(Geometry, 4490)``
    with a GiST index, the attributes (text, bigint, double precision, boolean, date, timestamp),
    the system columns ``row_version``, ``updated_at`` (timestamptz), ``updated_by``, and a unique
    index on the id field; ``riskmap_layers`` (metadata), ``riskmap_audit`` (``before``/``after``
    as jsonb), ``riskmap_retired`` (retired rows, attributes as jsonb, geometry as geometry) and
    ``riskmap_rasters``.
Rasters
    are kept as GeoTIFF bytes (``bytea``) behind the same raster API, not as PostGIS rasters:
    riskmap reads a raster whole (tiles are warped from it in memory, coverage sums it), so
    in-database raster functions would go unused, while ``postgis_raster`` is a separate extension
    a city's database may not allow; bytes round-trip losslessly and copy as they are.
Transactions
    A write is one transaction. It first takes a transaction-scoped advisory lock per layer it
    writes (``pg_advisory_xact_lock``), so writers of one layer queue (up to ``lock_timeout``)
    while writers of other layers go on; an edit then reads the touched rows' versions, and either
    raises :class:`~layers.errors.Conflict` (rolling back) or writes rows, audit rows and metadata
    and commits. Reads run in ``REPEATABLE READ READ ONLY`` transactions: one snapshot per call.
    Bulk rows go in with ``COPY``; bbox reads use ``geom && ST_MakeEnvelope(…, 4490)`` on the
    GiST index and come back as WKB (``ST_AsBinary``) decoded with shapely in one vectorised call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import shapely

from geo.errors import InputError, RiskmapError
from layers.errors import StoreError
from layers.postgis_catalogue import TRIGGER_DDL, CatalogueWatch
from layers.rasters import RasterData, geotiff_bytes
from layers.store_records import display_address
from layers.store_base import META_KEYS, BaseStore, SharedConnections, ThreadConnections, Transaction
from layers.store_rows import PreparedRows, RawRows, check_name

try:  # psycopg is a dependency; imported lazily so that a GeoPackage-only install still imports layers
    import psycopg
    from psycopg import sql
except ImportError:  # pragma: no cover
    psycopg = None

__all__ = ["PostgisStore", "parse_address"]

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PG_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean", "date": "date",
             "datetime": "timestamp"}
_LOGICAL = {"text": "str", "character varying": "str", "character": "str", "bigint": "int", "integer": "int",
            "smallint": "int", "double precision": "float", "real": "float", "numeric": "float",
            "boolean": "bool", "date": "date", "timestamp without time zone": "datetime",
            "timestamp with time zone": "datetime"}
_SYSTEM = ("row_version", "updated_at", "updated_by")
_DDL = """
CREATE TABLE {s}.riskmap_layers (name text PRIMARY KEY, kind text NOT NULL CHECK (kind IN ('vector', 'raster')),
  version integer NOT NULL, updated_at timestamptz NOT NULL, derived boolean NOT NULL DEFAULT false,
  ruleset_version text, fingerprint text, rows bigint NOT NULL, crs text NOT NULL, id_field text,
  retired bigint NOT NULL DEFAULT 0, raster_token text, raster_meta text);
CREATE TABLE {s}.riskmap_audit (id bigserial PRIMARY KEY, "when" timestamptz NOT NULL, actor text NOT NULL,
  action text NOT NULL, layer text NOT NULL, feature text, version integer, rows bigint, detail text,
  before jsonb, after jsonb);
CREATE INDEX riskmap_audit_feature ON {s}.riskmap_audit (layer, feature);
CREATE TABLE {s}.riskmap_retired (layer text NOT NULL, feature text NOT NULL, row_version integer NOT NULL,
  retired_at timestamptz NOT NULL, retired_by text NOT NULL, data jsonb NOT NULL, geom geometry(Geometry, 4490),
  PRIMARY KEY (layer, feature));
CREATE TABLE {s}.riskmap_rasters (name text PRIMARY KEY, token text NOT NULL, data bytea NOT NULL);
CREATE TABLE {s}.riskmap_tables (name text PRIMARY KEY, oid oid NOT NULL);
"""


def parse_address(address: str) -> tuple[str, str]:
    """``(libpq URL without schema, schema)`` of a store address.

    >>> parse_address("postgresql://alice@db:5432/gis?schema=wujin&sslmode=require")
    ('postgresql://alice@db:5432/gis?sslmode=require', 'wujin')
    >>> parse_address("postgres://db/gis")[1]
    'riskmap'
    """
    parts = urlsplit(address)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "riskmap")
    if not _SCHEMA.match(schema):
        raise InputError(f"{display_address(address)}: schema {schema!r} must be lower-case letters, digits "
                         f"and '_', starting with a letter or '_'")
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode([(k, v) for k, v in query if k != "schema"]),
                      parts.fragment))
    return url, schema


def _iso(value) -> str | None:
    """A timestamptz as riskmap writes times: ISO 8601, UTC, milliseconds."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def _ewkb_hex(wkb: list) -> list:
    """Hex EWKB with SRID 4490 of each WKB (None stays None), for COPY and parameters."""
    array = np.asarray(wkb, dtype=object)
    out = np.full(len(array), None, dtype=object)
    present = np.array([w is not None for w in wkb], dtype=bool)
    if present.any():
        geoms = shapely.set_srid(shapely.from_wkb(array[present]), 4490)
        out[present] = shapely.to_wkb(geoms, hex=True, include_srid=True, flavor="extended")
    return out.tolist()


def _wkb_bytes(values) -> list:
    return [None if v is None else bytes(v) for v in values]


class _PgTransaction(Transaction):
    """The write primitives over one psycopg connection inside ``BEGIN``."""

    def __init__(self, store: PostgisStore, con):
        self.store, self.con, self._locked = store, con, set()

    def _t(self, name: str):
        return sql.Identifier(self.store.schema, name)

    def _lock(self, name: str) -> None:
        if name not in self._locked:
            self.con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.store.schema}.{name}",))
            self._locked.add(name)

    def meta(self, name: str) -> dict | None:
        self._lock(name)
        rows = self.store._meta_rows(name, self.con)
        return rows[0] if rows else None

    def put_meta(self, entry: dict) -> None:
        keys = list(META_KEYS)
        self.con.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (name) DO UPDATE SET {}").format(
            self._t("riskmap_layers"), sql.SQL(", ").join(map(sql.Identifier, keys)),
            sql.SQL(", ").join(sql.Placeholder() * len(keys)),
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(k)) for k in keys if k != "name")),
            [bool(entry[k]) if k == "derived" else entry.get(k) for k in keys])

    def append_audit(self, entries: list[dict]) -> list[int]:
        ids = []
        for e in entries:
            keys = [k for k in ("id", "when", "actor", "action", "layer", "feature", "version", "rows", "detail",
                                "before", "after") if k in e]
            row = self.con.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
                self._t("riskmap_audit"), sql.SQL(", ").join(map(sql.Identifier, keys)),
                sql.SQL(", ").join(sql.Placeholder() * len(keys))), [e[k] for k in keys]).fetchone()
            ids.append(row[0])
        if any("id" in e for e in entries):
            self.con.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), "
                                     "(SELECT max(id) FROM {}))").format(
                sql.Literal(f"{self.store.schema}.riskmap_audit"), self._t("riskmap_audit")))
        return ids

    def column_types(self, name: str) -> dict[str, str]:
        return self.store._column_types(name, self.con)

    def versions(self, name: str, id_field: str) -> dict[str, int]:
        return {i: v for i, v in self.con.execute(sql.SQL("SELECT {}::text, row_version FROM {}").format(
            sql.Identifier(id_field), self._t(name)))}

    def fetch(self, name, id_field, ids, types) -> tuple[RawRows, dict]:
        where = sql.SQL("{}::text = ANY(%s)").format(sql.Identifier(id_field))
        return self.store._select(self.con, name, list(types), types, True, where, [list(ids)])

    def fetch_archive(self, name: str, ids) -> list[dict]:
        return self.store._archive_rows(self.con, name, ids)

    def _names(self, rows: PreparedRows) -> list:
        return [sql.Identifier("geom"), *map(sql.Identifier, rows.columns), *map(sql.Identifier, _SYSTEM)]

    def _rows(self, rows: PreparedRows, system: dict) -> list[tuple]:
        return list(zip(_ewkb_hex(rows.wkb), *(rows.values[c] for c in rows.columns),
                        system["row_version"], system["updated_at"], system["updated_by"]))

    def replace(self, rows: PreparedRows, system: dict) -> None:
        table = self._t(rows.name)
        self.con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        columns = sql.SQL("").join(sql.SQL(", {} {}").format(sql.Identifier(c), sql.SQL(_PG_TYPES[rows.types[c]]))
                                   for c in rows.columns)
        self.con.execute(sql.SQL("CREATE TABLE {} (fid bigserial PRIMARY KEY, geom geometry(Geometry, 4490){}, "
                                 "row_version integer NOT NULL DEFAULT 1, updated_at timestamptz, "
                                 "updated_by text)").format(table, columns))
        self._copy(rows, system)
        self.con.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{rows.name}_geom_gist"), table))
        if rows.id_field:
            self.con.execute(sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(
                sql.Identifier(f"{rows.name}_id"), table, sql.Identifier(rows.id_field)))
        self.con.execute(sql.SQL("ANALYZE {}").format(table))
        self.con.execute(sql.SQL("INSERT INTO {} (name, oid) VALUES (%s, %s::regclass::oid) ON CONFLICT (name) DO "
                                 "UPDATE SET oid = excluded.oid").format(self._t("riskmap_tables")),
                         (rows.name, f"{self.store.schema}.{rows.name}"))

    def _copy(self, rows: PreparedRows, system: dict) -> None:
        """``COPY … FROM STDIN (FORMAT csv)`` of the rows, the CSV written by pyarrow from typed
        columns (geometry as hex EWKB), so no row passes through Python one by one."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        table = rows.arrow(system)
        table = table.set_column(table.schema.get_field_index("geometry"), "geometry",
                                 pa.array(_ewkb_hex(rows.wkb), type=pa.string()))
        table = table.select(["geometry", *rows.columns, *_SYSTEM])
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            self._t(rows.name), sql.SQL(", ").join(self._names(rows)))
        with self.con.cursor().copy(statement) as copy:
            for batch in table.to_batches(max_chunksize=50_000):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getvalue())

    def insert(self, rows: PreparedRows, system: dict) -> None:
        names = self._names(rows)
        marks = sql.SQL(", ").join([sql.SQL("%s::geometry")] + [sql.Placeholder()] * (len(names) - 1))
        with self.con.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self._t(rows.name), sql.SQL(", ").join(names), marks), self._rows(rows, system))

    def update(self, rows: PreparedRows, system: dict) -> None:
        names = self._names(rows)
        sets = sql.SQL(", ").join([sql.SQL("geom = %s::geometry")] + [sql.SQL("{} = %s").format(n) for n in names[1:]])
        params = [(*row, key) for row, key in zip(self._rows(rows, system), rows.ids)]
        with self.con.cursor() as cur:
            cur.executemany(sql.SQL("UPDATE {} SET {} WHERE {}::text = %s").format(
                self._t(rows.name), sets, sql.Identifier(rows.id_field)), params)

    def delete(self, name: str, id_field: str, ids: list[str]) -> None:
        self.con.execute(sql.SQL("DELETE FROM {} WHERE {}::text = ANY(%s)").format(
            self._t(name), sql.Identifier(id_field)), [list(ids)])

    def archive(self, name: str, entries: list[dict]) -> None:
        with self.con.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} (layer, feature, row_version, retired_at, retired_by, data, geom) "
                                    "VALUES (%s, %s, %s, %s, %s, %s::jsonb, ST_GeomFromWKB(%s, 4490))").format(
                self._t("riskmap_retired")),
                [(name, e["feature"], e["row_version"], e["retired_at"], e["retired_by"], e["data"], e["wkb"])
                 for e in entries])

    def unarchive(self, name: str, ids: list[str]) -> None:
        self.con.execute(sql.SQL("DELETE FROM {} WHERE layer = %s AND feature = ANY(%s)").format(
            self._t("riskmap_retired")), [name, list(ids)])

    def put_raster(self, name: str, raster: RasterData) -> None:
        self.con.execute(sql.SQL("INSERT INTO {} (name, token, data) VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE "
                                 "SET token = excluded.token, data = excluded.data").format(self._t("riskmap_rasters")),
                         [name, os.urandom(16).hex(), geotiff_bytes(raster)])


#: Seconds a catalogue read is reused at most while no change is notified (see PostgisStore.infos).
CATALOGUE_MAX_AGE = 1.0
#: Connections lent for database-built tiles at once (a burst of requests waits for one).
TILE_CONNECTIONS = 8
#: A tile statement on nothing: loads PostGIS and the lon/lat → Web Mercator projection in the backend.
_WARM_TILE = ("SELECT ST_AsMVT(t, 'warm', 4096, 'g') FROM (SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID("
              "ST_MakePoint(120.0, 31.7), 4326), 3857), ST_TileEnvelope(12, 3413, 1666), 4096, 64, true) AS g) AS t")


class PostgisStore(BaseStore):
    """A :class:`~layers.store.Store` in a PostgreSQL + PostGIS schema (see the module docstring).

    Parameters
    ----------
    address : str
        ``postgresql://…?schema=name``.
    lock_timeout : float
        Seconds a writer waits for another writer of the same layer before StoreError.
    check : bool
        Check on open that the schema holds a riskmap store (StoreError otherwise).
    """

    def __init__(self, address: str, *, lock_timeout: float = 120.0, check: bool = True):
        if psycopg is None:  # pragma: no cover
            raise StoreError("PostGIS stores need psycopg: pip install 'psycopg[binary]'")
        self._address = address
        self.url, self.schema = parse_address(address)
        self.lock_timeout = float(lock_timeout)
        self._pool = ThreadConnections(self._open_connection, alive=lambda con: not con.closed)
        #: connections for tiles (one statement each, any thread): warm backends, a bounded number
        self._tile_pool = SharedConnections(self._open_connection, size=TILE_CONNECTIONS,
                                            alive=lambda con: not con.closed)
        #: the catalogue read under a generation of the watch (layers.postgis_catalogue)
        self._watch = CatalogueWatch(self._open_connection, self.schema)
        self._catalogue: tuple[int, float, tuple] | None = None
        if check:
            problems = self._quick_problems()
            if problems:
                raise StoreError(f"{display_address(address)}: {problems[0]}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, address: str, **kwargs) -> PostgisStore:
        """Create an empty store in schema ``?schema=`` (made if missing; StoreError if it holds one)."""
        store = cls(address, check=False, **kwargs)
        with store._transaction_raw() as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            found = con.execute("SELECT to_regclass(%s)", (f"{store.schema}.riskmap_layers",)).fetchone()[0]
            if found is not None:
                raise StoreError(f"{display_address(address)}: already holds a riskmap store; open it with --store")
            con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(store.schema)))
            quoted = sql.Identifier(store.schema).as_string(con)
            for statement in [*_DDL.split(";"), *TRIGGER_DDL]:
                if statement.strip():
                    con.execute(statement.format(s=quoted))
        store.created = True
        return store

    @classmethod
    def open(cls, address: str, *, create: bool = False, check: bool = True, **kwargs) -> PostgisStore:
        """Open the store at ``address``, creating an empty one first if ``create`` and there is none."""
        if create:
            probe = cls(address, check=False, **kwargs)
            missing = probe._quick_problems()
            probe.close()
            if missing and "no such store" in missing[0]:
                return cls.create(address, **kwargs)
        return cls(address, check=check, **kwargs)

    def destroy(self) -> None:
        """Drop the store's schema and everything in it."""
        with self._transaction_raw() as con:
            con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))
        self.close()

    # ------------------------------------------------------------------ connections
    def _open_connection(self):
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"{display_address(self._address)}: cannot connect "
                             f"({str(exc).strip().splitlines()[0]})") from None

    def _connect(self):
        """This thread's connection."""
        return self._pool.get()

    def close(self) -> None:
        """Close every connection of this store (it reconnects when used again)."""
        self._pool.close()
        self._tile_pool.close()
        self._watch.close()

    def _error(self, exc: Exception, doing: str) -> StoreError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return StoreError(f"{display_address(self._address)}: locked by another writer for more than "
                              f"{self.lock_timeout:.0f} s; try again later")
        return StoreError(f"{display_address(self._address)}: {doing} ({text})")

    @contextlib.contextmanager
    def _snapshot(self):
        con = self._connect()
        outer = self._pool.depth == 0
        try:
            if outer:
                con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._pool.depth += 1
            yield con
        except psycopg.Error as exc:
            raise self._error(exc, "cannot read the store") from None
        finally:
            self._pool.depth -= 1
            if outer and not con.closed and con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                con.execute("ROLLBACK")

    @contextlib.contextmanager
    def _statement(self):
        """A connection for one read statement: a statement sees one snapshot by itself, so outside a
        snapshot no ``BEGIN … ROLLBACK`` is wrapped around it (three round trips become one: the
        layer catalogue is read on every request, ≈ 3 ms a tile before)."""
        if self._pool.depth:
            with self._snapshot() as con:
                yield con
            return
        try:
            yield self._connect()
        except psycopg.Error as exc:
            raise self._error(exc, "cannot read the store") from None

    @contextlib.contextmanager
    def _transaction_raw(self) -> Iterator:
        con = self._connect()
        try:
            con.execute("BEGIN")
            con.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{int(self.lock_timeout * 1000)}ms")))
            yield con
            con.execute("COMMIT")
            self._watch.changed()  # this process's next read sees it, whatever the notice's delay
        except BaseException as exc:
            if not con.closed and con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                con.execute("ROLLBACK")
            if isinstance(exc, (RiskmapError, KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            if isinstance(exc, psycopg.Error):
                raise self._error(exc, "write failed, store left unchanged") from None
            raise StoreError(f"{display_address(self._address)}: write failed, store left unchanged ({exc})") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_PgTransaction]:
        with self._transaction_raw() as con:
            yield _PgTransaction(self, con)

    def _t(self, name: str):
        return sql.Identifier(self.schema, name)

    # ------------------------------------------------------------------ accounts (layers.store_accounts)
    _param = "%s"

    def _account_table(self, name: str) -> str:
        return f'"{self.schema}".{name}'  # the schema name is checked by parse_address

    def _has_account_tables(self, con) -> bool:
        found = con.execute("SELECT to_regclass(%s), to_regclass(%s)", (f'"{self.schema}".riskmap_accounts',
                                                                         f'"{self.schema}".riskmap_sessions')).fetchone()
        return found[0] is not None and found[1] is not None

    # ------------------------------------------------------------------ read primitives
    def infos(self) -> list:
        """Info of every layer, sorted by name: read once per change of the catalogue.

        Outside a snapshot or transaction the catalogue read last is reused for as long as no
        change has been notified (:mod:`layers.postgis_catalogue`), and at most
        :data:`CATALOGUE_MAX_AGE` seconds: a listening connection dropped without a word (a
        firewall forgetting an idle connection) delays what other processes change by that much,
        never more. Where changes cannot be followed, it is read every time.
        """
        if self._pool.depth or self._connect().info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return super().infos()  # what this snapshot or transaction sees, not the latest
        generation, now = self._watch.generation_now(), time.monotonic()
        found = self._catalogue
        if generation is not None and found is not None and found[0] == generation and now < found[1]:
            return list(found[2])
        infos = super().infos()
        if generation is not None:
            self._catalogue = (generation, now + CATALOGUE_MAX_AGE, tuple(infos))
        return infos

    def _meta_rows(self, name: str | None = None, con=None) -> list[dict]:
        with contextlib.nullcontext(con) if con is not None else self._statement() as c:
            query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, META_KEYS)),
                                                         self._t("riskmap_layers"))
            if name is None:
                cursor = c.execute(query + sql.SQL(" ORDER BY name"))
            else:
                cursor = c.execute(query + sql.SQL(" WHERE name = %s"), (name,))
            rows = [dict(zip(META_KEYS, row)) for row in cursor.fetchall()]
        for row in rows:
            row["updated_at"] = _iso(row["updated_at"])
        return rows

    def _column_types(self, name: str, con=None) -> dict[str, str]:
        with contextlib.nullcontext(con) if con is not None else self._snapshot() as c:
            rows = c.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
                             "AND table_name = %s ORDER BY ordinal_position", (self.schema, name)).fetchall()
        skip = {"fid", "geom", *_SYSTEM}
        return {column: _LOGICAL.get(kind, "str") for column, kind in rows if column not in skip}

    def _select(self, con, name, columns, types, system, where=None, params=()) -> tuple[RawRows, dict | None]:
        names = [sql.SQL("ST_AsBinary(geom)"), *map(sql.Identifier, columns)]
        if system:
            names += list(map(sql.Identifier, _SYSTEM))
        query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(names), self._t(name))
        if where is not None:
            query += sql.SQL(" WHERE ") + where
        rows = con.execute(query + sql.SQL(" ORDER BY fid"), params).fetchall()
        data = list(zip(*rows)) if rows else [()] * len(names)
        raw = RawRows(columns, types, {c: list(data[i + 1]) for i, c in enumerate(columns)}, _wkb_bytes(data[0]))
        if not system:
            return raw, None
        base = len(columns) + 1
        return raw, {"row_version": list(data[base]), "updated_at": [_iso(v) for v in data[base + 1]],
                     "updated_by": list(data[base + 2])}

    def _read_raw(self, name, columns, types, bbox, where, system):
        clauses, params = [], []
        if bbox is not None:
            clauses.append(sql.SQL("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4490)"))
            params += list(bbox)
        for column, values in where.items():
            wanted = [v for v in values if v is not None]
            parts = []
            if wanted:
                parts.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
                params.append(wanted)
            if len(wanted) < len(values):
                parts.append(sql.SQL("{} IS NULL").format(sql.Identifier(column)))
            clauses.append(sql.SQL("(") + sql.SQL(" OR ").join(parts) + sql.SQL(")"))
        with self._snapshot() as con:
            return self._select(con, name, columns, types, system,
                                sql.SQL(" AND ").join(clauses) if clauses else None, params)

    def mvt(self, layers, z: int, x: int, y: int, bbox, **generalisation) -> bytes:
        """Web Mercator tile z/x/y of ``layers`` (:class:`layers.postgis_mvt.MvtLayer`) built in the
        database, as MVT bytes (empty when nothing is in it); see :func:`layers.postgis_mvt.mvt_query`."""
        from layers.postgis_mvt import mvt_query

        for layer in layers:
            check_name(layer.name)
        query, params = mvt_query(self.schema, layers, z, x, y, tuple(float(v) for v in bbox), **generalisation)
        if self._pool.depth:  # inside this thread's read snapshot: read in it
            with self._snapshot() as con:
                row = con.execute(query, params).fetchone()
        else:  # one statement is its own snapshot: any warm connection will do, no BEGIN / ROLLBACK
            with self._tile_pool.borrow() as con:
                try:
                    row = con.execute(query, params).fetchone()
                except psycopg.Error as exc:
                    raise self._error(exc, "cannot read the store") from None
        return bytes(row[0]) if row and row[0] else b""

    def warm_tiles(self, connections: int = TILE_CONNECTIONS) -> None:
        """Open ``connections`` tile connections (all by default: a burst of clients uses every one)
        and have each backend load PostGIS and PROJ now.

        A backend's first ``ST_Transform`` / ``ST_AsMVT`` costs about 70 ms (libraries and the
        projection loaded); the server calls this in the background at startup so the first tiles
        do not pay it.
        """
        try:
            self._tile_pool.warm(connections, lambda con: con.execute(_WARM_TILE).fetchone())
        except psycopg.Error as exc:
            raise self._error(exc, "cannot prepare tile connections") from None

    def _archive_rows(self, con, name: str, ids=None) -> list[dict]:
        query = sql.SQL("SELECT feature, row_version, retired_at, retired_by, data::text, ST_AsBinary(geom) FROM {} "
                        "WHERE layer = %s").format(self._t("riskmap_retired"))
        params: list = [name]
        if ids is not None:
            query += sql.SQL(" AND feature = ANY(%s)")
            params.append(list(ids))
        rows = con.execute(query + sql.SQL(" ORDER BY retired_at, feature"), params).fetchall()
        return [dict(feature=f, row_version=v, retired_at=_iso(at), retired_by=by, data=data,
                     wkb=None if wkb is None else bytes(wkb)) for f, v, at, by, data, wkb in rows]

    def _read_archive(self, name: str) -> list[dict]:
        with self._snapshot() as con:
            return self._archive_rows(con, name)

    def _audit_rows(self, layer, feature, since, limit) -> list[dict]:
        clauses, params = [], []
        for column, value in (("layer", layer), ("feature", feature)):
            if value is not None:
                clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(value)
        if since is not None:
            clauses.append(sql.SQL('"when" >= %s::timestamptz'))
            params.append(str(since))
        query = sql.SQL('SELECT id, "when", actor, action, layer, feature, version, rows, detail, before::text, '
                        'after::text FROM {}').format(self._t("riskmap_audit"))
        if clauses:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
        query += sql.SQL(" ORDER BY id DESC")
        if limit is not None:
            query += sql.SQL(" LIMIT {}").format(sql.Literal(int(limit)))
        keys = ("id", "when", "actor", "action", "layer", "feature", "version", "rows", "detail", "before", "after")
        with self._snapshot() as con:
            rows = [dict(zip(keys, row)) for row in con.execute(query, params).fetchall()]
        for row in rows:
            row["when"] = _iso(row["when"])
        return rows

    def _raster_geotiff(self, meta: dict) -> bytes:
        with self._snapshot() as con:
            row = con.execute(sql.SQL("SELECT data FROM {} WHERE name = %s").format(self._t("riskmap_rasters")),
                              (meta["name"],)).fetchone()
        if row is None:
            raise StoreError(f"{display_address(self._address)}: raster layer {meta['name']!r} is registered but "
                             f"its pixels are missing")
        return bytes(row[0])

    def _replaced_meanwhile(self, name: str) -> bool:
        """Whether layer ``name``'s table was replaced after this read's snapshot was taken.

        A whole-layer write creates a new table (``COPY`` into a fresh table and one GiST build is
        the fast bulk path). PostgreSQL resolves a table name with the latest catalog, not the
        reader's snapshot: a reader whose snapshot predates the swap would find the new table and
        none of its rows. The snapshot's own record of the table (``riskmap_tables``) tells; the
        read is then retried on a fresh snapshot (:meth:`BaseStore.read`).
        """
        with self._snapshot() as con:
            row = con.execute(sql.SQL("SELECT t.oid = to_regclass(%s)::oid FROM {} t WHERE t.name = %s").format(
                self._t("riskmap_tables")), (f"{self.schema}.{name}", name)).fetchone()
        return row is not None and not row[0]

    # ------------------------------------------------------------------ integrity
    def _quick_problems(self) -> list[str]:
        try:
            with self._snapshot() as con:
                found = con.execute("SELECT to_regclass(%s), to_regclass(%s), "
                                    "(SELECT count(*) FROM pg_extension WHERE extname = 'postgis')",
                                    (f"{self.schema}.riskmap_layers", f"{self.schema}.riskmap_audit")).fetchone()
        except StoreError as exc:
            return [str(exc).split(": ", 1)[-1]]
        if found[0] is None and found[1] is None:
            return [f"no such store (no riskmap tables in schema {self.schema!r}); start one with "
                    f"`riskmap import LAYER FILE --store ADDRESS --create` or `riskmap copy`"]
        if found[0] is None or found[1] is None:
            return [f"schema {self.schema!r} is not a whole riskmap store (riskmap_layers or riskmap_audit missing)"]
        if not found[2]:
            return ["the database has no PostGIS extension"]
        return []

    def check(self, full: bool = False) -> list[str]:
        """Problems found (empty when healthy): tables, and with ``full`` every layer and raster."""
        problems = self._quick_problems()
        if problems or not full:
            return problems
        with self._snapshot() as con:
            for meta in self._meta_rows(con=con):
                problems += self._check_layer(con, meta)
        return problems

    def _check_layer(self, con, meta: dict) -> list[str]:
        name = meta["name"]
        if meta["kind"] == "raster":
            try:
                with self.read_raster(name) as src:
                    src.read(1, window=((0, 1), (0, 1)))
            except Exception as exc:  # noqa: BLE001 - every failure is a finding here
                return [f"raster {name!r}: unreadable ({exc})"]
            return []
        if con.execute("SELECT to_regclass(%s)", (f"{self.schema}.{name}",)).fetchone()[0] is None:
            return [f"layer {name!r}: its table is missing"]
        problems = []
        rows = con.execute(sql.SQL("SELECT count(*) FROM {}").format(self._t(name))).fetchone()[0]
        if rows != meta["rows"]:
            problems.append(f"layer {name!r}: {rows} rows, the metadata says {meta['rows']}")
        srid = con.execute("SELECT Find_SRID(%s, %s, 'geom')", (self.schema, name)).fetchone()[0]
        if srid != 4490:
            problems.append(f"layer {name!r}: geometry in SRID {srid}, not 4490")
        gist = con.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND tablename = %s "
                           "AND indexdef ILIKE '%%USING gist%%'", (self.schema, name)).fetchone()[0]
        if not gist:
            problems.append(f"layer {name!r}: no GiST spatial index")
        if meta.get("id_field"):
            bad = con.execute(sql.SQL("SELECT count(*) - count(DISTINCT {0}) + count(*) FILTER (WHERE {0} IS NULL) "
                                      "FROM {1}").format(sql.Identifier(meta["id_field"]), self._t(name))).fetchone()[0]
            if bad:
                problems.append(f"layer {name!r}: {bad} row(s) with a missing or repeated {meta['id_field']}")
        return problems
