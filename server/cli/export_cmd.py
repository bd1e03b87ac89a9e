"""``riskmap export LAYER --store S --format F --out PATH``: write a stored layer to a file."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from layers.io import EXPORT_FORMATS, write_export
from server.cli.options import StoreOption, open_store
from server.cli.output import print_line

__all__ = ["register", "export_command", "ExportFormat"]

ExportFormat = Enum("ExportFormat", {name: name for name in EXPORT_FORMATS}, type=str)


def _bbox(value: Optional[str]):
    if value is None:
        return None
    try:
        box = tuple(float(v) for v in value.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not (box[0] <= box[2] and box[1] <= box[3]):
        raise typer.BadParameter(f"{value!r} is not MIN_LON,MIN_LAT,MAX_LON,MAX_LAT")
    return box


def export_command(
    layer: Annotated[str, typer.Argument(metavar="LAYER", help="Layer held in the store.")],
    store: StoreOption,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="File to write (replaced).")],
    fmt: Annotated[Optional[ExportFormat], typer.Option(
        "--format", "-f", help="Output format; taken from the --out suffix when omitted.")] = None,
    bbox: Annotated[Optional[str], typer.Option(
        "--bbox", metavar="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT", callback=_bbox,
        help="Only features meeting this box (EPSG:4490 degrees).")] = None,
) -> None:
    """Export LAYER from the store to --out as GeoPackage, GeoJSON (RFC 7946), CSV or GeoParquet."""
    frame = open_store(store).read(layer, bbox=bbox)
    written = write_export(frame, out, fmt.value if fmt is not None else None, layer=layer)
    print_line(f"exported {len(frame)} feature(s) of {layer!r} to {written}", style="green")


def register(app: typer.Typer) -> None:
    """Add ``export`` to the riskmap app."""
    app.command("export")(export_command)
