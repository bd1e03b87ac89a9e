"""OGC API - Features, Parts 1 and 3 (core, GeoJSON, HTML, OpenAPI 3.0, filtering): the router factory.

Resources: ``/`` (landing page), ``/conformance``, ``/collections``, ``/collections/{id}``,
``/collections/{id}/queryables``, ``/collections/{id}/items`` (``bbox``, ``limit``, ``offset``,
``?field=value`` filters, CQL2 ``filter``, ``sortby``, ``properties``, ``ids``) and
``/collections/{id}/items/{fid}``, each in JSON (GeoJSON for features) or HTML. The HTML of ``/``
is the site's home page (:mod:`server.pages.home`: the map pages, the town walls, signing in,
then the API's links); its JSON is the OGC API landing page, unchanged for JSON clients and GDAL.

Filtering (Part 3): ``filter`` in CQL2 text (``filter-lang=cql2-text``, the default) or CQL2 JSON
(``cql2-json``), geometry literals in CRS84 (``filter-crs`` accepts nothing else); evaluated by
:mod:`server.ogc.cql2`. Queryables, ``sortby`` and ``properties`` are the fields the caller's view
shows (:mod:`server.ogc.queryables`): a private field is refused like an unknown one.

Collections are the vector layers of the store the caller may see (:mod:`server.redaction`);
every feature and every extent goes through the caller's view. Paging: ``limit`` defaults to
``settings.default_limit``; a larger limit than ``settings.max_limit`` is clamped to it (the
standard lets a server do so), and ``next`` / ``prev`` links carry ``offset``. Identifiers are the
layer's id field (joined fields for derived layers, e.g. ``HS0001~high_sensitivity``).

``bbox`` takes 4 numbers in CRS84 (a 6-number 3D bbox and one crossing the antimeridian are
refused with a 400). ``datetime`` is accepted and has no effect: no layer has a temporal extent,
so every feature matches. Any other query parameter must name a field the caller may see
(``?town=320412015``); an unknown one is a 400 listing the fields that can be filtered on.
Coordinates are the store's CGCS2000 longitude/latitude written as CRS84 (see
:mod:`server.geojson`).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Literal
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from geo.errors import InputError
from layers.errors import LayerNotFound
from layers.store import LayerInfo
from server import html_views as html
from server.auth import Principal
from server.geojson import CRS84, encode_features, feature_ids, property_records
from server.pages.home import render_home
from server.ogc.cql2 import CQL2_CONFORMANCE, FILTER_LANGS, evaluate, parse_filter
from server.ogc.queryables import property_names, queryable_types, queryables_document
from server.ogc.selection import parse_ids, parse_properties, parse_sortby, sort_frame
from server.ogc.tilesets import TILES_CONFORMANCE
from server.openapi import error_responses
from server.redaction import LayerView, Redactor
from server.settings import Settings
from server.source import LayerSource

__all__ = ["CONFORMANCE", "GEOJSON", "parse_bbox", "create_features_router"]

GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
_OAPIF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_OAPIF3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
#: Every conformance class the service implements (features, filtering, CQL2, tiles).
CONFORMANCE = ([_OAPIF + c for c in ("core", "geojson", "html", "oas30")]
               + [_OAPIF3 + c for c in ("filter", "features-filter", "queryables", "queryables-query-parameters")]
               + CQL2_CONFORMANCE + TILES_CONFORMANCE)
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
#: Query parameters of /items that are not property filters.
_RESERVED = {"bbox", "bbox-crs", "limit", "offset", "f", "datetime", "filter", "filter-lang", "filter-crs",
             "sortby", "properties", "ids"}
_FILTER_CRS = {CRS84, "OGC:CRS84", "http://www.opengis.net/def/crs/OGC/0/CRS84"}
_CRS84_NAMES = {CRS84, "http://www.opengis.net/def/crs/OGC/1.3/CRS84h", "OGC:CRS84", "EPSG:4326", "EPSG:4490",
                "http://www.opengis.net/def/crs/EPSG/0/4326", "http://www.opengis.net/def/crs/EPSG/0/4490"}


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"minlon,minlat,maxlon,maxlat"`` → 4 floats; InputError naming what is wrong.

    >>> parse_bbox("119.9,31.7,120.1,31.8")
    (119.9, 31.7, 120.1, 31.8)
    >>> parse_bbox("1,2,3")
    Traceback (most recent call last):
    ...
    geo.errors.InputError: bbox must be 4 comma-separated numbers minlon,minlat,maxlon,maxlat (CRS84 degrees); got 3 value(s) in '1,2,3'
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise InputError("bbox must be 4 comma-separated numbers minlon,minlat,maxlon,maxlat "
                         f"(CRS84 degrees); got {len(parts)} value(s) in {text!r}")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"bbox values must be numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InputError(f"bbox values must be finite numbers, got {text!r}")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise InputError(f"bbox must be longitudes in -180..180 and latitudes in -90..90, got {text!r}; "
                         "are the coordinates projected, or swapped?")
    if south > north:
        raise InputError(f"bbox minlat ({south}) is greater than maxlat ({north})")
    if west > east:
        raise InputError(f"bbox minlon ({west}) is greater than maxlon ({east}); a bbox crossing the "
                         "antimeridian is not supported")
    return west, south, east, north


def _match(values: pd.Series, wanted: list[str], name: str) -> pd.Series:
    """Rows of ``values`` equal to one of the ``wanted`` query strings, compared by type."""
    if pd.api.types.is_bool_dtype(values):
        table = {"true": True, "1": True, "false": False, "0": False}
        try:
            targets = [table[w.lower()] for w in wanted]
        except KeyError:
            raise InputError(f"filter {name} takes true or false, got {wanted!r}") from None
        return values.isin(targets).fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values):
        try:
            targets = [float(w) for w in wanted]
        except ValueError:
            raise InputError(f"filter {name} takes a number, got {wanted!r}") from None
        return values.astype("float64").isin(targets)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").isin([w[:10] for w in wanted]).fillna(False).astype(bool)
    return values.astype(str).isin(wanted) & values.notna()


class _Features:
    """Request handlers; one instance per router (its dependencies as attributes)."""

    def __init__(self, source: LayerSource, redactor: Redactor, settings: Settings):
        self.source, self.redactor, self.settings = source, redactor, settings

    # ------------------------------------------------------------------ helpers
    def base(self, request: Request) -> str:
        return self.settings.public_url or str(request.base_url).rstrip("/")

    def vector_infos(self, principal: Principal) -> list[LayerInfo]:
        infos = [i for i in self.source.infos().values() if i.kind == "vector"]
        visible = set(self.redactor.visible([i.name for i in infos], principal))
        return sorted((i for i in infos if i.name in visible), key=lambda i: (i.derived, i.name))

    def collection(self, collection_id: str, principal: Principal) -> tuple[LayerView, LayerInfo]:
        info = self.source.infos().get(collection_id)
        if info is None or info.kind != "vector" or not self.redactor.visible([collection_id], principal):
            names = ", ".join(i.name for i in self.vector_infos(principal)) or "none"
            raise LayerNotFound(f"unknown collection {collection_id!r}; collections: {names}")
        return self.redactor.view(collection_id, principal), info

    def collection_doc(self, base: str, view: LayerView, info: LayerInfo) -> dict:
        url = f"{base}/collections/{view.name}"
        doc = {
            "id": view.name, "title": f"{view.title_zh} {view.title}", "description": view.description,
            "links": [
                {"href": url, "rel": "self", "type": "application/json", "title": "this collection"},
                {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html", "title": "as HTML"},
                {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": "features"},
                {"href": f"{url}/items?f=html", "rel": "items", "type": "text/html",
                 "title": "features as HTML"},
                {"href": f"{url}/queryables", "rel": QUERYABLES_REL, "type": SCHEMA_JSON,
                 "title": "what you may filter on"},
                {"href": f"{url}/queryables", "rel": "queryables", "type": SCHEMA_JSON,
                 "title": "queryables (the link relation of the Part 3 draft, for older clients)"},
                {"href": f"{url}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                 "type": "application/json", "title": "vector tilesets"},
            ],
            "itemType": "feature", "crs": [CRS84],
        }
        bounds = self.source.bounds(view, info)
        if bounds is not None:
            doc["extent"] = {"spatial": {"bbox": [list(bounds)], "crs": CRS84}}
        return doc

    def select(self, request: Request, view: LayerView, info: LayerInfo, bbox: str | None) -> gpd.GeoDataFrame:
        """The features of a collection meeting ``bbox``, the property filters, ``filter`` and ``ids``
        of ``request``, in ``sortby`` order."""
        box = parse_bbox(bbox) if bbox is not None else None
        params = request.query_params
        crs = params.get("bbox-crs")
        if crs is not None and crs not in _CRS84_NAMES:
            raise InputError(f"bbox-crs {crs!r} is not supported; use {CRS84}")
        columns = self.source.columns(info)
        types = queryable_types(view, columns)
        names = [k for k in dict.fromkeys(params.keys()) if k not in _RESERVED]
        allowed = [n for n in types if n != "geometry"]
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise InputError(f"unknown query parameter(s) {', '.join(map(repr, unknown))}; "
                             f"{view.name} can be filtered on: {', '.join(allowed)}")
        tree = self.filter_tree(params)
        sortby = parse_sortby(params["sortby"], allowed) if params.get("sortby") is not None else []
        if box is not None and view.id_fields:
            frame = self.source.read(view, info, bbox=box)
        else:
            frame = self.source.frame(view, info)
        if box is not None and len(frame):
            geoms = np.asarray(frame.geometry.values, dtype=object)
            frame = frame[shapely.intersects(geoms, shapely.box(*box))]
        for name in names:
            frame = frame[_match(frame[name], params.getlist(name), name)]
        if tree is not None:
            frame = frame[evaluate(tree, frame, types)]
        if params.get("ids") is not None:
            frame = frame[np.isin(feature_ids(frame, view), parse_ids(params["ids"]))]
        return sort_frame(frame, sortby)

    @staticmethod
    def filter_tree(params):
        """The parsed ``filter`` of the request (None without one); ``filter-crs`` checked."""
        text = params.get("filter")
        crs = params.get("filter-crs")
        if crs is not None and crs not in _FILTER_CRS:
            raise InputError(f"filter-crs {crs!r} is not supported: give the filter's geometries in CRS84 "
                             f"longitude/latitude and filter-crs={CRS84} (or leave it out)")
        if text is None:
            return None
        return parse_filter(text, params.get("filter-lang"))

    @staticmethod
    def page_url(request: Request, base: str, **changes) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
        params += [(k, str(v)) for k, v in changes.items() if v is not None]
        query = urlencode(params)
        return f"{base}{request.url.path}" + (f"?{query}" if query else "")


def create_features_router(source: LayerSource, redactor: Redactor, settings: Settings,
                           principal) -> APIRouter:
    """The OGC API - Features router.

    Parameters
    ----------
    source : LayerSource
    redactor : Redactor
    settings : Settings
    principal : callable
        FastAPI dependency giving the caller's :class:`~server.auth.Principal`.
    """
    router = APIRouter(tags=["OGC API - Features"])
    h = _Features(source, redactor, settings)
    Who = Depends(principal)
    F = Query(None, description="Output format: json or html (default: by the Accept header).")

    @router.get("/", summary="Landing page")
    def landing(request: Request, f: str | None = F, who: Principal = Who):
        base = h.base(request)
        links = [
            {"href": f"{base}/", "rel": "self", "type": "application/json", "title": "this document"},
            {"href": f"{base}/?f=html", "rel": "alternate", "type": "text/html", "title": "as HTML"},
            {"href": f"{base}/openapi.json", "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
            {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html",
             "title": "the API documentation"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json",
             "title": "conformance classes"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json",
             "title": "collections (layers)"},
            {"href": f"{base}/tiles/all/tilejson.json", "rel": "related", "type": "application/json",
             "title": "vector tiles of every layer (TileJSON)"},
            {"href": f"{base}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "title": "vector tilesets (OGC API - Tiles)"},
            {"href": f"{base}/tileMatrixSets", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "type": "application/json", "title": "tile matrix sets"},
        ]
        doc = {"title": settings.title,
               "description": "Risk zoning layers and four-colour maps (OGC API - Features, vector "
                              "and raster tiles). Without a credential only public data are shown. "
                              "Coordinates are CGCS2000 (EPSG:4490) longitude/latitude, served as "
                              "CRS84: the two agree to a few centimetres.",
               "links": links}
        if html.wants_html(request, f):  # a browser: the home page of the three map pages, then these links
            return HTMLResponse(render_home(source, redactor, settings, links))
        return JSONResponse(doc)

    @router.get("/conformance", summary="Conformance classes")
    def conformance(request: Request, f: str | None = F):
        if html.wants_html(request, f):
            return HTMLResponse(html.page("Conformance", [html.links_list(
                [{"href": c, "rel": "conformance", "title": c} for c in CONFORMANCE])]))
        return JSONResponse({"conformsTo": CONFORMANCE})

    @router.get("/collections", summary="The collections (layers) the caller may see")
    def collections(request: Request, f: str | None = F, who: Principal = Who):
        base = h.base(request)
        docs = [h.collection_doc(base, redactor.view(i.name, who), i) for i in h.vector_infos(who)]
        links = [{"href": f"{base}/collections", "rel": "self", "type": "application/json",
                  "title": "this document"},
                 {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html",
                  "title": "as HTML"}]
        if html.wants_html(request, f):
            rows = [{"id": {"href": f"{base}/collections/{d['id']}?f=html", "text": d["id"]},
                     "title": d["title"], "description": d["description"]} for d in docs]
            return HTMLResponse(html.page("Collections 图层", [html.table(rows)],
                                          nav=[{"href": f"{base}/?f=html", "title": "home"}]))
        return JSONResponse({"links": links, "collections": docs})

    @router.get("/collections/{collectionId}", summary="One collection", responses=error_responses(404))
    def collection(request: Request, collectionId: str, f: str | None = F, who: Principal = Who):  # noqa: N803
        view, info = h.collection(collectionId, who)
        doc = h.collection_doc(h.base(request), view, info)
        if html.wants_html(request, f):
            items = {k: v for k, v in doc.items() if k not in ("links", "crs")}
            return HTMLResponse(html.page(doc["title"], [html.definition_list(items),
                                                         html.links_list(doc["links"])]))
        return JSONResponse(doc)

    @router.get("/collections/{collectionId}/queryables", summary="What the caller may filter, sort and select on",
                response_class=JSONResponse,
                responses={200: {"content": {SCHEMA_JSON: {}}}, **error_responses(404)})
    def queryables(request: Request, collectionId: str, who: Principal = Who):  # noqa: N803
        view, info = h.collection(collectionId, who)
        url = f"{h.base(request)}/collections/{view.name}/queryables"
        accept = request.headers.get("accept", "")
        # application/schema+json, as Part 3 says, unless the client asks for plain JSON only (GDAL does)
        kind = "application/json" if "application/json" in accept and SCHEMA_JSON not in accept else SCHEMA_JSON
        return JSONResponse(queryables_document(view, source.columns(info), url), media_type=kind)

    @router.get("/collections/{collectionId}/items", summary="Features of a collection",
                response_class=Response,
                responses={200: {"content": {GEOJSON: {}}}, **error_responses(400, 404)})
    def items(
        request: Request, collectionId: str,  # noqa: N803
        bbox: str | None = Query(None, description="minlon,minlat,maxlon,maxlat (CRS84)"),
        limit: int | None = Query(None, ge=1, description="Features per page; above the maximum "
                                                          "it is clamped to it."),
        offset: int = Query(0, ge=0, description="Features to skip (paging)."),
        filter: str | None = Query(None, description="A CQL2 filter (text, or JSON with filter-lang=cql2-json) "
                                                     "on the queryables, e.g. town = '320412001' AND level <= 2"),
        filter_lang: Literal[FILTER_LANGS] = Query(  # type: ignore[valid-type]
            "cql2-text", alias="filter-lang",
            description="cql2-text or cql2-json (cql-text: cql2-text as older clients name it)"),
        filter_crs: str | None = Query(None, alias="filter-crs", description=f"Only {CRS84}."),
        sortby: str | None = Query(None, description="Fields to sort by, -field descending: -level,plot_id"),
        properties: str | None = Query(None, description="Properties to include, comma-separated"),
        ids: str | None = Query(None, description="Feature ids, comma-separated"),
        f: str | None = F, who: Principal = Who,
    ):
        view, info = h.collection(collectionId, who)
        wanted_html = html.wants_html(request, f)
        limit = min(limit or settings.default_limit, settings.max_limit)
        frame = h.select(request, view, info, bbox)
        chosen = (parse_properties(properties, property_names(view, source.columns(info)))
                  if properties is not None else None)
        matched = len(frame)
        page = frame.iloc[offset:offset + limit]
        base = h.base(request)
        links = [
            {"href": h.page_url(request, base, f=None, limit=limit, offset=offset or None),
             "rel": "self", "type": GEOJSON, "title": "this page"},
            {"href": h.page_url(request, base, f="html", limit=limit, offset=offset or None),
             "rel": "alternate", "type": "text/html", "title": "as HTML"},
            {"href": f"{base}/collections/{view.name}", "rel": "collection",
             "type": "application/json", "title": "the collection"},
        ]
        if offset + limit < matched:
            links.append({"href": h.page_url(request, base, f="html" if wanted_html else None,
                                             limit=limit, offset=offset + limit),
                          "rel": "next", "type": "text/html" if wanted_html else GEOJSON,
                          "title": "next page"})
        if offset > 0:
            links.append({"href": h.page_url(request, base, f="html" if wanted_html else None,
                                             limit=limit, offset=max(offset - limit, 0) or None),
                          "rel": "prev", "type": "text/html" if wanted_html else GEOJSON,
                          "title": "previous page"})
        feature_id_list = feature_ids(page, view)
        if chosen is not None:
            page = page[[*chosen, page.geometry.name]]
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        if wanted_html:
            records = property_records(page)
            rows = [{"id": {"href": f"{base}/collections/{view.name}/items/{fid}?f=html", "text": fid},
                     **props} for fid, props in zip(feature_id_list, records)]
            summary = f"<p>{len(page)} of {matched} features (offset {offset}).</p>"
            nav = [link for link in links if link["rel"] in ("prev", "next")]
            return HTMLResponse(html.page(f"{view.title_zh} {view.title}",
                                          [summary, html.table(rows)], nav=nav))
        features = ",".join(encode_features(page, feature_id_list))
        body = (f'{{"type":"FeatureCollection","features":[{features}],"numberMatched":{matched},'
                f'"numberReturned":{len(page)},"timeStamp":"{stamp}","links":{json.dumps(links)}}}')
        return Response(body, media_type=GEOJSON)

    @router.get("/collections/{collectionId}/items/{featureId}", summary="One feature",
                response_class=Response, responses={200: {"content": {GEOJSON: {}}}, **error_responses(404)})
    def item(request: Request, collectionId: str, featureId: str = Path(...),  # noqa: N803
             f: str | None = F, who: Principal = Who):
        view, info = h.collection(collectionId, who)
        frame = source.frame(view, info)
        ids = feature_ids(frame, view)
        try:
            position = ids.index(featureId)
        except ValueError:
            raise LayerNotFound(f"collection {view.name!r} has no feature {featureId!r}") from None
        row = frame.iloc[position:position + 1]
        base = h.base(request)
        url = f"{base}/collections/{view.name}/items/{featureId}"
        links = [{"href": url, "rel": "self", "type": GEOJSON, "title": "this feature"},
                 {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html", "title": "as HTML"},
                 {"href": f"{base}/collections/{view.name}", "rel": "collection",
                  "type": "application/json", "title": "the collection"}]
        if html.wants_html(request, f):
            props = property_records(row)[0]
            geom = row.geometry.iloc[0]
            props["geometry"] = geom.geom_type if geom is not None else None
            return HTMLResponse(html.page(f"{view.title_zh} {featureId}", [
                html.definition_list(props), html.links_list(links)]))
        feature = encode_features(row, [featureId])[0]
        return Response(f'{feature[:-1]},"links":{json.dumps(links)}}}', media_type=GEOJSON)

    return router
