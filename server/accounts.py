"""Accounts: tokens made, shown once, stored hashed; sessions by random id.

A token reads ``rm_<id>_<secret>``: ``id`` (16 hex digits) is not secret and finds the account's
row in the store in one indexed look-up (:meth:`layers.store.Store.accounts`); ``secret`` (43
URL-safe characters, 256 bits) is checked against the row's hash with **one** scrypt (RFC 7914,
``hashlib.scrypt``, N=2^14, r=8, p=1, a 16-byte salt of its own per token) and a constant-time
comparison (:func:`hmac.compare_digest`). The store never holds a token; a lost token cannot be
shown again, only replaced (``riskmap users rotate``).

A browser session is a 256-bit random id in the cookie; the store keeps its SHA-256 (the id has
all the entropy a slow hash would add), the account and the expiry (:func:`session_digest`).

What each role may do is :mod:`server.auth` and :mod:`server.redaction`'s; this module makes and
checks credentials and keeps the rules of an account (name, role, towns, expiry) that the command
line (``riskmap users``) applies.

>>> token, token_id = new_token()
>>> token.startswith(f"rm_{token_id}_") and len(token) == 3 + 16 + 1 + 43
True
>>> parse_token(token)[0] == token_id, parse_token("s3cret-planner")
(True, None)
>>> stored = hash_secret(parse_token(token)[1])
>>> stored.startswith("scrypt$16384$8$1$"), verify_secret(parse_token(token)[1], stored)
(True, True)
>>> verify_secret("wrong", stored)
False
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from geo.errors import InputError
from server.settings import ROLES

__all__ = ["new_token", "parse_token", "hash_secret", "verify_secret", "session_digest", "new_session_id",
           "check_name", "check_role", "expiry", "is_expired", "utc_now"]

_TOKEN = re.compile(r"^rm_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[\w][\w.@-]{0,63}$")
#: scrypt cost (N, r, p): 16 MiB and a few tens of milliseconds per check, once per new token seen.
_N, _R, _P = 2 ** 14, 8, 1


def new_token() -> tuple[str, str]:
    """A new token and its public id."""
    token_id = secrets.token_hex(8)
    return f"rm_{token_id}_{secrets.token_urlsafe(32)}", token_id


def parse_token(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of an account token; None for anything else (a development token)."""
    found = _TOKEN.match(token)
    return (found.group(1), found.group(2)) if found else None


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n, dklen=32)


def hash_secret(secret: str) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>`` of a token's secret, with a fresh salt."""
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${_scrypt(secret, salt, _N, _R, _P).hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time comparison; False for a malformed hash)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        given = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(given, bytes.fromhex(digest))


def new_session_id() -> str:
    """A browser session's id (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def session_digest(session_id: str) -> str:
    """What the store keeps of a session id.

    >>> session_digest("abc")[:12]
    'ba7816bf8f01'
    """
    return hashlib.sha256(session_id.encode()).hexdigest()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def expiry(days: float | None, start: dt.datetime | None = None) -> str | None:
    """The ISO time ``days`` from now (None: never); a non-positive number is refused.

    >>> expiry(2, dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    '2026-12-03T00:00:00.000+00:00'
    """
    if days is None:
        return None
    if not days > 0:
        raise InputError(f"--expires must be a positive number of days, got {days}")
    return ((start or utc_now()) + dt.timedelta(days=days)).isoformat(timespec="milliseconds")


def is_expired(expires_at: str | None, now: dt.datetime | None = None) -> bool:
    """Whether an ISO expiry time has passed (None never expires)."""
    return expires_at is not None and dt.datetime.fromisoformat(expires_at) <= (now or utc_now())


def check_name(name: str) -> str:
    """An account name: letters, digits, ``_ . @ -``, up to 64 characters (no ``:``, no spaces).

    >>> check_name("li.ming@xueyan")
    'li.ming@xueyan'
    """
    if not _NAME.match(name or ""):
        raise InputError(f"account name {name!r}: use letters, digits, '_', '.', '@' or '-' (at most 64), "
                         "starting with a letter or digit")
    return name


def check_role(role: str) -> str:
    """A known role, else one line naming the roles."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role
