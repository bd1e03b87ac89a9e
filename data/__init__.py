"""riskmap's shipped data, installed as the package ``riskmap_data`` (from this ``data/`` folder).

``rules/`` holds the rule sets (TOML; every figure with its clause). They are read at run time
through :mod:`importlib.resources`, so an installed riskmap (a wheel, not only an editable checkout)
finds them: ``riskmap_data.rules_file("default.toml")``. The package holds no code beyond that,
so every other package may use it (``geo`` and ``layers`` included).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["rules_file", "DEFAULT_RULES"]

#: File name of the default rule set in ``rules/``.
DEFAULT_RULES = "default.toml"


def rules_file(name: str = DEFAULT_RULES) -> Traversable:
    """The shipped rule set ``name`` (a :class:`~importlib.resources.abc.Traversable`; read it
    with ``read_bytes()``)."""
    return files(__name__).joinpath("rules", name)
