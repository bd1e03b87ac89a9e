"""``riskmap zone --store S``: run the zoning engine on a store and print the town risk walls.

Loads the source layers, classifies every plot (the risk wall), grades major hazard sources
(GB 18218-2018), computes external safety distances and buffers (GB/T 37243-2019), finds
separation violations, colours towns and a grid, rasterises the risk surface, and writes every
derived layer back in one step, stamped with the rule set and an input fingerprint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from server.cli.options import StoreOption, open_store, print_notes, stdout
from zoning.pipeline import run_zoning
from zoning.rules import load_ruleset

__all__ = ["register", "zone_command"]


def zone_command(
    store: StoreOption,
    rules: Annotated[Optional[Path], typer.Option(
        "--rules", dir_okay=False, help="Rule set (TOML); default data/rules/default.toml.")] = None,
    palette: Annotated[Optional[str], typer.Option(
        "--palette", help="Palette of the rule set: wall (red/yellow/blue/green, default) or "
                          "dual_prevention (red/orange/yellow/blue).")] = None,
    grid: Annotated[float, typer.Option("--grid", min=50, help="Zone grid cell size, metres.")] = 500.0,
    cell: Annotated[float, typer.Option("--cell", min=10, help="Risk surface cell size, metres.")] = 100.0,
) -> None:
    """Run the zoning engine on STORE and write the derived layers back into it."""
    ruleset = load_ruleset(rules)
    if palette is not None:
        ruleset.palette(palette)  # unknown palette: RuleSetError listing the known ones
    target = open_store(store)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=stdout(), transient=True) as progress:
        progress.add_task(f"zoning {store.name} with rules {ruleset.label}", total=None)
        result = run_zoning(target, ruleset, palette=palette, grid_cell_m=grid, surface_cell_m=cell)
    print_notes(result.warnings)
    out = stdout()
    table = Table(title=f"derived layers (rules {ruleset.label})", title_justify="left")
    table.add_column("layer")
    table.add_column("rows", justify="right")
    for name, frame in result.layers.items():
        table.add_row(name, str(len(frame)))
    if result.surface is not None:
        table.add_row("risk_surface", "x".join(str(n) for n in result.surface[0].shape))
    out.print(table)
    summary = result.wall_summary
    counts = [c for c in summary.columns if c.startswith("count_") and c != "count_total"]
    wall = Table(title="risk wall per area (plots per colour)", title_justify="left")
    for column in ["code", "name", *counts, "count_total"]:
        wall.add_column(column.removeprefix("count_"), justify="left" if column in ("code", "name") else "right")
    for row in summary.itertuples(index=False):
        values = row._asdict()
        wall.add_row(*(str(values[c]) for c in ["code", "name", *counts, "count_total"]))
    out.print(wall)


def register(app: typer.Typer) -> None:
    """Add ``zone`` to the riskmap app."""
    app.command("zone")(zone_command)
