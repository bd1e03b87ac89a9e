"""Request bodies: a size limit enforced while the body arrives, and a nesting limit for JSON.

:class:`BodyLimitMiddleware`
    refuses a body larger than its route's limit with ``413 Content Too Large``. A declared
    ``Content-Length`` over the limit is refused before a byte of the body is read; a body
    without one (chunked) is counted as it arrives and refused as soon as the count passes the
    limit, so a 600 MiB upload costs the server at most the limit in memory, never the upload.
    Limits are per path (``/login`` takes a few kB) with one default for every other route.
:class:`JSONDepthMiddleware`
    refuses a JSON body nested deeper than ``max_depth`` with a 400 before any parser sees it
    (Python's ``json`` recurses once per level: 100 000 ``[`` would end in a ``RecursionError``).
    The depth is found by one vectorised pass (:func:`json_depth`); the body, already bounded by
    the size limit, is then handed on unchanged.

>>> json_depth(b'{"a": [1, [2, {"b": "[[[["}]]}'), json_depth(b"[" * 5 + b"]" * 5), json_depth(b"3")
(4, 5, 0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import BodyTooLarge
from server.middleware.asgi import request_header, send_error

__all__ = ["BodyLimitMiddleware", "JSONDepthMiddleware", "json_depth"]

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in the JSON text ``raw`` (brackets in strings ignored)."""
    codes = np.frombuffer(_STRING.sub(b'""', raw), np.uint8)
    steps = np.isin(codes, _OPEN).astype(np.int32) - np.isin(codes, _CLOSE)
    return int(np.cumsum(steps).max(initial=0))


def _too_large(size: int | str, limit: int, path: str) -> str:
    return (f"request body too large: {size} bytes for {path}, which takes at most {limit:,} bytes "
            "(413 Content Too Large)")


class BodyLimitMiddleware:
    """Refuse bodies over ``limits.get(path, default)`` bytes, counting while they arrive."""

    def __init__(self, app: ASGIApp, default: int, limits: Mapping[str, int] | None = None):
        self.app, self.default, self.limits = app, default, dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.limits.get(path, self.default)
        declared = request_header(scope, "content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await send_error(send, 400, "BadRequest", f"Content-Length {declared!r} is not a number")
            if size > limit:
                return await send_error(send, 413, "ContentTooLarge", _too_large(f"{size:,}", limit, path),
                                        {"Connection": "close"})
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(_too_large(f"more than {limit:,}", limit, path))
            return message

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, watching)
        except BodyTooLarge as exc:  # raised outside the app's own handlers (e.g. by a middleware)
            if started:
                raise
            await send_error(send, 413, "ContentTooLarge", exc.detail, {"Connection": "close"})


class JSONDepthMiddleware:
    """Refuse JSON bodies nested deeper than ``max_depth`` (400), then pass the body on."""

    def __init__(self, app: ASGIApp, max_depth: int = 32):
        self.app, self.max_depth = app, max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = (request_header(scope, "content-type") or "").split(";")[0].strip().lower()
        if (scope["type"] != "http" or scope.get("method") not in _BODY_METHODS
                or not (kind == "application/json" or kind.endswith("+json"))):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.max_depth:
            return await send_error(send, 400, "InvalidParameterValue",
                                    f"request body: JSON nested {depth} levels deep; at most {self.max_depth}")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
