"""Accounts and browser sessions, kept in the store beside the layers they guard.

Two small non-spatial tables, the same in both backends (text columns only, times as ISO 8601 UTC
text, which sorts as time does):

``riskmap_accounts``
    one row per account: ``name`` (key), ``role``, ``towns`` (a JSON list of town codes),
    ``token_id`` (a public, unique prefix of the account's token: it finds the row without trying
    every hash), ``token_hash`` (the hash of the token's secret part; never the token),
    ``created_at``, ``expires_at`` (None: never), ``revoked_at`` (None: active), ``updated_at``,
    ``updated_by``.
``riskmap_sessions``
    one row per browser session: ``id_hash`` (key: a hash of the session id the cookie carries),
    ``account``, ``created_at``, ``expires_at``, ``revoked_at``.

The store keeps what it is given: hashing, token formats and what a role may do are the server's
(:mod:`server.accounts`). It guarantees: account names are unique (adding a held name raises
:class:`~geo.errors.InputError`); every account change writes one audit row (layer ``accounts``,
feature = the account name, before/after without the hash) in the same transaction; revoking or
rotating an account ends its open sessions in that transaction. Stores written before these
tables existed gain them on their first account write; reading them before finds no account.

>>> import tempfile, pathlib
>>> from layers.gpkg import GeoPackageStore
>>> store = GeoPackageStore.create(pathlib.Path(tempfile.mkdtemp()) / "city.gpkg")
>>> store.accounts()
[]
>>> store.put_account({"name": "wang", "role": "planner", "towns": [], "token_id": "ab12",
...                    "token_hash": "scrypt$…", "expires_at": None}, actor="admin", action="add")
>>> [(a["name"], a["role"], a["revoked_at"]) for a in store.accounts()]
[('wang', 'planner', None)]
>>> store.audit(layer="accounts")[["action", "feature", "actor"]].values.tolist()
[['add', 'wang', 'admin']]
"""

from __future__ import annotations

import json
from typing import Any

from geo.errors import InputError
from layers.store_rows import now

__all__ = ["AccountTables", "ACCOUNT_COLUMNS", "SESSION_COLUMNS", "ACCOUNTS_LAYER"]

#: The ``layer`` of the audit rows of account changes.
ACCOUNTS_LAYER = "accounts"
ACCOUNT_COLUMNS = ("name", "role", "towns", "token_id", "token_hash", "created_at", "expires_at", "revoked_at",
                   "updated_at", "updated_by")
SESSION_COLUMNS = ("id_hash", "account", "created_at", "expires_at", "revoked_at")
_ACTIONS = ("add", "rotate", "revoke")
_DDL = (
    "CREATE TABLE IF NOT EXISTS {accounts} (name TEXT PRIMARY KEY, role TEXT NOT NULL, towns TEXT NOT NULL, "
    "token_id TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT, "
    "revoked_at TEXT, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {sessions} (id_hash TEXT PRIMARY KEY, account TEXT NOT NULL, "
    "created_at TEXT NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT)",
    "CREATE INDEX IF NOT EXISTS riskmap_sessions_account ON {sessions} (account)",
)


def _audit_document(record: dict | None) -> str | None:
    """An account as the audit log keeps it: everything but the hash."""
    if record is None:
        return None
    doc = {k: record.get(k) for k in ACCOUNT_COLUMNS if k != "token_hash"}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


class AccountTables:
    """Mixin of :class:`~layers.store_base.BaseStore`: the account and session methods.

    A backend supplies :attr:`_param` (its placeholder, ``?`` or ``%s``), :meth:`_account_table`
    (a table's name as SQL) and :meth:`_has_account_tables` (whether a connection sees them);
    reads run in ``_snapshot()``, writes in ``_transaction()`` (whose ``con`` and ``append_audit``
    are used), as for layers.
    """

    _param = "?"

    def _account_table(self, name: str) -> str:  # pragma: no cover - each backend's own
        raise NotImplementedError

    def _has_account_tables(self, con) -> bool:  # pragma: no cover - each backend's own
        raise NotImplementedError

    # ------------------------------------------------------------------ SQL helpers
    def _sql(self, text: str) -> str:
        names = {"accounts": self._account_table("riskmap_accounts"),
                 "sessions": self._account_table("riskmap_sessions")}
        return text.format(**names).replace("?", self._param)

    def _rows(self, con, text: str, params: tuple, columns: tuple[str, ...]) -> list[dict]:
        return [dict(zip(columns, row)) for row in con.execute(self._sql(text), params).fetchall()]

    def _ensure_account_tables(self, con) -> None:
        if not self._has_account_tables(con):
            for statement in _DDL:
                con.execute(self._sql(statement))

    @staticmethod
    def _account(row: dict) -> dict:
        return {**row, "towns": json.loads(row["towns"] or "[]")}

    # ------------------------------------------------------------------ accounts
    def accounts(self, name: str | None = None, token_id: str | None = None) -> list[dict]:
        """Accounts (all, or the one called ``name``, or the one whose token has ``token_id``), by name.

        Each is a dict with :data:`ACCOUNT_COLUMNS` (``towns`` a list), revoked ones included.
        """
        clauses, params = [], []
        for column, value in (("name", name), ("token_id", token_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        with self._snapshot() as con:
            if not self._has_account_tables(con):
                return []
            rows = self._rows(con, f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM {{accounts}} "
                                   f"WHERE {' AND '.join(clauses) or '1 = 1'} ORDER BY name",
                              tuple(params), ACCOUNT_COLUMNS)
        return [self._account(r) for r in rows]

    def put_account(self, record: dict[str, Any], *, actor: str, action: str, reason: str = "") -> None:
        """Add (``action="add"``), re-key (``"rotate"``) or revoke (``"revoke"``) an account, audited.

        ``record`` holds the account's columns (``towns`` a list); ``created_at``, ``updated_at``
        and ``updated_by`` are filled in. ``add`` refuses a held name; ``rotate``/``revoke`` need
        the account and end its sessions. All in one transaction with the audit row.
        """
        if action not in _ACTIONS:
            raise InputError(f"account action must be one of {', '.join(_ACTIONS)}, got {action!r}")
        name = record["name"]
        stamp = now()
        with self._transaction() as tx:
            self._ensure_account_tables(tx.con)
            held = self._rows(tx.con, f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM {{accounts}} WHERE name = ?",
                              (name,), ACCOUNT_COLUMNS)
            before = self._account(held[0]) if held else None
            if action == "add" and before is not None:
                raise InputError(f"account {name!r} already exists; choose another name, or "
                                 f"'riskmap users rotate {name}' for a new token")
            if action != "add" and before is None:
                raise InputError(f"no account {name!r}; 'riskmap users list' shows the accounts")
            after = {**(before or {}), **record, "updated_at": stamp, "updated_by": actor}
            after.setdefault("created_at", stamp)
            after.setdefault("revoked_at", None)
            if action == "revoke":
                after["revoked_at"] = stamp
            if before is not None:
                tx.con.execute(self._sql("DELETE FROM {accounts} WHERE name = ?"), (name,))
            self._restore_accounts(tx, [after])
            if action != "add":
                tx.con.execute(self._sql("UPDATE {sessions} SET revoked_at = ? WHERE account = ? "
                                         "AND revoked_at IS NULL"), (stamp, name))
            tx.append_audit([dict(when=stamp, actor=actor, action=action, layer=ACCOUNTS_LAYER, feature=name,
                                  version=None, rows=1, detail=reason or f"account {action}",
                                  before=_audit_document(before), after=_audit_document(after))])

    def _restore_accounts(self, tx, accounts: list[dict]) -> None:
        """Write ``accounts`` (rows of another store, hashes included) inside ``tx``: for ``riskmap copy``."""
        if not accounts:
            return
        self._ensure_account_tables(tx.con)
        for account in accounts:
            tx.con.execute(self._sql(f"INSERT INTO {{accounts}} ({', '.join(ACCOUNT_COLUMNS)}) VALUES "
                                     f"({', '.join('?' * len(ACCOUNT_COLUMNS))})"),
                           tuple(json.dumps(account["towns"]) if c == "towns" else account.get(c)
                                 for c in ACCOUNT_COLUMNS))

    # ------------------------------------------------------------------ sessions
    def add_session(self, id_hash: str, account: str, expires_at: str) -> None:
        """Record a browser session (and forget sessions that expired); not audited: not a change."""
        stamp = now()
        with self._transaction() as tx:
            self._ensure_account_tables(tx.con)
            tx.con.execute(self._sql("DELETE FROM {sessions} WHERE expires_at < ?"), (stamp,))
            tx.con.execute(self._sql("INSERT INTO {sessions} (id_hash, account, created_at, expires_at) "
                                     "VALUES (?, ?, ?, ?)"), (id_hash, account, stamp, expires_at))

    def session(self, id_hash: str) -> dict | None:
        """The session recorded under ``id_hash`` (revoked or expired ones too), or None."""
        with self._snapshot() as con:
            if not self._has_account_tables(con):
                return None
            rows = self._rows(con, f"SELECT {', '.join(SESSION_COLUMNS)} FROM {{sessions}} WHERE id_hash = ?",
                              (id_hash,), SESSION_COLUMNS)
        return rows[0] if rows else None

    def end_sessions(self, *, id_hash: str | None = None, account: str | None = None) -> int:
        """Revoke the session ``id_hash``, or every open session of ``account``; how many ended."""
        if (id_hash is None) == (account is None):
            raise InputError("end_sessions: give exactly one of id_hash and account")
        column, value = ("id_hash", id_hash) if id_hash is not None else ("account", account)
        with self._transaction() as tx:
            if not self._has_account_tables(tx.con):
                return 0
            cursor = tx.con.execute(self._sql(f"UPDATE {{sessions}} SET revoked_at = ? WHERE {column} = ? "
                                              "AND revoked_at IS NULL"), (now(), value))
            return max(cursor.rowcount, 0)
