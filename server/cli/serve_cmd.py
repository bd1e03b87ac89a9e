"""``riskmap serve STORE.gpkg`` / ``riskmap serve --demo``: run the map server with uvicorn.

``--demo`` serves ``OUT/changzhou.gpkg`` (``--out``, default ``out``), building the demo store on
first use and running the zoning engine whenever its derived layers are missing or stale. Every
setting of :class:`server.settings.Settings` can also come from the environment (``RISKMAP_*``:
tokens, public URL, limits, cache sizes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from layers.gpkg import GeoPackageStore
from server.cli.options import print_notes, stderr

__all__ = ["register", "serve_command", "prepare_demo"]


def prepare_demo(out: Path, scale: float = 1.0) -> Path:
    """The demo store in ``out``: built if missing, zoned if its derived layers are missing or stale."""
    from layers.demo.build import STORE_NAME, build_demo
    from zoning.pipeline import run_zoning, stale_layers
    from zoning.rules import load_ruleset

    path = Path(out) / STORE_NAME
    if not path.exists():
        stderr().print(f"building the demo store {path} (scale {scale:g}) …")
        build_demo(out, scale=scale)
    store = GeoPackageStore(path)
    ruleset = load_ruleset()
    if not store.exists("risk_wall") or stale_layers(store, ruleset):
        stderr().print(f"running the zoning engine on {path} (rules {ruleset.label}) …")
        print_notes(run_zoning(store, ruleset).warnings, limit=5)
    return path


def serve_command(
    store: Annotated[Optional[Path], typer.Argument(
        metavar="STORE.gpkg", dir_okay=False, show_default=False,
        help="The riskmap store to serve (or use --demo).")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Serve the Changzhou demo store, building and zoning it on first use.")] = False,
    out: Annotated[Path, typer.Option(
        "--out", "-o", file_okay=False, help="Folder of the demo store (with --demo).")] = Path("out"),
    scale: Annotated[float, typer.Option(
        "--scale", min=0.001, help="Scale of a demo store built now (with --demo).")] = 1.0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Worker processes (each has its own tile cache).")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve a store: OGC API - Features, vector and raster tiles, TileJSON."""
    import uvicorn

    from server.app import create_app
    from server.settings import Settings

    if demo == (store is not None):
        raise typer.BadParameter("give either STORE.gpkg or --demo (one of them)", param_hint="STORE")
    path = prepare_demo(out, scale) if demo else store
    target = GeoPackageStore(path)  # StoreError (one line, exit 1) if it is not a store
    stderr().print(f"serving {path} at http://{host}:{port}/ (public view without a token)")
    if workers == 1:
        uvicorn.run(create_app(target, Settings(store=path)), host=host, port=port, log_level=log_level)
    else:
        os.environ["RISKMAP_STORE"] = str(Path(path).resolve())
        uvicorn.run("server.app:create_app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level=log_level)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the riskmap app."""
    app.command("serve")(serve_command)
