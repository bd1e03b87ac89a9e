"""The browser pages: planner map, town risk wall, public shelter map (folium / Leaflet, offline).

=========================================  ===========================================================
``GET /`` (a browser)                      home page (:mod:`server.pages.home`, answered by the OGC
                                           API landing route of :mod:`server.features`)
``GET /map``                               planner map (:mod:`server.pages.planner`)
``GET /towns/{code}/wall``                 a town's four-colour risk wall (:mod:`server.pages.wall`)
``GET /towns/{code}/lists/...``            its three lists as CSV/XLSX, plot histories
                                           (:mod:`server.pages.wall_records`)
``GET /grids/{code}/wall``, ``/lists/...`` the same for a grid of a town (网格, :mod:`server.pages.areas`)
``GET /public/shelters``                   public shelter map, no login (:mod:`server.pages.public`)
``GET /api/public/shelters/nearest``       nearest shelters by walking (public)
``GET|POST /login``, ``POST /logout``      the browser session (:mod:`server.pages.session`)
``GET /static/{leaflet,riskmap}/...``      Leaflet and riskmap's own JS/CSS (:mod:`server.pages.assets`)
``GET /web/tiles/...``                     the tiles API for the pages' scripts (below)
=========================================  ===========================================================

Every script, stylesheet and tile a page loads comes from this server; an online basemap is
added only when ``settings.basemap_url`` configures one. Pages are Chinese first with English.

Credentials in a browser
------------------------
A browser cannot put a bearer token on the requests a page makes (the page itself, its tiles),
so a page's caller is taken from the ``Authorization`` header or else from the session cookie
that ``/login`` sets (:func:`server.pages.session.browser_principal`). ``/web/tiles/...`` is the
tiles router of :mod:`server.tiles` built again with that dependency, so the planner map's
private layers (and the risk surface) are served through the same views, cache and ETags as
``/tiles/...``, which keeps answering to the header alone. The public page uses ``/tiles/...``.
"""

from __future__ import annotations

from fastapi import APIRouter

from server.pages.assets import create_static_router
from server.pages.planner import create_planner_router
from server.pages.public import create_public_router
from server.pages.session import browser_principal, create_session_router
from server.pages.areas import Areas
from server.pages.wall import create_wall_router
from server.pages.wall_records import create_wall_records_router, wall_page_sections
from server.services import Services
from server.tiles import create_tiles_router
from zoning.rules import RuleSet, load_ruleset

__all__ = ["WEB_PREFIX", "create_pages_router", "pages_router"]

#: Prefix of the API copies that accept the session cookie.
WEB_PREFIX = "/web"


def create_pages_router(services: Services, ruleset: RuleSet | None = None) -> APIRouter:
    """Every page, its assets and the session routes, over the app's shared ``services``.

    Parameters
    ----------
    services : server.services.Services
    ruleset : RuleSet, optional
        Palette of the legends, kinds of the siting panel, shelter rules; default: the default
        rule set.
    """
    rs = ruleset if ruleset is not None else load_ruleset()
    s = services
    base = s.settings.public_url or ""
    browser = browser_principal(s.auth, s.principal)
    router = APIRouter()
    router.include_router(create_static_router())
    router.include_router(create_session_router(s.auth, base))
    router.include_router(create_planner_router(s.source, s.redactor, s.settings, browser, rs))
    areas = Areas(s.store, s.source.towns)
    router.include_router(create_wall_router(s.source, s.redactor, s.settings, browser, rs,
                                             sections=wall_page_sections(s.store, rs, base, areas), areas=areas))
    router.include_router(create_wall_records_router(s.store, rs, browser, base, areas))
    router.include_router(create_public_router(s.source, s.redactor, s.settings, rs))
    router.include_router(create_tiles_router(s.source, s.redactor, s.settings, browser, s.tile_cache),
                          prefix=WEB_PREFIX, include_in_schema=False)
    return router


def pages_router(services: Services) -> APIRouter:
    """The adapter :data:`server.app.ROUTERS` takes: :func:`create_pages_router` with the default rules."""
    return create_pages_router(services)
