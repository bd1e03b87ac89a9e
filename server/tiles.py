"""Tiles: Mapbox Vector Tiles per layer and combined, PNG tiles of rasters, TileJSON 3.0.0.

``/tiles/{layer}/{z}/{x}/{y}.mvt``
    one MVT layer named after the store layer, as the caller's view shows it;
``/tiles/all/{z}/{x}/{y}.mvt``
    one MVT layer per vector layer the caller may see (for the public: the public layers);
``/tiles/{raster}/{z}/{x}/{y}.png``
    a paletted raster (the risk surface) warped into the 256×256 Web Mercator tile;
``/tiles/{layer}/tilejson.json``, ``/tiles/all/tilejson.json``
    TileJSON 3.0.0.

Tiles are cached in :mod:`server.tile_cache` (by default one SQLite file shared by every worker
serving the store) under the caller's scope, the layers and their *epochs* (which change when a
layer is replaced as a whole) and the tile address; a row edit drops the tiles over the edited rows
(:meth:`TileService.invalidate`) and keeps the others. Every tile answer carries an ``ETag`` of
its bytes as the caller's scope sees them, so ``If-None-Match`` gets a 304 until the tile changes;
``Cache-Control`` is ``public`` for the public view and ``private`` otherwise (with
``Vary: Authorization``). A tile with nothing in it is a ``204 No Content``. A tile
address that does not exist (zoom outside ``min_zoom..max_zoom``, x or y outside ``0..2^z-1``) is
a 400 naming the valid range.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence


from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from geo.errors import InputError
from geo.tiles import validate_tile
from layers.errors import LayerNotFound, StoreError
from layers.store import LayerInfo
from server.auth import Principal
from server.db_tiles import mvt_layer
from server.middleware.compression import etag_matches
from server.ogc.tilesets import GRIDS, WEB_MERCATOR, TileGrid
from server.openapi import error_responses
from server.raster_tiles import render_png_tile
from server.redaction import LayerView, Redactor
from server.settings import Settings
from server.source import LayerSource
from server.tile_layers import TileLayerBuilder, cut_layers, first_zooms
from server.tile_cache import MemoryTileCache, SharedTileCache, TileKey, tile_etag
from server.vector_tiles import MIN_FEATURE_UNITS, SIMPLIFY_UNITS, encode_tile, tile_features

__all__ = ["MVT", "PNG", "LAYER_MIN_ZOOM", "ZOOM_CLASSES", "COMBINED", "TileService", "create_tiles_router"]

log = logging.getLogger(__name__)

MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
COMBINED = "all"
#: Below these zooms a layer is left out of tiles (its features would be under a pixel and the
#: tile would read tens of thousands of them); layers not listed start at ``settings.min_zoom``.
LAYER_MIN_ZOOM = {
    "industrial_plots": 10, "risk_wall": 10, "hazard_sites": 10, "major_hazards": 10,
    "protected_targets": 10, "separation_violations": 10, "safety_buffers": 8, "roads": 12,
}
#: Within a layer, rows shown only from a zoom on, by the value of one column:
#: ``layer: (column, {value: first zoom}, first zoom of other values)``. Roads: the main network
#: first, the residential and service streets from zoom 14 (a z12 tile of the scale-100 demo
#: holds 28 000 road segments, 22 000 of them residential).
ZOOM_CLASSES = {
    "roads": ("class", {"motorway": 0, "trunk": 0, "primary": 0, "secondary": 12, "tertiary": 13}, 14),
}
#: Bumped when the tile encoding changes, so old ETags stop matching.
_ENCODING = "mvt2"
_JSON_TYPES = {"bool": "Boolean", "boolean": "Boolean", "int": "Number", "Int": "Number",
               "float": "Number", "uint": "Number", "UInt": "Number"}


def _tile_layer_builder(name: str) -> TileLayerBuilder:
    """How the background loader prepares layer ``name`` for tiles (with the layer's zoom classes)."""
    return TileLayerBuilder(ZOOM_CLASSES.get(name))


def _field_type(dtype: str) -> str:
    for prefix, kind in _JSON_TYPES.items():
        if dtype.startswith(prefix):
            return kind
    return "String"


class TileService:
    """What the tile routers share: the layers a request covers, the tile rendering, ETags and cache.

    The cache is a :class:`server.tile_cache.SharedTileCache` (one file shared by every worker)
    or a :class:`~server.tile_cache.MemoryTileCache`; tiles are filed under a
    :class:`~server.tile_cache.TileKey` (scope, layers and their epochs, address, encoding) and
    carry an ETag of their bytes. Row edits call :meth:`invalidate`.
    """

    def __init__(self, source: LayerSource, redactor: Redactor, settings: Settings,
                 cache: SharedTileCache | MemoryTileCache):
        self.source, self.redactor, self.settings, self.cache = source, redactor, settings, cache

    def check_tile(self, z: int, x: int, y: int) -> None:
        if z < self.settings.min_zoom:
            raise InputError(f"tile {z}/{x}/{y}: zoom must be in {self.settings.min_zoom}.."
                             f"{self.settings.max_zoom}")
        validate_tile(z, x, y, max_zoom=self.settings.max_zoom)

    def layers(self, layer: str, who: Principal, kind: str) -> list[tuple[LayerView, LayerInfo]]:
        """Views and infos of the layers a tile request covers (LayerNotFound, InputError)."""
        infos = self.source.infos()
        if layer == COMBINED and kind == "vector":
            names = self.redactor.visible([n for n, i in infos.items() if i.kind == "vector"], who)
            return [(self.redactor.view(n, who), infos[n]) for n in names]
        info = infos.get(layer)
        if info is None or not self.redactor.visible([layer], who):  # private: as absent (no 401)
            names = self.redactor.visible([n for n, i in infos.items() if i.kind == kind], who)
            raise LayerNotFound(f"unknown {kind} layer {layer!r}; {kind} layers: {', '.join(names) or 'none'}")
        view = self.redactor.view(layer, who)
        if info.kind != kind:
            suffix = ".png" if info.kind == "raster" else ".mvt"
            raise InputError(f"layer {layer!r} is a {info.kind} layer; ask for its tiles as {suffix}")
        return [(view, info)]

    def restore_kept(self, callers: Sequence[Principal] = (Principal("planner"), Principal())) -> int:
        """At start-up, on a store that does not build tiles itself: have the background loader put back
        in memory the vector layers an earlier start prepared for ``callers``' views (a planner's and
        the public's) and kept in files (:mod:`server.prepared_files`); returns how many were asked.

        Restoring is cheap (0.5 s for the 14 layers of scale 10, against 2.3 s to prepare them from
        the store), so the first caller's view starts at once rather than with the first combined
        tile; it is not waited for (restoring before answering delayed the first answer by a second
        for no gain in the first tiles' times). The other views wait for a quiet server, or for a
        tile that needs them: restored at once they took another 0.5 s of each worker's GIL in its
        first seconds under load, when no request had asked for them (100 clients of planners' tiles
        right after a start: p95 0.78-1.09 s with them deferred, 1.17-1.67 s without). Layers without
        a file are prepared on first use, as before.
        """
        if self.source.builds_tiles and self.settings.database_tiles:
            return 0  # the database tiles meanwhile; loads wait for a quiet server (LayerSource.prepared)
        asked = 0
        try:
            for i, who in enumerate(callers):
                for view, info in self.layers(COMBINED, who, "vector"):
                    asked += self.source.restore_later(view, info, "tiles", _tile_layer_builder(info.name),
                                                       defer=i > 0)
        except Exception:  # noqa: BLE001 - the requests prepare the layers themselves
            log.warning("restoring the kept layers failed", exc_info=True)
        return asked

    def prepare_kept(self, callers: Sequence[Principal] = (Principal("planner"), Principal()),
                     timeout: float = 3600.0) -> list[str]:
        """Prepare every vector layer for tiles in ``callers``' views and keep it in its file, now (for
        ``riskmap tiles prepare``: a deployment's first start then restores them instead of reading the
        store under its first users); returns the files kept. StoreError when files are not kept."""
        files = self.source.files
        if files is None:
            raise StoreError("prepared layers are not kept (RISKMAP_LAYER_CACHE is 'off'): nothing to prepare")
        chosen = [(view, info) for who in callers for view, info in self.layers(COMBINED, who, "vector")
                  if view.towns is None and info.rows <= self.source.index_max_rows]
        for view, info in chosen:
            self.source.prepared(view, info, "tiles", _tile_layer_builder(info.name))
        if not self.source.wait_loaded(timeout):
            raise StoreError(f"the layers were not prepared within {timeout:.0f} s")
        kept = [files.path(info.name, info.version, info.updated_at, repr(view), "tiles") for view, info in chosen]
        return [str(path) for path in kept if path.exists()]

    def key(self, layers, z: int, x: int, y: int, who: Principal, fmt: str, grid: TileGrid) -> TileKey:
        """What the tile is cached under: the caller's scope, the layers and their epochs, the address."""
        towns = f"|{self.source.towns.key()}" if who.scoped else ""  # a town editor's rows follow the plots' towns
        scope = f"{who.scope_key}{towns}/" + ",".join(view.key for view, _ in layers)
        return TileKey(scope, tuple(info.name for _, info in layers),
                       tuple(self.source.epoch(info) for _, info in layers), grid.id, z, x, y, f"{_ENCODING}:{fmt}")

    def headers(self, etag: str, who: Principal) -> dict[str, str]:
        scope = "public" if who.is_public else "private"
        return {"ETag": etag, "Cache-Control": f"{scope}, max-age={self.settings.tile_max_age}",
                "Vary": "Authorization, Cookie"}

    def invalidate(self, layers, bounds_lonlat: tuple[float, float, float, float]) -> int:
        """Drop the cached tiles of ``layers`` (names) that ``bounds_lonlat`` touches, for every worker.

        Call it after a row edit has committed, with ``(west, south, east, north)`` in degrees
        covering the edited rows before *and* after the edit. Every cached tile of those layers
        (alone or in a combined tile), at every zoom, in every tile-matrix set and for every view,
        whose read area (the tile and its buffer) meets the bounds is dropped; the others stay
        cached (the edit does not change the layers' epochs). Tiles computed from the rows before
        the edit by a request still running are not kept. Returns how many tiles were dropped.
        Whole-layer writes need no call: they change the layer's epoch.
        """
        try:
            bounds = tuple(float(v) for v in bounds_lonlat)
        except (TypeError, ValueError):
            bounds = ()
        if len(bounds) != 4 or not (bounds[0] <= bounds[2] and bounds[1] <= bounds[3]):
            raise InputError(f"invalidate: bounds must be (west, south, east, north) in degrees, got {bounds_lonlat!r}")
        infos = self.source.infos()
        versions = {name: infos[name].version for name in layers if name in infos}
        return self.cache.invalidate(versions, bounds)

    def vector_tile(self, layers, z: int, x: int, y: int, grid: TileGrid = GRIDS[WEB_MERCATOR]) -> bytes:
        """The MVT of tile z / column x / row y of ``grid`` (Web Mercator XYZ by default).

        Each layer is cut from its :class:`server.tile_layers.TileLayer` once the background loader
        has prepared it (geometries indexed, attributes encoded once). Until then, on a store that
        builds tiles itself (PostGIS: ``ST_AsMVT``) the Web Mercator tiles of the layers not yet
        prepared are made in the database with the same rules (:mod:`server.db_tiles`), unless
        ``settings.database_tiles`` is off; otherwise the tile waits for them while the loads make
        progress (until one has run ``settings.tile_load_wait`` seconds), then reads the rows of those
        still loading by bounding box and cuts them here (the same bytes). Reading rows per tile
        while layers load is what a cold server under load cannot afford: on the cold mixed load
        (100 clients) it starved the loader, and p95 was 11-15 s against 5 s when tiles waited.
        The MVT layers of a tile are independent messages, so the parts are joined as bytes.
        """
        s = self.settings
        fraction = s.tile_buffer / s.tile_extent
        bbox = grid.read_bounds(z, y, x, fraction)
        zoom = grid.mercator_zoom(z)  # the zoom rules are in Web Mercator zooms
        project = lambda c: grid.to_tile(c, z, y, x, s.tile_extent)  # noqa: E731
        shown = [(view, info) for view, info in layers if zoom >= LAYER_MIN_ZOOM.get(info.name, s.min_zoom)]
        database = grid.id == WEB_MERCATOR and s.database_tiles and self.source.builds_tiles
        # asks the loader for every layer missing, at once, the largest first: the workers of a
        # server prepare the layers between them (LayerSource.prepared), and the roads (232 000 rows,
        # 1.5 s at scale 10) begun last kept both waiting for them after the rest were done; those the
        # database tiles meanwhile are loaded when requests pause (loading during a burst slowed the
        # database's tiles down)
        asked = {info.name: self.source.prepared(view, info, "tiles", _tile_layer_builder(info.name),
                                                 defer=database and view.towns is None)
                 for view, info in sorted(shown, key=lambda pair: -pair[1].rows)}
        prepared = {info.name: asked[info.name] for _, info in shown}  # in the layers' order
        if not database and s.tile_load_wait > 0:  # the database would answer meanwhile, cheaply for us
            for view, info in shown:  # while loads keep ending (LayerSource.prepared)
                if prepared[info.name] is None:
                    prepared[info.name] = self.source.prepared(view, info, "tiles", _tile_layer_builder(info.name),
                                                               wait=s.tile_load_wait)
        waiting = [(view, info) for view, info in shown if prepared[info.name] is None]
        ready = [(name, layer) for name, layer in prepared.items() if layer is not None]
        cut = dict(zip([name for name, _ in ready], cut_layers(ready, z, x, y, bbox=bbox, zoom=zoom,
                                                               extent=s.tile_extent, buffer=s.tile_buffer,
                                                               project=project)))
        parts = {name: cut.get(name, b"") for name in prepared}  # in the layers' order; those waiting filled below
        in_database = all(view.towns is None for view, _ in waiting)  # a town editor's rows are scoped here
        if waiting and database and in_database:
            specs = [mvt_layer(view, self.source.columns(info), ZOOM_CLASSES.get(info.name)) for view, info in waiting]
            parts[waiting[0][1].name] = self.source.database_tile(
                [spec for spec in specs if spec is not None], z, x, y, bbox, extent=s.tile_extent,
                buffer=s.tile_buffer, min_units=MIN_FEATURE_UNITS, simplify_units=SIMPLIFY_UNITS)
            waiting = []
        for view, info in waiting:  # cut here from the rows read by bounding box: the same bytes
            frame = self.source.read(view, info, bbox=bbox)
            first_zoom = first_zooms(frame, ZOOM_CLASSES.get(info.name))
            if first_zoom is not None:
                frame = frame[first_zoom <= zoom]
            features = tile_features(frame, z, x, y, extent=s.tile_extent, buffer=s.tile_buffer, project=project)
            parts[info.name] = encode_tile({info.name: features}, extent=s.tile_extent)
        return b"".join(part for part in parts.values() if part)

    def answer(self, request: Request, layers, z, x, y, who, fmt: str, render,
               grid: TileGrid = GRIDS[WEB_MERCATOR]) -> Response:
        """The tile from the cache, or ``render()`` kept there; 304 when ``If-None-Match`` matches."""
        key = self.key(layers, z, x, y, who, fmt, grid)
        found = self.cache.get(key)
        if found is not None:
            body, etag = found
        else:
            versions = {info.name: info.version for _, info in layers}
            body = render() or b""
            fraction = self.settings.tile_buffer / self.settings.tile_extent if fmt.startswith("mvt") else 0.0
            etag = (self.cache.put(key, body, versions=versions, bounds=grid.read_bounds(z, y, x, fraction))
                    or tile_etag(key, body))
        headers = self.headers(etag, who)
        headers["X-Cache"] = "HIT" if found is not None else "MISS"
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        if not body:
            return Response(status_code=204, headers=headers)
        return Response(body, media_type=MVT if fmt.startswith("mvt") else PNG, headers=headers)

    def tilejson(self, request: Request, layer: str, who: Principal) -> dict:
        s = self.settings
        base = s.public_url or str(request.base_url).rstrip("/")
        infos = self.source.infos()
        raster = layer != COMBINED and layer in infos and infos[layer].kind == "raster"
        layers = self.layers(layer, who, "raster" if raster else "vector")
        suffix = "png" if raster else "mvt"
        doc = {"tilejson": "3.0.0", "name": layer, "scheme": "xyz", "version": "1.0.0",
               "tiles": [f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.{suffix}"],
               "minzoom": s.min_zoom, "maxzoom": s.max_zoom,
               "attribution": "riskmap; demo data partly generated (演示数据)"}
        if raster:
            view, info = layers[0]
            doc["description"] = view.description
            bounds = self.source.raster_bounds(info)
        else:
            doc["description"] = ("every layer you may see" if layer == COMBINED else layers[0][0].description)
            doc["vector_layers"] = [self.vector_layer(view, info) for view, info in layers]
            found = [b for b in (self.source.bounds(v, i) for v, i in layers) if b is not None]
            bounds = (min(b[0] for b in found), min(b[1] for b in found),
                      max(b[2] for b in found), max(b[3] for b in found)) if found else None
            if layers:
                doc["minzoom"] = min(LAYER_MIN_ZOOM.get(i.name, s.min_zoom) for _, i in layers)
        if bounds is not None:
            doc["bounds"] = [round(v, 7) for v in bounds]
            doc["center"] = [round((bounds[0] + bounds[2]) / 2, 7), round((bounds[1] + bounds[3]) / 2, 7),
                             max(doc["minzoom"], min(12, s.max_zoom))]
        return doc

    def vector_layer(self, view: LayerView, info: LayerInfo) -> dict:
        columns = self.source.columns(info)
        names = view.fields if view.fields is not None else list(columns)
        fields = {n: _field_type(columns.get(n, "str")) for n in names if n in columns or n == "notice"}
        return {"id": info.name, "description": f"{view.title_zh} {view.title}", "fields": fields,
                "minzoom": LAYER_MIN_ZOOM.get(info.name, self.settings.min_zoom),
                "maxzoom": self.settings.max_zoom}


def create_tiles_router(source: LayerSource, redactor: Redactor, settings: Settings, principal,
                        cache: SharedTileCache | MemoryTileCache) -> APIRouter:
    """The tiles router.

    Parameters
    ----------
    source, redactor, settings
        As for :func:`server.features.create_features_router`.
    principal : callable
        FastAPI dependency giving the caller's :class:`~server.auth.Principal`.
    cache : SharedTileCache or MemoryTileCache
        Where tiles are kept (see :class:`TileService`).
    """
    router = APIRouter(prefix="/tiles", tags=["Tiles"])
    h = TileService(source, redactor, settings, cache)
    Who = Depends(principal)

    @router.get("/{layer}/tilejson.json", summary="TileJSON 3.0.0 of a layer (or 'all')",
                responses=error_responses(404))
    def tilejson(request: Request, layer: str, who: Principal = Who):
        return JSONResponse(h.tilejson(request, layer, who))

    @router.get("/{layer}/{z}/{x}/{y}.mvt", summary="Mapbox Vector Tile of a layer (or 'all')",
                response_class=Response,
                responses={200: {"content": {MVT: {}}}, 204: {"description": "nothing in this tile"},
                           304: {"description": "not modified"}, **error_responses(400, 404)})
    def vector_tile(request: Request, layer: str, z: int, x: int, y: int, who: Principal = Who):
        h.check_tile(z, x, y)
        layers = h.layers(layer, who, "vector")
        return h.answer(request, layers, z, x, y, who, "mvt", lambda: h.vector_tile(layers, z, x, y))

    @router.get("/{layer}/{z}/{x}/{y}.png", summary="PNG tile of a raster layer (the risk surface)",
                response_class=Response,
                responses={200: {"content": {PNG: {}}}, 204: {"description": "nothing in this tile"},
                           304: {"description": "not modified"}, **error_responses(400, 404)})
    def raster_tile(request: Request, layer: str, z: int, x: int, y: int, who: Principal = Who):
        h.check_tile(z, x, y)
        layers = h.layers(layer, who, "raster")
        info = layers[0][1]

        def render() -> bytes | None:
            with source.raster(info) as src:
                return render_png_tile(src, z, x, y, bounds=source.raster_bounds(info))

        return h.answer(request, layers, z, x, y, who, "png", render)

    return router
