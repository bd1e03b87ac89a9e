"""Response compression: gzip and brotli, negotiated from ``Accept-Encoding`` (RFC 9110 §12.5.3).

Negotiation
-----------
:func:`choose_encoding` reads the q-values of ``Accept-Encoding``: a coding with ``q=0`` is refused,
``*`` stands for every coding not named, and ``identity`` (no compression) is acceptable unless
refused by ``identity;q=0`` or by ``*;q=0`` without ``identity``. Among the acceptable codings the
highest q wins, brotli before gzip on a tie, and a named coding before ``identity``. A request that
refuses ``identity`` and every coding the server has is answered ``406 Not Acceptable``.

What is compressed
------------------
Bodies of compressible types (JSON, GeoJSON, HTML, text, JavaScript, CSS, SVG, MVT) of at least
``min_size`` bytes. Already-compressed types (PNG, the PMTiles archives) and tiny bodies are sent
as they are, except to a client that refuses ``identity``. Streamed bodies (static files) are
compressed as they stream. Partial content (206), ``HEAD`` and a response that already carries a
``Content-Encoding`` are left alone.

Tiles (MVT) are compressed at the fastest settings (brotli quality 1, gzip level 1, by default):
a tile is small and compressed once per worker and encoding, on the event loop, and at brotli
quality 5 that took 0.65 ms of an 18 KB tile, 17 % of a cold tile's time from PostGIS, for 20 %
fewer bytes than quality 1 (which is as small as gzip level 6). Pages and feature collections,
larger and read once, keep the stronger settings.

Caches and validators
---------------------
Every response whose type could be compressed carries ``Vary: Accept-Encoding``. Its ``ETag`` is
made **weak** (``W/"…"``, as nginx does): the gzip, brotli and plain bodies are the same
representation in different codings, so one weak validator names all three, and ``If-None-Match``
(which compares weakly, RFC 9110 §13.1.2) answers 304 whichever coding the client holds. Routes
compare validators with :func:`etag_matches`.

>>> choose_encoding("gzip, deflate, br"), choose_encoding("gzip;q=0.5, br;q=0.4")
('br', 'gzip')
>>> choose_encoding("identity;q=0, *;q=0") is None, choose_encoding(None), choose_encoding("")
(True, 'identity', 'identity')
>>> etag_matches('W/"abc", "x"', '"abc"'), etag_matches('"abd"', 'W/"abc"'), etag_matches("*", '"q"')
(True, False, True)
"""

from __future__ import annotations

import gzip
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.cache import LRUCache
from server.middleware.asgi import add_vary, drop_header, header, request_header, send_error, set_header

try:  # optional: pip install brotli (riskmap[speed]); gzip alone without it
    import brotli
except ImportError:  # pragma: no cover - exercised where brotli is absent
    brotli = None

__all__ = ["CODINGS", "COMPRESSIBLE", "TILE_TYPES", "choose_encoding", "etag_matches", "weak", "compress",
           "CompressionMiddleware"]

#: Codings the server can produce, in order of preference on equal q.
CODINGS: tuple[str, ...] = (("br",) if brotli is not None else ()) + ("gzip",)
#: Media types worth compressing (the part before any ``;``); ``+json`` and ``text/*`` also are.
COMPRESSIBLE = frozenset({
    "application/json", "application/geo+json", "application/schema+json", "application/javascript",
    "application/vnd.mapbox-vector-tile", "application/x-protobuf", "application/vnd.oai.openapi+json",
    "image/svg+xml", "application/xml",
})
#: Media types of tiles, compressed at the fast levels.
TILE_TYPES = frozenset({"application/vnd.mapbox-vector-tile", "application/x-protobuf"})
_IDENTITY_DEFAULT_Q = 0.001  # acceptable, but any coding the client names comes first


def _accepted(value: str) -> dict[str, float]:
    """``Accept-Encoding`` → ``{coding: q}`` (a malformed q counts as 0: refused)."""
    prefs: dict[str, float] = {}
    for item in value.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(number), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        prefs[name] = q
    return prefs


def choose_encoding(value: str | None, available: tuple[str, ...] = CODINGS) -> str | None:
    """The coding to answer with: one of ``available``, ``"identity"``, or None (nothing acceptable)."""
    if value is None or not value.strip():
        return "identity"
    prefs = _accepted(value)
    star = prefs.get("*")

    def q(coding: str) -> float:
        return prefs.get(coding, star if star is not None else 0.0)

    identity = prefs.get("identity", star if star is not None and star == 0 else _IDENTITY_DEFAULT_Q)
    ranked = sorted((c for c in available if q(c) > 0), key=lambda c: -q(c))  # stable: server order on ties
    if ranked and q(ranked[0]) >= identity:
        return ranked[0]
    return "identity" if identity > 0 else None


def weak(etag: str) -> str:
    """``"abc"`` → ``W/"abc"`` (a weak validator stays as it is)."""
    return etag if etag.startswith("W/") else f"W/{etag}"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` by weak comparison (or is ``*``)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    plain = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == plain for t in if_none_match.split(","))


def _media_type(content_type: str | None) -> str:
    """The part of a ``Content-Type`` before any ``;``, lower case ("" when there is none)."""
    return (content_type or "").split(";")[0].strip().lower()


def _compressible(content_type: str | None) -> bool:
    kind = _media_type(content_type)
    return bool(kind) and (kind in COMPRESSIBLE or kind.startswith("text/") or kind.endswith("+json"))


def compress(data: bytes, coding: str, *, gzip_level: int = 6, brotli_quality: int = 5) -> bytes:
    """``data`` in ``coding`` (``gzip`` or ``br``)."""
    if coding == "br":
        return brotli.compress(data, quality=brotli_quality)
    return gzip.compress(data, compresslevel=gzip_level, mtime=0)


class _Stream:
    """An incremental compressor with one ``push(chunk, last)`` call."""

    def __init__(self, coding: str, gzip_level: int, brotli_quality: int):
        if coding == "br":
            self._br = brotli.Compressor(quality=brotli_quality)
            self._gz = None
        else:
            self._br = None
            self._gz = zlib.compressobj(gzip_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def push(self, chunk: bytes, last: bool) -> bytes:
        if self._br is not None:
            out = self._br.process(chunk)
            return out + (self._br.finish() if last else self._br.flush())
        out = self._gz.compress(chunk)
        return out + (self._gz.flush() if last else self._gz.flush(zlib.Z_SYNC_FLUSH))


class CompressionMiddleware:
    """Compress responses as the client accepts (see the module docstring)."""

    def __init__(self, app: ASGIApp, min_size: int = 512, gzip_level: int = 6, brotli_quality: int = 5,
                 cache_bytes: int = 64 * 2**20, tile_gzip_level: int = 1, tile_brotli_quality: int = 1):
        self.app, self.min_size = app, min_size
        self._levels = {False: {"gzip_level": gzip_level, "brotli_quality": brotli_quality},
                        True: {"gzip_level": tile_gzip_level, "brotli_quality": tile_brotli_quality}}
        # compressed bodies of responses with an ETag (tiles above all), so a tile served again is not
        # compressed again: brotli was a quarter of a cached tile's time
        self._compressed = LRUCache(100_000, maxweight=cache_bytes)

    def _compress(self, body: bytes, coding: str, etag: str | None, tile: bool = False) -> bytes:
        """``body`` in ``coding`` (at the tiles' levels for a ``tile``), from the cache of compressed
        bodies when it has an ETag."""
        if not etag:
            return compress(body, coding, **self._levels[tile])
        key = (etag, coding, len(body), zlib.crc32(body))  # an ETag and the body's size and checksum
        found = self._compressed.get(key)
        if found is None:
            found = compress(body, coding, **self._levels[tile])
            self._compressed.put(key, found, weight=len(found))
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        coding = choose_encoding(request_header(scope, "accept-encoding"))
        if coding is None:
            return await send_error(
                send, 406, "NotAcceptable",
                f"no acceptable content coding: Accept-Encoding {request_header(scope, 'accept-encoding')!r} "
                f"refuses identity and every coding this server has ({', '.join(CODINGS)})",
                {"Vary": "Accept-Encoding"})
        forced = coding != "identity" and choose_encoding(
            request_header(scope, "accept-encoding"), ()) is None  # identity refused
        head = scope.get("method") == "HEAD"
        state: dict = {"start": None, "stream": None}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._start(message, state, coding, forced, head, send)
            elif message["type"] == "http.response.body" and state["start"] is not None:
                await self._body(message, state, coding, forced, send)
            else:
                await send(message)

        await self.app(scope, receive, sending)

    async def _start(self, message: Message, state: dict, coding: str, forced: bool, head: bool,
                     send: Send) -> None:
        headers = list(message.get("headers", []))
        status = message["status"]
        encodable = _compressible(header(headers, "content-type")) or forced
        if status == 304:
            add_vary(headers, "Accept-Encoding")
            if coding != "identity" and header(headers, "etag"):
                set_header(headers, "etag", weak(header(headers, "etag")))
            return await send({**message, "headers": headers})
        if not encodable or status < 200 or status in (204, 206) or header(headers, "content-encoding"):
            return await send(message)
        add_vary(headers, "Accept-Encoding")
        if coding == "identity" or head:
            if header(headers, "etag"):
                set_header(headers, "etag", weak(header(headers, "etag")))
            return await send({**message, "headers": headers})
        state["start"] = {**message, "headers": headers}  # held until the body shows its size

    async def _body(self, message: Message, state: dict, coding: str, forced: bool, send: Send) -> None:
        start, chunk, more = state["start"], message.get("body", b""), message.get("more_body", False)
        headers = start["headers"]
        if state["stream"] is None:
            if not more and len(chunk) < self.min_size and not forced:
                if header(headers, "etag"):
                    set_header(headers, "etag", weak(header(headers, "etag")))
                state["start"] = None
                await send(start)
                return await send(message)
            set_header(headers, "content-encoding", coding)
            etag = header(headers, "etag")
            if etag:
                set_header(headers, "etag", weak(etag))
            tile = _media_type(header(headers, "content-type")) in TILE_TYPES
            if not more:
                body = self._compress(chunk, coding, etag, tile)
                set_header(headers, "content-length", str(len(body)))
                state["start"] = None
                await send(start)
                return await send({"type": "http.response.body", "body": body, "more_body": False})
            drop_header(headers, "content-length")
            levels = self._levels[tile]
            state["stream"] = _Stream(coding, levels["gzip_level"], levels["brotli_quality"])
            await send(start)
        out = state["stream"].push(chunk, last=not more)
        await send({"type": "http.response.body", "body": out, "more_body": more})
