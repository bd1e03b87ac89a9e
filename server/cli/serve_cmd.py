"""``riskmap serve --store ADDRESS`` / ``riskmap serve --demo``: run the map server with uvicorn.

``--demo`` serves the demo store at ``--store`` (default ``out/changzhou.gpkg``), building it on
first use and running the zoning engine whenever its derived layers are missing or stale. Every
setting of :class:`server.settings.Settings` can also come from the environment (``RISKMAP_*``:
tokens, public URL, limits, cache sizes); a bad one is one error line before anything starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from layers.store import display_address, is_postgres_address
from server.cli.options import STORE_HELP, open_store
from server.cli.output import print_error, print_notes, stderr
from server.cli.workers import PortInUse, StartFailed, reuse_port, serve_workers

__all__ = ["register", "serve_command", "prepare_demo", "DEMO_STORE"]

#: Where ``riskmap serve --demo`` keeps the demo store when no --store is given.
DEMO_STORE = Path("out") / "changzhou.gpkg"


def prepare_demo(path: Path, scale: float = 1.0) -> Path:
    """The demo store at ``path``: built if missing, zoned if its derived layers are missing or stale."""
    from layers.demo.build import build_demo
    from zoning.pipeline import run_zoning, stale_layers
    from zoning.rules import load_ruleset

    path = Path(path)
    if not path.exists():
        stderr().print(f"building the demo store {path} (scale {scale:g}) …")
        build_demo(path.parent, scale=scale, name=path.name)
    store = open_store(path)
    ruleset = load_ruleset()
    if not store.exists("risk_wall") or stale_layers(store, ruleset):
        stderr().print(f"running the zoning engine on {path} (rules {ruleset.label}) …")
        print_notes(run_zoning(store, ruleset).warnings, limit=5)
    return path


def serve_command(
    store: Annotated[Optional[str], typer.Option(
        "--store", "-s", envvar="RISKMAP_STORE", show_envvar=False, metavar="ADDRESS",
        help=f"{STORE_HELP} With --demo: where the demo store is kept (default {DEMO_STORE}).")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Serve the Changzhou demo store, building and zoning it on first use.")] = False,
    scale: Annotated[float, typer.Option(
        "--scale", min=0.001, help="Scale of a demo store built now (with --demo).")] = 1.0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Worker processes (they share one tile cache file, see RISKMAP_TILE_CACHE).")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve a store: OGC API - Features, vector and raster tiles, TileJSON, and the map pages."""
    import uvicorn

    from server.settings import load_settings

    if not demo and store is None:
        raise typer.BadParameter("give the store to serve (--store ADDRESS, or set RISKMAP_STORE), or --demo",
                                 param_hint="--store")
    address = store if store is not None else str(DEMO_STORE)
    if not is_postgres_address(address):
        address = str(Path(address).resolve())
    elif demo:
        raise typer.BadParameter("--demo builds a GeoPackage; give it a .gpkg path (or none)", param_hint="--store")
    settings = load_settings(store=address)  # a bad RISKMAP_* variable: one line, exit 1
    if demo:
        prepare_demo(Path(address), scale)
    spread = workers > 1 and reuse_port()  # workers of our own, which open and check the store themselves
    target = None if spread else open_store(address)  # StoreError (one line, exit 1): missing, not a store, damaged

    def serving() -> None:
        stderr().print(f"serving {display_address(store if store is not None else DEMO_STORE)} at "
                       f"http://{host}:{port}/ (public view without a token)")

    if not spread:
        serving()
    if workers == 1:
        from server.app import create_app  # not in a parent of workers: each imports it (0.9 s)

        uvicorn.run(create_app(target, settings), host=host, port=port, log_level=log_level)
        return
    os.environ["RISKMAP_STORE"] = address
    if not spread:  # Windows: uvicorn's workers, on one shared socket
        target.close()
        uvicorn.run("server.app:create_app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level=log_level)
        return
    try:
        status = serve_workers(host, port, workers, log_level, on_ready=serving)  # once the store is open
    except (PortInUse, StartFailed) as exc:
        print_error(exc.strerror if isinstance(exc, PortInUse) else str(exc))
        raise typer.Exit(1) from None
    if status:
        raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the riskmap app."""
    app.command("serve")(serve_command)
