"""A small thread-safe LRU cache with hit and miss counts.

Keys carry the version of every layer a value was computed from, so a write to a layer (which
bumps its version) makes every older entry unreachable; they age out of the LRU order.

>>> cache = LRUCache(2)
>>> cache.put("a", 1); cache.put("b", 2); cache.get("a")
1
>>> cache.put("c", 3)          # evicts "b", the least recently used
>>> cache.get("b") is None, len(cache), cache.stats()["hits"]
(True, 2, 1)
>>> rows = LRUCache(10, maxweight=100)   # whole layers, weighed by their rows
>>> rows.put("plots", "…", weight=80); rows.put("roads", "…", weight=500)
>>> rows.get("plots"), rows.get("roads")   # too heavy to keep: not kept, nothing evicted for it
('…', None)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["LRUCache"]


class LRUCache:
    """Least-recently-used cache of at most ``maxsize`` entries (0 disables it).

    With ``maxweight``, entries also carry a weight (``put(..., weight=)``) and the total weight
    is kept under it; an entry heavier than ``maxweight`` alone is not kept.
    """

    def __init__(self, maxsize: int, maxweight: float | None = None):
        self.maxsize = int(maxsize)
        self.maxweight = maxweight
        self._data: OrderedDict[Hashable, object] = OrderedDict()
        self._weights: dict[Hashable, float] = {}
        self._total = 0.0  # the sum of the weights, kept as entries come and go
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, default=None):
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                self.misses += 1
                return default
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value, weight: float = 1) -> None:
        if self.maxsize <= 0 or (self.maxweight is not None and weight > self.maxweight):
            return
        with self._lock:
            self._data[key] = value
            self._total += weight - self._weights.get(key, 0)
            self._weights[key] = weight
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize or (self.maxweight is not None and self._total > self.maxweight):
                old, _ = self._data.popitem(last=False)
                self._total -= self._weights.pop(old)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._weights.clear()
            self._total = 0.0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def stats(self) -> dict[str, int]:
        """``{"size", "maxsize", "hits", "misses"}``."""
        with self._lock:
            return {"size": len(self._data), "maxsize": self.maxsize, "hits": self.hits,
                    "misses": self.misses}
