"""The check on opening a GeoPackage store: cheap, remembered per file state, refusing with one line.

:func:`integrity` is what :class:`layers.gpkg.GeoPackageStore` runs before anything else: the
file's header and GeoPackage application id, ``PRAGMA quick_check`` (every page of every b-tree
read once: 1.5–2 s for the 434 MB scale-100 demo in the page cache, more from a cold disk; see
``benchmarks/bench_store.py --open``), and the tables a store needs. A
damaged store is refused by :func:`refusal`'s one line and nothing is ever written to it.

The result is remembered per *file state* — path, inode, size, mtime, ctime and the WAL's size and
mtime — in the process and in a small file of the user's cache folder, so that a command over an
unchanged 400 MB store does not pay the check again; any write, by riskmap or anyone else, changes
the state and the next open checks again. A state modified in the last two seconds is never
remembered: a change within the same tick of the file system's clock could leave it unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from layers.errors import StoreError
from layers.gpkg_sql import AUDIT_TABLE, META_TABLE, quick_check, read_header

__all__ = ["REQUIRED_TABLES", "integrity", "check_uri", "refusal", "missing_store", "file_state"]

#: Tables without which a GeoPackage is not a riskmap store.
REQUIRED_TABLES = ("gpkg_spatial_ref_sys", "gpkg_contents", META_TABLE, AUDIT_TABLE)
#: A file state modified more recently than this (seconds) is never taken as checked: a change within the same
#: tick of the file system's clock would leave its size and mtime as they were.
_SETTLED_S = 2.0



def file_state(path: Path) -> tuple[str, ...] | None:
    """What identifies the file's content cheaply (path, inode, size, mtime, ctime, WAL size and
    mtime), or None while it was modified too recently to be trusted (see :data:`_SETTLED_S`)."""
    stat = path.stat()
    wal = Path(f"{path}-wal")
    wal_stat = wal.stat() if wal.exists() else None
    newest = max(stat.st_mtime, wal_stat.st_mtime if wal_stat else 0)
    if time.time() - newest < _SETTLED_S:
        return None
    wal_state = (wal_stat.st_size, wal_stat.st_mtime_ns) if wal_stat else (0, 0)
    return tuple(map(str, (path.resolve(), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
                           *wal_state)))


class _CheckedStates:
    """File states whose quick check passed, kept in the process and in a small file of the user's
    cache folder (``$RISKMAP_CACHE_DIR``, else ``$XDG_CACHE_HOME/riskmap`` or ``~/.cache/riskmap``),
    so that a command on an unchanged 400 MB store does not pay ~1 s of ``quick_check`` again."""

    limit = 256

    def __init__(self) -> None:
        self._seen: set[tuple] = set()

    @staticmethod
    def _file() -> Path:
        folder = os.environ.get("RISKMAP_CACHE_DIR") or Path(
            os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "riskmap"
        return Path(folder) / "checked-stores"

    def _lines(self) -> list[str]:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return self._file().read_text(encoding="utf-8").splitlines()
        return []

    def __contains__(self, state) -> bool:
        return state is not None and (state in self._seen or "\t".join(state) in self._lines())

    def add(self, state) -> None:
        if state is None or state in self._seen:
            return
        self._seen.add(state)
        lines = [line for line in self._lines() if line][-(self.limit - 1):] + ["\t".join(state)]
        with contextlib.suppress(OSError):
            target = self._file()
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            os.replace(tmp, target)


_CHECKED = _CheckedStates()


def missing_store(path: Path) -> StoreError:
    return StoreError(f"{path}: no such store; build the demo store with `riskmap demo --store {path}`, "
                      f"or start one with `riskmap import LAYER FILE --store {path} --create`")


def integrity(path: Path) -> str | None:
    """Why the file at ``path`` cannot be opened as a store (None when it can), cheaply."""
    if not path.exists():
        raise missing_store(path)
    if not path.is_file():
        return "not a GeoPackage store (it is a directory)"
    reason = read_header(path)
    if reason:
        return reason
    if file_state(path) in _CHECKED:
        return None
    try:
        with contextlib.closing(sqlite3.connect(check_uri(path), uri=True)) as con:
            problems = quick_check(con, REQUIRED_TABLES)
    except sqlite3.DatabaseError as exc:
        problems = [f"cannot be read as a GeoPackage ({exc})"]
    if problems:
        return problems[0]
    _CHECKED.add(file_state(path))
    return None


def check_uri(path: Path) -> str:
    """The URI the checks open ``path`` with: read-write where allowed, though they only read.

    A read-only SQLite connection to a WAL file creates ``-wal`` and ``-shm`` files it cannot
    remove; a read-write one removes them when it closes (it never writes to the file: the
    checks only read, and the WAL it would fold in is empty).
    """
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return f"{path.resolve().as_uri()}?mode={'rw' if writable else 'ro'}"


def refusal(path: Path, reason: str) -> StoreError:
    if reason.startswith("damaged"):
        return StoreError(f"{path}: {reason}; refused, nothing read or written — restore it from a backup "
                          f"(`riskmap check --store {path}` lists what is wrong)")
    if "not a riskmap store" in reason:
        reason += "; import its layers into a store made with --create"
    return StoreError(f"{path}: {reason}")
