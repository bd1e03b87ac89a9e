"""Colours that follow at once: after an edit, recompute only the derived rows it touches.

A full :func:`zoning.pipeline.run_zoning` rereads every layer and rewrites every derived layer;
on a city of 100 000 plots that is a minute, and between an edit and the next run the wall would
show the old colour. :func:`refresh_derived` instead brings the derived layers up to date from
the rows an edit changed, with the same pure functions the full run uses (so the result is the
full run's, which ``tests/zoning/test_incremental.py`` checks row by row):

industrial plots changed
    their ``risk_wall`` rows (:func:`zoning.wall.classify.classify_plots` on those plots only: a
    plot's colour depends on its own fields), the ``risk_zones`` rows — towns and grid cells —
    that the old or new plot geometries meet (:func:`zoning.wall.surface.zone_areas` over the
    plots, buffers and sites in their extent), and the labour-intensive-works rows of
    ``separation_violations`` for those plots.
hazard sites, protected targets, shelters or stations changed
    the hazard chain in full (:func:`zoning.pipeline.compute_hazards`: grades, distances, QRA,
    violations; a city holds hundreds of sites, not hundreds of thousands), then the
    ``risk_zones`` rows met by the old or new buffers and geometries of the sites that changed.

Only rows whose values changed are written (each with its audit row, through
:meth:`layers.store.Store.edit`), so the audit shows colour changes with their reasons. The
derived layers that were current before the edit and are current again are restamped with the
new input fingerprint (:meth:`layers.store.Store.restamp`); the risk surface raster is not
recomputed here and stays marked stale until the next ``riskmap zone``
(:func:`zoning.pipeline.stale_layers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORE_CRS, metric_crs_for
from layers.store import Store
from zoning.hazards.major_hazard import parse_major_hazard_rules
from zoning.hazards.separation import find_violations, parse_separation_rules
from zoning.pipeline import (
    DERIVED_IDS, INPUT_LAYERS, SURFACE_LAYER, compute_hazards, for_store, input_fingerprint, read_population,
    zones_frame,
)
from zoning.rules import RuleSet
from zoning.wall.area_rules import largest_per_site
from zoning.wall.classify import classify_plots
from zoning.wall.surface import zone_areas

__all__ = ["Refresh", "refresh_derived", "HAZARD_INPUTS"]

#: Edited layers whose change reruns the hazard chain.
HAZARD_INPUTS = ("hazard_sites", "protected_targets", "shelters", "rescue_stations")
_HAZARD_LAYERS = ("major_hazards", "safety_buffers", "separation_violations", "ir_contours", "threat_zones")
_ZONE_VALUES = ["level", "colour", "reasons"]


@dataclass
class Refresh:
    """What :func:`refresh_derived` changed: rows per derived layer, lon/lat bounds, restamped layers."""

    rows: dict[str, int] = field(default_factory=dict)
    #: Around everything that changed: the edited rows before and after, and the zones recoloured.
    bounds: tuple[float, float, float, float] | None = None
    #: Around the edited rows before and after only (plots, or sites with their changed rings):
    #: where ``risk_wall`` rows changed, when zones (a whole town) changed around them.
    touched_bounds: tuple[float, float, float, float] | None = None
    restamped: list[str] = field(default_factory=list)
    #: Ids of the rows written to each derived layer by one row edit (:meth:`Store.edit`) each.
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def layers(self) -> list[str]:
        return [k for k, v in self.rows.items() if v]


_CRS: dict = {}


def _metric_crs(store: Store):
    """The metric CRS the full run works in (:func:`zoning.pipeline.compute_zoning`), kept per admin version."""
    key = (store.address, store.info("admin_areas").version if store.exists("admin_areas") else None)
    if key[1] is None or key not in _CRS:
        frame = store.read("admin_areas") if store.exists("admin_areas") else None
        if frame is None or not len(frame):
            return metric_crs_for(store.read("industrial_plots"))
        _CRS.clear()
        _CRS[key] = metric_crs_for(frame)
    return _CRS[key]


def _geoms(*frames) -> np.ndarray:
    parts = [np.asarray(f.geometry.array, dtype=object) for f in frames if f is not None and len(f)]
    geoms = np.concatenate(parts) if parts else np.array([], dtype=object)
    return geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _bbox(geoms: np.ndarray):
    return tuple(float(v) for v in shapely.total_bounds(geoms)) if len(geoms) else None


def _read(store: Store, name: str, crs, bbox=None, columns=None):
    if not store.exists(name):
        return None
    return store.read(name, bbox=bbox, columns=columns).to_crs(crs)


def _edit_changed(store: Store, layer: str, new: gpd.GeoDataFrame, id_field: str, retire, *, actor: str,
                  reason: str, compare: list[str] | None = None) -> list[str]:
    """Upsert the rows of ``new`` that differ from the held ones (in ``compare``, else any column); their ids."""
    held = store.read(layer, where={id_field: new[id_field].astype(str).tolist() + list(retire)}, versions=True)
    base = dict(zip(held[id_field].astype(str), held["row_version"].astype(int)))
    if len(new) and len(held):
        columns = compare or [c for c in new.columns if c != new.geometry.name]
        old = held.set_index(held[id_field].astype(str))
        mine = new.set_index(new[id_field].astype(str))
        shared = mine.index.intersection(old.index)
        same = pd.Series(True, index=shared)
        for c in columns:
            a, b = mine.loc[shared, c].astype(object), old.loc[shared, c].astype(object)
            same &= (a == b) | (a.isna() & b.isna())
        if compare is None:
            same &= pd.Series(shapely.equals(np.asarray(mine.loc[shared].geometry.array, dtype=object),
                                             np.asarray(old.loc[shared].geometry.array, dtype=object)), index=shared)
        new = new[~new[id_field].astype(str).isin(same[same].index)]
    retire = [r for r in retire if r in base]
    if not len(new) and not retire:
        return []
    store.edit(layer, new if len(new) else None, retire, base, actor=actor, reason=reason)
    return new[id_field].astype(str).tolist() + retire


def _zones(store: Store, ruleset: RuleSet, crs, touched: np.ndarray, palette, actor: str,
           reason: str) -> tuple[list[str], list]:
    """Recolour the towns and grid cells that ``touched`` geometries (EPSG:4490) meet."""
    if not len(touched) or not store.exists("risk_zones"):
        return [], []
    area = shapely.union_all(touched)
    held = store.read("risk_zones", bbox=_bbox(touched))
    held = held[shapely.intersects(np.asarray(held.geometry.array, dtype=object), area)]
    if not len(held):
        return [], []
    extent = _bbox(_geoms(held))
    plots = _read(store, "risk_wall", crs, extent, columns=["plot_id", "level"])  # what the area rules read
    buffers = _widest(store.read("safety_buffers", bbox=extent)).to_crs(crs) if store.exists("safety_buffers") else None
    sites = _read(store, "hazard_sites", crs, extent, columns=["site_id", "major_hazard_grade"])
    zones = []
    towns = held[held["zone_kind"] == "town"]
    if len(towns):
        admin = store.read("admin_areas", where={"code": towns["zone_id"].astype(str).tolist()})
        z = zone_areas(admin.to_crs(crs), plots, buffers, sites, rules=ruleset, palette=palette)
        z["zone_kind"], z["zone_id"] = "town", z["code"].astype(str)
        zones.append(z)
    cells = held[held["zone_kind"] == "grid"]
    if len(cells):
        z = zone_areas(cells[["zone_kind", "zone_id", "geometry"]].to_crs(crs), plots, buffers, sites, rules=ruleset,
                       palette=palette)
        zones.append(z)
    new = for_store(zones_frame(zones, crs))
    grid = (new["zone_kind"] == "grid").to_numpy()
    if grid.any():  # a cell keeps its stored outline (a square in the metric CRS, stored once)
        outline = cells.set_index(cells["zone_id"].astype(str)).geometry
        new.loc[grid, "geometry"] = outline.reindex(new.loc[grid, "zone_id"].astype(str)).to_numpy()
    changed = _edit_changed(store, "risk_zones", new, "zone_id", [], actor=actor, reason=reason,
                            compare=_ZONE_VALUES)
    return changed, [new[new["zone_id"].astype(str).isin(changed)]] if changed else []


#: Degrees added around a box read from the store's R-tree: a violation's geometry went to the metric
#: CRS and back (about 1e-9 degree of drift), its plot's did not.
_BOX_PAD = 1e-6


def _held_violations(store: Store, ids: list[str], before: gpd.GeoDataFrame | None, current: bool) -> gpd.GeoDataFrame:
    """The labour-intensive-works rows of plots ``ids`` that ``separation_violations`` holds now.

    A row's geometry is its subject's. While the layer is current (it carries the fingerprint of
    the inputs before the edit) its rows of these plots lie on the plots as they were, so an
    R-tree read around ``before`` finds them all: the scan of ``subject_id`` it replaces took a
    quarter of a second of CPU per edit on the 780 000 rows of the 100 000-plot demo. A stale
    layer may hold rows drawn on older geometries: it is scanned.
    """
    if not current:
        return store.read("separation_violations", where={"subject_layer": "industrial_plots", "subject_id": ids})
    geoms = _geoms(before)  # new plots have no rows yet: the box then holds none of theirs either
    west, south, east, north = _bbox(geoms) if len(geoms) else (0.0, 0.0, 0.0, 0.0)
    near = store.read("separation_violations",
                      bbox=(west - _BOX_PAD, south - _BOX_PAD, east + _BOX_PAD, north + _BOX_PAD))
    mine = (near["subject_layer"] == "industrial_plots") & near["subject_id"].astype(str).isin(ids)
    return near[mine.to_numpy()].reset_index(drop=True)


def _widest(buffers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The widest ring of each site, in the rows' order: all the area rule reads of the buffers
    (:func:`zoning.wall.area_rules.largest_per_site`), and a fifth of the rings to project."""
    return buffers.iloc[np.sort(largest_per_site(buffers))]


def _plot_violations(store: Store, ruleset: RuleSet, crs, ids: list[str], plots: gpd.GeoDataFrame,
                     before: gpd.GeoDataFrame | None, fingerprint_before: str) -> int:
    """Replace the labour-intensive-works violations of plots ``ids`` (the only rule plots enter).

    Only the sites whose buffers reach the plots' extent can hold them: those are read by bounding
    box, and the layer (which has no row id) is rewritten only when its rows for these plots change.
    """
    if not store.exists("separation_violations") or not store.exists("safety_buffers"):
        return 0
    current = store.info("separation_violations").fingerprint == fingerprint_before
    held = _held_violations(store, ids, before, current)
    geoms = _geoms(plots)
    buffers = store.read("safety_buffers", bbox=_bbox(geoms)) if len(geoms) else None
    found = held.iloc[:0]
    if buffers is not None and len(buffers):
        sites = store.read("hazard_sites", where={"site_id": sorted(set(buffers["site_id"].astype(str)))})
        targets = gpd.GeoDataFrame({"target_id": [], "kind": [], "gb36894_class": []}, geometry=[], crs=crs)
        found = find_violations(targets, buffers.to_crs(crs), sites.to_crs(crs), plots=plots.to_crs(crs),
                                rules=parse_separation_rules(ruleset),
                                major_hazard_rules=parse_major_hazard_rules(ruleset))
        found = for_store(found[(found["subject_layer"] == "industrial_plots").to_numpy()])[held.columns]
    if _same_rows(held, found, KEYS_VIOLATIONS):
        return 0
    info = store.info("separation_violations")
    every = store.read("separation_violations")
    mine = (every["subject_layer"] == "industrial_plots") & every["subject_id"].astype(str).isin(ids)
    out = gpd.GeoDataFrame(pd.concat([every[~mine.to_numpy()], found], ignore_index=True), geometry="geometry",
                           crs=STORE_CRS)
    store.write("separation_violations", out, derived=True, ruleset_version=info.ruleset_version,
                fingerprint=info.fingerprint, actor="engine", action="derive", detail="plots edited")
    return int(mine.sum()) + len(found)


KEYS_VIOLATIONS = ["rule", "subject_id", "site_id", "target_class"]
#: Distances that differ by less than this are the same: an edit through GeoJSON (RFC 7946, 7 decimals
#: of a degree, about 1 cm) moves a plot's vertices by up to a centimetre and a half.
DISTANCE_TOLERANCE_M = 0.02
_METRES = r"\d+(?:\.\d+)? m\b"


def _same_rows(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> bool:
    """Whether two frames hold the same attribute rows, whatever their order."""
    if len(a) != len(b):
        return False
    if not len(a):
        return True
    columns = [c for c in a.columns if c != "geometry"]
    x = pd.DataFrame(a[columns]).sort_values(keys).reset_index(drop=True)
    y = pd.DataFrame(b[columns]).sort_values(keys).reset_index(drop=True)
    for c in columns:
        if pd.api.types.is_float_dtype(x[c]) and pd.api.types.is_float_dtype(y[c]):
            same = np.isclose(x[c].to_numpy(), y[c].to_numpy(), rtol=0, atol=DISTANCE_TOLERANCE_M, equal_nan=True)
        else:  # the distances quoted in a reason may round the other way within the tolerance
            u = x[c].astype(object).str.replace(_METRES, "# m", regex=True) if c == "reason" else x[c].astype(object)
            v = y[c].astype(object).str.replace(_METRES, "# m", regex=True) if c == "reason" else y[c].astype(object)
            same = ((u == v) | (u.isna() & v.isna())).to_numpy()
        if not same.all():
            return False
    return True


def refresh_derived(store: Store, ruleset: RuleSet, layer: str, ids, before: gpd.GeoDataFrame | None, *,
                    fingerprint_before: str, actor: str, reason: str = "", palette: str | None = None) -> Refresh:
    """Bring the derived layers up to date after rows ``ids`` of source layer ``layer`` changed.

    Parameters
    ----------
    store : Store
        Already holding the edit.
    ruleset : RuleSet
        The rules of the last full run (their digest is in the fingerprint).
    layer : str
        The edited source layer (``industrial_plots`` or one of :data:`HAZARD_INPUTS`).
    ids : list of str
        Ids of the rows inserted, updated or retired.
    before : GeoDataFrame, optional
        Those rows as they were before the edit (EPSG:4490), for the places they left.
    fingerprint_before : str
        :func:`zoning.pipeline.input_fingerprint` before the edit: derived layers carrying it were
        current and are restamped once current again.
    actor, reason
        Recorded with every derived row written ("follows <layer> edit: <reason>").

    Returns
    -------
    Refresh
    """
    ids = [str(i) for i in ids]
    why = f"follows {layer} edit" + (f": {reason}" if reason else "")
    out = Refresh()
    if not store.exists("risk_wall"):
        return out
    crs = _metric_crs(store)
    touched = []
    if layer == "industrial_plots":
        plots = store.read("industrial_plots", where={"plot_id": ids})
        wall = for_store(classify_plots(plots.to_crs(crs), ruleset, palette=palette))
        gone = sorted(set(ids) - set(plots["plot_id"].astype(str)))
        out.changed["risk_wall"] = _edit_changed(store, "risk_wall", wall, DERIVED_IDS["risk_wall"], gone,
                                                 actor=actor, reason=why)
        out.rows["risk_wall"] = len(out.changed["risk_wall"])
        out.rows["separation_violations"] = _plot_violations(store, ruleset, crs, ids, plots, before,
                                                              fingerprint_before)
        touched = [_geoms(plots, before)]
        updated, unaffected = ("risk_wall", "risk_zones", "separation_violations"), (
            "major_hazards", "safety_buffers", "ir_contours", "threat_zones")
    else:
        old_buffers = store.read("safety_buffers") if store.exists("safety_buffers") else None
        metric = {n: store.read(n).to_crs(crs) for n in INPUT_LAYERS if store.exists(n)}
        grades, buffers, violations, qra = compute_hazards(metric, ruleset, crs, read_population(store))
        layers = {"major_hazards": grades, "safety_buffers": buffers, "separation_violations": violations}
        if qra is not None:
            layers.update(ir_contours=qra.contours(), threat_zones=qra.threat_zones())
        layers = {k: for_store(v) for k, v in layers.items() if v is not None}
        if layers:
            store.write_many(layers, derived=True, ruleset_version=ruleset.label,
                             fingerprint=input_fingerprint(store, ruleset), actor="engine", action="derive",
                             detail=why, id_fields={k: v for k, v in DERIVED_IDS.items() if k in layers})
        out.rows.update({k: len(v) for k, v in layers.items()})
        changed = _changed_sites(old_buffers, layers.get("safety_buffers"))
        if layer == "hazard_sites":
            changed |= set(ids)
            touched.append(_geoms(before, store.read("hazard_sites", where={"site_id": ids})))
        for frame in (old_buffers, layers.get("safety_buffers")):
            if frame is not None and changed:
                touched.append(_geoms(frame[frame["site_id"].astype(str).isin(changed)]))
        updated, unaffected = ("risk_zones",), ("risk_wall",)
        if not changed:
            unaffected += (SURFACE_LAYER,)
    touched = np.concatenate(touched) if touched else np.array([], dtype=object)
    out.changed["risk_zones"], zone_geoms = _zones(store, ruleset, crs, touched, palette, actor, why)
    out.rows["risk_zones"] = len(out.changed["risk_zones"])
    out.touched_bounds = _bbox(touched)
    out.bounds = _bbox(_geoms(*zone_geoms, gpd.GeoDataFrame(geometry=touched, crs=STORE_CRS)))
    out.restamped = store.restamp((*updated, *unaffected), input_fingerprint(store, ruleset),
                                  expected=fingerprint_before)
    return out


def _changed_sites(old: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame | None) -> set[str]:
    """Sites whose rings (class and distance) differ between two ``safety_buffers`` frames."""
    def rings(frame):
        if frame is None or not len(frame):
            return pd.Series(dtype=object)
        keys = frame["target_class"].astype(str) + "=" + frame["distance_m"].round(3).astype(str)
        return keys.groupby(frame["site_id"].astype(str)).agg(lambda k: "|".join(sorted(k)))

    a, b = rings(old), rings(new)
    both = a.index.union(b.index)
    a, b = a.reindex(both), b.reindex(both)
    return set(both[(a != b) & ~(a.isna() & b.isna())])
