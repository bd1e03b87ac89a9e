"""``riskmap info --store S``: the layers of a store with rows, versions and last writes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from layers.store import display_address
from server.cli.options import JsonOption, StoreOption, open_store
from server.cli.output import print_json, print_line, print_table

__all__ = ["register", "info_command"]


def info_command(
    store: StoreOption,
    audit: Annotated[int, typer.Option("--audit", min=0, help="Also show the last N audit entries.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List the layers held in the store (and, with --audit N, its last N writes)."""
    target = open_store(store)
    infos = target.infos()
    log = target.audit(limit=audit) if audit else None
    if as_json:
        print_json({"store": display_address(store), "layers": [asdict(i) for i in infos],
                    **({"audit": log.to_dict(orient="records")} if log is not None else {})})
        return
    if not infos:
        print_line(f"{display_address(store)}: no layers yet")
    else:
        rasters = any(info.kind == "raster" for info in infos)
        derived = any(info.derived for info in infos)
        columns = ["layer"] + (["kind"] if rasters else []) + ["rows", "version", "updated (UTC)"]
        columns += ["derived", "rule set"] if derived else []
        rows = []
        for info in infos:
            cells = {"layer": info.name, "kind": info.kind, "rows": f"{info.rows:,}",
                     "version": info.version,
                     "updated (UTC)": info.updated_at.replace("T", " ").removesuffix("+00:00"),
                     "derived": "yes" if info.derived else "", "rule set": info.ruleset_version or ""}
            rows.append([cells[c] for c in columns])
        print_table(display_address(store), columns, rows, right={"rows", "version"})
    if log is not None:
        print_table("audit log (newest first)", list(log.columns), log.itertuples(index=False))


def register(app: typer.Typer) -> None:
    """Add ``info`` to the riskmap app."""
    app.command("info")(info_command)
