"""One helper for the bad-rule-set tests: change or remove a nested key of parsed TOML tables."""

from __future__ import annotations

#: The value that removes the key instead of setting it (KeyError is accepted too).
DELETE = object()


def set_key(tables: dict, path: str, value) -> None:
    """Set ``path`` in ``tables`` to ``value`` in place, or remove it when ``value`` is DELETE/KeyError.

    ``path`` is split on "/" when it holds one (keys may then contain dots), else on "."; parts
    made of digits index lists (``classification.rules.rented_buildings.steps.0.at_least``).
    """
    parts = [int(p) if p.isdigit() else p for p in path.split("/" if "/" in path else ".")]
    *parents, last = parts
    node = tables
    for part in parents:
        node = node[part]
    if value is DELETE or value is KeyError:
        del node[last]
    else:
        node[last] = value
