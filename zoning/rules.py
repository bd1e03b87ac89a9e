"""Rule sets: every threshold, palette, distance table, criterion and weight, read from TOML.

A rule set is one TOML file; the default ships with riskmap (``data/rules/default.toml`` in the
repository, installed as ``riskmap_data/rules/default.toml`` and read with :mod:`importlib.resources`).
The engine holds no figure of its own: a town or a later revision of a standard changes a file,
not code. Each engine module owns one top-level table of the file (``[classification]``,
``[major_hazard]``, ``[distances]``, ``[separation]``, ``[zoning]``…) and parses it into a typed
object with the helpers here, which raise :class:`~zoning.errors.RuleSetError` naming the key
path (``distances.table.methanol``) and what was expected.

>>> rs = load_ruleset()
>>> rs.palette("wall").colour(1)
'#d7191c'
>>> rs.palette("dual_prevention").name_of(2)
'orange'
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from riskmap_data import rules_file
from zoning.errors import RuleSetError

__all__ = ["RuleSet", "Palette", "load_ruleset", "DEFAULT_RULESET", "get", "LEVELS"]

#: The default rule set shipped inside the package (a path-like resource: ``read_bytes()``, ``read_text()``).
DEFAULT_RULESET = rules_file()

#: The four risk levels, 1 highest: 重大 / 较大 / 一般 / 低.
LEVELS = (1, 2, 3, 4)

_MISSING = object()


def get(table: dict, path: str, kind: type | tuple[type, ...] | None = None, *, default: Any = _MISSING,
        minimum: float | None = None, maximum: float | None = None, root: str = "") -> Any:
    """Read ``path`` (dotted) from a TOML table, checking its type and range.

    Raises RuleSetError naming the full key path, e.g. ``major_hazard.alpha: expected a number,
    got 'two'``.

    >>> get({"a": {"b": 3}}, "a.b", int, minimum=0)
    3
    >>> get({"a": {"b": -1}}, "a.b", int, minimum=0)
    Traceback (most recent call last):
    ...
    zoning.errors.RuleSetError: a.b: -1 is below the minimum 0
    """
    full = f"{root}.{path}" if root else path
    node: Any = table
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not _MISSING:
                return default
            raise RuleSetError(f"{full}: missing")
        node = node[part]
    if kind is not None:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(node, int) and not isinstance(node, bool):
            node = float(node)
        if not isinstance(node, kinds) or (isinstance(node, bool) and bool not in kinds):
            names = " or ".join(_type_name(k) for k in kinds)
            raise RuleSetError(f"{full}: expected {names}, got {node!r}")
    if minimum is not None and node < minimum:
        raise RuleSetError(f"{full}: {node!r} is below the minimum {minimum!r}")
    if maximum is not None and node > maximum:
        raise RuleSetError(f"{full}: {node!r} is above the maximum {maximum!r}")
    return node


def _type_name(k: type) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false",
            dict: "a table", list: "a list"}.get(k, k.__name__)


@dataclass(frozen=True)
class Palette:
    """Colours of the four levels (1 = highest risk). Two ship by default (see the rule set)."""

    key: str
    names: tuple[str, str, str, str]
    colours: tuple[str, str, str, str]
    labels_zh: tuple[str, str, str, str]

    def colour(self, level: int) -> str:
        return self.colours[int(level) - 1]

    def name_of(self, level: int) -> str:
        return self.names[int(level) - 1]


@dataclass(frozen=True)
class RuleSet:
    """A loaded rule set: metadata plus the raw tables that engine modules parse.

    ``version`` is written next to every derived layer; ``digest`` (sha256 of the file's bytes)
    lets the engine see that a stored result was made with different rules.
    """

    name: str
    version: str
    path: Path | Traversable
    digest: str
    tables: dict

    def table(self, key: str) -> dict:
        """The top-level table ``key``; RuleSetError if the rule set has none."""
        return get(self.tables, key, dict)

    def palette(self, key: str | None = None) -> Palette:
        """Palette ``key`` (default: the rule set's ``default_palette``)."""
        key = key or get(self.tables, "default_palette", str)
        entry = get(self.tables, f"palettes.{key}", dict,
                    default=None)
        if entry is None:
            known = ", ".join(sorted(self.tables.get("palettes", {})))
            raise RuleSetError(f"palettes.{key}: unknown palette; known: {known}")
        names = tuple(get(entry, "names", list, root=f"palettes.{key}"))
        colours = tuple(get(entry, "colours", list, root=f"palettes.{key}"))
        labels = tuple(get(entry, "labels_zh", list, root=f"palettes.{key}"))
        for what, seq in (("names", names), ("colours", colours), ("labels_zh", labels)):
            if len(seq) != 4:
                raise RuleSetError(f"palettes.{key}.{what}: expected 4 entries (levels 1-4), got {len(seq)}")
        return Palette(key, names, colours, labels)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        """``name@version``, the stamp written beside derived layers."""
        return f"{self.name}@{self.version}"


def load_ruleset(path: str | Path | None = None) -> RuleSet:
    """Load and check a rule set (default: the shipped ``default.toml``, :data:`DEFAULT_RULESET`).

    Every engine table present in the file is parsed once here, so a bad figure is reported at
    load time with its key path rather than half-way through a run.
    """
    p = Path(path) if path is not None else DEFAULT_RULESET
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise RuleSetError(f"rule set not found: {p} (give --rules a TOML rule set, or omit it for the "
                           f"shipped default)") from None
    except IsADirectoryError:
        raise RuleSetError(f"rule set {p} is a folder; give the TOML file itself") from None
    except OSError as exc:
        raise RuleSetError(f"rule set {p} cannot be read ({exc.strerror})") from None
    try:
        tables = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleSetError(f"{p}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{p}: not valid TOML: {exc}") from None
    rs = RuleSet(
        name=get(tables, "name", str),
        version=get(tables, "version", str),
        path=p,
        digest=hashlib.sha256(raw).hexdigest(),
        tables=tables,
    )
    for key in tables.get("palettes", {}):
        rs.palette(key)
    rs.palette()
    _check_engine_tables(rs)
    return rs


def _check_engine_tables(rs: RuleSet) -> None:
    """Parse each engine table the rule set holds, so errors surface at load time."""
    from zoning import ruleset_parsers  # local: parsers live beside the modules that use them

    for key, parse in ruleset_parsers.PARSERS.items():
        if key in rs.tables:
            parse(rs)
