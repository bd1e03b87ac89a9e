"""``GET /pmtiles/{name}``: tile packages (PMTiles) served for clients that read them by HTTP Range.

A PMTiles client (pmtiles.js, MapLibre's ``pmtiles://`` protocol, QGIS) asks for byte ranges:
first the header and root directory, then the directories and tiles it needs. The route answers
``206 Partial Content`` with ``Content-Range`` for a ``Range`` request, the whole file with
``Accept-Ranges: bytes`` otherwise, and ``416`` for a range outside the file (Starlette's
``FileResponse``). The body is never compressed on the way (the tiles inside are already gzip).

Packages are the ``*.pmtiles`` files of ``settings.pmtiles_dir`` (none when it is unset). A package
exported with ``riskmap tiles export --view planner`` records ``riskmap:view = planner`` in its
metadata: it is served only to planners and admins, and to anyone else it does not exist (404,
like an absent name). Public packages are ``Cache-Control: public``.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from layers.errors import LayerNotFound
from server.auth import Principal
from server.cache import LRUCache
from server.openapi import error_responses
from server.pmtiles import read_header, read_metadata
from server.settings import Settings

__all__ = ["PMTILES", "create_packages_router", "package_view"]

PMTILES = "application/vnd.pmtiles"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.pmtiles$")
_VIEWS = LRUCache(256)


def package_view(path: Path) -> str:
    """The ``riskmap:view`` of a package (``"public"`` or ``"planner"``), read once per file version."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    found = _VIEWS.get(key)
    if found is None:
        with open(path, "rb") as stream:
            head = stream.read(16_384)
            header = read_header(head)
            end = header["metadata_offset"] + header["metadata_length"]
            if end > len(head):
                stream.seek(0)
                head = stream.read(end)
        found = str(read_metadata(head).get("riskmap:view", "planner"))  # unlabelled: not public
        _VIEWS.put(key, found)
    return found


def create_packages_router(settings: Settings, principal) -> APIRouter:
    """The ``/pmtiles/{name}`` router (``principal``: the caller by header or session cookie)."""
    router = APIRouter(tags=["Tiles"])
    folder = Path(settings.pmtiles_dir).resolve() if settings.pmtiles_dir else None

    @router.get("/pmtiles/{name}", summary="A PMTiles package (HTTP Range requests)",
                response_class=FileResponse,
                responses={200: {"content": {PMTILES: {}}}, 206: {"description": "the requested byte range"},
                           416: {"description": "range outside the file"}, **error_responses(404)})
    def package(name: str, who: Principal = Depends(principal)):
        target = (folder / name).resolve() if folder is not None and _NAME.match(name) else None
        if target is None or not target.is_relative_to(folder) or not target.is_file():
            raise LayerNotFound(f"no tile package {name!r}")
        try:
            view = package_view(target)
        except (ValueError, OSError):
            raise LayerNotFound(f"no tile package {name!r}") from None
        if view != "public" and not who.at_least("planner"):
            raise LayerNotFound(f"no tile package {name!r}")
        scope = "public" if view == "public" else "private"
        return FileResponse(target, media_type=PMTILES,
                            headers={"Cache-Control": f"{scope}, max-age={settings.tile_max_age}"})

    return router
