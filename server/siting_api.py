"""The siting API: ``POST /api/siting`` → the verdict of a proposed project, and its HTML report.

``POST /api/siting`` takes a JSON object::

    {"geometry": <GeoJSON geometry, Feature or FeatureCollection, lon/lat>,
     "kind": "school", "population": 800, "inventory": [{"name": "液氨", "quantity_t": 20}]}

(``population`` optional, ``inventory`` for a ``hazardous_plant`` only) and answers the engine's
verdict (:meth:`zoning.siting.review.SitingVerdict.to_dict`: verdict, every reason, figures, map
features) plus ``id`` and ``report_url``, the address of ``GET /api/siting/{id}/report.html``, the
self-contained HTML report (:func:`zoning.siting.review.render_siting_report`). The last
``max_reports`` verdicts are kept in memory (least recently used out first); an older report is a
404 that says to review the site again.

Who may call it: planners and admins (from the ``Authorization`` header or the pages' session
cookie). The public may not: a verdict reveals the safety buffers of hazard sites and the
inventories near the site, which are private. Other roles get a 401.

Errors are riskmap errors mapped by :mod:`server.errors`: a body that is not JSON, not an object,
without ``geometry`` or ``kind``, or not sent as ``application/json`` (which, with the cookie's
``SameSite=Strict``, keeps other sites from posting) → 400; an unknown kind (the message lists
the kinds), an invalid geometry (with the reason), a bad population or inventory → 400 with the
engine's message; a store not zoned yet → 404 naming ``riskmap zone``.

The :class:`~zoning.siting.review.SitingContext` (the store's layers in metres and the road graph) is
built on the first review and rebuilt when a layer it reads changes version.
"""

from __future__ import annotations

import json
import secrets
import threading

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from geo.errors import InputError
from layers.store import Store
from server.auth import Principal
from server.cache import LRUCache
from server.errors import AccessDenied, Forbidden
from server.pages.common import PageNotFound
from server.pages.session import SITING_ROLE, browser_principal
from server.services import Services
from server.settings import Settings
from zoning.rules import RuleSet, load_ruleset
from zoning.siting.context import CONTEXT_LAYERS, SitingContext
from zoning.siting.review import SitingVerdict, proposal_geometry, render_siting_report, review_site

__all__ = ["SITING_ROLE", "MAX_BODY_BYTES", "SitingService", "create_siting_router", "siting_router"]

#: Largest request body accepted (a parcel drawn by hand is a few kB).
MAX_BODY_BYTES = 2_000_000
_MEMBERS = ("geometry", "kind", "population", "inventory")


class SitingService:
    """The store's siting context (rebuilt when its layers change) and the recent verdicts.

    Parameters
    ----------
    store : Store
    ruleset : RuleSet
    max_reports : int
        Verdicts kept for their reports.
    """

    def __init__(self, store: Store, ruleset: RuleSet, max_reports: int = 64):
        self.store, self.ruleset = store, ruleset
        self.reports = LRUCache(max_reports)
        self._lock = threading.Lock()
        self._context: tuple[tuple, SitingContext] | None = None

    def _versions(self) -> tuple:
        names = (*CONTEXT_LAYERS, "roads")
        return tuple((n, self.store.info(n).version) for n in names if self.store.exists(n))

    def context(self) -> SitingContext:
        """The context of the store as it is now (LayerNotFound if ``riskmap zone`` has not run)."""
        with self._lock:
            key = self._versions()
            if self._context is None or self._context[0] != key:
                self._context = (key, SitingContext.from_store(self.store, self.ruleset))
            return self._context[1]

    def review(self, geometry, kind: str, population=None, inventory=None) -> tuple[str, SitingVerdict]:
        """Review a proposal; the verdict and the id its report is kept under."""
        verdict = review_site(geometry, kind, context=self.context(), ruleset=self.ruleset,
                              population=population, inventory=inventory)
        report_id = secrets.token_urlsafe(12)
        self.reports.put(report_id, verdict)
        return report_id, verdict

    def report(self, report_id: str) -> SitingVerdict:
        verdict = self.reports.get(report_id)
        if verdict is None:
            raise PageNotFound(f"no siting report {report_id!r}: only the last {self.reports.maxsize} reviews are "
                               "kept; review the site again (POST /api/siting)")
        return verdict


def _require(who: Principal) -> None:
    if not who.at_least(SITING_ROLE):
        refuse = AccessDenied if who.is_public else Forbidden
        raise refuse(f"siting review needs the {SITING_ROLE} role or higher (选址审查需规划或管理权限); "
                           "send Authorization: Bearer <token> or sign in at /login")


async def _proposal(request: Request) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/json", "application/geo+json"):
        raise InputError(f"send the proposal as application/json, not {kind or 'no content type'}")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InputError(f"request body too large: {len(raw):,} bytes, at most {MAX_BODY_BYTES:,}")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"request body is not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    except UnicodeDecodeError:
        raise InputError("request body is not UTF-8 text") from None
    if not isinstance(data, dict):
        raise InputError('request body: expected a JSON object {"geometry": …, "kind": …}')
    unknown = sorted(set(data) - set(_MEMBERS))
    if unknown:
        raise InputError(f"request body: unknown member(s) {', '.join(unknown)}; accepted: {', '.join(_MEMBERS)}")
    if data.get("geometry") is None:
        raise InputError('request body: give the site as "geometry", a GeoJSON geometry, Feature or '
                         "FeatureCollection in lon/lat")
    if not isinstance(data.get("kind"), str) or not data["kind"]:
        raise InputError('request body: give the project\'s "kind" (e.g. "school"); an unknown kind is answered '
                         "with the list of kinds")
    return data


def create_siting_router(store: Store, ruleset: RuleSet, settings: Settings, principal, *,
                         max_reports: int = 64) -> APIRouter:
    """The siting router (see the module docstring).

    Parameters
    ----------
    store : Store
        A store on which ``riskmap zone`` has run.
    ruleset : RuleSet
    settings : Settings
        For ``public_url`` (the base of ``report_url``).
    principal : callable
        Dependency giving the caller (header or session cookie).
    max_reports : int
        Verdicts kept for their reports.
    """
    router = APIRouter(prefix="/api/siting", tags=["Siting"])
    service = SitingService(store, ruleset, max_reports)

    @router.post("", summary="Siting verdict of a proposed project (选址审查)")
    async def review(request: Request, who: Principal = Depends(principal)):
        _require(who)
        data = await _proposal(request)
        geometry = proposal_geometry(data["geometry"])
        report_id, verdict = await run_in_threadpool(service.review, geometry, data["kind"], data.get("population"),
                                                     data.get("inventory"))
        base = settings.public_url or str(request.base_url).rstrip("/")
        body = {"id": report_id, "report_url": f"{base}/api/siting/{report_id}/report.html", **verdict.to_dict()}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @router.get("/{report_id}/report.html", response_class=HTMLResponse,
                summary="The HTML report of a recent siting verdict")
    def report(report_id: str, who: Principal = Depends(principal)):
        _require(who)
        verdict = service.report(report_id)
        return HTMLResponse(render_siting_report(verdict), headers={"Cache-Control": "private, no-store"})

    return router


def siting_router(services: Services) -> APIRouter:
    """The adapter :data:`server.app.ROUTERS` takes: the siting router over the app's store and auth."""
    return create_siting_router(services.store, load_ruleset(), services.settings,
                                browser_principal(services.auth, services.principal))
