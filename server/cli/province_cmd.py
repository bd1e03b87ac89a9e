"""``riskmap province``: generate a province of many cities, and zone it on Dask.

``riskmap province build DIR`` generates the 13 cities of Jiangsu (real outlines, generated plots,
sites, targets, services and people; :mod:`layers.demo.province`) city by city into ``DIR``;
``riskmap province zone DIR --out OUT`` zones it, one partition a city, on the Dask scheduler given by
``--scheduler`` or on a LocalCluster of 2 worker processes, and writes every derived layer (GeoParquet),
the risk surface (GeoTIFF) and the wall summary (CSV) to ``OUT``, city by city (the driver never
holds the whole province's rows).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from layers.demo.province import JIANGSU, ProvincePlan, build_province
from layers.demo.synth import DEFAULT_SEED
from server.cli.options import JsonOption, PaletteOption, RulesOption, SchedulerOption, ruleset_with_palette
from server.cli.output import print_json, print_line, print_notes, print_table, stderr

__all__ = ["build_command", "register", "zone_command"]

app = typer.Typer(help="A generated province of many cities, zoned on Dask.", no_args_is_help=True)
FolderArg = Annotated[Path, typer.Argument(help="Folder of the generated province.")]


@app.command("build")
def build_command(
    folder: FolderArg,
    plots: Annotated[int, typer.Option("--plots", min=1, help="Industrial plots in the whole province.")] = 1_000_000,
    sites: Annotated[int, typer.Option("--sites", min=1, help="Hazardous-chemical sites in the province.")] = 20_000,
    services: Annotated[float, typer.Option("--services", min=0.01,
                                            help="Targets, stations, shelters: × the Changzhou demo's density.")] = 4.0,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Same seed and counts, same province.")] = DEFAULT_SEED,
    cities: Annotated[str | None, typer.Option(
        "--cities", help=f"Comma-separated city codes (default all 13: {', '.join(JIANGSU)}).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a province (GENERATED data on real city outlines) into FOLDER."""
    codes = tuple(c.strip() for c in cities.split(",")) if cities else tuple(JIANGSU)
    console = stderr()
    started = time.perf_counter()

    def progress(code: str, done: bool) -> None:
        if done and not as_json:
            console.print(f"{code} {JIANGSU.get(code, '')} done ({time.perf_counter() - started:.0f} s)")

    path = build_province(folder, ProvincePlan(plots=plots, sites=sites, services=services, seed=seed, cities=codes),
                          progress=progress)
    if as_json:
        print_json({"folder": str(path), "cities": list(codes), "seconds": round(time.perf_counter() - started, 1)})
        return
    print_line(f"province of {len(codes)} cities written to {path} in {time.perf_counter() - started:.0f} s")


@app.command("zone")
def zone_command(
    folder: FolderArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the derived layers into.")],
    scheduler: SchedulerOption = None,
    rules: RulesOption = None,
    palette: PaletteOption = None,
    grid: Annotated[float, typer.Option("--grid", min=50, help="Zone grid cell size, metres.")] = 1000.0,
    cell: Annotated[float, typer.Option("--cell", min=10, help="Risk surface cell size, metres.")] = 200.0,
    memory: Annotated[str, typer.Option(
        "--memory", help="Memory limit of each local worker (Dask spills to disk from 35 %), e.g. 3GiB.")] = "",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Local worker processes.")] = 2,
    threads: Annotated[int, typer.Option("--threads", min=1, help="Threads of each local worker.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Zone a generated province on Dask, one partition a city; write the results to OUT city by city."""
    from zoning.province.run import LOCAL_MEMORY, connect, run_province

    ruleset = ruleset_with_palette(rules, palette)
    console = stderr()
    started = time.perf_counter()

    def progress(phase: str) -> None:
        if not as_json:
            console.print(f"{phase} ({time.perf_counter() - started:.0f} s)")

    with connect(None if scheduler in (None, "local") else scheduler, memory=memory or LOCAL_MEMORY,
                 workers=workers, threads=threads) as client:
        written = run_province(folder, ruleset, client=client, palette=palette, grid_cell_m=grid, surface_cell_m=cell,
                               out=out, progress=progress)
    seconds = round(time.perf_counter() - started, 1)
    if as_json:
        print_json({"ruleset": ruleset.label, "layers": written.rows, "risk_surface": list(written.shape),
                    "seconds": seconds, "out": str(out), "warnings": len(written.warnings)})
        return
    print_notes(written.warnings)
    print_table(f"derived layers (rules {ruleset.label}, {seconds} s)", ["layer", "rows"],
                [(n, f"{r:,}") for n, r in written.rows.items()], right={"rows"})


def register(root: typer.Typer) -> None:
    """Add ``province`` (build, zone) to the riskmap app."""
    root.add_typer(app, name="province")
