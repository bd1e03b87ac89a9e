"""The editing API: create, update and retire rows of the source layers, one audited edit at a time.

=============================================  ================================================
``GET /api/edit/{layer}/{id}``                 the row as a GeoJSON Feature, its version as ETag
``POST /api/edit/{layer}``                     create: ``{"feature": Feature, "reason": "…"}``
``PUT /api/edit/{layer}/{id}``                 update: the whole Feature, ``reason``, and the row
                                               version read (``If-Match: "3"`` or ``base_version``)
``DELETE /api/edit/{layer}/{id}?reason=…``     retire (kept in the store's archive), ``If-Match``
=============================================  ================================================

Layers: :data:`zoning.edits.EDITABLE` (plots, hazard sites with their inventories, protected
targets, stations, shelters, hidden dangers, inspections, responsibilities). A Feature is
GeoJSON (RFC 7946, WGS84 lon/lat) validated exactly as an import is
(:func:`zoning.edits.apply_edit` calls :func:`layers.validate.validate_layer`): 422 listing every
problem. A stale version is a 409 whose body carries the row as it is now (``current``); a hidden
danger sent where its loop does not go is a 409 naming the allowed steps. Every accepted edit
writes one audit row per changed row, and the derived rows it touches (the plot's colour, its
town's, the buffers of a site) are recomputed before the answer; the tiles they cover are
dropped from the tile cache.

Who: never the public (401); a town editor only rows of its own town (or grid, 网格), before and after
the edit (403); planners and admins anywhere. The caller comes from the bearer token or the browser
session (the wall page edits through this API; :mod:`server.security` refuses cross-site
requests carrying the cookie).
"""

from __future__ import annotations

import json

import geopandas as gpd
from fastapi import APIRouter, Body, Depends, Header, Query
from fastapi.responses import JSONResponse

from geo.crs import STORE_CRS
from geo.errors import InputError
from layers.catalogue import get_schema
from layers.errors import LayerNotFound
from server.auth import Principal
from server.errors import AccessDenied, Forbidden
from server.geojson import encode_features
from server.openapi import error_responses
from server.services import Services
from zoning.edits import EDITABLE, apply_edit, edit_areas, features_frame
from zoning.pipeline import DERIVED_IDS, stale_layers
from zoning.rules import RuleSet, load_ruleset

#: Id field of every layer an edit may change row by row (derived ones by :data:`zoning.pipeline.DERIVED_IDS`).
DERIVED_OR_SOURCE_ID = dict(DERIVED_IDS)

__all__ = ["create_edits_router", "edits_router", "row_feature", "check_scope", "parse_if_match"]


def parse_if_match(value: str | None) -> int | None:
    """The row version in an ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``); None when absent.

    >>> parse_if_match('"3"'), parse_if_match('W/"12"'), parse_if_match(None)
    (3, 12, None)
    """
    if value is None or not value.strip():
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InputError(f"If-Match: expected a row version such as \"3\", got {value!r}")
    return int(text)


def row_feature(frame, id_field: str) -> dict | None:
    """The first row of ``frame`` as a GeoJSON Feature dict (None when empty)."""
    if frame is None or not len(frame):
        return None
    return json.loads(encode_features(frame.iloc[:1], [str(frame[id_field].iloc[0])])[0])


def check_scope(who: Principal, areas: set) -> None:
    """Refuse the public (401), and a town editor an edit touching another town or grid, or no known town (403).

    ``areas`` holds the ``(town, grid)`` of each row touched (:func:`zoning.edits.edit_areas`).
    """
    if who.is_public:
        raise AccessDenied("editing needs a town editor's, a planner's or an admin's credential; "
                           "send Authorization: Bearer <token> or sign in")
    if who.at_least("planner"):
        return
    others = sorted({str(grid or town) for town, grid in areas if not who.covers(town, grid)})
    if others:
        mine = ", ".join(who.towns) or "no town"
        raise Forbidden(f"a town editor of {mine} may edit only rows of its towns or grids; this edit touches "
                        f"{', '.join(others)} (只能编辑本镇街或本网格的数据)")


def create_edits_router(services: Services, principal, ruleset: RuleSet | None = None) -> APIRouter:
    """The ``/api/edit`` router over the app's store; ``principal`` resolves the caller."""
    rs = ruleset if ruleset is not None else load_ruleset()
    store = services.store
    tiles = services.tiles
    router = APIRouter(prefix="/api/edit", tags=["Editing"])
    Who = Depends(principal)

    def layer_of(layer: str) -> str:
        if layer not in EDITABLE:
            raise LayerNotFound(f"unknown editable layer {layer!r}; editable layers: {', '.join(EDITABLE)}")
        return layer

    def current(layer: str, fid: str):
        id_field = get_schema(layer).id_field
        return store.read(layer, where={id_field: [fid]}, versions=True) if store.exists(layer) else None

    def carry_over(before: dict, outcome) -> None:
        """Keep the server's cached frames of the layers this edit changed (rows re-read, not layers)."""
        edits = [(r.layer, DERIVED_OR_SOURCE_ID.get(r.layer) or get_schema(r.layer).id_field, list(r.versions))
                 for r in (outcome.result, *outcome.follow_ups)]
        if outcome.refresh is not None:
            edits += [(name, DERIVED_OR_SOURCE_ID[name], ids) for name, ids in outcome.refresh.changed.items() if ids]
        names = [e[0] for e in edits]
        infos = services.source.infos()
        for name, id_field, ids in edits:
            old = before.get(name)
            if names.count(name) == 1 and old is not None and name in infos and infos[name].version == old + 1:
                services.source.carry_over(name, id_field, ids, old, old + 1)

    def answer(layer: str, fid: str, outcome, before) -> JSONResponse:
        id_field = get_schema(layer).id_field
        row = current(layer, fid)
        refresh = outcome.refresh
        for layers, bounds in _invalidations(layer, outcome, before, row):
            tiles.invalidate(layers, bounds)
        result = outcome.result
        body = {"layer": layer, "id": fid, "row_version": result.versions.get(fid),
                "action": ("insert" if fid in result.inserted else "retire" if fid in result.retired
                           else "revive" if fid in result.revived else "update"),
                "audit_ids": list(result.audit_ids),
                "follow_ups": [{"layer": f.layer, "ids": sorted(f.versions)} for f in outcome.follow_ups],
                "derived": dict(refresh.rows) if refresh is not None else {},
                "stale": stale_layers(store, rs),
                "feature": row_feature(row, id_field) if row is not None and len(row) else None}
        headers = {"ETag": f'"{body["row_version"]}"'} if body["row_version"] is not None else None
        return JSONResponse(body, headers=headers)

    def write(layer: str, fid: str | None, payload: dict, if_match: str | None, who: Principal, new: bool):
        check_scope(who, set())  # the public is refused before anything is read
        if not isinstance(payload, dict) or "feature" not in payload:
            raise InputError('expected a JSON body {"feature": <GeoJSON Feature>, "reason": "…"}')
        id_field = get_schema(layer).id_field
        frame = features_frame(layer, [payload["feature"]])
        if fid is not None:
            given = frame[id_field].iloc[0] if id_field in frame.columns else None
            if given not in (None, fid) and not (isinstance(given, float) and given != given):
                raise InputError(f"{layer}: the feature's {id_field} {given!r} is not the {fid!r} of the URL")
            frame[id_field] = fid
        elif id_field not in frame.columns or frame[id_field].isna().any():
            raise InputError(f"{layer}: a new feature needs its {id_field}")
        fid = str(frame[id_field].iloc[0])
        version = parse_if_match(if_match)
        if version is None and payload.get("base_version") is not None:
            version = int(payload["base_version"])
        if not new and version is None:
            raise InputError(f"{layer} {fid}: say which version you edited (If-Match: \"<row_version>\" "
                             f"or base_version)")
        before = current(layer, fid)
        check_scope(who, edit_areas(store, layer, frame, before))
        versions = {n: i.version for n, i in services.source.infos().items()}
        outcome = apply_edit(store, rs, layer, frame, base_versions={fid: None if new else version},
                             actor=who.audit_name, reason=str(payload.get("reason") or ""))
        carry_over(versions, outcome)
        return answer(layer, fid, outcome, before)

    @router.get("/{layer}/{fid}", summary="A row to edit, as a GeoJSON Feature (its version as ETag)",
                responses=error_responses(401, 403, 404))
    def read_row(layer: str, fid: str, who: Principal = Who):
        layer = layer_of(layer)
        check_scope(who, set())
        row = current(layer, fid)
        if row is None or not len(row):
            raise LayerNotFound(f"{layer}: no row {fid!r}")
        check_scope(who, edit_areas(store, layer, row, None))
        return JSONResponse(row_feature(row, get_schema(layer).id_field),
                            headers={"ETag": f'"{int(row["row_version"].iloc[0])}"', "Cache-Control": "no-store"})

    @router.post("/{layer}", summary="Create a row (GeoJSON Feature, reason)", responses=error_responses(
        400, 401, 403, 404, 409, 422))
    def create_row(layer: str, payload: dict = Body(...), who: Principal = Who):
        return write(layer_of(layer), None, payload, None, who, new=True)

    @router.put("/{layer}/{fid}", summary="Update a row (GeoJSON Feature, reason, If-Match)",
                responses=error_responses(400, 401, 403, 404, 409, 422))
    def update_row(layer: str, fid: str, payload: dict = Body(...), who: Principal = Who,
                   if_match: str | None = Header(None)):
        return write(layer_of(layer), fid, payload, if_match, who, new=False)

    @router.delete("/{layer}/{fid}", summary="Retire a row (reason, If-Match)",
                   responses=error_responses(400, 401, 403, 404, 409))
    def retire_row(layer: str, fid: str, reason: str = Query(""), who: Principal = Who,
                   if_match: str | None = Header(None)):
        layer = layer_of(layer)
        check_scope(who, set())
        version = parse_if_match(if_match)
        if version is None:
            raise InputError(f"{layer} {fid}: say which version you retire (If-Match: \"<row_version>\")")
        before = current(layer, fid)
        check_scope(who, edit_areas(store, layer, None, before))
        versions = {n: i.version for n, i in services.source.infos().items()}
        outcome = apply_edit(store, rs, layer, retire=[fid], base_versions={fid: version}, actor=who.audit_name,
                             reason=reason)
        carry_over(versions, outcome)
        return answer(layer, fid, outcome, before)

    return router


#: Derived layers whose rows lie on the edited rows (a plot's wall row, its violations' geometry is
#: the plot's): their tiles are dropped around the edited rows only, not around the zones recoloured.
_ON_THE_ROWS = ("risk_wall", "separation_violations")


def _invalidations(layer: str, outcome, before, after) -> list[tuple[list[str], tuple]]:
    """``(layers, lon/lat bounds)`` of the cached tiles an edit made stale.

    The edited layer, its follow-ups (a plot whose danger counts followed) and the derived rows
    lying on them change only around the rows before and after the edit; the zones an edit
    recolours (a whole town) change around themselves. Dropping the town's ``risk_wall`` tiles
    too would throw away thousands of tiles whose rows did not change.
    """
    refresh = outcome.refresh
    touched = refresh.touched_bounds if refresh is not None else None
    near = _lonlat_bounds(before, after, touched)
    on_rows = {layer, *(f.layer for f in outcome.follow_ups)}
    derived = set(refresh.layers) if refresh is not None else set()
    on_rows |= derived & set(_ON_THE_ROWS)
    around = sorted(derived - on_rows)
    wide = _lonlat_bounds(before, after, refresh.bounds) if refresh is not None and around else None
    return [(names, box) for names, box in ((sorted(on_rows), near), (around, wide)) if names and box is not None]


def _lonlat_bounds(*parts) -> tuple[float, float, float, float] | None:
    """The lon/lat box around frames (rows before / after an edit) and boxes; None when there is nothing."""
    boxes = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, tuple):
            boxes.append(part)
        elif len(part) and isinstance(part, gpd.GeoDataFrame) and part.geometry.notna().any():
            frame = part if part.crs is None else part.to_crs(STORE_CRS)
            boxes.append(tuple(float(v) for v in frame.total_bounds))
    boxes = [b for b in boxes if all(v == v for v in b)]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def edits_router(services: Services) -> APIRouter:
    """The adapter :data:`server.app.ROUTERS` takes (caller by header or browser session)."""
    from server.pages.session import browser_principal

    return create_edits_router(services, browser_principal(services.auth, services.principal))
