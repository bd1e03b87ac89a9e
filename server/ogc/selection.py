"""``sortby``, ``properties`` and ``ids`` of ``/collections/{id}/items``.

* ``sortby=-level,+plot_id`` - sort by fields, ``-`` descending, ``+`` (or nothing) ascending;
  a ``+`` left unencoded in a URL arrives as a space and counts as ``+``. Ties keep the layer's
  order (a stable sort), nulls sort last either way.
* ``properties=town,level`` - only these properties in each feature (the id and the geometry
  stay); ``properties=`` (empty) - none.
* ``ids=P001,P005`` - only these features (ids as in the feature's ``id``).

Every name must be a queryable of the caller's view (:mod:`server.ogc.queryables`); any other,
private or absent, is the same 400.

>>> parse_sortby(" level,-plot_id", ["plot_id", "level"])
[('level', True), ('plot_id', False)]
>>> parse_properties("level,town", ["plot_id", "town", "level"])
['level', 'town']
>>> parse_ids(" P001, P005 ,")
['P001', 'P005']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.errors import InputError

__all__ = ["parse_sortby", "sort_frame", "parse_properties", "parse_ids"]


def _unknown(parameter: str, names: list[str], known: Sequence[str]) -> InputError:
    return InputError(f"{parameter}: unknown propert{'y' if len(names) == 1 else 'ies'} "
                      f"{', '.join(map(repr, names))}; queryables: {', '.join(known)}")


def parse_sortby(text: str, known: Sequence[str]) -> list[tuple[str, bool]]:
    """``[(field, ascending), …]`` of a ``sortby`` value."""
    keys = []
    for part in text.split(","):
        if not part.strip():
            continue
        raw = part.lstrip(" ")
        ascending = not raw.startswith("-")
        name = raw[1:] if raw[:1] in "+-" else raw
        keys.append((name.strip(), ascending))
    if not keys:
        raise InputError("sortby: give one or more fields, e.g. sortby=-level,plot_id")
    unknown = [n for n, _ in keys if n not in known]
    if unknown:
        raise _unknown("sortby", unknown, known)
    return keys


def sort_frame(frame: pd.DataFrame, keys: list[tuple[str, bool]]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` (stable; nulls last).

    Each key becomes its rank (ties equal, nulls at the bottom) and one stable ``np.lexsort``
    orders the rows, the first key most significant.
    """
    if not keys or len(frame) < 2:
        return frame
    ranks = [frame[name].rank(method="min", ascending=ascending, na_option="bottom").to_numpy()
             for name, ascending in reversed(keys)]  # lexsort sorts by its last key first
    return frame.iloc[np.lexsort(ranks)]


def parse_properties(text: str, known: Sequence[str]) -> list[str]:
    """The properties a ``properties`` value asks for, in its order (empty: none)."""
    names = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise _unknown("properties", unknown, known)
    return names


def parse_ids(text: str) -> list[str]:
    """The feature ids of an ``ids`` value."""
    ids = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not ids:
        raise InputError("ids: give one or more feature ids, comma-separated")
    return ids
