"""``riskmap check --store S``: the full integrity check of a store.

The cheap check every command runs when it opens a store (for a GeoPackage: header, application
id, ``PRAGMA quick_check``, required tables) refuses a damaged store with one line. This command
runs the full check instead and lists every problem found: ``PRAGMA integrity_check``, foreign
keys, and each layer against its GeoPackage tables (registration, SRS 4490, row counts, the
R-tree spatial index, repeated or missing ids) and each raster's tiles; for PostGIS, each layer's
table, SRID, GiST index and ids, and each raster's bytes. It never writes anything. Exit code 0
when the store is healthy, 1 when a problem was found.
"""

from __future__ import annotations

import time

import typer

from layers.store import display_address
from server.cli.options import JsonOption, StoreOption, open_store
from server.cli.output import print_json, print_line, stderr

__all__ = ["register", "check_command"]


def check_command(store: StoreOption, as_json: JsonOption = False) -> None:
    """Check the store thoroughly (integrity, spatial indexes, ids, rasters); exit 1 if it is damaged."""
    started = time.perf_counter()
    target = open_store(store, check=False)  # a damaged store is examined, not refused
    problems = target.check(full=True)
    target.close()
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        print_json({"store": display_address(store), "ok": not problems, "problems": problems, "seconds": seconds})
    elif problems:
        console = stderr()
        console.print(f"{display_address(store)}: {len(problems)} problem(s) found ({seconds} s)", style="red")
        for problem in problems:
            console.print(f"  - {problem}", markup=False, highlight=False)
    else:
        print_line(f"{display_address(store)}: ok ({seconds} s)", style="green")
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``check`` to the riskmap app."""
    app.command("check")(check_command)
