"""Who is asking: roles from bearer tokens.

Four roles, from least to most privileged: ``public`` (anyone, no credential), ``town_editor``
(a town's safety office, optionally scoped to its town code), ``planner`` (the planning bureau)
and ``admin``. The mapping token → role comes from :attr:`server.settings.Settings.tokens`.
A request sends ``Authorization: Bearer <token>``; a request without one, or with a token that is
not in the mapping, is **public** (it is never an error: the public view is always available).

What each role may see is decided in :mod:`server.redaction`, not here.

>>> auth = TokenAuth({"s3cret-planner": "planner", "xy-office-1": "town_editor:320412015"})
>>> auth.principal("Bearer s3cret-planner")
Principal(role='planner', town=None)
>>> auth.principal("Bearer xy-office-1").town
'320412015'
>>> auth.principal("Bearer wrong").role, auth.principal(None).role
('public', 'public')
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server.errors import AccessDenied, Forbidden
from server.settings import ROLES

__all__ = ["Principal", "PUBLIC", "TokenAuth"]


@dataclass(frozen=True)
class Principal:
    """The caller: a role and, for a town editor, the town code it is scoped to."""

    role: str = "public"
    town: str | None = None

    @property
    def is_public(self) -> bool:
        return self.role == "public"

    def at_least(self, role: str) -> bool:
        """Whether this caller's role is ``role`` or a more privileged one."""
        return ROLES.index(self.role) >= ROLES.index(role)


PUBLIC = Principal()


class TokenAuth:
    """Resolve bearer tokens to :class:`Principal` objects (constant-time comparison)."""

    def __init__(self, tokens: Mapping[str, str]):
        self._grants: list[tuple[bytes, Principal]] = []
        for token, grant in tokens.items():
            role, _, town = grant.partition(":")
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
            self._grants.append((token.encode(), Principal(role, town or None)))
        self._bearer = HTTPBearer(auto_error=False, description="A riskmap token; none → public view.")

    def principal(self, authorization: str | None) -> Principal:
        """The caller named by an ``Authorization`` header value (public when absent or unknown)."""
        if not authorization:
            return PUBLIC
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return PUBLIC
        return self._lookup(token.strip())

    def _lookup(self, token: str) -> Principal:
        given = token.encode()
        found = PUBLIC
        for expected, principal in self._grants:  # compare with every token: no early exit
            if hmac.compare_digest(given, expected):
                found = principal
        return found

    def dependency(self):
        """A FastAPI dependency giving the request's :class:`Principal` (documented as HTTP bearer)."""
        bearer = self._bearer

        def current_principal(
            credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        ) -> Principal:
            if credentials is None:
                return PUBLIC
            return self._lookup(credentials.credentials)

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
