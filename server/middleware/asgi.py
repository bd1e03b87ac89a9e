"""Small helpers the ASGI middlewares share: header lists, ``Vary`` merging, JSON error answers.

The middlewares of :mod:`server.middleware` and :mod:`server.security` work on raw ASGI messages
(no ``BaseHTTPMiddleware``: it buffers bodies and breaks streaming). Headers there are a list of
``(name, value)`` byte pairs with lower-case names; these helpers read and change such lists.

>>> headers = [(b"content-type", b"application/json"), (b"vary", b"Accept")]
>>> header(headers, "Content-Type")
'application/json'
>>> add_vary(headers, "Accept-Encoding", "accept"); header(headers, "vary")
'Accept, Accept-Encoding'
"""

from __future__ import annotations

import json

from starlette.types import Message, Send

__all__ = ["header", "set_header", "drop_header", "add_vary", "request_header", "send_error"]


def header(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    """The value of header ``name`` (first occurrence), or None."""
    wanted = name.lower().encode()
    for key, value in headers:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def set_header(headers: list[tuple[bytes, bytes]], name: str, value: str) -> None:
    """Replace every ``name`` header by one with ``value``."""
    drop_header(headers, name)
    headers.append((name.lower().encode(), value.encode("latin-1")))


def drop_header(headers: list[tuple[bytes, bytes]], name: str) -> None:
    wanted = name.lower().encode()
    headers[:] = [(k, v) for k, v in headers if k.lower() != wanted]


def add_vary(headers: list[tuple[bytes, bytes]], *names: str) -> None:
    """Add ``names`` to the ``Vary`` header, keeping what it holds and each name once."""
    current = [v.strip() for v in (header(headers, "vary") or "").split(",") if v.strip()]
    if "*" in current:
        return
    known = {v.lower() for v in current}
    for name in names:
        if name.lower() not in known:
            current.append(name)
            known.add(name.lower())
    set_header(headers, "vary", ", ".join(current))


def request_header(scope, name: str) -> str | None:
    """A request header of an ASGI ``scope`` (first occurrence), or None."""
    return header(scope.get("headers", []), name)


async def send_error(send: Send, status: int, code: str, description: str,
                     headers: dict[str, str] | None = None) -> None:
    """Answer with the JSON error body of :func:`server.errors.error_body` (shape kept in step)."""
    body = json.dumps({"code": code, "description": description}, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    start: Message = {"type": "http.response.start", "status": status, "headers": raw}
    await send(start)
    await send({"type": "http.response.body", "body": body})
