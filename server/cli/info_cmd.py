"""``riskmap info --store S``: the layers of a store with rows, versions and last writes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from server.cli.options import StoreOption, open_store, stdout

__all__ = ["register", "info_command"]


def info_command(
    store: StoreOption,
    audit: Annotated[int, typer.Option("--audit", min=0, help="Also show the last N audit entries.")] = 0,
) -> None:
    """List the layers held in the store (and, with --audit N, its last N writes)."""
    target = open_store(store)
    out = stdout()
    infos = target.infos()
    if not infos:
        out.print(f"{store}: no layers yet")
    else:
        rasters = any(info.kind == "raster" for info in infos)
        derived = any(info.derived for info in infos)
        columns = ["layer"] + (["kind"] if rasters else []) + ["rows", "version", "updated (UTC)"]
        columns += ["derived", "rule set"] if derived else []
        table = Table(title=str(store), title_justify="left")
        for column in columns:
            table.add_column(column, justify="right" if column in ("rows", "version") else "left",
                             no_wrap=True)
        for info in infos:
            cells = {"layer": info.name, "kind": info.kind, "rows": str(info.rows),
                     "version": str(info.version),
                     "updated (UTC)": info.updated_at.replace("T", " ").removesuffix("+00:00"),
                     "derived": "yes" if info.derived else "", "rule set": info.ruleset_version or ""}
            table.add_row(*(cells[c] for c in columns))
        out.print(table)
    if audit:
        log = target.audit(limit=audit)
        table = Table(title="audit log (newest first)", title_justify="left")
        for column in log.columns:
            table.add_column(column, no_wrap=column != "detail")
        for row in log.itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``info`` to the riskmap app."""
    app.command("info")(info_command)
