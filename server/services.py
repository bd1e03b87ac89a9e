"""What the routers of one app share: :class:`Services`, built once by :func:`build_services`.

Its own module so that router modules (``server.pages``, ``server.siting_api``…) can name the type
without importing :mod:`server.app`, which imports them: the app factory sits above its routers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layers.store import Store, display_address, is_postgres_address
from server.auth import TokenAuth
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource
from server.prepared_files import PreparedFiles, default_layer_folder
from server.tile_cache import MemoryTileCache, SharedTileCache, default_cache_path
from server.tiles import TileService

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    """What the routers share, built once per app."""

    store: Store
    settings: Settings
    source: LayerSource
    redactor: Redactor
    auth: TokenAuth
    principal: Callable  # FastAPI dependency → server.auth.Principal
    tile_cache: SharedTileCache | MemoryTileCache
    #: The tile rendering and cache, for routers that change rows: ``tiles.invalidate(layers, bounds)``.
    tiles: TileService


def _cache_address(store: Store) -> str:
    """The store's address as caches name it: a GeoPackage's absolute path, a database without password."""
    address = store.address
    return display_address(address) if is_postgres_address(address) else str(Path(address).resolve())


def tile_cache_for(store: Store, settings: Settings) -> SharedTileCache | MemoryTileCache:
    """The tile cache of ``store``: the file shared by its workers, or one per process (see Settings)."""
    address = _cache_address(store)
    path = default_cache_path(address, settings.tile_cache)
    if path is None or settings.tile_cache_bytes == 0:
        return MemoryTileCache(settings.tile_cache_size)
    shared = SharedTileCache(path, store=address, max_bytes=settings.tile_cache_bytes)
    return shared if shared.disabled is None else MemoryTileCache(settings.tile_cache_size)


def build_services(store: Store, settings: Settings) -> Services:
    """The shared pieces of an app over ``store``."""
    auth = TokenAuth(settings.tokens, store)
    folder = default_layer_folder(_cache_address(store), settings.layer_cache)
    source = LayerSource(store, frame_cache_size=settings.frame_cache_size,
                         frame_cache_rows=settings.frame_cache_rows, index_max_rows=settings.index_max_rows,
                         files=PreparedFiles(folder) if folder is not None else None)
    redactor, cache = Redactor(), tile_cache_for(store, settings)
    return Services(store=store, settings=settings, source=source, redactor=redactor, auth=auth,
                    principal=auth.dependency(), tile_cache=cache,
                    tiles=TileService(source, redactor, settings, cache))
