"""The FastAPI app factory: :func:`create_app` over a store.

The app is assembled from router factories, one per concern, each given its dependencies
explicitly (so a test builds an app with exactly the pieces it needs):

* :func:`server.features.create_features_router` - OGC API - Features (``/``, ``/conformance``,
  ``/collections/...``);
* :func:`server.tiles.create_tiles_router` - vector and raster tiles, TileJSON (``/tiles/...``);
* :func:`server.ogc_tiles.create_ogc_tiles_router` - OGC API - Tiles (``/tileMatrixSets``,
  ``/tiles/{tms}/...``, ``/collections/{id}/tiles/...``);
* ``/docs`` - an offline HTML list of the operations (no CDN-hosted Swagger UI).

Shared pieces live in one :class:`~server.services.Services` object built once per app: the store, the
:class:`~server.settings.Settings`, the :class:`~server.source.LayerSource` (every read of layer
data), the :class:`~server.redaction.Redactor` (the public/private split), the
:class:`~server.auth.TokenAuth` and its ``principal`` dependency, and the tile cache.

Adding a router (the map pages, the siting API, editing)
---------------------------------------------------------
1. Write the module, e.g. ``server/siting.py`` or the package ``server/pages/``, with a factory
   that takes what it needs and returns an ``APIRouter``::

       def create_siting_router(store, ruleset, settings, principal) -> APIRouter: ...

   Use ``Depends(principal)`` for the caller and read layer data only through
   ``services.source`` with a view from ``services.redactor.view(layer, principal)``, so every
   response goes through the public/private split. Raise riskmap errors (``InputError``,
   ``LayerNotFound``…); :mod:`server.errors` maps them to HTTP statuses - no ``HTTPException``.
   Keep domain rules in ``zoning/``.
2. Add an adapter ``def _siting(s: Services) -> APIRouter`` below and append it to
   :data:`ROUTERS` (or pass ``routers=(*ROUTERS, _siting)`` to :func:`create_app` in a test).
   Paths in use: ``/``, ``/conformance``, ``/collections``, ``/tiles``, ``/docs``,
   ``/openapi.json``; the pages are planned under ``/map``, ``/towns/{code}/wall``,
   ``/public/...`` and ``/static``, the siting API under ``/api/siting``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from os import PathLike

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from layers.errors import StoreError
from layers.store import Store, open_store
from server import html_views as html
from server.edits_api import edits_router
from server.errors import install_error_handlers
from server.features import create_features_router
from server.ogc_tiles import create_ogc_tiles_router
from server.middleware import install_middleware
from server.openapi import install_openapi
from server.pages import pages_router
from server.packages import create_packages_router
from server.pages.session import COOKIE, browser_principal
from server.services import Services, build_services
from server.settings import Settings, load_settings
from server.siting_api import siting_router
from server.tiles import create_tiles_router
from server.warmup import Activity, ActivityMiddleware, start_warm_up

__all__ = ["RouterFactory", "ROUTERS", "create_app", "create_app_from_env"]


RouterFactory = Callable[[Services], APIRouter]


def _features(s: Services) -> APIRouter:
    return create_features_router(s.source, s.redactor, s.settings, s.principal)


def _tiles(s: Services) -> APIRouter:
    return create_tiles_router(s.source, s.redactor, s.settings, s.principal, s.tile_cache)


def _ogc_tiles(s: Services) -> APIRouter:
    return create_ogc_tiles_router(s.source, s.redactor, s.settings, s.principal, s.tile_cache)


def _packages(s: Services) -> APIRouter:
    return create_packages_router(s.settings, browser_principal(s.auth, s.principal))


def _docs(s: Services) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs(request: Request):
        spec = request.app.openapi()
        rows = [{"method": method.upper(), "path": path, "summary": op.get("summary", "")}
                for path, ops in spec.get("paths", {}).items() for method, op in ops.items()]
        return HTMLResponse(html.page(f"{s.settings.title} API", [
            '<p>The OpenAPI definition: <a href="openapi.json">openapi.json</a>.</p>', html.table(rows)]))

    return router


#: Router factories included by :func:`create_app`, in order. Append new concerns here.
ROUTERS: tuple[RouterFactory, ...] = (_features, _tiles, _ogc_tiles, _packages, _docs, pages_router,
                                     siting_router, edits_router)


def request_threads(settings: Settings) -> int:
    """How many request handlers a worker process runs at once: ``settings.request_threads``, or two
    per core and at least 4.

    Starlette runs each plain (``def``) handler in a thread of anyio's pool, 40 by default. Ours
    are CPU work in Python (cutting tiles, encoding pages) that holds the GIL, so more threads do
    not add throughput: each of the 40 gets the GIL for its switch interval in turn, and a request
    needing a few milliseconds of CPU waits behind all the others at every hand-over, the event
    loop's included. With fewer threads the other requests wait in the pool's queue, first come
    first served, and a tile waiting for its layers leaves the CPU to the loader. Measured on the
    2-core machine, 2 workers, 100 clients of the mixed load (stop 23, three interleaved runs
    each): on a first start p95 1.4-3.2 s with 40 threads, 0.76-2.7 s with 8, 0.70-0.79 s with 4;
    on a new tile cache with the layers kept 0.90-1.15 s with 8, 0.73-0.96 s with 4. On PostGIS,
    16 clients' cold tiles went from 277 to 344 a second. Siting reviews, which may take seconds,
    run in the event loop's own executor, not this pool.
    """
    from geo.threads import CORES

    return settings.request_threads or max(4, 2 * CORES)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = request_threads(app.state.services.settings)
    # what every layer's first tile would learn, before answering (about 0.1 s); then, in the
    # background, a second tile connection (a PostGIS backend's start costs the database ~70 ms
    # of CPU: eight at once took a 2-core machine's first half-second; bursts open more) and
    # the pages' slow libraries once requests pause (server/warmup.py)
    app.state.services.source.prime()
    app.state.services.tiles.restore_kept()  # in the background: a GeoPackage's layers kept by an earlier start
    start_warm_up(tasks=(lambda: app.state.services.source.warm_tiles(2),), activity=app.state.activity)
    yield


def create_app(store: Store | str | PathLike[str], settings: Settings | None = None, *,
               routers: Sequence[RouterFactory] = ROUTERS) -> FastAPI:
    """A FastAPI app serving ``store`` (a :class:`~layers.store.Store` or its address).

    An address is opened with :func:`layers.store.open_store`, which checks the store first: a
    damaged one is refused here, with one :class:`~layers.errors.StoreError` line, before the app
    exists.

    Parameters
    ----------
    store : Store, or its address (a GeoPackage path or a ``postgresql://`` URL)
    settings : Settings, optional
        Read from the environment (``RISKMAP_*``) when omitted.
    routers : sequence of callables
        Router factories ``(Services) -> APIRouter``; :data:`ROUTERS` by default.

    The :class:`Services` are at ``app.state.services``.
    """
    if isinstance(store, (str, PathLike)):
        store = open_store(store)
    settings = settings if settings is not None else load_settings()
    services = build_services(store, settings)
    app = FastAPI(
        lifespan=_lifespan,
        title=settings.title, version="1.0.0", docs_url=None, redoc_url=None,
        description="OGC API - Features, vector tiles (MVT), raster tiles (PNG) and TileJSON over a "
                    "riskmap store. Without a bearer token only public layers and fields are served.",
    )
    app.state.services = services
    install_error_handlers(app)
    install_middleware(app, settings, services.auth, COOKIE)
    app.state.activity = activity = Activity()
    app.add_middleware(ActivityMiddleware, activity=activity)
    # layers the database can tile meanwhile load in memory when requests pause (LayerSource.prepared)
    services.source.quiet = lambda: activity.quiet_for(0.5)
    for factory in routers:
        app.include_router(factory(services))
    install_openapi(app)
    return app


def create_app_from_env() -> FastAPI:
    """An app over the store named by ``RISKMAP_STORE`` (for ``uvicorn --factory`` and workers)."""
    settings = load_settings()
    if settings.store is None:
        raise StoreError("no store to serve: set RISKMAP_STORE to a store address (a .gpkg path or a "
                         "postgresql:// URL)")
    return create_app(settings.store, settings)
