"""The process's GeoTIFF cache loads a missing raster once, however many threads ask for it at once."""

from __future__ import annotations

import threading
import time

from layers.rasters import _GeoTiffCache


def test_threads_asking_at_once_share_one_load():
    cache, calls = _GeoTiffCache(), []

    def load():
        calls.append(1)
        time.sleep(0.2)
        return b"tiff"

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("v1", load))) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [b"tiff"] * 12 and len(calls) == 1
    assert cache.get("v1", load) == b"tiff" and len(calls) == 1


def test_a_failed_load_is_tried_again():
    cache = _GeoTiffCache()

    def broken():
        raise OSError("unreadable")

    try:
        cache.get("v2", broken)
    except OSError:
        pass
    assert cache.get("v2", lambda: b"ok") == b"ok"
