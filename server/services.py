"""What the routers of one app share: :class:`Services`, built once by :func:`build_services`.

Its own module so that router modules (``server.pages``, ``server.siting_api``…) can name the type
without importing :mod:`server.app`, which imports them: the app factory sits above its routers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from layers.store import Store
from server.auth import TokenAuth
from server.cache import LRUCache
from server.redaction import Redactor
from server.settings import Settings
from server.source import LayerSource

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
    tile_cache: LRUCache


def build_services(store: Store, settings: Settings) -> Services:
    """The shared pieces of an app over ``store``."""
    auth = TokenAuth(settings.tokens, store)
    return Services(
        store=store, settings=settings,
        source=LayerSource(store, frame_cache_size=settings.frame_cache_size,
                           frame_cache_rows=settings.frame_cache_rows,
                           index_max_rows=settings.index_max_rows),
        redactor=Redactor(), auth=auth, principal=auth.dependency(),
        tile_cache=LRUCache(settings.tile_cache_size),
    )
