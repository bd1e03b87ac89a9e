"""``riskmap tiles export``: the server's vector tiles of a store as one PMTiles or MBTiles file;
``riskmap tiles prepare``: the layers the server cuts tiles from, prepared and kept for its next start.

For kiosks and CDNs: the package holds the tiles ``/tiles/...`` would serve (same generalisation),
by default only what an anonymous caller sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from server.cli.options import StoreOption, open_store
from server.cli.output import print_line
from server.tile_export import VIEWS, export_tiles

__all__ = ["register", "export_command", "prepare_command", "parse_zooms"]

tiles_app = typer.Typer(name="tiles", help="Tile packages (PMTiles, MBTiles) for offline use; layers prepared "
                                           "for the server's next start.",
                        no_args_is_help=True)


def parse_zooms(value: str) -> range:
    """``"8-16"`` (or ``"12"``) → ``range(8, 17)``; a usage error otherwise."""
    low, _, high = value.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a zoom or a range like 8-16") from None
    if not 0 <= first <= last <= 22:
        raise typer.BadParameter(f"{value!r}: zooms must be 0..22, the first not above the last")
    return range(first, last + 1)


def _layer_list(value: Optional[str]) -> Optional[list[str]]:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise typer.BadParameter("give layer names, comma-separated (e.g. risk_wall,shelters)")
    return names


def export_command(
    store: StoreOption,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False,
                                      help="The package to write: NAME.pmtiles or NAME.mbtiles (replaced).")],
    layers: Annotated[Optional[str], typer.Option(
        "--layers", metavar="A,B,…", callback=_layer_list,
        help="Vector layers to include; default: every layer the view may see.")] = None,
    zoom: Annotated[str, typer.Option("--zoom", metavar="MIN-MAX", help="Zoom levels, e.g. 8-16.")] = "8-16",
    view: Annotated[str, typer.Option(
        "--view", metavar="VIEW",
        help="public (default: what anyone may see, fit to publish) or planner (includes private data: "
             "never publish it).")] = "public",
) -> None:
    """Export vector tiles of the store to one PMTiles (v3) or MBTiles file."""
    if view not in VIEWS:
        raise typer.BadParameter(f"unknown view {view!r}; views: {', '.join(VIEWS)}", param_hint="--view")
    zooms = parse_zooms(zoom)
    done = export_tiles(open_store(store), out, zooms, layers, view=view)
    scope = ("public view: only what an anonymous caller sees" if view == "public"
             else "PLANNER VIEW: includes private data; do not publish this file")
    print_line(f"exported {done['tiles']} tile(s) ({done['contents']} distinct) of {', '.join(done['layers'])} "
               f"at zooms {done['zooms'][0]}-{done['zooms'][1]} to {done['path']} ({scope})",
               style="green" if view == "public" else "yellow")


tiles_app.command("export")(export_command)


def prepare_command(
    store: StoreOption,
    view: Annotated[Optional[str], typer.Option(
        "--view", metavar="VIEW", help="Only this view (public or planner); default: both.")] = None,
) -> None:
    """Prepare the layers the server cuts tiles from, and keep them for its next start.

    The files go where ``riskmap serve`` looks for them (``RISKMAP_LAYER_CACHE``, by default
    ~/.cache/riskmap/layers). Run it after ``riskmap zone`` on a deployment: the server's first start
    then restores the layers in a fraction of a second instead of reading them under its first users.
    """
    from server.services import build_services
    from server.settings import load_settings

    if view is not None and view not in VIEWS:
        raise typer.BadParameter(f"unknown view {view!r}; views: {', '.join(VIEWS)}", param_hint="--view")
    target = open_store(store)
    settings = load_settings(store=target.address)
    services = build_services(target, settings.model_copy(update={"tile_cache": "memory"}))
    callers = [VIEWS[view]] if view else [VIEWS["planner"], VIEWS["public"]]
    kept = services.tiles.prepare_kept(callers)
    folder = services.source.files.folder
    print_line(f"kept {len(kept)} prepared layer(s) in {folder}", style="green")


tiles_app.command("prepare")(prepare_command)


def register(app: typer.Typer) -> None:
    """Add ``tiles`` (with ``tiles export``) to the riskmap app."""
    app.add_typer(tiles_app, name="tiles")
