"""``riskmap copy --store SRC DEST``: copy a whole store into a new one, between any two backends.

The source is given like every store, with ``--store`` (or ``RISKMAP_STORE``), so that the
command reads like the others (``riskmap info --store S``, ``riskmap copy --store S DEST``) and a
store is never a bare positional argument; DEST is the new store, a ``.gpkg`` path that does not
exist or a ``postgresql://…?schema=name`` schema that holds no store. Everything is copied in one
transaction (:func:`layers.store_copy.copy_store`): layers with rows, ids, row versions and
retired rows, rasters cell for cell, metadata and the whole audit log.
"""

from __future__ import annotations

from typing import Annotated

import typer

from layers.store_copy import copy_store
from server.cli.options import JsonOption, StoreOption, open_store
from server.cli.output import print_json, print_line, print_table

__all__ = ["register", "copy_command"]


def copy_command(
    store: StoreOption,
    dest: Annotated[str, typer.Argument(
        metavar="DEST", help="The new store: a .gpkg path that does not exist yet, or an empty PostGIS schema "
                             "(postgresql://user@host:port/db?schema=name).")],
    as_json: JsonOption = False,
) -> None:
    """Copy the store (--store) into a new store DEST: layers, versions, retired rows, rasters, audit."""
    report = copy_store(open_store(store), dest)
    if as_json:
        print_json({"source": report.source, "target": report.target, "layers": report.layers,
                    "rasters": report.rasters, "retired": report.retired, "audit_rows": report.audit_rows,
                    "seconds": round(report.seconds, 2)})
        return
    rows = [(name, f"{n:,}") for name, n in report.layers.items()] + [(name, "raster") for name in report.rasters]
    print_table(f"copied {report.source} → {report.target} ({report.seconds:.1f} s)", ["layer", "rows"], rows,
                right={"rows"})
    print_line(f"{report.retired:,} retired row(s) and {report.audit_rows:,} audit entries copied", style="green")


def register(app: typer.Typer) -> None:
    """Add ``copy`` to the riskmap app."""
    app.command("copy")(copy_command)
