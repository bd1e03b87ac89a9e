"""The HTTP edge of the app: ASGI middlewares, installed in one order by :func:`install_middleware`.

From the outside in (a request meets them in this order; a response leaves in the reverse):

1. :class:`~server.middleware.compression.CompressionMiddleware` - gzip / brotli by
   ``Accept-Encoding`` (outermost, so every answer below, errors included, is compressed);
2. :class:`~server.middleware.headers.SecurityHeadersMiddleware` - CSP (inline scripts by hash),
   nosniff, Referrer-Policy, frame-ancestors; ``Vary`` and ``Cache-Control: private`` by caller;
3. :class:`~server.security.RateLimitMiddleware` - 429 past a caller's rate (before any work);
4. :class:`~server.security.CSRFMiddleware` - 403 for cross-site cookie-borne writes and sign-ins;
5. :class:`~server.middleware.limits.BodyLimitMiddleware` - 413 past the body limit, counted as
   the body arrives;
6. :class:`~server.middleware.limits.JSONDepthMiddleware` - 400 for over-nested JSON bodies.

Each answers its refusals itself with the JSON error body of :mod:`server.errors`, and every
status it can answer is documented on every operation by :mod:`server.openapi`.
"""

from __future__ import annotations

from fastapi import FastAPI

from server.auth import TokenAuth
from server.middleware.compression import CompressionMiddleware
from server.middleware.headers import SecurityHeadersMiddleware
from server.middleware.limits import BodyLimitMiddleware, JSONDepthMiddleware
from server.security import CSRFMiddleware, RateLimiter, RateLimitMiddleware
from server.settings import Settings

__all__ = ["install_middleware", "SIGN_IN_PATHS"]

#: Paths of the browser session (small bodies, CSRF-checked without a cookie, sign-in rate).
SIGN_IN_PATHS = ("/login", "/logout")


def install_middleware(app: FastAPI, settings: Settings, auth: TokenAuth, cookie: str) -> None:
    """Add the middlewares above to ``app`` (``add_middleware`` wraps: the last added is outermost)."""
    s = settings
    general = (RateLimiter(s.rate_limit_per_minute, s.rate_limit_burst, s.rate_limit_clients)
               if s.rate_limit_per_minute else None)
    login = (RateLimiter(s.login_attempts_per_minute, s.login_burst, s.rate_limit_clients)
             if s.login_attempts_per_minute else None)
    app.add_middleware(JSONDepthMiddleware, max_depth=s.max_json_depth)
    app.add_middleware(BodyLimitMiddleware, default=s.max_body_bytes,
                       limits={path: s.max_login_body_bytes for path in SIGN_IN_PATHS})
    app.add_middleware(CSRFMiddleware, cookie=cookie, public_url=s.public_url, always=SIGN_IN_PATHS)
    app.add_middleware(RateLimitMiddleware, auth=auth, cookie=cookie, general=general, login=login,
                       login_paths=SIGN_IN_PATHS[:1])
    app.add_middleware(SecurityHeadersMiddleware, cookie=cookie, basemap_url=s.basemap_url)
    app.add_middleware(CompressionMiddleware, min_size=s.compress_min_bytes, gzip_level=s.gzip_level,
                       brotli_quality=s.brotli_quality, tile_gzip_level=s.tile_gzip_level,
                       tile_brotli_quality=s.tile_brotli_quality)
