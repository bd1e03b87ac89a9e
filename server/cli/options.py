"""Options, arguments and output helpers shared by the ``riskmap`` subcommands.

One place for them, as rasterio's ``rio`` does: every command that takes a store takes it as
``--store`` (or ``RISKMAP_STORE``), every command that reads a file takes ``--crs`` and
``--encoding`` the same way. Bad values are usage errors (exit code 2) naming the valid ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text

from layers.catalogue import CATALOGUE, SOURCE_LAYERS
from layers.gpkg import GeoPackageStore

__all__ = [
    "StoreOption", "CrsOption", "EncodingOption", "SourceLayerOption", "LonOption", "LatOption",
    "CatalogueLayerArg", "SourceFileArg", "stdout", "stderr", "print_error", "print_notes",
    "open_store",
]


def _catalogue_layer(value: str) -> str:
    if value not in CATALOGUE:
        raise typer.BadParameter(f"unknown layer {value!r}; known layers: {', '.join(SOURCE_LAYERS)}")
    return value


StoreOption = Annotated[Path, typer.Option(
    "--store", "-s", envvar="RISKMAP_STORE", dir_okay=False,
    help="The store, a riskmap GeoPackage (env RISKMAP_STORE).")]
CrsOption = Annotated[Optional[str], typer.Option(
    "--crs", metavar="CODE",
    help="CRS of the file's coordinates when it declares none (or to override it): EPSG:4490, "
         "EPSG:4549, 4549, wgs84, cgcs2000, gcj02 (Amap/Tencent), bd09 (Baidu).")]
EncodingOption = Annotated[Optional[str], typer.Option(
    "--encoding", metavar="ENCODING",
    help="Text encoding of a CSV, GeoJSON or shapefile .dbf (e.g. gbk); UTF-8 by default.")]
SourceLayerOption = Annotated[Optional[str], typer.Option(
    "--layer", metavar="NAME", help="Layer to read from a file holding several (GeoPackage, zip).")]
LonOption = Annotated[str, typer.Option("--lon", help="Longitude (x) column of a CSV.")]
LatOption = Annotated[str, typer.Option("--lat", help="Latitude (y) column of a CSV.")]
CatalogueLayerArg = Annotated[str, typer.Argument(
    metavar="LAYER", callback=_catalogue_layer,
    help=f"Catalogue layer: {', '.join(SOURCE_LAYERS)}.")]
SourceFileArg = Annotated[Path, typer.Argument(
    metavar="FILE", dir_okay=False,
    help="Source file: .gpkg, .geojson/.json, .shp (or .zip), .parquet (GeoParquet), .csv.")]


def stdout() -> Console:
    """A console on the current standard output (looked up at call time, for test runners)."""
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    """A console on the current standard error."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(message: str) -> None:
    """Print an error as red text on standard error (no markup is interpreted)."""
    stderr().print(Text(f"error: {message}", style="red"))


def print_notes(notes: list[str], limit: int = 20) -> None:
    """Print notes (what was assumed or repaired) in yellow, at most ``limit`` of them."""
    console = stderr()
    for note in notes[:limit]:
        console.print(Text(f"note: {note}", style="yellow"))
    if len(notes) > limit:
        console.print(Text(f"note: … and {len(notes) - limit} more", style="yellow"))


def open_store(path: Path, *, create: bool = False) -> GeoPackageStore:
    """Open the GeoPackage store at ``path`` (creating it if ``create`` and missing)."""
    return GeoPackageStore.open(path, create=create)
