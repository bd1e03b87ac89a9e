"""Offline tile packages: the server's vector tiles of a store, written to PMTiles or MBTiles.

:func:`export_tiles` renders every tile of the chosen layers over their extent at each zoom of a
range with :class:`server.tiles.TileService` (the very code behind ``/tiles/...``: the same
redaction, zoom rules, clipping, simplification and encoding, so an exported tile equals the
server's tile for the same address), leaves out the empty ones, gzip-compresses each and writes a
PMTiles v3 archive (:mod:`server.pmtiles`) or an MBTiles file (:mod:`server.mbtiles`), chosen by
the suffix. The file appears whole or not at all (written beside the target, then renamed).

``view="public"`` (the default) exports what an anonymous caller sees: public layers, public
fields, disclosed rows only: a package fit for a kiosk or a CDN. ``view="planner"`` exports the
planner's view, private fields included; such a package must not be published. The view is
recorded in the metadata (``riskmap:view``) and the server's ``/pmtiles/{name}`` serves a
non-public package only to planners and admins.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

from geo.errors import InputError
from geo.tiles import tiles_covering
from layers.store import Store
from server.auth import PUBLIC, Principal
from server.mbtiles import write_mbtiles
from server.pmtiles import write_pmtiles
from server.services import build_services
from server.settings import Settings
from server.tiles import LAYER_MIN_ZOOM, TileService

__all__ = ["VIEWS", "FORMATS", "export_tiles"]

#: Export views: who the package is for.
VIEWS = {"public": PUBLIC, "planner": Principal("planner")}
FORMATS = (".pmtiles", ".mbtiles")


def _layers(service: TileService, names: list[str] | None, who: Principal, view: str):
    infos = service.source.infos()
    vector = [n for n, i in infos.items() if i.kind == "vector"]
    visible = service.redactor.visible(vector, who)
    if names is None:
        names = visible
    missing = [n for n in names if n not in vector]
    if missing:
        raise InputError(f"no vector layer {', '.join(map(repr, missing))} in the store; vector layers: "
                         f"{', '.join(vector) or 'none'}")
    hidden = [n for n in names if n not in visible]
    if hidden:
        raise InputError(f"layer(s) {', '.join(hidden)} are not public: the {view} view leaves them out; "
                         "export them with --view planner (a package that must not be published)")
    return [(service.redactor.view(n, who), infos[n]) for n in names]


def export_tiles(store: Store, out: Path, zooms: range, layers: list[str] | None = None, *,
                 view: str = "public", settings: Settings | None = None) -> dict:
    """Write the tiles of ``layers`` (default: every layer ``view`` may see) at ``zooms`` to ``out``.

    Returns ``{"tiles", "contents", "layers", "zooms", "view", "path"}``.
    """
    out = Path(out)
    if out.suffix not in FORMATS:
        raise InputError(f"{out.name}: the package must end in .pmtiles or .mbtiles")
    if view not in VIEWS:
        raise InputError(f"unknown view {view!r}; views: {', '.join(VIEWS)}")
    settings = settings or Settings()
    service = build_services(store, settings.model_copy(update={"tile_cache": "memory"})).tiles
    who = VIEWS[view]
    chosen = _layers(service, layers, who, view)
    found = [b for b in (service.source.bounds(v, i) for v, i in chosen) if b is not None]
    if not found:
        raise InputError("the chosen layers hold no features: nothing to export")
    bounds = (min(b[0] for b in found), min(b[1] for b in found), max(b[2] for b in found), max(b[3] for b in found))
    tiles = []
    for z in zooms:
        for _, x, y in tiles_covering(bounds, z).tolist():
            data = service.vector_tile(chosen, z, x, y)
            if data:
                tiles.append(((z, x, y), gzip.compress(data, compresslevel=6, mtime=0)))
    first = max(zooms.start, min(LAYER_MIN_ZOOM.get(i.name, settings.min_zoom) for _, i in chosen))
    centre_zoom = min(max(first, 12), zooms.stop - 1)
    metadata = {
        "name": out.stem, "format": "pbf", "type": "overlay", "generator": "riskmap tiles export",
        "description": f"riskmap vector tiles, {view} view" + (
            "" if view == "public" else " (private data: not for publication)"),
        "attribution": "riskmap; demo data partly generated (演示数据)",
        "vector_layers": [service.vector_layer(v, i) for v, i in chosen],
        "minzoom": zooms.start, "maxzoom": zooms.stop - 1, "bounds": list(bounds),
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, centre_zoom],
        "riskmap:view": view,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        if out.suffix == ".pmtiles":
            with open(temporary, "wb") as stream:
                counts = write_pmtiles(stream, tiles, metadata, bounds=bounds, center_zoom=centre_zoom)
            contents = counts["contents"]
        else:
            os.unlink(temporary)
            write_mbtiles(Path(temporary), tiles, metadata)
            contents = len({data for _, data in tiles})
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return {"tiles": len(tiles), "contents": contents, "layers": [i.name for _, i in chosen],
            "zooms": (zooms.start, zooms.stop - 1), "view": view, "path": out}
