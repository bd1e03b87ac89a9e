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
    """An edit was based on a version of a feature that has since changed."""
