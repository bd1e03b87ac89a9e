"""``riskmap import LAYER FILE --store S``: read, reproject, validate and store a layer."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from layers.io import import_layer
from server.cli.options import (
    CatalogueLayerArg, CrsOption, EncodingOption, JsonOption, LatOption, LonOption, SourceFileArg,
    SourceLayerOption, StoreOption, open_store,
)
from server.cli.output import print_json, print_line, print_notes, stderr

__all__ = ["register", "import_command"]

_PHASES = {"read": "reading", "reproject": "reprojecting to EPSG:4490", "validate": "validating",
           "write": "writing to the store"}


def import_command(
    layer: CatalogueLayerArg,
    file: SourceFileArg,
    store: StoreOption,
    crs: CrsOption = None,
    encoding: EncodingOption = None,
    source_layer: SourceLayerOption = None,
    lon: LonOption = "lon",
    lat: LatOption = "lat",
    create: Annotated[bool, typer.Option("--create", help="Create the store if it does not exist.")] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who imports, for the audit log.")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Import FILE into the store as LAYER, replacing it; the store is unchanged on any error."""
    target = open_store(store, create=create)
    console = stderr()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(f"importing {file.name}", total=None)

        def on_phase(phase: str) -> None:
            progress.update(task, description=f"{_PHASES.get(phase, phase)} {file.name}")

        try:
            report = import_layer(target, layer, file, crs=crs, encoding=encoding, layer=source_layer,
                                  lon=lon, lat=lat, actor=actor, on_phase=on_phase)
        except BaseException:
            if getattr(target, "created", False):  # leave no empty store behind when --create made it
                target.destroy()
            raise
    if as_json:
        print_json({"layer": report.layer, "source": report.source, "rows": report.rows, "version": report.version,
                    "source_crs": report.source_crs, "offset": report.offset, "notes": report.notes,
                    "seconds": round(report.seconds, 3)})
        return
    print_notes(report.notes)
    print_line(str(report), style="green")


def register(app: typer.Typer) -> None:
    """Add ``import`` to the riskmap app."""
    app.command("import")(import_command)
