"""``riskmap validate LAYER FILE``: check a file against a layer's schema without storing it."""

from __future__ import annotations

import typer
from rich.text import Text

from layers.errors import ValidationError
from layers.io import read_and_validate
from server.cli.options import (
    CatalogueLayerArg, CrsOption, EncodingOption, LatOption, LonOption, SourceFileArg,
    SourceLayerOption, print_error, print_notes, stdout,
)

__all__ = ["register", "validate_command"]


def validate_command(
    layer: CatalogueLayerArg,
    file: SourceFileArg,
    crs: CrsOption = None,
    encoding: EncodingOption = None,
    source_layer: SourceLayerOption = None,
    lon: LonOption = "lon",
    lat: LatOption = "lat",
) -> None:
    """Check FILE as LAYER and print every problem (one per line); exit code 1 if there are any.

    Problems go to standard output as tab-separated lines: feature (id, or "row N"), field,
    message.
    """
    out = stdout()
    try:
        clean = read_and_validate(layer, file, crs=crs, encoding=encoding, layer=source_layer,
                                  lon=lon, lat=lat)
    except ValidationError as exc:
        for problem in exc.problems:  # tab-separated, for grep, cut and spreadsheets
            typer.echo(f"{problem.feature}\t{problem.field}\t{problem.message}")
        print_error(f"{file}: {len(exc.problems)} problem(s) as layer {layer!r}")
        raise typer.Exit(1) from None
    print_notes(clean.attrs.get("notes", []))
    out.print(Text(f"{file}: {len(clean)} feature(s) valid as layer {layer!r} "
                   f"(source CRS {clean.attrs['source_crs']})", style="green"))


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the riskmap app."""
    app.command("validate")(validate_command)
