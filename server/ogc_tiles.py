"""OGC API - Tiles (OGC 20-057) for the vector layers: tile-matrix sets, tilesets, MVT tiles.

* ``/tileMatrixSets``, ``/tileMatrixSets/{tileMatrixSetId}`` - the grids (:mod:`server.ogc.tilesets`);
* ``/tiles``, ``/tiles/{tms}``, ``/tiles/{tms}/{z}/{row}/{col}`` - every layer the caller may see, one
  MVT layer each;
* ``/collections/{id}/tiles``, ``…/tiles/{tms}``, ``…/tiles/{tms}/{z}/{row}/{col}`` - one collection.

Tiles are made by :class:`server.tiles.TileService` with the same redaction, generalisation, cache,
ETags and ``If-None-Match`` as ``/tiles/{layer}/{z}/{x}/{y}.mvt``; in ``WebMercatorQuad`` they *are*
those tiles (row = y, col = x). An empty tile is ``204 No Content``; a tile outside the tile-matrix
set, or beyond ``settings.max_zoom``, is a 404, as the standard asks; a private collection is a
404 like an absent one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from layers.errors import LayerNotFound
from server.auth import Principal
from server.ogc.tilesets import (
    GRIDS,
    WEB_MERCATOR,
    TileGrid,
    tile_matrix_sets_document,
    tileset_document,
    tilesets_document,
)
from server.openapi import error_responses
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource
from server.tile_cache import MemoryTileCache, SharedTileCache
from server.tiles import COMBINED, LAYER_MIN_ZOOM, MVT, TileService

__all__ = ["create_ogc_tiles_router"]

_TYPES = {"Number": "number", "Boolean": "boolean", "String": "string"}
_TILE_RESPONSES = {200: {"content": {MVT: {}}}, 204: {"description": "nothing in this tile"},
                   304: {"description": "not modified"}, **error_responses(400, 404)}


def _grid(tile_matrix_set_id: str) -> TileGrid:
    grid = GRIDS.get(tile_matrix_set_id)
    if grid is None:
        raise LayerNotFound(f"unknown tile matrix set {tile_matrix_set_id!r}; tile matrix sets: {', '.join(GRIDS)}")
    return grid


class _OGCTiles:
    def __init__(self, tiles: TileService):
        self.tiles = tiles
        self.settings = tiles.settings

    def base(self, request: Request) -> str:
        return self.settings.public_url or str(request.base_url).rstrip("/")

    def collection_layers(self, collection_id: str, who: Principal):
        info = self.tiles.source.infos().get(collection_id)
        if info is None or info.kind != "vector" or not self.tiles.redactor.visible([collection_id], who):
            names = [n for n, i in self.tiles.source.infos().items() if i.kind == "vector"]
            names = self.tiles.redactor.visible(names, who)
            raise LayerNotFound(f"unknown collection {collection_id!r}; collections: {', '.join(names) or 'none'}")
        return self.tiles.layers(collection_id, who, "vector")

    def first_level(self, grid: TileGrid, name: str) -> int:
        """The first tile matrix of ``grid`` at which layer ``name`` is in the tiles."""
        first = LAYER_MIN_ZOOM.get(name, self.settings.min_zoom)
        top = min(grid.tms.maxzoom, self.settings.max_zoom)
        return next((z for z in range(top + 1) if grid.mercator_zoom(z) >= first), top)

    def tileset(self, request: Request, grid: TileGrid, layers, path: str, title: str) -> dict:
        top = min(grid.tms.maxzoom, self.settings.max_zoom)
        described = []
        for view, info in layers:
            fields = self.tiles.vector_layer(view, info)["fields"]
            described.append({"id": info.name, "title": f"{view.title_zh} {view.title}", "dataType": "vector",
                              "minTileMatrix": str(self.first_level(grid, info.name)), "maxTileMatrix": str(top),
                              "propertiesSchema": {"type": "object", "properties": {
                                  k: {"type": _TYPES.get(v, "string")} for k, v in fields.items()}}})
        found = [b for b in (self.tiles.source.bounds(v, i) for v, i in layers) if b is not None]
        bounds = (min(b[0] for b in found), min(b[1] for b in found), max(b[2] for b in found),
                  max(b[3] for b in found)) if found else None
        first = min((self.first_level(grid, i.name) for _, i in layers), default=0)
        return tileset_document(grid, self.base(request), path, title, MVT, described, bounds, range(first, top + 1))

    def tile(self, request: Request, layers, grid: TileGrid, z: int, row: int, col: int, who: Principal) -> Response:
        grid.check(z, row, col, self.settings.max_zoom)
        fmt = "mvt" if grid.id == WEB_MERCATOR else f"mvt-{grid.id}"
        return self.tiles.answer(request, layers, z, col, row, who, fmt,
                                 lambda: self.tiles.vector_tile(layers, z, col, row, grid), grid)


def create_ogc_tiles_router(source: LayerSource, redactor: Redactor, settings: Settings, principal,
                            cache: SharedTileCache | MemoryTileCache) -> APIRouter:
    """The OGC API - Tiles router (same dependencies as :func:`server.tiles.create_tiles_router`)."""
    router = APIRouter(tags=["OGC API - Tiles"])
    h = _OGCTiles(TileService(source, redactor, settings, cache))
    Who = Depends(principal)

    @router.get("/tileMatrixSets", summary="The tile matrix sets")
    def tile_matrix_sets(request: Request):
        return JSONResponse(tile_matrix_sets_document(h.base(request)))

    @router.get("/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set (OGC 2D TMS 2.0 JSON)",
                responses=error_responses(404))
    def tile_matrix_set(tileMatrixSetId: str):  # noqa: N803
        return JSONResponse(_grid(tileMatrixSetId).tms.model_dump(mode="json", exclude_none=True))

    @router.get("/tiles", summary="Vector tilesets of every layer the caller may see")
    def dataset_tilesets(request: Request):
        return JSONResponse(tilesets_document(h.base(request), "/tiles", "every layer you may see", MVT))

    @router.get("/tiles/{tileMatrixSetId}", summary="The vector tileset of every layer the caller may see",
                responses=error_responses(404))
    def dataset_tileset(request: Request, tileMatrixSetId: str, who: Principal = Who):  # noqa: N803
        layers = h.tiles.layers(COMBINED, who, "vector")
        return JSONResponse(h.tileset(request, _grid(tileMatrixSetId), layers, "/tiles", "every layer you may see"))

    @router.get("/tiles/{tileMatrixSetId}/{tileMatrix:int}/{tileRow:int}/{tileCol:int}",
                summary="A vector tile of every layer the caller may see", response_class=Response,
                responses=_TILE_RESPONSES)
    def dataset_tile(request: Request, tileMatrixSetId: str, tileMatrix: int, tileRow: int,  # noqa: N803
                     tileCol: int, who: Principal = Who):  # noqa: N803
        grid = _grid(tileMatrixSetId)
        return h.tile(request, h.tiles.layers(COMBINED, who, "vector"), grid, tileMatrix, tileRow, tileCol, who)

    @router.get("/collections/{collectionId}/tiles", summary="Vector tilesets of a collection",
                responses=error_responses(404))
    def collection_tilesets(request: Request, collectionId: str, who: Principal = Who):  # noqa: N803
        (view, _), = h.collection_layers(collectionId, who)
        return JSONResponse(tilesets_document(h.base(request), f"/collections/{collectionId}/tiles",
                                              f"{view.title_zh} {view.title}", MVT))

    @router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}", summary="A vector tileset of a collection",
                responses=error_responses(404))
    def collection_tileset(request: Request, collectionId: str, tileMatrixSetId: str,  # noqa: N803
                           who: Principal = Who):
        layers = h.collection_layers(collectionId, who)
        view = layers[0][0]
        return JSONResponse(h.tileset(request, _grid(tileMatrixSetId), layers, f"/collections/{collectionId}/tiles",
                                      f"{view.title_zh} {view.title}"))

    @router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix:int}/{tileRow:int}/{tileCol:int}",
                summary="A vector tile of a collection", response_class=Response, responses=_TILE_RESPONSES)
    def collection_tile(request: Request, collectionId: str, tileMatrixSetId: str, tileMatrix: int,  # noqa: N803
                        tileRow: int, tileCol: int, who: Principal = Who):  # noqa: N803
        layers = h.collection_layers(collectionId, who)
        return h.tile(request, layers, _grid(tileMatrixSetId), tileMatrix, tileRow, tileCol, who)

    return router
