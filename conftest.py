"""Every test session keeps its tile caches in a folder of its own, never in the user's cache folder.

The server's shared tile cache (:mod:`server.tile_cache`) defaults to ``~/.cache/riskmap/tiles``;
tests build hundreds of stores, and servers they start in subprocesses inherit the environment.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

if "RISKMAP_TILE_CACHE" not in os.environ:
    _FOLDER = tempfile.mkdtemp(prefix="riskmap-test-tiles-")
    os.environ["RISKMAP_TILE_CACHE"] = _FOLDER + os.sep
    atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
