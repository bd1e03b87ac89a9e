"""Knowing, without a query, that a PostGIS store's layer catalogue has not changed.

Why: a server reads the catalogue (``riskmap_layers``: every layer's version, rows, epoch) on every
request, because an edit made by another worker or a command line must be seen by the next request.
On PostGIS that read was a round trip and a result to decode, about 1 ms of a 4-8 ms tile (issue
14). A time-to-live would serve another process's edit late; instead PostgreSQL says when the
table changed:

* a statement trigger on ``riskmap_layers`` (:data:`TRIGGER_DDL`, made with the store) sends
  ``NOTIFY riskmap_catalogue, '<schema>'`` whenever a statement inserts, updates, deletes or
  truncates rows of it — whoever runs it: a riskmap process, another tool, a person at ``psql``.
  PostgreSQL delivers it when that transaction commits, to every session listening;
* each process keeps one connection that ``LISTEN``\\ s (:class:`CatalogueWatch`) and, whenever the
  catalogue is wanted, reads what has arrived on its socket without waiting (about a microsecond).
  Each notice for the store's schema moves :attr:`CatalogueWatch.generation` on; the store reuses
  the catalogue it read under the current generation.

What it guarantees: a process's own writes are seen by its next read at once (the store moves the
generation on after each commit). Another process's commit is seen as soon as PostgreSQL has
delivered the notice, normally well under a millisecond after the commit returns; a read within
that moment answers as a read that started just before the commit would. A store made before the
trigger existed gets it when a process first listens. When there is nothing to listen with (the
connection broke, a database user without the right to add the trigger) :meth:`generation_now`
says None and the store reads the catalogue every time, as before.
"""

from __future__ import annotations

import logging
import os
import threading
import time

__all__ = ["CHANNEL", "TRIGGER_DDL", "CatalogueWatch"]

log = logging.getLogger(__name__)
_OK = 0  # libpq's CONNECTION_OK (psycopg.pq.ConnStatus.OK)

#: The notification channel; the payload is the store's schema (one database can hold several stores).
CHANNEL = "riskmap_catalogue"
TRIGGER = "riskmap_catalogue_changed"
#: Made with the store, or added to a store made before it when a process first listens (``{s}``:
#: the quoted schema). One statement each (a function body holds ``;``).
TRIGGER_DDL = (
    f"CREATE OR REPLACE FUNCTION {{s}}.{TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA); RETURN NULL; END$$",
    f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {{s}}.riskmap_layers "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {{s}}.{TRIGGER}()",
)
_HAS_TRIGGER = ("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = 'riskmap_layers' AND t.tgname = %s AND t.tgenabled <> 'D'")


class CatalogueWatch:
    """Follows the notices of one store's catalogue changes through a listening connection.

    Parameters
    ----------
    connect : callable
        Opens a new autocommit connection (psycopg) to the store's database.
    schema : str
        The store's schema: notices of other schemas are not this store's.
    retry : float
        Seconds before listening is tried again after it failed (a broken connection, no trigger).
    """

    def __init__(self, connect, schema: str, retry: float = 5.0):
        self._connect, self.schema, self.retry = connect, schema, float(retry)
        self._lock = threading.Lock()
        self._con = None
        self._pid = os.getpid()
        self._retry_at = 0.0
        #: Moves on with every change seen (notice, own write, listening started again).
        self.generation = 0

    def _listen(self) -> bool:
        """Start listening (the lock held); False when it cannot (tried again after ``retry`` s)."""
        if time.monotonic() < self._retry_at:
            return False
        con = None
        try:
            con = self._connect()
            if not con.execute(_HAS_TRIGGER, (self.schema, TRIGGER)).fetchone()[0]:
                self._add_trigger(con)
            con.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:  # noqa: BLE001 - the catalogue is then read every time, which is correct
            log.info("not listening for catalogue changes of %s: %s", self.schema, exc)
            self._drop(con)
            self._retry_at = time.monotonic() + self.retry
            return False
        self._con = con
        self.generation += 1  # what changed before listening is unknown: nothing cached before is kept
        return True

    def _add_trigger(self, con) -> None:
        """Add the trigger to a store made before it existed (a user without the right keeps reading
        the catalogue every time: the error is logged by the caller)."""
        quoted = '"' + self.schema.replace('"', '""') + '"'
        with con.transaction():
            for statement in TRIGGER_DDL:
                con.execute(statement.format(s=quoted))
        log.info("added the catalogue trigger to the store in schema %s", self.schema)

    @staticmethod
    def _drop(con) -> None:
        if con is not None:
            try:
                con.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def generation_now(self) -> int | None:
        """The generation after reading the notices that have arrived, or None when changes cannot
        be followed (then the catalogue must be read)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: the parent's connection stays the parent's
                self._pid, self._con, self._retry_at = os.getpid(), None, 0.0
                self.generation += 1
            if self._con is None and not self._listen():
                return None
            try:
                pgconn = self._con.pgconn
                # what the socket holds, without waiting; twice, because libpq reads a terminated
                # backend's last message in one call and sees the socket closed only in the next
                pgconn.consume_input()
                pgconn.consume_input()
                while (notice := pgconn.notifies()) is not None:
                    if notice.extra.decode() == self.schema:
                        self.generation += 1
                if pgconn.status != _OK or self._con.closed:
                    raise ConnectionError("the listening connection closed")
            except Exception as exc:  # noqa: BLE001 - listen again on the next call
                log.info("catalogue listener of %s lost: %s", self.schema, exc)
                self._drop(self._con)
                self._con = None
                self.generation += 1
                return None
            return self.generation

    def changed(self) -> None:
        """This process changed the catalogue: whatever was read before is stale."""
        with self._lock:
            self.generation += 1

    def close(self) -> None:
        with self._lock:
            self._drop(self._con)
            self._con = None
            self.generation += 1
