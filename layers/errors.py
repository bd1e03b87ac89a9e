"""Errors raised by the layers package, all under :class:`geo.errors.RiskmapError`."""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import RiskmapError

__all__ = ["Problem", "ValidationError", "LayerNotFound", "StoreError", "Conflict"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: which feature (its id, else its row number), which field."""

    feature: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.feature}: {self.field}: {self.message}"


class ValidationError(RiskmapError):
    """An input layer was refused; ``problems`` lists every offending feature and field."""

    def __init__(self, layer: str, problems: list[Problem], source: str = ""):
        self.layer = layer
        self.problems = list(problems)
        self.source = source
        where = f" from {source}" if source else ""
        head = f"layer {layer!r}{where} refused: {len(self.problems)} problem(s)"
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{head}\n{shown}{more}")


class LayerNotFound(RiskmapError):
    """A layer name is unknown to the catalogue or absent from the store."""


class StoreError(RiskmapError):
    """The store cannot be opened or written (missing file, not a GeoPackage, locked)."""


class Conflict(RiskmapError):
    """An edit was based on a version of a row that has since changed; nothing was written.

    ``stale`` lists ``(feature id, version the editor had or None, version now or None, state)``
    for every row in the way, ``state`` being ``"live"``, ``"retired"`` or ``"absent"``; ``current`` is a GeoDataFrame of those rows as they are now (with their
    ``row_version``, ``updated_at``, ``updated_by`` and, for a retired row, ``retired_at`` and
    ``retired_by``), or None when none of them exists.
    """

    def __init__(self, layer: str, stale: list[tuple[str, int | None, int | None, str]], current=None,
                 detail: str = ""):
        self.layer = layer
        self.stale = list(stale)
        self.current = current
        shown = "; ".join(_stale_text(*s) for s in self.stale[:5])
        more = f"; … and {len(self.stale) - 5} more" if len(self.stale) > 5 else ""
        super().__init__(f"layer {layer!r}: edit refused, nothing written: {shown}{more}"
                         + (f" ({detail})" if detail else ""))


def _stale_text(feature: str, expected: int | None, actual: int | None, state: str) -> str:
    had = f"you had version {expected}" if expected is not None else "you meant a new row"
    now = {"live": f"it is at version {actual}", "retired": f"it was retired at version {actual}",
           "absent": "it does not exist"}[state]
    return f"{feature}: {had}, {now}"
