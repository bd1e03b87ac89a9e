"""The OpenAPI document: every status each operation can answer, with the error schema.

FastAPI documents a route's 200 and a 422 for its parameters. riskmap answers a bad parameter
with 400 (:mod:`server.errors`), and the edge (:mod:`server.middleware`) may answer any request
with 406 (no acceptable coding), 429 (rate), 413 (body too large, on routes that take one) or 403
(a cross-site write riding on the session cookie), and anything may fail with 500. Routes list
their own statuses with ``responses=`` (404, 304, 204, 401…); :func:`install_openapi` adds the
statuses every operation shares, replaces the 422 by the 400 actually sent, and gives each error
the schema of the JSON error body. :data:`ROUTE_STATUSES` lists the statuses of routes whose
modules do not declare them (the pages' session and shelter routes).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["ERROR_SCHEMA", "ROUTE_STATUSES", "error_responses", "install_openapi"]

ERROR_SCHEMA = {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"},
                   "problems": {"type": "array", "items": {"type": "object"}}},
}
_WHY = {
    400: "Bad request: a parameter or the body is invalid (the description names it).",
    401: "A credential is needed (Authorization: Bearer <token>, or the session cookie).",
    403: "Refused: the caller's role may not do this, or a cross-site request carries the session.",
    404: "No such resource (an unknown and a private layer answer alike).",
    406: "Accept-Encoding refuses identity and every coding the server has (gzip, br).",
    409: "Conflict with the current state.",
    413: "Request body too large.",
    416: "Range not satisfiable.",
    429: "Too many requests; see Retry-After.",
    500: "Internal server error.",
    503: "Busy or over the time budget; see Retry-After.",
}
#: Statuses of operations whose routers do not declare them, by (method, path).
ROUTE_STATUSES: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/login"): {303: "Signed in: on to `next`.", 400: _WHY[400], 401: "Unknown token."},
    ("post", "/logout"): {303: "Signed out: on to `next`."},
    ("get", "/towns/{code}/wall"): {401: _WHY[401], 403: _WHY[403], 404: "No such town."},
    ("get", "/grids/{code}/wall"): {401: _WHY[401], 403: _WHY[403], 404: "No such grid (网格)."},
    ("get", "/api/public/shelters/nearest"): {404: "No shelters in the store."},
    ("get", "/api/public/place"): {404: "No shelters in the store."},
    ("get", "/public/shelters/{shelter_id}/card"): {404: "No such shelter."},
}


def error_responses(*statuses: int) -> dict:
    """``responses=`` entries for error ``statuses``, with the error body's schema."""
    return {s: {"description": _WHY.get(s, "Error."),
                "content": {"application/json": {"schema": ERROR_SCHEMA}}} for s in statuses}


def _complete(spec: dict) -> dict:
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            shared = [406, 429, 500]
            if op.get("parameters") or op.get("requestBody") or method != "get":
                shared.append(400)
            if method in ("post", "put", "patch", "delete"):
                shared += [403, 413]
            extra = ROUTE_STATUSES.get((method, path), {})
            for status in shared:
                responses.setdefault(str(status), error_responses(status)[status])
            for status, why in extra.items():
                responses.setdefault(str(status), {"description": why} if status < 400 else
                                     {**error_responses(status)[status], "description": why})
    spec.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
    spec.get("components", {}).get("schemas", {}).pop("ValidationError", None)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the completed document (built once)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _complete(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi
