"""Plain errors: each configuration or input mistake a newcomer made is one line on standard error
that says what is wrong and how to fix it, exit code 1 (2 for usage), and never a traceback."""

from __future__ import annotations

import shutil

import pytest
import uvicorn
from typer.testing import CliRunner

from server.cli.main import app

runner = CliRunner()


def one_line(result, code: int, *texts: str) -> str:
    """The single error line of ``result``; checks the exit code and that each text is in it."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in result.output
    for text in texts:
        assert text in line, line
    return line


@pytest.fixture
def served(monkeypatch):
    """uvicorn.run captured instead of serving."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append(target))
    return calls


@pytest.mark.parametrize("tokens, text", [
    ('{"short": "planner"}', "RISKMAP_TOKENS: tokens must be at least 8 characters long"),
    ("secret-1=planner", "RISKMAP_TOKENS is not valid JSON; give an object of token to role"),
    ('{"a-long-secret": "mayor"}', "RISKMAP_TOKENS: token grants unknown role 'mayor'; roles: town_editor, planner, admin"),
])
def test_bad_tokens_in_the_environment(served, zoned_store, tokens, text):
    result = runner.invoke(app, ["serve", "--store", zoned_store.address], env={"RISKMAP_TOKENS": tokens})
    one_line(result, 1, text)
    assert not served


def test_a_bad_number_in_the_environment(served, zoned_store):
    result = runner.invoke(app, ["serve", "-s", zoned_store.address], env={"RISKMAP_MAX_LIMIT": "lots"})
    one_line(result, 1, "RISKMAP_MAX_LIMIT:")
    assert not served


@pytest.mark.parametrize("command", [["info"], ["zone"], ["coverage"], ["serve"], ["export", "roads", "--out", "x.gpkg"]])
def test_a_missing_store_says_which_commands_make_one(served, tmp_path, command):
    missing = tmp_path / "city.gpkg"
    line = one_line(runner.invoke(app, [*command, "--store", str(missing)]), 1, str(missing), "no such store",
                    f"riskmap demo --store {missing}", "--create")
    assert "GeoPackageStore" not in line and "Python" not in line
    assert not served


def test_no_store_at_all_is_a_usage_error_naming_the_variable(monkeypatch):
    monkeypatch.delenv("RISKMAP_STORE", raising=False)
    one_line(runner.invoke(app, ["zone"]), 2, "Missing option '--store'", "RISKMAP_STORE", "'riskmap zone --help'")


def test_the_copied_gpkg_alone_is_a_whole_store(zoned_store, tmp_path):
    """Rasters live inside the file: a copy of the .gpkg alone still has its population grid."""
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    shutil.copyfile(zoned_store.address, alone / "city.gpkg")
    assert [p.name for p in alone.iterdir()] == ["city.gpkg"]
    result = runner.invoke(app, ["coverage", "--store", str(alone / "city.gpkg")])
    assert result.exit_code == 0, result.output
    assert "people" in result.output


@pytest.mark.parametrize("command", [["zone"], ["coverage"], ["site", "{tmp}/p.geojson", "--kind", "school"]])
def test_a_rule_set_that_is_not_there(zoned_store, tmp_path, command):
    args = [a.format(tmp=tmp_path) for a in command]
    one_line(runner.invoke(app, [*args, "-s", zoned_store.address, "--rules", str(tmp_path / "rules.toml")]), 1,
             "rule set not found", "rules.toml", "give --rules a TOML rule set")
    one_line(runner.invoke(app, [*args, "-s", zoned_store.address, "--rules", str(tmp_path)]), 2, "--rules")


def test_a_rule_set_that_is_not_toml(zoned_store, tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text("name = [unclosed\n", encoding="utf-8")
    one_line(runner.invoke(app, ["zone", "-s", zoned_store.address, "--rules", str(bad)]), 1, "not valid TOML")


def test_an_unknown_palette(zoned_store):
    one_line(runner.invoke(app, ["zone", "-s", zoned_store.address, "--palette", "rainbow"]), 1,
             "palettes.rainbow: unknown palette; known: dual_prevention, wall")


def test_a_demo_over_an_existing_store(zoned_store):
    one_line(runner.invoke(app, ["demo", "--store", zoned_store.address, "--scale", "0.05"]), 1,
             "already exists; remove it or choose another store path")


def test_a_demo_store_that_is_not_a_geopackage_name(tmp_path):
    one_line(runner.invoke(app, ["demo", "--store", str(tmp_path / "city.sqlite"), "--scale", "0.05"]), 1,
             "give a file name ending in .gpkg")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("args, text", [
    (["info", "--store"], "Option '--store' requires an argument"),
    (["zone", "--grid", "ten"], "Invalid value for '--grid'"),
    (["frobnicate"], "No such command 'frobnicate'"),
])
def test_usage_errors_are_one_line_with_exit_2(args, text, monkeypatch):
    monkeypatch.setenv("RISKMAP_STORE", "x.gpkg")
    one_line(runner.invoke(app, args), 2, text)
