"""``riskmap export LAYER --store S --format F --out PATH [--as ACCOUNT]``: write a stored layer to a file.

Without ``--as`` the whole layer is written (whoever runs the command can read the store itself).
``--as NAME`` writes what the account ``NAME`` may see, through the server's redaction
(:mod:`server.redaction`): a town editor's towns whole and the rest as the public sees it;
``--as public`` the public view. A layer the account may not see is refused as unknown.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from geo.errors import InputError
from layers.errors import LayerNotFound
from layers.io import EXPORT_FORMATS, write_export
from server.auth import PUBLIC, Principal, account_resolution
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
    as_account: Annotated[Optional[str], typer.Option(
        "--as", metavar="ACCOUNT", help="Write only what this account of the store may see ('public': the "
                                        "public view).")] = None,
) -> None:
    """Export LAYER from the store to --out as GeoPackage, GeoJSON (RFC 7946), CSV or GeoParquet."""
    target = open_store(store)
    if as_account is None:
        frame = target.read(layer, bbox=bbox)
    else:
        frame = _as_seen_by(target, layer, _principal(target, as_account), bbox)
    written = write_export(frame, out, fmt.value if fmt is not None else None, layer=layer)
    print_line(f"exported {len(frame)} feature(s) of {layer!r} to {written}", style="green")


def _principal(store, name: str) -> Principal:
    if name == "public":
        return PUBLIC
    found = store.accounts(name=name)
    if not found:
        raise InputError(f"--as {name!r}: no such account; 'riskmap users list' shows the accounts")
    resolution = account_resolution(found[0])
    if resolution.refused:
        raise InputError(f"--as {name!r}: {resolution.refused}")
    return resolution.principal


def _as_seen_by(store, layer: str, who: Principal, bbox):
    from server.redaction import Redactor
    from server.source import LayerSource

    redactor = Redactor()
    if not redactor.visible([layer], who) or not store.exists(layer):
        raise LayerNotFound(f"unknown layer {layer!r} (for {who.name or who.role})")
    view, info = redactor.view(layer, who), store.info(layer)
    source = LayerSource(store)
    return source.read(view, info, bbox=bbox) if bbox is not None else source.frame(view, info)


def register(app: typer.Typer) -> None:
    """Add ``export`` to the riskmap app."""
    app.command("export")(export_command)
