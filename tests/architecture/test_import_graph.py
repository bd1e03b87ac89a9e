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
