"""Who is asking: roles from bearer tokens and browser sessions.

Four roles, from least to most privileged: ``public`` (anyone, no credential), ``town_editor``
(a town's safety office, scoped to one or more town codes), ``planner`` (the planning bureau)
and ``admin``. A request sends ``Authorization: Bearer <token>``; a browser signs in once and
then sends a session cookie (:mod:`server.pages.session`). A token is resolved, in this order:

1. an **account** held in the store (``riskmap users add``): tokens ``rm_<id>_<secret>``, checked
   by one scrypt against the hash of the account the id names (:mod:`server.accounts`); a verified
   token is remembered (its SHA-256 against the hash it matched) so later requests cost one
   indexed read of the account row, which still sees a revocation, an expiry or a rotation at once.
   Guessing secrets under a known id costs the server a scrypt each, so at most
   :data:`HASHES_PER_MINUTE` unremembered tokens are hashed per id a minute (the rest are nobody);
2. the **development tokens** of ``RISKMAP_TOKENS`` (:attr:`server.settings.Settings.tokens`),
   compared in constant time with each of them.

A request without a token, or with one that is neither, is **public** (never an error: the
public view is always available); a *revoked* or *expired* account token is refused (401) with
one line saying so, so that its holder knows to ask for a new one.

What each role may see is decided in :mod:`server.redaction`, not here.

>>> auth = TokenAuth({"s3cret-planner": "planner", "xy-office-1": "town_editor:320412015,320412001"})
>>> auth.principal("Bearer s3cret-planner")
Principal(role='planner', towns=())
>>> auth.principal("Bearer xy-office-1").towns, auth.principal("Bearer xy-office-1").town
(('320412015', '320412001'), '320412015')
>>> auth.principal("Bearer wrong").role, auth.principal(None).role
('public', 'public')
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.accounts import is_expired, parse_token, session_digest, verify_secret
from server.cache import LRUCache
from server.errors import AccessDenied, Forbidden
from server.settings import ROLES

__all__ = ["Principal", "PUBLIC", "TokenAuth", "Resolution", "account_resolution", "DEV_PREFIX"]

#: Name prefix of a development token's principal (``RISKMAP_TOKENS``): no account stands behind it.
DEV_PREFIX = "dev:"


@dataclass(frozen=True)
class Principal:
    """The caller: a role, for a town editor the town (or grid) codes it is scoped to, and its account name.

    ``towns`` may be given as one code or a comma-separated string (``Principal("town_editor",
    "320412015")``); :attr:`town` is the first of them (None when there is none).
    """

    role: str = "public"
    towns: tuple[str, ...] = ()
    name: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        towns = self.towns
        if towns is None:
            towns = ()
        elif isinstance(towns, str):
            towns = tuple(t.strip() for t in towns.split(",") if t.strip())
        object.__setattr__(self, "towns", tuple(towns))

    @property
    def town(self) -> str | None:
        return self.towns[0] if self.towns else None

    @property
    def is_public(self) -> bool:
        return self.role == "public"

    def at_least(self, role: str) -> bool:
        """Whether this caller's role is ``role`` or a more privileged one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def covers(self, town: str | None, grid: str | None = None) -> bool:
        """Whether this caller may read the private data of town ``town``, or of grid ``grid`` of it.

        ``towns`` holds town codes and grid codes (网格): an editor of a town covers every grid of
        it, an editor of a grid only that grid (planners: everything).

        >>> Principal("town_editor", "A,B").covers("B"), Principal("town_editor", "A").covers("B")
        (True, False)
        >>> Principal("planner").covers("B"), Principal("town_editor").covers(None)
        (True, False)
        >>> g1 = Principal("town_editor", "A-G1")
        >>> g1.covers("A", "A-G1"), g1.covers("A", "A-G2"), g1.covers("A"), Principal("town_editor", "A").covers("A", "A-G2")
        (True, False, False, True)
        """
        if self.at_least("planner"):
            return True
        return self.role == "town_editor" and any(c is not None and c in self.towns for c in (town, grid))

    @property
    def scoped(self) -> bool:
        """A town editor: private data of its towns only (see :mod:`server.redaction`)."""
        return self.role == "town_editor"

    @property
    def audit_name(self) -> str:
        """Who the audit names for this caller's changes: its account, or for a development token
        (no account behind it) its role and towns.

        >>> editor = Principal("town_editor", "A,B", name="li")
        >>> editor.audit_name, Principal("town_editor", "A,B", name=DEV_PREFIX + "0f").audit_name
        ('li', 'town_editor:A,B')
        """
        if self.name and not self.name.startswith(DEV_PREFIX):
            return self.name
        return self.role + (f":{','.join(self.towns)}" if self.towns else "")

    @property
    def scope_key(self) -> str:
        """What the caller sees, for cache keys and ETags: ``public``, ``planner``, ``town_editor:A,B``…"""
        return f"{self.role}:{','.join(sorted(self.towns))}" if self.scoped else self.role


PUBLIC = Principal()


@dataclass(frozen=True)
class Resolution:
    """What a token or session names: the principal, the session key, and why it was refused (or None)."""

    principal: Principal
    key: str | None = None  # an account name, or DEV_PREFIX + digest for a development token
    refused: str | None = None


_NOBODY = Resolution(PUBLIC)
#: Unremembered tokens hashed per token id and minute (a bound on the CPU a secret-guesser can take).
HASHES_PER_MINUTE = 10


def account_resolution(row: dict) -> Resolution:
    """The principal of an account row of the store (refused when revoked or expired)."""
    name = row["name"]
    if row["revoked_at"] is not None:
        return Resolution(PUBLIC, name, f"the token of account {name!r} was revoked on {row['revoked_at'][:10]}; "
                                        "ask your administrator for a new one")
    if is_expired(row["expires_at"]):
        return Resolution(PUBLIC, name, f"the token of account {name!r} expired on {row['expires_at'][:10]}; "
                                        "ask your administrator to rotate it")
    return Resolution(Principal(row["role"], tuple(row["towns"]), name=name), name)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _MemorySessions:
    """Sessions kept in the process, for an auth without a store (tests, a bare TokenAuth)."""

    def __init__(self):
        self.rows: dict[str, dict] = {}

    def add_session(self, id_hash: str, account: str, expires_at: str) -> None:
        self.rows[id_hash] = {"id_hash": id_hash, "account": account, "expires_at": expires_at, "revoked_at": None}

    def session(self, id_hash: str) -> dict | None:
        return self.rows.get(id_hash)

    def end_sessions(self, *, id_hash: str | None = None, account: str | None = None) -> int:
        ended = [r for r in self.rows.values() if r["revoked_at"] is None
                 and (r["id_hash"] == id_hash or r["account"] == account)]
        for row in ended:
            row["revoked_at"] = "now"
        return len(ended)

    def accounts(self, name=None, token_id=None) -> list[dict]:
        return []


class TokenAuth:
    """Resolve tokens and session ids to :class:`Principal` objects (module docstring).

    Parameters
    ----------
    tokens : mapping
        Development tokens: token → ``role`` or ``town_editor:<code>[,<code>…]``.
    store : Store, optional
        Where accounts and sessions are kept; without one, only development tokens work and
        sessions live in the process.
    """

    def __init__(self, tokens: Mapping[str, str], store=None):
        self._grants: list[tuple[bytes, Principal]] = []
        for token, grant in tokens.items():
            role, _, towns = grant.partition(":")
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
            self._grants.append((token.encode(), Principal(role, towns or None, name=f"{DEV_PREFIX}{_digest(token)[:16]}")))
        self.store = store if store is not None else _MemorySessions()
        self._verified = LRUCache(10_000)
        self._hashes = LRUCache(10_000)  # token id -> (minute started, hashes in it)
        self._bearer = HTTPBearer(auto_error=False, description="A riskmap token; none → public view.")

    # ------------------------------------------------------------------ tokens
    def principal(self, authorization: str | None) -> Principal:
        """The caller named by an ``Authorization`` header value (public when absent, unknown or refused)."""
        if not authorization:
            return PUBLIC
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return PUBLIC
        return self.resolve(token.strip()).principal

    def resolve(self, token: str) -> Resolution:
        """What ``token`` names (an account first, then a development token)."""
        parsed = parse_token(token)
        if parsed is not None:
            return self._account_token(token, *parsed)
        return self._development_token(token)

    def _development_token(self, token: str) -> Resolution:
        """What a development token (``settings.tokens``) names; compared with every one, in constant time."""
        given = token.encode()
        found = _NOBODY
        for expected, principal in self._grants:  # compare with every token: no early exit
            if hmac.compare_digest(given, expected):
                found = Resolution(principal, principal.name)
        return found

    def _account_token(self, token: str, token_id: str, secret: str) -> Resolution:
        rows = self.store.accounts(token_id=token_id)
        if not rows:
            return _NOBODY
        row = rows[0]
        digest = _digest(token)
        if self._verified.get(digest) != row["token_hash"]:
            if not self._may_hash(token_id) or not verify_secret(secret, row["token_hash"]):
                return _NOBODY
            self._verified.put(digest, row["token_hash"])
        return account_resolution(row)

    def _may_hash(self, token_id: str) -> bool:
        now = time.monotonic()
        start, count = self._hashes.get(token_id) or (now, 0)
        if now - start >= 60.0:
            start, count = now, 0
        if count >= HASHES_PER_MINUTE:
            return False
        self._hashes.put(token_id, (start, count + 1))
        return True

    # ------------------------------------------------------------------ sessions
    def session(self, session_id: str | None) -> Resolution:
        """What the browser session ``session_id`` names (public when unknown, ended or expired)."""
        if not session_id:
            return _NOBODY
        row = self.store.session(session_digest(session_id))
        if row is None or row["revoked_at"] is not None or is_expired(row["expires_at"]):
            return _NOBODY
        key = row["account"]
        if key.startswith(DEV_PREFIX):
            found = next((p for _, p in self._grants if p.name == key), None)
            return Resolution(found, key) if found is not None else _NOBODY
        accounts = self.store.accounts(name=key)
        if not accounts:
            return _NOBODY
        resolution = account_resolution(accounts[0])
        return resolution if resolution.refused is None else _NOBODY

    # ------------------------------------------------------------------ FastAPI dependencies
    def dependency(self):
        """A FastAPI dependency giving the request's :class:`Principal` (documented as HTTP bearer)."""
        bearer = self._bearer

        async def current_principal(
            credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        ) -> Principal:
            # on the event loop, unless an account must be read from the store: a plain dependency
            # ran in a request thread, a second hand-over for every request (public ones included)
            if credentials is None:
                return PUBLIC
            token = credentials.credentials
            parsed = parse_token(token)
            found = (await run_in_threadpool(self._account_token, token, *parsed) if parsed is not None
                     else self._development_token(token))
            if found.refused:
                raise AccessDenied(found.refused)
            return found.principal

        return current_principal

    def require(self, role: str):
        """A FastAPI dependency refusing (401) callers below ``role``; for editing routers."""
        current = self.dependency()

        def required(principal: Principal = Depends(current)) -> Principal:
            if principal.is_public:
                raise AccessDenied(f"this needs the {role} role or higher; send Authorization: Bearer <token>")
            if not principal.at_least(role):
                raise Forbidden(f"this needs the {role} role or higher; your token is a {principal.role}'s")
            return principal

        return required
