"""What the public routes share: public frames of layers, and values rebuilt when a layer changes.

The public map's answers (search index, road graph and shelters for "my place", label points of
the basemap) are worked out from whole layers, once per set of layer versions: a
:class:`PerVersion` holds one such value and rebuilds it on the first call after one of its
layers changed (so a write to the store is seen by the next request, as everywhere in the
server). :func:`public_frame` reads a layer as the public sees it, or None when the store does
not have it or the public may not see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import geopandas as gpd

from server.auth import PUBLIC
from server.redaction import Redactor
from server.source import LayerSource

__all__ = ["public_frame", "PerVersion"]


def public_frame(source: LayerSource, redactor: Redactor, infos: dict, name: str) -> gpd.GeoDataFrame | None:
    """Layer ``name`` as the public sees it, without empty geometries; None if absent or not public."""
    info = infos.get(name)
    if info is None or info.kind != "vector" or not redactor.is_public(name):
        return None
    frame = source.frame(redactor.view(name, PUBLIC), info)
    return frame[~(frame.geometry.is_empty | frame.geometry.isna())]


class PerVersion:
    """One value built from ``layers`` of ``source`` by ``build(infos)``, rebuilt when their versions change."""

    def __init__(self, source: LayerSource, layers: Iterable[str], build: Callable[[dict], object]):
        self.source, self.layers, self.build = source, tuple(layers), build
        self._lock = threading.Lock()
        self._state: tuple | None = None

    def get(self, infos: dict | None = None):
        """The value for the store's current versions (``infos`` from ``source.infos()`` if given)."""
        infos = self.source.infos() if infos is None else infos
        key = tuple((n, infos[n].version) for n in self.layers if n in infos)
        with self._lock:
            if self._state is None or self._state[0] != key:
                self._state = (key, self.build(infos))
            return self._state[1]
