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

Limits: a site of more than ``settings.siting_max_vertices`` vertices is refused (400, asking for
a simplified outline: review time grows with the vertices, 15 s at 60 000); ``population`` and the
inventory's ``quantity_t`` must be finite numbers within the catalogue's bounds
(``protected_targets.population``, :data:`layers.catalogue.hazard_sites.MAX_INVENTORY_T`); at most
``settings.siting_concurrency`` reviews compute at once, and a review not done within
``settings.siting_time_budget_s`` is answered 503 with ``Retry-After`` (the computation finishes in
the background and its slot is freed then). The request body is limited while it arrives
(``settings.max_body_bytes``, :mod:`server.middleware.limits`).

The :class:`~zoning.siting.review.SitingContext` (the store's layers in metres and the road graph) is
built on the first review and rebuilt when a layer it reads changes version.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import threading
from typing import TYPE_CHECKING

import shapely
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from geo.errors import InputError
from layers.catalogue import CATALOGUE
from layers.catalogue.hazard_sites import MAX_INVENTORY_T
from layers.store import Store
from server.auth import Principal
from server.cache import LRUCache
from server.errors import AccessDenied, Forbidden, TimeBudgetExceeded
from server.openapi import error_responses
from server.pages.common import PageNotFound
from server.pages.session import SITING_ROLE, browser_principal
from server.services import Services
from server.settings import Settings
from zoning.rules import RuleSet, load_ruleset

if TYPE_CHECKING:  # pragma: no cover - the engine is imported on the first review (see _engine)
    from zoning.siting.context import SitingContext
    from zoning.siting.review import SitingVerdict

__all__ = ["SITING_ROLE", "SitingService", "create_siting_router", "siting_router", "check_numbers",
           "check_vertices"]

_MEMBERS = ("geometry", "kind", "population", "inventory")
_POPULATION = CATALOGUE["protected_targets"].field("population")


def _bounded(value, what: str, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{what}: expected a finite number, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{what}: {value:g} is outside {low:g}..{high:g}")


def check_numbers(data: dict) -> None:
    """``population`` and every ``inventory[i].quantity_t`` within the catalogue's bounds (InputError).

    >>> check_numbers({"population": 800, "inventory": [{"name": "液氨", "quantity_t": 12.5}]})
    >>> check_numbers({"population": 1e308})
    Traceback (most recent call last):
    ...
    geo.errors.InputError: population: 1e+308 is outside 0..1e+06
    """
    if data.get("population") is not None:
        _bounded(data["population"], "population", _POPULATION.minimum, _POPULATION.maximum)
    inventory = data.get("inventory")
    if isinstance(inventory, list):
        for number, item in enumerate(inventory, start=1):
            if isinstance(item, dict) and "quantity_t" in item:
                _bounded(item["quantity_t"], f"inventory item {number}: quantity_t", 0.0, MAX_INVENTORY_T)


def check_vertices(geometry, limit: int) -> None:
    """InputError when the site has more than ``limit`` vertices (asking for a simpler outline)."""
    count = int(shapely.get_num_coordinates(geometry))
    if count > limit:
        raise InputError(f"the site has {count:,} vertices; at most {limit:,} are reviewed: simplify its outline "
                         "(to about 1 m, e.g. QGIS Simplify or ogr2ogr -simplify 0.00001) and send it again")


class SitingService:
    """The store's siting context (rebuilt when its layers change) and the recent verdicts.

    Parameters
    ----------
    store : Store
    ruleset : RuleSet
    max_reports : int
        Verdicts kept for their reports.
    """

    def __init__(self, store: Store, ruleset: RuleSet, max_reports: int = 64, concurrency: int = 2):
        self.store, self.ruleset = store, ruleset
        self.reports = LRUCache(max_reports)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._context: tuple[tuple, SitingContext] | None = None

    def _versions(self) -> tuple:
        from zoning.siting.context import CONTEXT_LAYERS

        names = (*CONTEXT_LAYERS, "roads")
        return tuple((n, self.store.info(n).version) for n in names if self.store.exists(n))

    def context(self) -> SitingContext:
        """The context of the store as it is now (LayerNotFound if ``riskmap zone`` has not run)."""
        with self._lock:
            key = self._versions()
            if self._context is None or self._context[0] != key:
                from zoning.siting.context import SitingContext

                self._context = (key, SitingContext.from_store(self.store, self.ruleset))
            return self._context[1]

    def review(self, geometry, kind: str, population=None, inventory=None) -> tuple[str, SitingVerdict]:
        """Review a proposal; the verdict and the id its report is kept under."""
        from zoning.siting.review import review_site

        verdict = review_site(geometry, kind, context=self.context(), ruleset=self.ruleset,
                              population=population, inventory=inventory)
        report_id = secrets.token_urlsafe(12)
        self.reports.put(report_id, verdict)
        return report_id, verdict

    async def review_within(self, budget_s: float, *args) -> tuple[str, SitingVerdict]:
        """:meth:`review` in a worker thread, at most ``concurrency`` at once, answered within
        ``budget_s`` seconds or TimeBudgetExceeded (the thread finishes on its own, then frees its slot)."""

        def bounded():
            if not self._slots.acquire(timeout=budget_s):
                raise TimeBudgetExceeded(f"every siting slot is busy; retry in a moment (budget {budget_s:g} s)")
            try:
                return self.review(*args)
            finally:
                self._slots.release()

        work = asyncio.get_running_loop().run_in_executor(None, bounded)
        try:
            return await asyncio.wait_for(asyncio.shield(work), timeout=budget_s)
        except asyncio.TimeoutError:
            raise TimeBudgetExceeded(f"the siting review took longer than its budget of {budget_s:g} s; retry "
                                     "later, or send a simpler outline") from None

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
    raw = await request.body()  # its size is limited while it arrives (server.middleware.limits)
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
    service = SitingService(store, ruleset, max_reports, settings.siting_concurrency)

    @router.post("", summary="Siting verdict of a proposed project (选址审查)",
                 responses=error_responses(400, 401, 403, 404, 503))
    async def review(request: Request, who: Principal = Depends(principal)):
        _require(who)
        data = await _proposal(request)
        check_numbers(data)
        from zoning.siting.review import proposal_geometry

        geometry = proposal_geometry(data["geometry"])
        check_vertices(geometry, settings.siting_max_vertices)
        report_id, verdict = await service.review_within(settings.siting_time_budget_s, geometry, data["kind"],
                                                         data.get("population"), data.get("inventory"))
        base = settings.public_url or str(request.base_url).rstrip("/")
        body = {"id": report_id, "report_url": f"{base}/api/siting/{report_id}/report.html", **verdict.to_dict()}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @router.get("/{report_id}/report.html", response_class=HTMLResponse,
                summary="The HTML report of a recent siting verdict", responses=error_responses(401, 403, 404))
    def report(report_id: str, who: Principal = Depends(principal)):
        _require(who)
        verdict = service.report(report_id)
        from zoning.siting.review import render_siting_report

        return HTMLResponse(render_siting_report(verdict), headers={"Cache-Control": "private, no-store"})

    return router


def siting_router(services: Services) -> APIRouter:
    """The adapter :data:`server.app.ROUTERS` takes: the siting router over the app's store and auth."""
    return create_siting_router(services.store, load_ruleset(), services.settings,
                                browser_principal(services.auth, services.principal))
