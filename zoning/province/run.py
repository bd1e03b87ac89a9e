"""Where a distributed run gets its cluster and its inputs: a store in memory, or a generated province on disk.

* :func:`connect` — a ``distributed.Client`` to a running scheduler (``--scheduler ADDRESS``), or a
  ``LocalCluster`` of worker processes on this machine when no address is given.
* :func:`compute_distributed` — the drop-in twin of :func:`zoning.pipeline.compute_zoning` (same
  arguments, same result) that splits the frames by district and runs them on the cluster;
  ``run_zoning(store, rules, compute=partial(compute_distributed, client=client))`` runs a store.
* :func:`run_province` — a generated province (:mod:`layers.demo.province`): the workers read their
  own city, the population window they need, and the results are written to a folder city by city
  (GeoParquet per layer, the risk surface as a GeoTIFF, the wall summary as CSV).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import geopandas as gpd
import numpy as np

from geo.crs import metric_crs_for
from geo.errors import InputError
from layers.demo.province import province_population, read_city, read_manifest
from zoning.pipeline import ZoningResult
from zoning.province.engine import context_for, regions_of, split_inputs, zone_partitions
from zoning.province.partition import total_bounds
from zoning.province.population import population_window, read_population_file  # noqa: F401  (re-exported)
from zoning.province.sink import FolderSink, Written, write_result
from zoning.rules import RuleSet

__all__ = ["LOCAL_MEMORY", "LOCAL_SPILL", "LOCAL_WORKERS", "compute_distributed", "connect", "run_province", "write_result"]

#: Workers of the LocalCluster started when no scheduler is given (processes, one thread each).
LOCAL_WORKERS = 2
#: Memory limit of each local worker: two of them and the driver of a million-plot province stay
#: under 9 GiB (a third of a 24 GiB machine shared with others); the nanny restarts a worker above 95 %.
LOCAL_MEMORY = "4GiB"
#: Local workers write finished partitions to disk early (from a quarter of their limit: the area
#: stage of a big city needs about half of it on top), and never pause: a worker paused for memory
#: its results do not hold (a big task's heap) could wait for good.
LOCAL_SPILL = {"distributed.worker.memory.target": 0.25, "distributed.worker.memory.spill": 0.35,
               "distributed.worker.memory.pause": False}


@contextlib.contextmanager
def connect(scheduler: str | None = None, *, workers: int = LOCAL_WORKERS, memory: str = LOCAL_MEMORY,
            threads: int = 1) -> Iterator:
    """A Dask client: to ``scheduler`` (``tcp://host:8786``) or to a new LocalCluster, closed on exit.

    Raises
    ------
    geo.errors.InputError
        If the scheduler cannot be reached (the message names it).
    """
    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    with dask.config.set(LOCAL_SPILL), \
            LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True, memory_limit=memory,
                         dashboard_address=":0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def compute_distributed(inputs: dict[str, gpd.GeoDataFrame], ruleset: RuleSet, *, client, palette: str | None = None,
                        grid_cell_m: float = 500.0, surface_cell_m: float = 100.0, population=None) -> ZoningResult:
    """:func:`zoning.pipeline.compute_zoning` on the Dask ``client``, partitioned by district; same result.

    The frames are reprojected to the metric CRS compute_zoning picks, cut by the districts of
    ``admin_areas`` (towns, or one partition, when there are none) and sent to the workers.
    """
    plots = inputs.get("industrial_plots")
    admin = inputs.get("admin_areas")
    base = admin if admin is not None and len(admin) else plots
    if base is None or not len(base):
        from layers.errors import LayerNotFound
        raise LayerNotFound("the engine needs a non-empty industrial_plots layer; import it first")
    crs = metric_crs_for(base)
    metric = {k: v.to_crs(crs) for k, v in inputs.items() if v is not None}
    regions, _ = regions_of(metric["admin_areas"]) if "admin_areas" in metric and len(metric["admin_areas"]) \
        else (np.array([metric["industrial_plots"].geometry.union_all().envelope], dtype=object), ["all"])
    parts = client.scatter(split_inputs(metric, regions))     # a list: one future per partition's dict
    has = {k for k, v in metric.items() if len(v)}
    ctx = context_for(ruleset, crs, has, palette=palette, grid_cell_m=grid_cell_m, surface_cell_m=surface_cell_m)
    pop = client.scatter([population])[0] if population is not None else None
    return zone_partitions(client, parts, ctx, population=pop, regions=[[r] for r in regions])


def _load_city(folder: str, code: str, crs_wkt: str) -> dict:
    return {name: frame.to_crs(crs_wkt) for name, frame in read_city(folder, code).items()}


def run_province(folder, ruleset: RuleSet, *, client, palette: str | None = None, grid_cell_m: float = 1000.0,
                 surface_cell_m: float = 200.0, progress=None, out=None) -> ZoningResult | Written:
    """Zone a generated province (:func:`layers.demo.province.build_province`), one partition a city.

    Each worker reads its city and the window of the population it needs from ``folder``; nothing
    of the province passes through the driver before the results. With ``out`` (a folder) the
    results are written there city by city (:class:`~zoning.province.sink.FolderSink`) and what was
    written is returned; without, the whole :class:`ZoningResult`.
    """
    manifest = read_manifest(folder)
    crs = metric_crs_for(total_bounds(*(c["bounds"] for c in manifest["cities"])))
    has = {name for c in manifest["cities"] for name, e in c["layers"].items() if e["rows"]}
    ctx = context_for(ruleset, crs, has, palette=palette, grid_cell_m=grid_cell_m, surface_cell_m=surface_cell_m)
    parts = [client.submit(_load_city, str(folder), c["code"], crs.to_wkt(), pure=False) for c in manifest["cities"]]
    sink = FolderSink(out, ruleset, palette) if out is not None else None
    return zone_partitions(client, parts, ctx, population=str(province_population(folder)), progress=progress,
                           sink=sink)
