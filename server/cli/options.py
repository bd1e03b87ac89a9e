"""Options and arguments shared by the ``riskmap`` subcommands, defined once.

One grammar, as rasterio's ``rio`` keeps one: every command that works on a store takes it as
``--store/-s ADDRESS`` (or the environment variable ``RISKMAP_STORE``), never positionally — a
GeoPackage path or a ``postgresql://`` URL, the same everywhere (:func:`layers.store.open_store`); every
command that reads a rule set takes ``--rules``, a palette ``--palette``, and every reporting
command ``--json``. Commands that read a file take ``--crs`` and ``--encoding`` the same way. Bad
values are usage errors (exit code 2) naming the valid ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from layers.catalogue import CATALOGUE, SOURCE_LAYERS
from layers.store import Store
from layers.store import open_store as _open_store
from server.cli.output import print_error, print_notes, stderr, stdout
from zoning.rules import RuleSet, load_ruleset

__all__ = [
    "StoreOption", "NewStoreOption", "RulesOption", "PaletteOption", "JsonOption",
    "CrsOption", "EncodingOption", "SourceLayerOption", "LonOption", "LatOption",
    "CatalogueLayerArg", "SourceFileArg", "stdout", "stderr", "print_error", "print_notes",
    "open_store", "store_label", "ruleset_with_palette", "STORE_HELP",
]

#: How every help text names the store.
STORE_HELP = ("The riskmap store: a GeoPackage file (city.gpkg) or a PostGIS schema "
              "(postgresql://user@host:port/db?schema=name); or set RISKMAP_STORE.")


def _catalogue_layer(value: str) -> str:
    if value not in CATALOGUE:
        raise typer.BadParameter(f"unknown layer {value!r}; known layers: {', '.join(SOURCE_LAYERS)}")
    return value


StoreOption = Annotated[str, typer.Option(
    "--store", "-s", envvar="RISKMAP_STORE", show_envvar=False, metavar="ADDRESS", help=STORE_HELP)]
NewStoreOption = Annotated[str, typer.Option(
    "--store", "-s", envvar="RISKMAP_STORE", show_envvar=False, metavar="ADDRESS",
    help="Where to write the new store, which must not exist yet: a GeoPackage file (city.gpkg) or an "
         "empty PostGIS schema (postgresql://user@host:port/db?schema=name); or set RISKMAP_STORE.")]
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


def open_store(address: str | Path | None, *, create: bool = False, check: bool = True) -> Store:
    """Open the store at ``address`` (creating it if ``create`` and missing), for a command line user.

    Every failure is one line naming the address: missing (with the commands that make one),
    not a store, damaged (refused before anything is read or written), unreachable.
    """
    return _open_store(address if address is None else str(address), create=create, check=check)


def store_label(address: str | Path) -> str:
    """A short name of a store for progress lines: a file's name, or the URL without its password."""
    from layers.store import display_address, is_postgres_address

    return display_address(address) if is_postgres_address(str(address)) else Path(str(address)).name


def ruleset_with_palette(rules: Path | None, palette: str | None = None) -> RuleSet:
    """The rule set of ``--rules`` (default: the shipped one), with ``--palette`` checked against it."""
    ruleset = load_ruleset(rules)
    if palette is not None:
        ruleset.palette(palette)  # unknown palette: RuleSetError listing the known ones
    return ruleset
