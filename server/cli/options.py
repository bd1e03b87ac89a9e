"""Options and arguments shared by the ``riskmap`` subcommands, defined once.

One grammar, as rasterio's ``rio`` keeps one: every command that works on a store takes it as
``--store/-s PATH`` (or the environment variable ``RISKMAP_STORE``), never positionally; every
command that reads a rule set takes ``--rules``, a palette ``--palette``, and every reporting
command ``--json``. Commands that read a file take ``--crs`` and ``--encoding`` the same way. Bad
values are usage errors (exit code 2) naming the valid ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from geo.errors import InputError
from layers.catalogue import CATALOGUE, SOURCE_LAYERS
from layers.errors import StoreError
from layers.gpkg import GeoPackageStore
from server.cli.output import print_error, print_notes, stderr, stdout
from zoning.rules import RuleSet, load_ruleset

__all__ = [
    "StoreOption", "NewStoreOption", "RulesOption", "PaletteOption", "JsonOption",
    "CrsOption", "EncodingOption", "SourceLayerOption", "LonOption", "LatOption",
    "CatalogueLayerArg", "SourceFileArg", "stdout", "stderr", "print_error", "print_notes",
    "open_store", "ruleset_with_palette", "STORE_HELP",
]

#: How every help text names the store.
STORE_HELP = "The riskmap store, a GeoPackage file (or set RISKMAP_STORE)."


def _catalogue_layer(value: str) -> str:
    if value not in CATALOGUE:
        raise typer.BadParameter(f"unknown layer {value!r}; known layers: {', '.join(SOURCE_LAYERS)}")
    return value


StoreOption = Annotated[Path, typer.Option(
    "--store", "-s", envvar="RISKMAP_STORE", dir_okay=False, show_envvar=False, metavar="PATH",
    help=STORE_HELP)]
NewStoreOption = Annotated[Path, typer.Option(
    "--store", "-s", envvar="RISKMAP_STORE", dir_okay=False, show_envvar=False, metavar="PATH",
    help="Where to write the new store, a GeoPackage file that must not exist yet (or set RISKMAP_STORE).")]
RulesOption = Annotated[Optional[Path], typer.Option(
    "--rules", dir_okay=False, metavar="FILE",
    help="Rule set (TOML); default: the rule set shipped with riskmap.")]
PaletteOption = Annotated[Optional[str], typer.Option(
    "--palette", metavar="NAME",
    help="Palette of the rule set: wall (red/yellow/blue/green, default) or dual_prevention "
         "(red/orange/yellow/blue).")]
SchedulerOption = Annotated[Optional[str], typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Run on Dask: a scheduler address (tcp://host:8786), or 'local' for a LocalCluster of 2 workers.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of tables.")]
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


def open_store(path: Path | None, *, create: bool = False) -> GeoPackageStore:
    """Open the store at ``path`` (creating it if ``create`` and missing), for a command line user.

    A missing store is one line that says how to make one, in commands rather than Python.
    """
    if path is None or not str(path):
        raise InputError("no store given: pass --store PATH (or set RISKMAP_STORE)")
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"{path}: no such store; build the demo store with `riskmap demo --store {path}`, "
                         f"or start one with `riskmap import LAYER FILE --store {path} --create`")
    return GeoPackageStore.open(path, create=create)


def ruleset_with_palette(rules: Path | None, palette: str | None = None) -> RuleSet:
    """The rule set of ``--rules`` (default: the shipped one), with ``--palette`` checked against it."""
    ruleset = load_ruleset(rules)
    if palette is not None:
        ruleset.palette(palette)  # unknown palette: RuleSetError listing the known ones
    return ruleset
