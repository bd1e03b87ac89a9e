"""The layers a siting review looks at: :class:`SitingContext`, built once per store and shared.

A context holds the derived layers of ``riskmap zone`` (``risk_wall``, ``safety_buffers``,
``risk_zones``), the source layers a review compares a proposal with, and the road graph, all in one
metric CRS (the Gauss-Krüger zone of the data). :func:`zoning.siting.review.review_site` reads it;
:mod:`zoning.siting.checks` takes it as its argument. The server keeps one per store.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo.crs import metric_crs_for
from geo.errors import InputError
from layers.errors import LayerNotFound
from layers.store import Store
from zoning.coverage.network import RoadGraph, coverage_rules
from zoning.coverage.run import fire_stations, parse_coverage_run_rules
from zoning.pipeline import read_population, stale_layers
from zoning.rules import RuleSet

__all__ = ["CONTEXT_LAYERS", "SitingContext"]

#: Layers a context holds (``roads`` becomes the graph).
CONTEXT_LAYERS = ("risk_wall", "safety_buffers", "risk_zones", "hazard_sites", "protected_targets",
                  "rescue_stations", "shelters", "admin_areas", "ir_contours", "threat_zones")


@dataclass
class SitingContext:
    """The layers a siting review looks at, in one metric CRS (build with :meth:`from_store`).

    ``risk_wall``, ``safety_buffers``, ``risk_zones``, ``ir_contours``, ``threat_zones`` are
    derived layers of ``riskmap zone``; the others are source layers; ``graph`` is the road graph
    (None: straight-line fallbacks); ``population`` the persons-per-cell raster as
    ``(values, transform, crs)`` (:func:`zoning.pipeline.read_population`), for the F-N curves of
    the QRA sites around a proposal. Built once, it serves many reviews (the server keeps one per
    store).
    """

    crs: CRS
    ruleset: RuleSet
    risk_wall: gpd.GeoDataFrame | None = None
    safety_buffers: gpd.GeoDataFrame | None = None
    risk_zones: gpd.GeoDataFrame | None = None
    hazard_sites: gpd.GeoDataFrame | None = None
    protected_targets: gpd.GeoDataFrame | None = None
    rescue_stations: gpd.GeoDataFrame | None = None
    shelters: gpd.GeoDataFrame | None = None
    admin_areas: gpd.GeoDataFrame | None = None
    ir_contours: gpd.GeoDataFrame | None = None
    threat_zones: gpd.GeoDataFrame | None = None
    graph: RoadGraph | None = None
    population: tuple | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_frames(cls, layers: Mapping[str, gpd.GeoDataFrame], ruleset: RuleSet, *,
                    notes: list[str] | None = None, population=None) -> "SitingContext":
        """A context from frames by layer name (any CRS; ``roads`` optional), reprojected to metres.

        ``notes`` are carried into every verdict's warnings (with the road graph's own warnings);
        ``population`` is the raster as ``(values, transform, crs)``.
        """
        present = {k: v for k, v in layers.items() if v is not None and len(v)}
        base = present.get("admin_areas")
        if base is None:
            base = next((present[k] for k in ("risk_zones", "hazard_sites", "protected_targets") if k in present), None)
        if base is None:
            raise LayerNotFound("a siting review needs admin_areas (or risk_zones, hazard_sites, protected_targets)")
        crs = metric_crs_for(base)
        metric = {k: v.to_crs(crs) for k, v in present.items()}
        notes = list(notes or [])
        graph = None
        if "roads" in metric:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                graph = RoadGraph.from_roads(metric.pop("roads"), coverage_rules(ruleset))
            notes += [str(w.message) for w in caught]
        return cls(crs, ruleset, **{k: metric.get(k) for k in CONTEXT_LAYERS}, graph=graph, warnings=notes,
                   population=population)

    @classmethod
    def from_store(cls, store: Store, ruleset: RuleSet, *, roads: bool = True) -> "SitingContext":
        """Load a context from a store on which ``riskmap zone`` has run.

        Raises
        ------
        LayerNotFound
            When ``risk_zones`` (or, with hazard sites, ``safety_buffers``) is missing: run
            ``riskmap zone`` first. Derived layers computed from other inputs or rules
            (:func:`zoning.pipeline.stale_layers`) give a warning in every verdict.
        """
        need = ["risk_zones"] + (["safety_buffers"] if store.exists("hazard_sites")
                                 and store.info("hazard_sites").rows else [])
        missing = [n for n in need if not store.exists(n)]
        if missing:
            raise LayerNotFound(f"the store has no {', '.join(missing)} layer: run `riskmap zone --store "
                                f"{getattr(store, 'path', '<store>')}` first")
        notes = []
        stale = stale_layers(store, ruleset)
        if stale:
            notes.append(f"derived layers {', '.join(stale)} were computed from other inputs or rules than "
                         "the current ones: re-run `riskmap zone` before relying on this verdict")
        names = [*CONTEXT_LAYERS, *(["roads"] if roads else [])]
        layers = {n: store.read(n) for n in names if store.exists(n)}
        return cls.from_frames(layers, ruleset, notes=notes, population=read_population(store))

    @cached_property
    def data_area(self):
        """Union of the admin areas (else of the hull of the other layers): where the store has data."""
        frames = [self.admin_areas] if self.admin_areas is not None else [
            f for f in (self.risk_zones, self.hazard_sites, self.protected_targets) if f is not None]
        area = shapely.union_all(np.concatenate([f.geometry.to_numpy() for f in frames]))
        area = area if self.admin_areas is not None else area.convex_hull
        shapely.prepare(area)
        return area

    @cached_property
    def fire(self) -> gpd.GeoDataFrame | None:
        """Fire stations of the kinds counted for coverage (``coverage_run.station_kinds``)."""
        if self.rescue_stations is None:
            return None
        try:
            return fire_stations(self.rescue_stations, parse_coverage_run_rules(self.ruleset)).reset_index(drop=True)
        except InputError:
            return None

    @cached_property
    def reverse_time(self):
        """Driving-time matrix with every edge reversed: one Dijkstra gives all times *to* a node."""
        return self.graph.time_matrix.T.tocsr()
