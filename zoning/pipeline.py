"""Run the zoning engine on a store, in three phases: load → compute → write.

The science lives in pure functions (:mod:`zoning.wall.classify`, :mod:`zoning.hazards.major_hazard`,
:mod:`zoning.hazards.distances`, :mod:`zoning.hazards.separation`, :mod:`zoning.wall.surface`); this module only wires
them to a :class:`~layers.store.Store`. :func:`compute_zoning` takes and returns frames and is
testable without files; :func:`run_zoning` loads the inputs, calls it, and writes every derived
layer in one all-or-nothing step, stamped with the rule set (``name@version``) and a
fingerprint of its inputs, so :func:`stale_layers` can tell a result computed from older data
or other rules.

Derived layers written
----------------------
``risk_wall``
    industrial plots with level, colour, score and reasons (the town risk wall).
``major_hazards``
    hazard sites with Σq/Q, α, R and grade by GB 18218-2018.
``safety_buffers``, ``separation_violations``
    GB/T 37243-2019 external safety distances and who stands inside them.
``risk_zones``
    four-colour zones for towns (``zone_kind = "town"``) and a regular grid (``"grid"``).
``risk_surface``
    GeoTIFF risk raster (uint8 levels, palette colour table).
``ir_contours``, ``threat_zones``
    the quantitative risk assessment (:mod:`zoning.hazards.qra`) of the sites on the QRA path of
    GB/T 37243-2019 §4: individual-risk contours at the GB 36894-2018 levels, summed over sites,
    and attention areas by hazard type (toxic, heat radiation, overpressure). The population
    raster (``population``, persons per cell) and the protected targets' populations feed the
    sites' F-N curves, whose verdicts join the distance reasons.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.crs import STORE_CRS, metric_crs_for
from geo.errors import InputError
from layers.catalogue import CATALOGUE
from layers.errors import LayerNotFound, Problem, StoreError, ValidationError
from layers.store import Store
from zoning.hazards.distances import parse_distance_rules, safety_buffers, safety_distances
from zoning.hazards.major_hazard import grade_sites, parse_major_hazard_rules
from zoning.hazards.separation import find_violations, parse_separation_rules
from zoning.rules import RuleSet
from zoning.wall.classify import classify_plots, summarise_wall
from zoning.wall.surface import grid_zones, risk_surface, write_risk_surface, zone_areas

__all__ = ["INPUT_LAYERS", "FINGERPRINT_LAYERS", "DERIVED_LAYERS", "ZoningResult", "compute_zoning", "run_zoning",
           "compute_hazards", "zones_frame", "for_store", "DERIVED_IDS", "SURFACE_LAYER",
           "input_fingerprint", "stale_layers", "check_geometries", "read_population"]

#: Source layers the engine reads; the first one is required, the others are used when present.
INPUT_LAYERS = ("industrial_plots", "admin_areas", "hazard_sites", "protected_targets", "shelters",
                "rescue_stations")
#: Source layers whose versions make the fingerprint: the vector inputs and the population raster.
FINGERPRINT_LAYERS = (*INPUT_LAYERS, "population")
DERIVED_LAYERS = ("risk_wall", "major_hazards", "safety_buffers", "separation_violations", "risk_zones",
                  "ir_contours", "threat_zones")
SURFACE_LAYER = "risk_surface"
#: Stable row ids of the derived layers that have one (the store keeps row versions by them).
DERIVED_IDS = {"risk_wall": "plot_id", "major_hazards": "site_id", "risk_zones": "zone_id"}


@dataclass
class ZoningResult:
    """What one engine run produced: derived layers (in EPSG:4490), the surface and a summary."""

    layers: dict[str, gpd.GeoDataFrame]
    surface: tuple | None
    wall_summary: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def input_fingerprint(store: Store, ruleset: RuleSet, names=FINGERPRINT_LAYERS) -> str:
    """sha256 over the rule set's bytes and the version of each input layer present.

    Any re-import or edit of an input bumps its version and so changes the fingerprint.
    """
    h = hashlib.sha256(ruleset.digest.encode())
    for name in names:
        version = store.info(name).version if store.exists(name) else 0
        h.update(f"|{name}:{version}".encode())
    return h.hexdigest()[:16]


def stale_layers(store: Store, ruleset: RuleSet) -> list[str]:
    """Derived layers in ``store`` whose fingerprint differs from the current inputs and rules."""
    current = input_fingerprint(store, ruleset)
    return [name for name in (*DERIVED_LAYERS, SURFACE_LAYER)
            if store.exists(name) and store.info(name).fingerprint != current]


def _empty(frame: gpd.GeoDataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def check_geometries(name: str, frame: gpd.GeoDataFrame) -> None:
    """Refuse a layer holding features without coordinates, naming each by its id.

    The importer already refuses them; this guard covers stores written by other means, so the
    engine never silently drops a hazard site it cannot place.
    """
    missing = frame.geometry.isna().to_numpy() | frame.geometry.is_empty.to_numpy()
    if not missing.any():
        return
    schema = CATALOGUE.get(name)
    id_field = schema.id_field if schema is not None else None
    if id_field in frame.columns:
        labels = frame.loc[missing, id_field].astype(str)
    else:
        labels = pd.Series([f"row {i + 1}" for i in missing.nonzero()[0]])
    raise ValidationError(name, [Problem(label, "geometry", "no coordinates (missing or empty geometry)")
                                 for label in labels], source="the store")


def compute_hazards(metric: dict[str, gpd.GeoDataFrame], ruleset: RuleSet, crs, population=None,
                    warnings: list[str] | None = None):
    """The hazard chain of :func:`compute_zoning` on metric input frames: (grades, buffers, violations, qra).

    GB 18218-2018 grades of the sites (``major_hazards``), their GB/T 37243-2019 external safety
    distances as rings (``safety_buffers``, through the QRA when the rule set has ``[qra]``) and
    who stands inside them (``separation_violations``). All None without sites; violations None
    without protected targets. Warnings are appended to ``warnings``.
    """
    warnings = [] if warnings is None else warnings
    sites = metric.get("hazard_sites")
    buffers = violations = grades = qra = None
    if _empty(sites):
        return grades, buffers, violations, qra
    mh = parse_major_hazard_rules(ruleset)
    graded = grade_sites(sites, mh)
    warnings += list(graded.attrs.get("warnings", []))
    grades = sites.drop(columns=["inventory"]).merge(graded, on="site_id", how="left")
    if "qra" in ruleset.tables:
        # imported here: the QRA pulls in scipy (about a second), which the server's edits never need at startup
        from zoning.hazards.qra.assess import assess_sites

        qra = assess_sites(sites, ruleset, population=population, targets=metric.get("protected_targets"))
        warnings += [f"site {k}: {v}" for k, v in qra.skipped.items()]
    distances = safety_distances(sites, parse_distance_rules(ruleset), mh, qra=qra)
    warnings += list(distances.attrs.get("warnings", []))
    buffers = safety_buffers(sites, distances, crs=crs)
    targets = metric.get("protected_targets")
    if not _empty(targets):
        violations = find_violations(
            targets, buffers, sites, plots=metric["industrial_plots"], shelters=metric.get("shelters"),
            stations=metric.get("rescue_stations"), rules=parse_separation_rules(ruleset),
            major_hazard_rules=mh)
    return grades, buffers, violations, qra


def compute_zoning(inputs: dict[str, gpd.GeoDataFrame], ruleset: RuleSet, *, palette: str | None = None,
                   grid_cell_m: float = 500.0, surface_cell_m: float = 100.0, population=None) -> ZoningResult:
    """Compute every derived layer from input frames (any CRS; all reprojected to one metric CRS).

    Parameters
    ----------
    inputs : dict of str to GeoDataFrame
        Source layers by catalogue name; ``industrial_plots`` is required.
    ruleset : RuleSet
    palette : str, optional
        Palette key of the rule set (default: its ``default_palette``).
    grid_cell_m, surface_cell_m : float
        Cell sizes of the zone grid and of the risk surface, in metres.
    population : (values, transform, crs), optional
        The population raster (:func:`read_population`), for the QRA's F-N curves.
    """
    plots = inputs.get("industrial_plots")
    if _empty(plots):
        raise LayerNotFound("the engine needs a non-empty industrial_plots layer; import it first")
    for name, frame in inputs.items():
        if frame is not None:
            check_geometries(name, frame)
    crs = metric_crs_for(inputs.get("admin_areas") if not _empty(inputs.get("admin_areas")) else plots)
    metric = {k: v.to_crs(crs) for k, v in inputs.items() if v is not None}
    warnings: list[str] = []

    wall = classify_plots(metric["industrial_plots"], ruleset, palette=palette)
    admin = metric.get("admin_areas")
    summary = summarise_wall(wall, admin if not _empty(admin) else None)

    sites = metric.get("hazard_sites")
    grades, buffers, violations, qra = compute_hazards(metric, ruleset, crs, population, warnings)

    zones = []
    if not _empty(admin):
        towns = admin[admin["level"] == "town"]
        if len(towns):
            z = zone_areas(towns, wall, buffers, sites, rules=ruleset, palette=palette)
            z["zone_kind"], z["zone_id"] = "town", z["code"].astype(str)
            zones.append(z)
        extent = admin[admin["level"] == "district"] if (admin["level"] == "district").any() else admin
        g = grid_zones(extent, wall, buffers, cell_size=grid_cell_m, rules=ruleset, sites=sites, palette=palette)
        g["zone_kind"], g["zone_id"] = "grid", g["cell_id"].astype(str)
        zones.append(g)
    surface = risk_surface(wall, buffers, cell_size=surface_cell_m, rules=ruleset)

    layers = {"risk_wall": wall}
    if grades is not None:
        layers["major_hazards"] = grades
    if buffers is not None:
        layers["safety_buffers"] = buffers
    if violations is not None:
        layers["separation_violations"] = violations
    if qra is not None:
        layers["ir_contours"] = qra.contours()
        layers["threat_zones"] = qra.threat_zones()
    if zones:
        layers["risk_zones"] = zones_frame(zones, crs)
    stored = {name: for_store(frame) for name, frame in layers.items()}
    return ZoningResult(stored, surface, summary, warnings)


def _joined(value) -> str:
    return "; ".join(value) if isinstance(value, (list, tuple)) else ("" if value is None else str(value))


#: Columns of the ``risk_zones`` layer.
ZONE_COLUMNS = ["zone_kind", "zone_id", "level", "colour", "colour_name", "colour_zh", "reasons", "geometry"]


def zones_frame(zones: list[gpd.GeoDataFrame], crs) -> gpd.GeoDataFrame:
    """The ``risk_zones`` rows of coloured areas (towns, grid cells) that carry ``zone_kind``/``zone_id``."""
    return gpd.GeoDataFrame(pd.concat([z[[c for c in ZONE_COLUMNS if c in z.columns]] for z in zones],
                                      ignore_index=True), geometry="geometry", crs=crs)


def for_store(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to the store CRS and flatten list columns to "; "-joined text."""
    out = frame.to_crs(STORE_CRS)
    for column in out.columns.drop(out.geometry.name):
        # infer_dtype scans in C; only a column it does not find homogeneous can hold lists
        if out[column].dtype == object and pd.api.types.infer_dtype(out[column], skipna=True) == "mixed":
            out[column] = out[column].map(_joined)
    return out


def read_population(store: Store):
    """The store's ``population`` raster as ``(values, transform, crs)``, or None when it has none.

    Nodata, NaN and negative cells are nobody (0).
    """
    if not store.exists("population"):
        return None
    import rasterio.errors  # here, with the raster: rasterio is slow to import and the server rarely needs it

    try:
        with store.read_raster("population") as src:
            values = src.read(1, masked=True).filled(0).astype(float)
            transform, crs = src.transform, src.crs
    except rasterio.errors.RasterioError as exc:
        raise StoreError(f"the population raster of the store cannot be read ({exc}); re-register it") from None
    if crs is None:
        raise InputError("population raster has no CRS; re-register it as a GeoTIFF with its metric CRS")
    values[~(values > 0)] = 0.0
    return values, transform, crs.to_wkt()


def run_zoning(store: Store, ruleset: RuleSet, *, palette: str | None = None, grid_cell_m: float = 500.0,
               surface_cell_m: float = 100.0, actor: str = "engine", compute=compute_zoning) -> ZoningResult:
    """Load the inputs from ``store``, compute, and write every derived layer in one step.

    ``compute`` is :func:`compute_zoning` or a twin with its arguments and result (the Dask run,
    :func:`zoning.province.run.compute_distributed`).
    """
    fingerprint = input_fingerprint(store, ruleset)
    inputs = {name: store.read(name) for name in INPUT_LAYERS if store.exists(name)}
    result = compute(inputs, ruleset, palette=palette, grid_cell_m=grid_cell_m,
                            surface_cell_m=surface_cell_m, population=read_population(store))
    stamp = dict(derived=True, ruleset_version=ruleset.label, fingerprint=fingerprint, actor=actor,
                 action="derive")
    store.write_many(result.layers, **stamp, detail=f"zoning run, rules {ruleset.label}",
                     id_fields={k: v for k, v in DERIVED_IDS.items() if k in result.layers})
    if result.surface is not None:
        array, transform, crs = result.surface
        with tempfile.TemporaryDirectory() as tmp:
            tif = write_risk_surface(Path(tmp) / "risk_surface.tif", array, transform, crs,
                                     palette=palette, ruleset_label=ruleset.label)
            store.write_raster(SURFACE_LAYER, tif, **stamp, detail="GeoTIFF risk surface")
    return result
