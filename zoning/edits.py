"""One edit of a source layer, start to finish: validate → write → derived rows follow.

:func:`apply_edit` is what the editing API and the wall page call. It validates the rows exactly
as an import does (:func:`layers.validate.validate_layer` against the store's own
administrative extent, :func:`layers.io.store_extent`), checks a hidden danger's step in its loop
(:func:`zoning.wall.dangers.check_dangers`), writes through :meth:`layers.store.Store.edit` (one
transaction, a :class:`~layers.errors.Conflict` with the current rows on a stale version, one
audit row per changed row), then brings the derived layers up to date
(:func:`zoning.wall.incremental.refresh_derived`). A changed hidden danger recounts its plot's
``open_major_dangers`` and ``tagged_dangers`` from the records and writes the plot when they
differ, so the plot's colour follows the loop.

:func:`edit_areas` says which towns and grids (网格) an edit touches (before and after), for the
caller's scope check: the server lets a town editor change only its own town's (or grid's) rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORE_CRS
from geo.errors import InputError
from layers.catalogue import get_schema
from layers.errors import Conflict
from layers.io import store_extent
from layers.store import EditResult, Store
from layers.validate import validate_layer
from zoning.pipeline import input_fingerprint
from zoning.rules import RuleSet
from zoning.wall.dangers import check_dangers, danger_counts
from zoning.wall.grids import assign_grids, grid_areas
from zoning.wall.incremental import HAZARD_INPUTS, Refresh, refresh_derived

__all__ = ["EDITABLE", "EditOutcome", "apply_edit", "edit_areas", "features_frame"]

#: Source layers that can be edited row by row.
EDITABLE = ("industrial_plots", "hazard_sites", "protected_targets", "rescue_stations", "shelters",
            "hidden_dangers", "inspections", "responsibilities")
_COUNTS = ["open_major_dangers", "tagged_dangers"]


@dataclass
class EditOutcome:
    """An accepted edit: the store's result, and what followed in derived layers."""

    result: EditResult
    refresh: Refresh | None = None
    follow_ups: tuple[EditResult, ...] = ()


def _check_layer(layer: str) -> None:
    get_schema(layer)  # LayerNotFound for an unknown layer
    if layer not in EDITABLE:
        raise InputError(f"layer {layer!r} cannot be edited row by row; editable: {', '.join(EDITABLE)}")


def features_frame(layer: str, features: list[dict]) -> gpd.GeoDataFrame:
    """GeoJSON Features (RFC 7946: WGS84 lon/lat) as a frame of ``layer``'s columns, not yet validated.

    A Feature's ``id`` fills the layer's id field when its properties lack it.
    """
    _check_layer(layer)
    id_field = get_schema(layer).id_field
    if not isinstance(features, list) or not features:
        raise InputError(f"layer {layer!r}: expected one or more GeoJSON Features")
    rows, geoms = [], []
    for n, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise InputError(f"layer {layer!r}: item {n} is not a GeoJSON Feature")
        props = dict(feature.get("properties") or {})
        if props.get(id_field) in (None, "") and feature.get("id") is not None:
            props[id_field] = str(feature["id"])
        rows.append(props)
        geometry = feature.get("geometry")
        try:
            geoms.append(shapely.from_geojson(json.dumps(geometry)) if geometry else None)
        except shapely.errors.GEOSException as exc:
            label = props.get(id_field) or f"item {n}"
            raise InputError(f"layer {layer!r}: {label}: geometry: not GeoJSON ({exc})") from None
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")


def edit_areas(store: Store, layer: str, rows: gpd.GeoDataFrame | None,
               before: gpd.GeoDataFrame | None) -> set[tuple[str | None, str | None]]:
    """The ``(town, grid)`` of each row of an edit, before and after (None where not known).

    A row's town is its ``town`` field; else (hazard sites) its plot's town; else the town
    polygon of ``admin_areas`` that holds its representative point. A record of a plot (a hidden
    danger, a hazard site…) also counts its plot's town and grid, so it cannot reach across. Its
    grid (网格, where ``admin_areas`` holds grids) is its plot's grid, or for a plot or a row of no
    plot the grid its own outline falls in (:func:`zoning.wall.grids.assign_grids`).
    """
    grids = grid_areas(store.read("admin_areas", where={"level": "grid"}) if store.exists("admin_areas") else None)
    areas: set = set()
    for frame in (rows, before):
        if frame is None or not len(frame):
            continue
        none = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        town = frame["town"].astype(object) if "town" in frame.columns else none
        grid = none
        if (layer != "industrial_plots" and "plot_id" in frame.columns and frame["plot_id"].notna().any()
                and store.exists("industrial_plots")):
            plots = store.read("industrial_plots", columns=["plot_id", "town"],
                               where={"plot_id": frame["plot_id"].dropna().astype(str).tolist()})
            ids = plots["plot_id"].astype(str).to_numpy()
            plot_id = frame["plot_id"].astype(str)
            by_plot = plot_id.map(dict(zip(ids, plots["town"].astype(str))))
            grid = plot_id.map(dict(zip(ids, assign_grids(plots, grids)))) if len(grids) else none
            areas |= set(zip(by_plot.dropna(), grid[by_plot.notna()]))  # the plot's town counts too
            town = town.where(town.notna(), by_plot)
        if town.isna().any() and store.exists("admin_areas"):
            admin = store.read("admin_areas", where={"level": "town"})
            points = shapely.point_on_surface(np.asarray(frame.geometry.array, dtype=object))
            hit = shapely.STRtree(np.asarray(admin.geometry.array, dtype=object)).query(points, "within")
            found = pd.Series(admin["code"].astype(str).to_numpy()[hit[1]], index=frame.index[hit[0]])
            town = town.where(town.notna(), found[~found.index.duplicated()].reindex(frame.index))
        town = town.where(town.notna(), None)
        if len(grids) and grid is none:
            grid = assign_grids(gpd.GeoDataFrame({"town": town}, geometry=frame.geometry.values, crs=frame.crs),
                                grids)
        areas |= set(zip(town.tolist(), grid.where(grid.notna(), None).tolist()))
    return areas


#: Layers whose rows are records of a plot (its ``plot_id`` must exist, in the same town).
_PLOT_RECORDS = ("hidden_dangers", "inspections", "responsibilities")


def _check_plots(store: Store, layer: str, rows: gpd.GeoDataFrame, id_field: str) -> None:
    """Refuse records naming a plot that does not exist or lies in another town (one line, first offender)."""
    held = (store.read("industrial_plots", columns=["plot_id", "town"],
                       where={"plot_id": rows["plot_id"].astype(str).tolist()})
            if store.exists("industrial_plots") else None)
    town = dict(zip(held["plot_id"].astype(str), held["town"].astype(str))) if held is not None else {}
    for fid, plot, own in zip(rows[id_field].astype(str), rows["plot_id"].astype(str), rows["town"].astype(str)):
        if plot not in town:
            raise InputError(f"{layer} {fid}: plot_id: no plot {plot!r} in the store")
        if town[plot] != own:
            raise InputError(f"{layer} {fid}: town: {own!r}, but plot {plot} is in town {town[plot]!r}")


_EXTENTS: dict = {}


def _extent(store: Store):
    """:func:`layers.io.store_extent`, kept while the store's ``admin_areas`` keep their version."""
    key = (store.address, store.info("admin_areas").version if store.exists("admin_areas") else 0)
    if key not in _EXTENTS:
        _EXTENTS.clear()
        _EXTENTS[key] = store_extent(store)
    return _EXTENTS[key]


def _before(store: Store, layer: str, ids: list[str]) -> gpd.GeoDataFrame:
    return store.read(layer, where={get_schema(layer).id_field: ids}) if ids else None


def apply_edit(store: Store, ruleset: RuleSet, layer: str, rows: gpd.GeoDataFrame | None = None,
               retire: Iterable = (), base_versions: Mapping | None = None, *, actor: str, reason: str,
               palette: str | None = None) -> EditOutcome:
    """Validate and write one edit of ``layer``, then bring what depends on it up to date.

    Parameters
    ----------
    rows : GeoDataFrame, optional
        Whole rows to insert or update (any CRS; validated as an import validates them).
    retire : iterable of ids
    base_versions : mapping of id to int or None
        The version each touched row had when the editor read it (None: a new row).
    actor, reason : str
        Who and why; an edit without a reason is refused.

    Raises
    ------
    ValidationError, InputError, Conflict, DangerStepError
        Nothing was written.
    """
    _check_layer(layer)
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"layer {layer!r}: an edit needs a reason (why it was made)")
    id_field = get_schema(layer).id_field
    clean = None
    if rows is not None and len(rows):
        clean = validate_layer(layer, rows, admin_area=_extent(store), source="the edit")
    retire = [str(r) for r in retire]
    ids = (clean[id_field].astype(str).tolist() if clean is not None else []) + retire
    before = _before(store, layer, ids) if store.exists(layer) else None
    if clean is not None and layer in _PLOT_RECORDS:
        _check_plots(store, layer, clean, id_field)
    if layer == "hidden_dangers" and clean is not None:
        check_dangers(clean, before)
    fingerprint = input_fingerprint(store, ruleset)
    if not store.exists(layer):  # the first record of a layer no import has brought yet
        schema = get_schema(layer)
        empty = gpd.GeoDataFrame({f.name: pd.Series(dtype=f.dtype) for f in schema.fields}, geometry=[],
                                 crs=STORE_CRS)
        store.write(layer, empty, actor=actor, action="create", detail=f"empty {layer}, for its first edit")
    result = store.edit(layer, clean, retire, base_versions, actor=actor, reason=reason)
    outcome = EditOutcome(result)
    if layer in ("industrial_plots", *HAZARD_INPUTS):
        outcome.refresh = _refresh(store, ruleset, layer, ids, before, fingerprint, actor, reason, palette)
    elif layer == "hidden_dangers":
        plot_ids = set(clean["plot_id"].astype(str)) if clean is not None else set()
        if before is not None:
            plot_ids |= set(before["plot_id"].astype(str))
        outcome = _follow_dangers(store, ruleset, sorted(plot_ids), outcome, actor, reason, palette)
    return outcome


def _refresh(store, ruleset, layer, ids, before, fingerprint, actor, reason, palette, attempts: int = 3):
    """:func:`refresh_derived`, again if a concurrent edit changed the same derived rows meanwhile.

    The source edit is committed already; the derived rows are recomputed from what the store
    holds, so a retry is safe. After ``attempts`` conflicts the derived layers are left as they
    are (not restamped: they show as stale until the next edit or ``riskmap zone``).
    """
    for _ in range(attempts):
        try:
            return refresh_derived(store, ruleset, layer, ids, before, fingerprint_before=fingerprint,
                                   actor=actor, reason=reason, palette=palette)
        except Conflict:
            continue
    return Refresh()


def _follow_dangers(store: Store, ruleset: RuleSet, plot_ids: list[str], outcome: EditOutcome, actor: str,
                    reason: str, palette) -> EditOutcome:
    """Write the plots whose danger counts changed, and refresh their colours."""
    if not plot_ids or not store.exists("industrial_plots"):
        return outcome
    plots = store.read("industrial_plots", where={"plot_id": plot_ids}, versions=True)
    dangers = store.read("hidden_dangers", where={"plot_id": plot_ids})
    counts = danger_counts(dangers, plots["plot_id"]).set_index("plot_id")
    held = plots.set_index(plots["plot_id"].astype(str))[_COUNTS].astype("int64")
    differ = (held != counts.loc[held.index, _COUNTS]).any(axis=1)
    if not differ.any():
        return outcome
    changed = plots[plots["plot_id"].astype(str).isin(differ[differ].index)].copy()
    for column in _COUNTS:
        changed[column] = counts.loc[changed["plot_id"].astype(str), column].to_numpy()
    base = dict(zip(changed["plot_id"].astype(str), changed["row_version"].astype(int)))
    changed = changed.drop(columns=["row_version", "updated_at", "updated_by"])
    why = f"danger counts follow the hidden-danger records: {reason}"
    follow = apply_edit(store, ruleset, "industrial_plots", gpd.GeoDataFrame(changed, crs=STORE_CRS),
                        base_versions=base, actor=actor, reason=why, palette=palette)
    outcome.refresh, outcome.follow_ups = follow.refresh, (follow.result,)
    return outcome
