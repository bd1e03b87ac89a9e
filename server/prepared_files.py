"""Prepared layers kept in files, so a new server worker has its tile layers in a fraction of the time.

A combined tile needs every vector layer prepared (:class:`server.tile_layers.TileLayer`: read from
the store, redacted, indexed, its attributes encoded). At scale 10 that is 2.3 s of CPU in each
worker after every start, and on a cold server under load the tiles wait for it: p95 stayed at
5-7 s on the mixed load of 100 clients even once no tile read rows while waiting. Restored from
files the fourteen layers take 0.5 s (the roads' 232 000 geometries decoded from WKB and indexed
again are 0.3 s of it).

* One file per layer, version, time of the last write, view and kind, named after a digest of
  them all (and of :data:`FORMAT`): an edit, a write by any tool or a change of the redaction
  rules gives another name, so a file is never stale, only unused. Only views that are the same
  for every caller of a role are kept (a town editor's view, which follows the plots' towns, is not).
* numpy ``.npz`` without pickle: a file in a cache folder cannot run code when read.
* One worker prepares a layer, the others wait for its file (:meth:`PreparedFiles.claim`, an
  advisory ``flock`` on ``<file>.lock``, released by the kernel if the worker dies). On a first
  start with two workers each prepared every layer, 2.3 s of CPU each on a 2-core machine under
  load; now each prepares about half and restores the rest.
* Written whole to a temporary file and renamed (a worker without locks writing the same layer
  leaves one of two identical files), then the older files of the same layer and view are removed.
  A file that cannot be read is removed, and the layer is prepared from the store again; a
  temporary file left by a process stopped while writing is removed by a later save.

The folder is ``$XDG_CACHE_HOME/riskmap/layers/<digest of the store's address>`` by default
(``RISKMAP_LAYER_CACHE``: another folder, or ``off``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no claims, every worker prepares its layers
    fcntl = None

__all__ = ["FORMAT", "PreparedFiles", "default_layer_folder"]

log = logging.getLogger(__name__)

#: Changes when what is kept (or how) changes, so older files are not read.
FORMAT = "riskmap-prepared-1"
#: A temporary file this old was left by a process stopped while writing it (removed by the next save).
STALE_WRITE_SECONDS = 600


def default_layer_folder(store_address: str, setting: str | os.PathLike | None = None) -> Path | None:
    """The folder of ``store_address``'s prepared layers; None when they are not kept (``off``).

    >>> default_layer_folder("/data/city.gpkg", "off") is None
    True
    >>> default_layer_folder("/data/city.gpkg", "/srv/layers").parent
    PosixPath('/srv/layers')
    """
    if setting is not None and str(setting).strip().lower() == "off":
        return None
    store = hashlib.sha1(str(store_address).encode()).hexdigest()[:16]
    if setting is None or not str(setting).strip():
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "riskmap" / "layers" / store
    return Path(setting).expanduser() / store


def _digest(*parts) -> str:
    return hashlib.sha1(repr((FORMAT, *parts)).encode()).hexdigest()[:20]


class PreparedFiles:
    """The prepared layers of one store in ``folder`` (see the module docstring)."""

    def __init__(self, folder: os.PathLike):
        self.folder = Path(folder)

    def path(self, layer: str, version: int, written: str, view: str, kind: str) -> Path:
        """The file of ``layer`` at ``version`` (last written at ``written``) in ``view`` (its full
        definition, e.g. ``repr`` of a :class:`server.redaction.LayerView`), prepared as ``kind``."""
        return self.folder / f"{layer}.{_digest(view, kind)}.{_digest(layer, version, written, view, kind)}.npz"

    def load(self, path: Path) -> dict[str, np.ndarray] | None:
        """The arrays kept in ``path``; None when there is no such file, or when it cannot be read
        (it is then removed)."""
        try:
            with np.load(path, allow_pickle=False) as kept:
                return {name: kept[name] for name in kept.files}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("prepared layer %s cannot be read (%s); preparing it again", path.name, exc)
            self.discard(path)
            return None

    @contextlib.contextmanager
    def claim(self, path: Path) -> Iterator[bool]:
        """Whether this process may prepare the layer of ``path`` now: True, holding the claim until the
        block ends, or False while another process holds it (its file comes soon: wait, then load it).

        Where the folder cannot be written (or on Windows) every process may: only work is repeated.
        """
        if fcntl is None:
            yield True
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield True
            return
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            except OSError:  # a file system without locks
                yield True
                return
            yield True
        finally:
            os.close(handle)  # releases the lock

    def save(self, path: Path, arrays: dict[str, np.ndarray]) -> bool:
        """Keep ``arrays`` in ``path`` (whole or not at all) and remove the older files of the same
        layer and view; False when the folder cannot be written (the server goes on without)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".writing-", suffix=".npz")
            try:
                with os.fdopen(handle, "wb") as out:
                    np.savez(out, **arrays)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("cannot keep prepared layer %s in %s (%s)", path.name, self.folder, exc)
            return False
        layer_and_view = path.name.rsplit(".", 2)[0]
        for older in (*self.folder.glob(f"{layer_and_view}.*.npz"), *self.folder.glob(f"{layer_and_view}.*.lock")):
            if older.stem != path.stem:  # a worker still preparing an older version only repeats work
                self.discard(older)
        stale = time.time() - STALE_WRITE_SECONDS
        for left in self.folder.glob(".writing-*.npz"):  # a process stopped while writing
            with contextlib.suppress(OSError):
                if left.stat().st_mtime < stale:
                    self.discard(left)
        return True

    def discard(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # pragma: no cover - removed by another worker meanwhile, or read-only
            pass
