"""Security headers on every response, and caching that respects who asked.

Security headers
----------------
* ``Content-Security-Policy``. An HTML page may run scripts from this server and the inline
  scripts it carries, each allowed by its SHA-256 hash computed here from the page as sent (folium
  writes a page's map code inline, with ids that change per page, so the hashes are per response);
  no other inline script, no ``eval``, no plugin, no ``<base>`` elsewhere, forms only to this
  server, and ``frame-ancestors 'none'`` (no other site frames a page: no click-jacking). Inline
  event-handler attributes the pages use (``onclick="window.print()"``) are allowed by hash too,
  with ``'unsafe-hashes'``. Styles allow ``'unsafe-inline'``: the pages colour their legend
  swatches with ``style`` attributes, and a style cannot run code. Images may also come from the
  configured online basemap's host. Other responses (JSON, tiles) get ``default-src 'none'``.
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (another site never
  learns a page's address), ``X-Frame-Options: DENY`` (older browsers' frame-ancestors) and
  ``Cross-Origin-Opener-Policy: same-origin``.

A header a route set itself is kept.

Caching by caller
-----------------
What a response holds depends on the caller (a token or the session cookie sees private layers),
so every response but the static files carries ``Vary: Authorization, Cookie``, and a response to
a request that carries a credential is ``Cache-Control: private`` (``private, no-cache`` when the
route said nothing; ``public`` turned to ``private``): no shared cache keeps a planner's answer.

>>> policy = content_security_policy(b'<script>go()</script><script src="/a.js"></script>'
...                                  b'<script type="application/json">{}</script>')
>>> policy.split("; ")[1]
"script-src 'self' 'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.middleware.asgi import add_vary, header, request_header, set_header

__all__ = ["content_security_policy", "image_source", "SecurityHeadersMiddleware", "API_POLICY"]

_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_TYPE = re.compile(rb"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
_SRC = re.compile(rb"\bsrc\s*=", re.I)
_HANDLER = re.compile(rb"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_SCRIPT_TYPES = {b"", b"text/javascript", b"application/javascript", b"module"}
#: The policy of every response that is not an HTML page.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
_FIXED = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY",
          "cross-origin-opener-policy": "same-origin"}


def _hash(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def image_source(url: str | None) -> str | None:
    """The CSP source of a basemap URL template (a ``{s}`` subdomain becomes ``*``).

    >>> image_source("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}")
    'https://*.is.autonavi.com'
    """
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "a") if "{s}." not in url else url)
    host = parts.netloc.split("@")[-1]
    labels = ["*" if "{" in label else label for label in host.split(".")]
    return f"{parts.scheme}://{'.'.join(labels)}" if parts.scheme in ("http", "https") else None


def content_security_policy(page: bytes, images: tuple[str, ...] = ()) -> str:
    """The CSP of an HTML ``page``: its inline scripts and event handlers allowed by hash."""
    scripts = []
    for attributes, code in _SCRIPT.findall(page):
        kind = _TYPE.search(attributes)
        if _SRC.search(attributes) or (kind is not None and kind.group(1).lower() not in _SCRIPT_TYPES):
            continue
        scripts.append(_hash(code))
    handlers = [_hash(html.unescape((a or b).decode()).encode()) for a, b in _HANDLER.findall(page)]
    script_src = ["'self'", *dict.fromkeys(scripts)]
    if handlers:
        script_src += ["'unsafe-hashes'", *dict.fromkeys(handlers)]
    return "; ".join([
        "default-src 'self'", "script-src " + " ".join(script_src), "style-src 'self' 'unsafe-inline'",
        "img-src " + " ".join(["'self'", "data:", "blob:", *images]), "font-src 'self' data:",
        "connect-src 'self'", "worker-src 'self' blob:", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'"])


class SecurityHeadersMiddleware:
    """Add the security headers and the caller-aware caching headers (module docstring).

    Parameters
    ----------
    app : ASGI app
    cookie : str
        Name of the session cookie (a request carrying it is credentialed).
    basemap_url : str, optional
        The online basemap's URL template; its host may serve images to the pages.
    uncredentialed_prefixes : tuple of str
        Paths whose answers never depend on the caller (static files).
    """

    def __init__(self, app: ASGIApp, cookie: str, basemap_url: str | None = None,
                 uncredentialed_prefixes: tuple[str, ...] = ("/static/",)):
        self.app, self.cookie = app, cookie
        self.images = tuple(s for s in (image_source(basemap_url),) if s)
        self.static = uncredentialed_prefixes

    def credentialed(self, scope: Scope) -> bool:
        if request_header(scope, "authorization"):
            return True
        cookies = request_header(scope, "cookie") or ""
        return any(c.strip().startswith(f"{self.cookie}=") for c in cookies.split(";"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        private = self.credentialed(scope)
        static = scope.get("path", "").startswith(self.static)
        held: dict = {}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for name, value in _FIXED.items():
                    if header(headers, name) is None:
                        set_header(headers, name, value)
                if not static:
                    add_vary(headers, "Authorization", "Cookie")
                    if private:
                        _make_private(headers)
                message = {**message, "headers": headers}
                if (header(headers, "content-type") or "").startswith("text/html") and \
                        header(headers, "content-security-policy") is None:
                    held["start"], held["body"] = message, []
                    return
                if header(headers, "content-security-policy") is None:
                    set_header(headers, "content-security-policy", API_POLICY)
                return await send(message)
            if message["type"] == "http.response.body" and "start" in held:
                held["body"].append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = b"".join(held["body"])
                start = held.pop("start")
                set_header(start["headers"], "content-security-policy", content_security_policy(page, self.images))
                await send(start)
                return await send({"type": "http.response.body", "body": page, "more_body": False})
            await send(message)

        await self.app(scope, receive, sending)


def _make_private(headers: list[tuple[bytes, bytes]]) -> None:
    control = header(headers, "cache-control")
    if control is None:
        set_header(headers, "cache-control", "private, no-cache")
        return
    parts = [p.strip() for p in control.split(",") if p.strip()]
    lowered = [p.lower() for p in parts]
    if "private" in lowered or "no-store" in lowered:
        return
    parts = [p for p in parts if p.lower() != "public"]
    set_header(headers, "cache-control", ", ".join(["private", *parts]))
