"""The package graph is one-way: server -> zoning -> layers -> geo (DESIGN.md, "Packages").

Parsed from the source with ``ast`` (no import side effects), so a lazy import inside a function
counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["geo", "layers", "zoning", "server"]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value.split(".")[0])
    return found


@pytest.mark.parametrize("package", ORDER)
def test_package_imports_only_lower_packages(package):
    forbidden = set(ORDER[ORDER.index(package) + 1:])
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_packages(p) & forbidden)
        for p in sorted((ROOT / package).rglob("*.py"))
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"{package} must not import {sorted(forbidden)}: {offenders}"


def test_checker_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from zoning.rules import load_ruleset\n", encoding="utf-8")
    assert imported_packages(bad) == {"zoning"}


def test_engine_never_imports_the_web_framework():
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("geo", "layers", "zoning")
        for p in (ROOT / pkg).rglob("*.py")
        if imported_packages(p) & {"fastapi", "starlette", "uvicorn", "typer"}
    ]
    assert not offenders


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph() -> dict[str, set[str]]:
    """Every riskmap module and the riskmap modules it imports (lazy and TYPE_CHECKING ones too)."""
    paths = {_module_name(p): p for package in ORDER for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a list of modules, first repeated last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_module_imports_itself_back():
    """No import circle between modules, not even one hidden behind TYPE_CHECKING or a lazy import.

    A module importing a name from its own package's ``__init__`` is not followed back into it.
    """
    graph = module_graph()
    cycle = find_cycle({m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()})
    assert cycle is None, " -> ".join(cycle)


def test_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
