"""Abuse limits at the edge: request rates per caller, and cross-site request refusal (CSRF).

Rate limits (:class:`RateLimitMiddleware`)
------------------------------------------
Token buckets: a caller may make ``burst`` requests at once, then ``per_minute`` a minute. The
caller is its **token** when the request carries a valid one (bearer header), or its **session**
(a valid session cookie),
else its **client address** (behind a proxy, run uvicorn with ``--forwarded-allow-ips`` so the
address is the client's). An invalid token counts as no token, so inventing tokens does not buy
new buckets. Sign-in (``POST /login``) has a bucket of its own per address, much smaller
(``login_attempts_per_minute``), against token guessing. A refused request is ``429 Too Many
Requests`` with ``Retry-After`` in seconds. Buckets live in the process (each worker counts its
own) and the least recently seen callers are forgotten past ``max_clients``.

Cross-site requests (:class:`CSRFMiddleware`)
---------------------------------------------
A browser attaches the session cookie to any request to this server, even one a page of another
site makes it send. So a state-changing request (POST, PUT, PATCH, DELETE) that carries the
session cookie, and every sign-in and sign-out (a forged sign-in would log the victim into the
attacker's account), must come from this server's own pages: ``Sec-Fetch-Site``, when the browser
sends it, must be ``same-origin`` (or ``none``: typed by the user), and ``Origin`` (else
``Referer``) must be this server's origin (the request's own scheme and host, or
``settings.public_url``'s). A request carrying neither header is not from a browser page and goes
through; a bearer-token request without the cookie is not exposed to CSRF and is not checked.
The cookie is also ``SameSite=Strict`` (:mod:`server.pages.session`): two independent defences.

>>> bucket = RateLimiter(per_minute=60, burst=2)
>>> bucket.take("a", now=0.0), bucket.take("a", now=0.0), round(bucket.take("a", now=0.0), 3)
(0.0, 0.0, 1.0)
>>> bucket.take("a", now=1.0)   # one second later one request's worth has come back
0.0
>>> origin_of("https://map.example.cn:8443/towns/1/wall?x=1")
'https://map.example.cn:8443'
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth import TokenAuth
from server.middleware.asgi import request_header, send_error

__all__ = ["RateLimiter", "RateLimitMiddleware", "CSRFMiddleware", "origin_of", "UNSAFE_METHODS"]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RateLimiter:
    """Token buckets by key: ``burst`` at once, refilled at ``per_minute`` a minute.

    :meth:`take` spends one request of ``key``'s bucket and answers 0.0, or, when the bucket is
    empty, spends nothing and answers the seconds until one request is available again.
    """

    def __init__(self, per_minute: float, burst: int, max_clients: int = 100_000):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate if self.rate > 0 else math.inf
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _cookie(scope: Scope, name: str) -> str | None:
    for part in (request_header(scope, "cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


class RateLimitMiddleware:
    """429 with ``Retry-After`` past a caller's rate (module docstring).

    Parameters
    ----------
    app : ASGI app
    auth : TokenAuth
        Tells valid tokens from invented ones.
    cookie : str
        The session cookie's name (its value is a session id, :mod:`server.pages.session`).
    general, login : RateLimiter or None
        Every request's limiter (by token or address); the sign-in limiter (by address). None: off.
    login_paths : tuple of str
        Paths whose POSTs are sign-in attempts.
    """

    def __init__(self, app: ASGIApp, auth: TokenAuth, cookie: str, general: RateLimiter | None,
                 login: RateLimiter | None, login_paths: tuple[str, ...] = ("/login",)):
        self.app, self.auth, self.cookie = app, auth, cookie
        self.general, self.login, self.login_paths = general, login, login_paths

    def caller(self, scope: Scope) -> tuple[str, str]:
        """``(bucket key, words for the message)``: the valid token's digest, else the address."""
        scheme, _, token = (request_header(scope, "authorization") or "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if token and not self.auth.resolve(token).principal.is_public:
            return "token:" + hashlib.sha256(token.encode()).hexdigest()[:24], "this token"
        session = _cookie(scope, self.cookie)
        if not token and session and not self.auth.session(session).principal.is_public:
            return "session:" + hashlib.sha256(session.encode()).hexdigest()[:24], "this session"
        address = _client(scope)
        return "addr:" + address, f"address {address}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.login is not None and scope.get("method") == "POST" and scope.get("path") in self.login_paths:
            wait = self.login.take("addr:" + _client(scope))
            if wait:
                return await self._refuse(send, wait, f"sign-in attempts from address {_client(scope)}",
                                          self.login)
        if self.general is not None:
            key, who = self.caller(scope)
            wait = self.general.take(key)
            if wait:
                return await self._refuse(send, wait, f"requests from {who}", self.general)
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(send: Send, wait: float, what: str, limiter: RateLimiter) -> None:
        seconds = max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
        per_minute = round(limiter.rate * 60)
        await send_error(send, 429, "TooManyRequests",
                         f"too many {what}: at most {per_minute} a minute (bursts of {int(limiter.burst)}); "
                         f"retry after {seconds} s", {"Retry-After": str(seconds)})


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL (None for anything else)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.split('@')[-1]}".lower()


class CSRFMiddleware:
    """Refuse cross-site state-changing requests that ride on the session cookie (module docstring).

    Parameters
    ----------
    app : ASGI app
    cookie : str
        The session cookie's name.
    public_url : str, optional
        The server's public base URL (its origin is accepted besides the request's own).
    always : tuple of str
        Paths checked even without the cookie (sign-in and sign-out).
    """

    def __init__(self, app: ASGIApp, cookie: str, public_url: str | None = None,
                 always: tuple[str, ...] = ("/login", "/logout")):
        self.app, self.cookie, self.always = app, cookie, always
        self.public_origin = origin_of(public_url) if public_url else None

    def refusal(self, scope: Scope) -> str | None:
        """Why the request is refused, or None when it may go on."""
        host = request_header(scope, "host")
        request_origin = f"{scope.get('scheme', 'http')}://{host}".lower() if host else None
        own = {o for o in (self.public_origin, request_origin) if o}
        fetch_site = request_header(scope, "sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
            return f"the browser says it comes from a {fetch_site} page"
        origin = request_header(scope, "origin")
        if origin is not None:
            return None if origin.lower() in own else f"it comes from origin {origin}"
        referer = request_header(scope, "referer")
        if referer is not None and origin_of(referer) not in own:
            return f"it comes from a page at {origin_of(referer) or 'an unknown address'}"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") not in UNSAFE_METHODS
                or not (scope.get("path") in self.always or _cookie(scope, self.cookie))):
            return await self.app(scope, receive, send)
        why = self.refusal(scope)
        if why is not None:
            return await send_error(
                send, 403, "CrossSiteRequestRefused",
                f"cross-site request refused: {scope['method']} {scope.get('path')} carries this server's "
                f"session (or signs in) but {why}; use this server's own pages, or an API client with "
                "Authorization: Bearer <token>")
        await self.app(scope, receive, send)
