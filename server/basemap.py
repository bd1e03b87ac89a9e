"""The offline basemap of the public map: ``GET /public/basemap/{z}/{x}/{y}.mvt``, from the store's layers.

No internet and no third-party tiles: one vector tile per address, made from the **public** views
of the store's own layers, with three MVT layers:

``roads``
    lines with ``class`` and ``name``, one per road in the tile (:func:`merge_roads`); motorways
    and trunk roads from zoom 8, the others as :data:`ROAD_ZOOMS` says (the page draws them by
    class and writes their names along them);
``boundaries``
    the outlines of districts and towns (``admin_areas``) with their ``level``;
``places``
    label points, ``name``, ``kind`` (district, town, shelter, station) and ``rank`` (0 first):
    districts from zoom 8 to 12, towns and shelters from zoom 10, fire stations from zoom 12, at
    a point inside each area (:func:`shapely.point_on_surface`), computed once per layer version.

Water and green areas are drawn when the store holds public layers for them; the catalogue has
none yet, so the demo's basemap has none. An online basemap stays an opt-in setting
(``RISKMAP_BASEMAP_URL``, :func:`server.pages.assets.basemap_config`).

Answers carry an ``ETag`` made of the layer versions and the address (``If-None-Match`` gets a
304), are cached in memory under it, and a tile with nothing in it is a 204.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import Response

from geo.tiles import validate_tile
from server.auth import PUBLIC
from server.cache import LRUCache
from server.middleware.compression import etag_matches
from server.pages.public_data import PerVersion
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource
from server.vector_tiles import buffered_lonlat_bounds, encode_tile, tile_features

__all__ = ["ROAD_ZOOMS", "PLACE_ZOOMS", "BASEMAP_LAYERS", "Basemap", "create_basemap_router"]

MVT = "application/vnd.mapbox-vector-tile"
#: First zoom of each road class in the basemap (others: :data:`_OTHER_ROADS`).
ROAD_ZOOMS = {"motorway": 8, "trunk": 8, "primary": 10, "secondary": 12, "tertiary": 13}
_OTHER_ROADS = 14
#: Label points by kind: (first zoom, last zoom, rank).
PLACE_ZOOMS = {"district": (8, 12, 0), "town": (10, 22, 1), "shelter": (10, 22, 2), "station": (12, 22, 3)}
#: The store layers a basemap tile is made of.
BASEMAP_LAYERS = ("roads", "admin_areas", "shelters", "rescue_stations")
_MIN_ZOOM = 8
_ENCODING = "basemap1"


def merge_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)line per class and name: a road's segments joined where they meet.

    A road network is stored as segments between crossings (a z9 tile of the scale-10 demo holds
    3 000 trunk segments); drawn and labelled, a road is one line, and the tile is a fraction of
    the size.

    >>> from shapely import LineString
    >>> r = gpd.GeoDataFrame({"class": ["primary"] * 3, "name": ["人民路", "人民路", None]},
    ...     geometry=[LineString([(0, 0), (1, 0)]), LineString([(1, 0), (2, 0)]), LineString([(5, 5), (6, 5)])])
    >>> m = merge_roads(r)
    >>> m["name"].iloc[0], m.geometry.length.tolist()
    ('人民路', [2.0, 1.0])
    """
    keys = [c for c in ("class", "name") if c in roads]
    if not len(roads):
        return roads[[*keys, roads.geometry.name]]
    groups = roads[keys].astype(object).where(roads[keys].notna(), "")
    codes = pd.MultiIndex.from_frame(groups).factorize()[0] if keys else np.zeros(len(roads), int)
    order = np.argsort(codes, kind="stable")
    geoms = np.asarray(roads.geometry.values, dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    merged = [shapely.line_merge(shapely.union_all(part)) for part in np.split(geoms, starts[1:])]
    first = order[starts]
    out = roads.iloc[first][keys].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=merged, crs=roads.crs)


class Basemap:
    """Makes basemap tiles from the public views of ``source``."""

    def __init__(self, source: LayerSource, redactor: Redactor, settings: Settings, cache_size: int = 2048):
        self.source, self.redactor, self.settings = source, redactor, settings
        self.cache = LRUCache(cache_size)
        self._places = PerVersion(source, BASEMAP_LAYERS, self._label_points)

    def infos(self) -> dict:
        """The public layers of :data:`BASEMAP_LAYERS` the store holds, by name."""
        infos = self.source.infos()
        return {n: infos[n] for n in BASEMAP_LAYERS
                if n in infos and infos[n].kind == "vector" and self.redactor.is_public(n)}

    def _frame(self, info) -> gpd.GeoDataFrame:
        return self.source.frame(self.redactor.view(info.name, PUBLIC), info)

    def places(self, infos: dict) -> gpd.GeoDataFrame:
        """Label points of districts, towns, shelters and stations (cached per layer version)."""
        return self._places.get(infos)

    def _label_points(self, infos: dict) -> gpd.GeoDataFrame:
        infos = {n: i for n, i in infos.items() if n in BASEMAP_LAYERS}
        parts = []
        if "admin_areas" in infos:
            areas = self._frame(infos["admin_areas"])
            if "level" in areas:
                areas = areas[areas["level"].isin(["district", "town"])]
                parts.append(pd.DataFrame({"name": areas["name"].to_numpy(dtype=object),
                                           "kind": areas["level"].to_numpy(dtype=object),
                                           "geometry": shapely.point_on_surface(np.asarray(areas.geometry.values))}))
        for layer, kind in (("shelters", "shelter"), ("rescue_stations", "station")):
            if layer in infos:
                frame = self._frame(infos[layer])
                parts.append(pd.DataFrame({"name": frame["name"].to_numpy(dtype=object) if "name" in frame else None,
                                           "kind": kind,
                                           "geometry": shapely.point_on_surface(np.asarray(frame.geometry.values))}))
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["name", "kind", "geometry"])
        table["rank"] = table["kind"].map({k: v[2] for k, v in PLACE_ZOOMS.items()}).astype(int)
        places = gpd.GeoDataFrame(table, geometry="geometry", crs="EPSG:4490")
        places = places[~(places.geometry.is_empty | places.geometry.isna())].reset_index(drop=True)
        places.sindex
        return places

    def etag(self, infos: dict, z: int, x: int, y: int) -> str:
        versions = ",".join(f"{n}:{i.version}" for n, i in infos.items())
        return '"' + hashlib.sha1(f"{_ENCODING}|{versions}|{z}/{x}/{y}".encode()).hexdigest()[:24] + '"'

    def tile(self, infos: dict, z: int, x: int, y: int) -> bytes:
        """The MVT of tile z/x/y (b"" when there is nothing in it)."""
        s = self.settings
        bbox = buffered_lonlat_bounds(z, x, y, s.tile_buffer / s.tile_extent)
        box = shapely.box(*bbox)
        features = {}
        if "admin_areas" in infos:
            areas = self.source.read(self.redactor.view("admin_areas", PUBLIC), infos["admin_areas"], bbox=bbox)
            if "level" in areas:
                areas = areas[areas["level"].isin(["district", "town"] if z >= 10 else ["city", "district"])]
                lines = gpd.GeoDataFrame({"level": areas["level"].to_numpy(dtype=object)},
                                         geometry=shapely.boundary(np.asarray(areas.geometry.values)), crs=areas.crs)
                features["boundaries"] = tile_features(lines, z, x, y, extent=s.tile_extent, buffer=s.tile_buffer)
        if "roads" in infos:
            roads = self.source.read(self.redactor.view("roads", PUBLIC), infos["roads"], bbox=bbox)
            if len(roads) and "class" in roads:
                first = roads["class"].map(ROAD_ZOOMS).fillna(_OTHER_ROADS).to_numpy()
                roads = roads[first <= z]
                features["roads"] = tile_features(merge_roads(roads), z, x, y, extent=s.tile_extent,
                                                  buffer=s.tile_buffer)
        places = self.places(infos)
        if len(places):
            hits = places.iloc[np.sort(places.sindex.query(box))]
            zooms = hits["kind"].map(PLACE_ZOOMS)
            shown = np.array([lo <= z <= hi for lo, hi, _ in zooms], dtype=bool) if len(hits) else np.zeros(0, bool)
            hits = hits[shown & hits["name"].notna().to_numpy()]
            features["places"] = tile_features(hits, z, x, y, extent=s.tile_extent, buffer=s.tile_buffer)
        if not any(len(g) for g, _ in features.values()):
            return b""
        return encode_tile(features, extent=s.tile_extent)


def create_basemap_router(source: LayerSource, redactor: Redactor, settings: Settings) -> APIRouter:
    """``GET /public/basemap/{z}/{x}/{y}.mvt`` (see the module docstring)."""
    router = APIRouter(tags=["Public"])
    maker = Basemap(source, redactor, settings)

    @router.get("/public/basemap/{z}/{x}/{y}.mvt", summary="Offline basemap tile (roads, boundaries, names)",
                response_class=Response,
                responses={200: {"content": {MVT: {}}}, 204: {"description": "nothing in this tile"},
                           304: {"description": "not modified"}})
    def basemap_tile(request: Request, z: int, x: int, y: int):
        validate_tile(z, x, y, max_zoom=settings.max_zoom)
        infos = maker.infos()
        etag = maker.etag(infos, z, x, y)
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={settings.tile_max_age}"}
        if etag_matches(request.headers.get("if-none-match"), etag):  # weak: the body may be compressed
            return Response(status_code=304, headers=headers)
        body = maker.cache.get(etag)
        if body is None:
            body = maker.tile(infos, z, x, y) if z >= _MIN_ZOOM else b""
            maker.cache.put(etag, body)
        if not body:
            return Response(status_code=204, headers=headers)
        return Response(body, media_type=MVT, headers=headers)

    return router
