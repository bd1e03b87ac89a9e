"""Tile-matrix sets (OGC 17-083r4, built with morecantile) and the grids that cut tiles in them.

Three tile-matrix sets are served:

``WebMercatorQuad``
    the XYZ grid of web maps (EPSG:3857); its tiles are the very tiles of ``/tiles/{layer}/{z}/{x}/{y}.mvt``
    (row = y, col = x: same bytes, same cache, same ETag).
``WorldCRS84Quad``
    the plate carrée grid of CRS84 longitude/latitude, 2 × 1 tiles at level 0.
``CGCS2000Quad``
    the same grid in CGCS2000 (EPSG:4490), the datum of Chinese surveying and of Tianditu's
    longitude/latitude (``_c``) tiles; its level z is Tianditu's level z + 1.

A :class:`TileGrid` says, for one tile-matrix set, which longitude/latitude box a tile covers (to
read the features) and how longitude/latitude map to the tile's units (to encode them); the same
generalisation as the web tiles then applies (:mod:`server.vector_tiles`). The zoom rules of
:mod:`server.tiles` (a layer's first zoom, roads by class) are stated in Web Mercator zooms;
:meth:`TileGrid.mercator_zoom` gives the Web Mercator zoom of the same ground resolution at the
equator (WorldCRS84Quad level z ↔ Web Mercator z + 1).

>>> grid = GRIDS["WorldCRS84Quad"]
>>> grid.mercator_zoom(9), grid.check(9, 100, 1000)
(10, None)
>>> grid.to_tile(np.array([[-180.0, 90.0], [-90.0, 0.0], [0.0, -90.0]]), 0, 0, 0, 4096).tolist()
[[0.0, 0.0], [2048.0, 2048.0], [4096.0, 4096.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import morecantile
import numpy as np
from pyproj import CRS, Transformer

from layers.errors import LayerNotFound
from server.vector_tiles import buffered_lonlat_bounds, lonlat_to_tile

__all__ = ["TILES_CONFORMANCE", "TileGrid", "GRIDS", "WEB_MERCATOR", "TILESET_REL", "tileset_document",
           "tilesets_document", "tile_matrix_sets_document"]

_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
#: OGC API - Tiles and Tile Matrix Set classes implemented by :mod:`server.ogc_tiles`.
TILES_CONFORMANCE = [_TILES + c for c in (
    "core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt", "oas30")] + [
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset"]
TILESET_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
WEB_MERCATOR = "WebMercatorQuad"
_METRES_PER_DEGREE = 2 * math.pi * 6378137.0 / 360.0
_MERCATOR_Z0 = 2 * math.pi * 6378137.0 / 256  # metres per pixel of Web Mercator zoom 0
_OGC_TMS = "http://www.opengis.net/def/tilematrixset/OGC/1.0/"


@dataclass(frozen=True)
class TileGrid:
    """One tile-matrix set and the tile maths of it (see the module docstring)."""

    tms: morecantile.TileMatrixSet
    uri: str | None = None

    @property
    def id(self) -> str:
        return self.tms.id

    @property
    def title(self) -> str:
        return self.tms.title or self.tms.id

    @property
    def crs_uri(self) -> str:
        """The set's CRS as an OGC URI (``http://www.opengis.net/def/crs/EPSG/0/3857``)."""
        crs = self.tms.crs
        return str(crs.root) if hasattr(crs, "root") else str(crs)

    def check(self, z: int, row: int, col: int, max_zoom: int | None = None) -> None:
        """LayerNotFound (a 404, as OGC API - Tiles asks) for a tile outside the set."""
        top = self.tms.maxzoom if max_zoom is None else min(self.tms.maxzoom, max_zoom)
        if not 0 <= z <= top:
            raise LayerNotFound(f"no tile matrix {z} in {self.id}: tile matrices 0..{top}")
        matrix = self.tms.matrix(z)
        if not (0 <= row < matrix.matrixHeight and 0 <= col < matrix.matrixWidth):
            raise LayerNotFound(f"no tile {self.id}/{z}/{row}/{col}: rows 0..{matrix.matrixHeight - 1}, "
                                f"columns 0..{matrix.matrixWidth - 1} at tile matrix {z}")
        return None

    def mercator_zoom(self, z: int) -> int:
        """The Web Mercator zoom of the same ground resolution (for the zoom rules of the tiles)."""
        if self.id == WEB_MERCATOR:
            return z
        matrix = self.tms.matrix(z)
        crs = self.tms.crs._pyproj_crs
        metres = matrix.cellSize * (_METRES_PER_DEGREE if crs.is_geographic else 1.0)
        return int(round(math.log2(_MERCATOR_Z0 / metres)))

    def _transform(self) -> Transformer:
        # built once per set: ``setdefault(id, Transformer.from_crs(…))`` built one (0.3 s) per tile
        found = _TRANSFORMERS.get(self.id)
        if found is None:
            found = _TRANSFORMERS[self.id] = Transformer.from_crs("EPSG:4490", self.tms.crs._pyproj_crs,
                                                                  always_xy=True)
        return found

    def read_bounds(self, z: int, row: int, col: int, fraction: float) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` lon/lat of the tile grown by ``fraction`` of its size."""
        if self.id == WEB_MERCATOR:
            return buffered_lonlat_bounds(z, col, row, fraction)
        b = self.tms.bounds(morecantile.Tile(col, row, z))
        dx, dy = (b.right - b.left) * fraction, (b.top - b.bottom) * fraction
        return (max(b.left - dx, -180.0), max(b.bottom - dy, -90.0), min(b.right + dx, 180.0),
                min(b.top + dy, 90.0))

    def to_tile(self, coords: np.ndarray, z: int, row: int, col: int, extent: int) -> np.ndarray:
        """Longitude/latitude pairs (N, 2) → units of tile z/row/col (y down from the top edge)."""
        if self.id == WEB_MERCATOR:
            return lonlat_to_tile(coords, z, col, row, extent)
        b = self.tms.xy_bounds(morecantile.Tile(col, row, z))
        x, y = self._transform().transform(coords[:, 0], coords[:, 1])
        return np.column_stack([(np.asarray(x) - b.left) / (b.right - b.left) * extent,
                                (b.top - np.asarray(y)) / (b.top - b.bottom) * extent])

    def limits(self, bounds: tuple[float, float, float, float], zooms: range) -> list[dict]:
        """``tileMatrixSetLimits`` of a lon/lat box over ``zooms``."""
        west, south, east, north = bounds
        out = []
        for z in zooms:
            first = self.tms.tile(west, north, z)
            last = self.tms.tile(east, south, z)
            matrix = self.tms.matrix(z)
            out.append({"tileMatrix": str(z),
                        "minTileRow": max(first.y, 0), "maxTileRow": min(last.y, matrix.matrixHeight - 1),
                        "minTileCol": max(first.x, 0), "maxTileCol": min(last.x, matrix.matrixWidth - 1)})
        return out


_TRANSFORMERS: dict[str, Transformer] = {}


def _cgcs2000_quad() -> morecantile.TileMatrixSet:
    return morecantile.TileMatrixSet.custom(
        [-180.0, -90.0, 180.0, 90.0], CRS.from_epsg(4490), id="CGCS2000Quad", matrix_scale=[2, 1],
        minzoom=0, maxzoom=22,
        title="CGCS2000 longitude/latitude quad (EPSG:4490; Tianditu's geographic grid, one level up)")


#: The served tile-matrix sets by id.
GRIDS: dict[str, TileGrid] = {
    WEB_MERCATOR: TileGrid(morecantile.tms.get(WEB_MERCATOR), _OGC_TMS + WEB_MERCATOR),
    "WorldCRS84Quad": TileGrid(morecantile.tms.get("WorldCRS84Quad"), _OGC_TMS + "WorldCRS84Quad"),
    "CGCS2000Quad": TileGrid(_cgcs2000_quad()),
}


def tile_matrix_sets_document(base: str) -> dict:
    """``/tileMatrixSets``: the list, each with its link."""
    return {"tileMatrixSets": [
        {"id": g.id, "title": g.title, **({"uri": g.uri} if g.uri else {}),
         "crs": g.crs_uri,
         "links": [{"rel": "self", "type": "application/json", "href": f"{base}/tileMatrixSets/{g.id}",
                    "title": f"the tile matrix set {g.id}"}]}
        for g in GRIDS.values()]}


def _tileset_links(grid: TileGrid, base: str, path: str, mvt: str) -> list[dict]:
    return [{"rel": "self", "type": "application/json", "href": f"{base}{path}/{grid.id}",
             "title": f"the tileset in {grid.id}"},
            {"rel": TILESET_REL, "type": "application/json", "href": f"{base}/tileMatrixSets/{grid.id}",
             "title": f"the tile matrix set {grid.id}"},
            {"rel": "item", "type": mvt, "templated": True,
             "href": f"{base}{path}/{grid.id}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
             "title": "Mapbox vector tiles"}]


def tilesets_document(base: str, path: str, title: str, mvt: str) -> dict:
    """The tilesets list of ``{path}`` (``/tiles`` or ``/collections/{id}/tiles``)."""
    sets = []
    for grid in GRIDS.values():
        entry = {"title": f"{title} ({grid.id})", "dataType": "vector",
                 "crs": grid.crs_uri,
                 "links": _tileset_links(grid, base, path, mvt)[:2]}
        if grid.uri:
            entry["tileMatrixSetURI"] = grid.uri
        sets.append(entry)
    return {"links": [{"rel": "self", "type": "application/json", "href": f"{base}{path}",
                       "title": "these tilesets"}], "tilesets": sets}


def tileset_document(grid: TileGrid, base: str, path: str, title: str, mvt: str, layers: list[dict],
                     bounds: tuple[float, float, float, float] | None, zooms: range) -> dict:
    """One tileset's metadata: links, the vector layers with their fields, limits and extent."""
    doc = {"title": title, "dataType": "vector",
           "crs": grid.crs_uri,
           "links": _tileset_links(grid, base, path, mvt), "layers": layers}
    if grid.uri:
        doc["tileMatrixSetURI"] = grid.uri
    if bounds is not None:
        doc["boundingBox"] = {"lowerLeft": [bounds[0], bounds[1]], "upperRight": [bounds[2], bounds[3]],
                              "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
        doc["tileMatrixSetLimits"] = grid.limits(bounds, zooms)
    return doc
