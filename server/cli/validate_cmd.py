"""``riskmap validate LAYER FILE``: check a file against a layer's schema without storing it."""

from __future__ import annotations

import typer

from layers.errors import ValidationError
from layers.io import read_and_validate
from server.cli.options import (
    CatalogueLayerArg, CrsOption, EncodingOption, JsonOption, LatOption, LonOption, SourceFileArg,
    SourceLayerOption,
)
from server.cli.output import print_error, print_json, print_line, print_notes

__all__ = ["register", "validate_command"]


def validate_command(
    layer: CatalogueLayerArg,
    file: SourceFileArg,
    crs: CrsOption = None,
    encoding: EncodingOption = None,
    source_layer: SourceLayerOption = None,
    lon: LonOption = "lon",
    lat: LatOption = "lat",
    as_json: JsonOption = False,
) -> None:
    """Check FILE as LAYER and print every problem (one per line); exit code 1 if there are any.

    Problems go to standard output as tab-separated lines: feature (id, or "row N"), field,
    message.
    """
    try:
        clean = read_and_validate(layer, file, crs=crs, encoding=encoding, layer=source_layer,
                                  lon=lon, lat=lat)
    except ValidationError as exc:
        if as_json:
            print_json({"file": file, "layer": layer, "valid": False,
                        "problems": [vars(p) for p in exc.problems]})
        else:
            for problem in exc.problems:  # tab-separated, for grep, cut and spreadsheets
                typer.echo(f"{problem.feature}\t{problem.field}\t{problem.message}")
        print_error(f"{file}: {len(exc.problems)} problem(s) as layer {layer!r}")
        raise typer.Exit(1) from None
    notes = clean.attrs.get("notes", [])
    if as_json:
        print_json({"file": file, "layer": layer, "valid": True, "features": len(clean),
                    "source_crs": clean.attrs["source_crs"], "notes": notes})
        return
    print_notes(notes)
    print_line(f"{file}: {len(clean)} feature(s) valid as layer {layer!r} "
               f"(source CRS {clean.attrs['source_crs']})", style="green")


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the riskmap app."""
    app.command("validate")(validate_command)
