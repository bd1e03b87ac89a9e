"""HTTP errors: the one table mapping riskmap errors to status codes, installed by one function.

Every error a request can cause is a :class:`~geo.errors.RiskmapError` raised by the layer that
found it (a bad tile address by ``geo.tiles``, an absent layer by the store, a refused parameter
by a router). :data:`STATUS` maps each class to an HTTP status, looked up along the class's MRO so
a subclass inherits its parent's status; :func:`install_error_handlers` installs the handlers that
turn any of them, FastAPI's own request-validation errors and Starlette's HTTP errors into one JSON
body shaped like the OGC API exception schema::

    {"code": "LayerNotFound", "description": "unknown collection 'x'; collections: …"}

with ``"problems": [...]`` added when there is a list to give (a refused layer, bad parameters).
An unexpected exception becomes a 500 with a generic description; the traceback goes to the
server log, never to the client.

One exception to JSON: a page that needs a signed-in browser raises :class:`AccessDenied`
with its sign-in URL (``AccessDenied(message, sign_in="/login?next=<the page>")``). A browser asking for HTML (``GET`` with an
``Accept`` header preferring ``text/html``) is redirected there (``303 See Other``) instead of
shown a 401 body; an API or JSON client still gets the 401 JSON (and a caller whose role is too
low, the 403).

>>> status_for(LayerNotFound("x")), status_for(AccessDenied("x")), status_for(KeyError())
(404, 401, 500)
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import CRSError, GeometryError, InputError, RiskmapError
from layers.errors import Conflict, LayerNotFound, StoreError, ValidationError
from server.html_views import wants_html
from zoning.errors import RuleSetError
from zoning.wall.dangers import DangerStepError

__all__ = ["AccessDenied", "Forbidden", "TimeBudgetExceeded", "BodyTooLarge", "STATUS", "status_for",
           "error_body", "install_error_handlers"]

log = logging.getLogger("riskmap.server")


class AccessDenied(RiskmapError):
    """The resource exists but needs a credential (a bearer token) that the request lacks.

    ``sign_in``, given by a page that a browser can open once signed in, is the sign-in page's
    URL coming back to it (built with :func:`server.pages.session.login_link`, whose ``next`` is
    a checked local path): a browser is redirected there, an API client gets the 401.
    """

    def __init__(self, message: str = "", sign_in: str | None = None):
        super().__init__(message)
        self.sign_in = sign_in


class Forbidden(AccessDenied):
    """The caller is known, but its role or town does not give it this resource (HTTP 403)."""


class TimeBudgetExceeded(RiskmapError):
    """A computation ran past its time budget (HTTP 503, with ``Retry-After``); the request may be
    repeated later or made smaller."""


class BodyTooLarge(StarletteHTTPException):
    """A request body passed its route's size limit while arriving (HTTP 413).

    A Starlette ``HTTPException`` rather than a :class:`RiskmapError` because it is raised inside
    ``receive()``, under FastAPI's body parsing, which turns any other exception into a 400.
    """

    def __init__(self, detail: str):
        super().__init__(status_code=413, detail=detail)


#: The one table: riskmap error class → HTTP status. Looked up along the MRO (most specific first).
STATUS: dict[type[BaseException], int] = {
    LayerNotFound: 404,
    ValidationError: 422,
    InputError: 400,
    GeometryError: 400,
    CRSError: 400,
    AccessDenied: 401,
    Forbidden: 403,
    Conflict: 409,
    DangerStepError: 409,
    StoreError: 503,
    TimeBudgetExceeded: 503,
    RuleSetError: 500,  # the server's own configuration is wrong, not the request
    RiskmapError: 400,
}


def status_for(exc: BaseException) -> int:
    """The HTTP status of an exception by :data:`STATUS` (500 for anything not in it)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, description: str, problems: list | None = None) -> dict:
    """The JSON body of an error response."""
    body = {"code": code, "description": description}
    if problems:
        body["problems"] = problems
    return body


def _code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"


def _riskmap_error(request: Request, exc: RiskmapError) -> JSONResponse | RedirectResponse:
    sign_in = getattr(exc, "sign_in", None)
    if sign_in and request.method in ("GET", "HEAD") and wants_html(request, None):
        return RedirectResponse(sign_in, status_code=303,
                                headers={"Cache-Control": "no-store", "Vary": "Accept, Authorization, Cookie"})
    status = status_for(exc)
    problems = None
    description = str(exc)
    if isinstance(exc, ValidationError):
        problems = [{"feature": p.feature, "field": p.field, "message": p.message} for p in exc.problems]
        description = description.splitlines()[0]
    if status >= 500:
        log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
    body = error_body(type(exc).__name__, description, problems)
    if isinstance(exc, Conflict):  # the rows as they are now, so the editor can redo the edit on them
        body["current"] = _current_rows(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="riskmap"'} if status == 401 else None
    if sign_in:  # the same URL redirects a browser: caches must tell the two answers apart
        headers = {**(headers or {}), "Vary": "Accept, Authorization, Cookie"}
    if isinstance(exc, TimeBudgetExceeded):
        headers = {**(headers or {}), "Retry-After": "30"}
    return JSONResponse(body, status_code=status, headers=headers)


def _current_rows(exc: Conflict) -> list:
    """The rows of a :class:`Conflict` as GeoJSON Features (with ``row_version``), [] when none exists."""
    frame = exc.current
    if frame is None or not len(frame):
        return []
    from layers.catalogue import CATALOGUE

    schema = CATALOGUE.get(exc.layer)
    id_field = schema.id_field if schema is not None else None
    features = json.loads(frame.to_json(na="null", default=str, drop_id=True, ensure_ascii=False))["features"]
    if id_field in frame.columns:
        for feature, fid in zip(features, frame[id_field].astype(str)):
            feature["id"] = fid
    return features


def _request_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        problems.append({"parameter": where, "message": error.get("msg", "invalid value"),
                         "value": _plain(error.get("input"))})
    described = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
    return JSONResponse(
        error_body("InvalidParameterValue", f"invalid request parameter(s): {described}", problems),
        status_code=400)


def _plain(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    description = exc.detail if isinstance(exc.detail, str) else _code(exc.status_code)
    if exc.status_code == 404 and description == "Not Found":
        description = f"no such resource: {request.url.path} (see / for the links this service offers)"
    return JSONResponse(error_body(_code(exc.status_code), description), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s", request.url.path)
    return JSONResponse(
        error_body("InternalServerError", "internal server error; the details are in the server log"),
        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into a JSON ``{"code", "description"}`` body."""
    app.add_exception_handler(RiskmapError, _riskmap_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
