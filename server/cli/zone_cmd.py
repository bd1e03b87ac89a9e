"""``riskmap zone --store S``: run the zoning engine on a store and print the town risk walls.

Loads the source layers, classifies every plot (the risk wall), grades major hazard sources
(GB 18218-2018), computes external safety distances and buffers (GB/T 37243-2019), finds
separation violations, colours towns and a grid, rasterises the risk surface, and writes every
derived layer back in one step, stamped with the rule set and an input fingerprint.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from server.cli.options import (
    JsonOption,
    PaletteOption,
    RulesOption,
    SchedulerOption,
    StoreOption,
    open_store,
    ruleset_with_palette,
    store_label,
)
from server.cli.output import print_json, print_notes, print_table, stderr
from zoning.pipeline import compute_zoning, run_zoning

__all__ = ["register", "zone_command"]


def zone_command(
    store: StoreOption,
    rules: RulesOption = None,
    palette: PaletteOption = None,
    grid: Annotated[float, typer.Option("--grid", min=50, help="Zone grid cell size, metres.")] = 500.0,
    cell: Annotated[float, typer.Option("--cell", min=10, help="Risk surface cell size, metres.")] = 100.0,
    as_json: JsonOption = False,
    scheduler: SchedulerOption = None,
) -> None:
    """Run the zoning engine on the store and write the derived layers back into it.

    With ``--scheduler`` the run is partitioned by district and runs on Dask (same result).
    """
    ruleset = ruleset_with_palette(rules, palette)
    target = open_store(store)
    console = stderr()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        progress.add_task(f"zoning {store_label(store)} with rules {ruleset.label}", total=None)
        with _compute(scheduler) as compute:
            result = run_zoning(target, ruleset, palette=palette, grid_cell_m=grid, surface_cell_m=cell,
                                compute=compute)
    summary = result.wall_summary
    counts = [c for c in summary.columns if c.startswith("count_") and c != "count_total"]
    layers = {name: len(frame) for name, frame in result.layers.items()}
    surface = "x".join(str(n) for n in result.surface[0].shape) if result.surface is not None else None
    if as_json:
        print_json({"ruleset": ruleset.label, "layers": layers, "risk_surface": surface,
                    "warnings": result.warnings,
                    "wall": summary[["code", "name", *counts, "count_total"]].to_dict(orient="records")})
        return
    print_notes(result.warnings)
    rows = [(name, f"{n:,}") for name, n in layers.items()]
    if surface is not None:
        rows.append(("risk_surface", surface))
    print_table(f"derived layers (rules {ruleset.label})", ["layer", "rows"], rows, right={"rows"})
    headings = ["code", "name", *(c.removeprefix("count_") for c in counts), "total"]
    print_table("risk wall per area (plots per colour)", headings,
                summary[["code", "name", *counts, "count_total"]].itertuples(index=False),
                right=set(headings[2:]))


@contextlib.contextmanager
def _compute(scheduler: str | None):
    """compute_zoning in process, or its Dask twin on the scheduler asked for ('local': a LocalCluster)."""
    if not scheduler:
        yield compute_zoning
        return
    from zoning.province.run import compute_distributed, connect

    with connect(None if scheduler == "local" else scheduler) as client:
        yield partial(compute_distributed, client=client)


def register(app: typer.Typer) -> None:
    """Add ``zone`` to the riskmap app."""
    app.command("zone")(zone_command)
